"""A fake Pintos-KAIST tree on disk, for tests of the pintos-kaist adapter
and the tools around it that must not need a student tree: what find_tree
takes for a tree (vm/Makefile, threads/), and on request what a build
leaves in vm/build and files of the test's own."""

from __future__ import annotations

from pathlib import Path

from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter

MAKEFILE = "all:\n\ttrue\n"          # `make` succeeds and builds nothing


def boot_sector(kernel: bytes = b"KERNEL" * 100) -> bytes:
    """A loader sector (code bytes, 0x55 0xaa) followed by a fake kernel."""
    sector = bytearray(range(256)) * 2
    sector[510:512] = b"\x55\xaa"
    return bytes(sector) + kernel


def fake_pintos_tree(root: Path, *, built: bool = False, makefile: str = MAKEFILE,
                     files: dict[str, str] | None = None) -> Path:
    """A Pintos-KAIST tree at ROOT (made): vm/Makefile holding MAKEFILE and
    an empty threads/. BUILT: also vm/build/os.dsk (boot_sector()) and a
    vm/build/kernel.o that is no ELF, so the adapter finds nothing to read
    in it (raw call-stack addresses, no stock file-system check). FILES:
    more files, path under ROOT -> text."""
    (root / "threads").mkdir(parents=True)
    (root / "vm").mkdir()
    (root / "vm" / "Makefile").write_text(makefile)
    if built:
        (root / "vm" / "build").mkdir()
        (root / "vm" / "build" / "os.dsk").write_bytes(boot_sector())
        (root / "vm" / "build" / "kernel.o").write_bytes(b"not an ELF")
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def fake_adapter(root: Path) -> PintosKaistAdapter:
    """A PintosKaistAdapter on a built fake tree at ROOT; the lines it logs
    collect in its .logged list."""
    logged: list[str] = []
    adapter = PintosKaistAdapter(fake_pintos_tree(root, built=True), log=logged.append)
    adapter.logged = logged
    return adapter
