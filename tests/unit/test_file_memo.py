"""What a run reads from the kernel build is read once per version of the
file (harness/adapters/file_memo.py, KernelAdapter.file_memo), and the boot
disk's digest taken from os.dsk is the run's own boot disk's."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from harness.adapters.file_memo import FileMemo
from harness.adapters.pintos_kaist import boot_snapshot as snap
from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter
from harness.run.schedule import build_id, kernel_build_id


def counting(calls: list):
    def compute(path: Path):
        calls.append(path)
        return Path(path).read_bytes()
    return compute


def test_a_value_is_kept_while_the_file_is_the_same_and_recomputed_after_a_rebuild(tmp_path):
    memo, calls = FileMemo(), []
    path = tmp_path / "kernel.o"
    path.write_bytes(b"one")
    assert [memo.get("id", path, counting(calls)) for _ in range(3)] == [b"one"] * 3
    assert len(calls) == 1
    assert memo.get("other", path, counting(calls)) == b"one" and len(calls) == 2
    path.write_bytes(b"two!")                           # another size
    assert memo.get("id", path, counting(calls)) == b"two!" and len(calls) == 3
    st = path.stat()
    path.write_bytes(b"tri!")                           # same size and inode, a later time
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert memo.get("id", path, counting(calls)) == b"tri!" and len(calls) == 4
    replaced = tmp_path / "new"
    replaced.write_bytes(b"for!")
    os.utime(replaced, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    replaced.replace(path)                              # same size and time, new inode
    assert memo.get("id", path, counting(calls)) == b"for!" and len(calls) == 5


def test_a_file_that_cannot_be_read_or_changes_while_read_is_not_kept(tmp_path):
    memo, calls = FileMemo(), []
    missing = tmp_path / "none"
    for _ in range(2):
        assert memo.get("id", missing, lambda p: calls.append(p) or "x") == "x"
    assert len(calls) == 2
    path = tmp_path / "f"
    path.write_bytes(b"a")

    def rebuilt_meanwhile(p):
        calls.append(p)
        p.write_bytes(b"bb")
        return "old"
    assert memo.get("id", path, rebuilt_meanwhile) == "old"
    assert memo.get("id", path, lambda p: "new") == "new"


def test_threads_share_one_memo(tmp_path):
    memo, calls = FileMemo(), []
    path = tmp_path / "f"
    path.write_bytes(b"x")
    memo.get("id", path, counting(calls))
    got = []
    threads = [threading.Thread(target=lambda: got.append(memo.get("id", path, counting(calls))))
               for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert got == [b"x"] * 8 and len(calls) == 1


def fake_tree(tmp_path: Path) -> PintosKaistAdapter:
    build = tmp_path / "tree" / "vm" / "build"
    build.mkdir(parents=True)
    sector = bytearray(512)
    sector[510:] = b"\x55\xaa"
    (build / "os.dsk").write_bytes(bytes(sector) + os.urandom(4 * 512))
    (build / "kernel.o").write_bytes(b"not an ELF file")
    return PintosKaistAdapter(tmp_path / "tree", log=lambda message: None, fs_mode="put")


def test_the_boot_disks_digest_is_the_boot_images_whatever_the_runs_arguments(tmp_path):
    adapter = fake_tree(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    disks = adapter.make_disks(run, {}, {"data": b"x"}, 0)
    adapter.qemu_args(disks, adapter.kernel_cmdline([["args", "a", "b"]], 7), 20)
    assert disks.raw_boot.read_bytes() != adapter.boot_image.read_bytes()
    assert snap.boot_image_digest(disks.raw_boot) == snap.boot_image_digest(adapter.boot_image)


def test_the_kernel_build_id_is_read_once_per_kernel_file(tmp_path, monkeypatch):
    adapter, calls = fake_tree(tmp_path), []
    monkeypatch.setattr("harness.run.schedule.build_id",
                        lambda path: calls.append(path) or build_id(path))
    first = kernel_build_id(adapter)
    assert kernel_build_id(adapter) == first and len(calls) == 1
    adapter.symbol_file.write_bytes(b"rebuilt: another kernel")
    assert kernel_build_id(adapter) != first and len(calls) == 2
