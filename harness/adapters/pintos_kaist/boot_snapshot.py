"""A Pintos-KAIST boot started from the machine as it stands at `main`.

From QEMU's start to the kernel's `main`, a Pintos-KAIST boot runs SeaBIOS
and the Pintos loader, which reads the kernel from the boot disk sector by
sector (threads/loader.S): ~0.4 s of the ~0.6 s to `main` on team8 (docs/
pintos-kaist.md, "Boot snapshot"), the same work in every run of one kernel
build. What it leaves behind depends on the boot disk (os.dsk: the build),
the machine's arguments (-m, CPU, clock, RAM backend) and the sizes of the
four disks (SeaBIOS asks each for its size, and QEMU's IDE device keeps that
answer and gives it to the kernel's own IDENTIFY later), not on their
contents: neither SeaBIOS nor the loader reads another disk, and the
loader's only input that changes from run to run is the kernel command
line in the boot sector, which the BIOS copies to 0x7c00 and the kernel
reads from there in `read_command_line()`, after `main` begins.

So the first run of each such machine (key()) is a probe boot of its own:
its QEMU runs to `main`, is parked there (below), and saves its state to a
file under build/ (harness/machine/state_file.py), under the probe lock
(probe.py) so two workers never probe the same key at once; the folder is
capped, least recently used states evicted, never one a run is loading
(snapshot_cache.py). Every run of that key, the first too, then starts
QEMU from the file (`-incoming defer`), writes its own command line into
the copy at 0x7c00 while the CPU stands at `main`, and attaches the
debugger there: every run of a build starts from the very same machine
state. A probe or a restore that fails boots cold (the run's notes say
why). A run records the shortcut only if it took it (ScenarioResult.
boot_shortcuts, and its schedule); a replay of one recorded with a cold
boot boots cold. `VMCHECK_PINTOS_BOOT=cold` boots every run cold; without
-icount (KVM, --no-icount) runs boot cold too (see the docs).

Parking: a CPU stopped by a GDB breakpoint is in QEMU's "debug" runstate,
which a restored QEMU cannot enter (it aborts), so the probe, stopped at
`main` by a breakpoint, writes `jmp .` there, lets the CPU spin, stops it
with a GDB interrupt ("paused"), and puts the two bytes back.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Optional

from harness.adapters.pintos_kaist.disks import ARG_COUNT_OFFSET, SIGNATURE_OFFSET
from harness.adapters.pintos_kaist.probe import ProbeCache, build_path, probe_machine, run_to
from harness.adapters.pintos_kaist.snapshot_cache import cap_bytes, evict, hold, remove_unused
from harness.errors import HarnessError

NAME = "boot_snapshot"
ENV = "VMCHECK_PINTOS_BOOT"
CACHE_NAME = "pintos-boot-snapshots.json"
STATE_DIR = "pintos-boot-snapshots"
LOADER_BASE = 0x7C00          # threads/loader.h: where the BIOS puts the boot sector
ARGS_AT = LOADER_BASE + ARG_COUNT_OFFSET
JMP_SELF = b"\xeb\xfe"
SAVE_TIMEOUT_S = 30.0
_FILE = re.compile(r"^file=((?:[^,]|,,)*)(.*)$")


def wanted() -> bool:
    """False when VMCHECK_PINTOS_BOOT=cold asks every boot to start cold."""
    return os.environ.get(ENV, "").strip().lower() != "cold"


def args_sector(boot_image: Path) -> bytes:
    """The kernel-argument bytes of a boot disk (count and arguments)."""
    with open(boot_image, "rb") as f:
        f.seek(ARG_COUNT_OFFSET)
        return f.read(SIGNATURE_OFFSET - ARG_COUNT_OFFSET)


def boot_image_digest(boot_image: Path) -> str:
    """sha256 of a boot disk with its kernel arguments zeroed: the same for
    every run of one build."""
    data = bytearray(boot_image.read_bytes())
    data[ARG_COUNT_OFFSET:SIGNATURE_OFFSET] = bytes(SIGNATURE_OFFSET - ARG_COUNT_OFFSET)
    return hashlib.sha256(data).hexdigest()


def machine_words(guest_args: list[str]) -> list[str]:
    """GUEST_ARGS with each drive's file named by its size, not its path."""
    words = []
    for word in guest_args:
        match = _FILE.match(word)
        if match:
            path = match.group(1).replace(",,", ",")
            word = f"size={os.path.getsize(path)}{match.group(2)}"
        words.append(word)
    return words


def key(build: str, options, guest_args: list[str], boot_digest: str) -> str:
    """What the machine state at `main` is a function of: the kernel build
    and QEMU (BUILD), the boot disk (BOOT_DIGEST: its boot_image_digest),
    the clock and accelerator, the RAM backend, and every machine argument
    (disks by size)."""
    return " | ".join([build, boot_digest,
                       f"accel={options.accel} icount={options.icount_clock} "
                       f"shared_ram={options.shared_ram}", *machine_words(guest_args)])


class BootSnapshot:
    """One run's boot from the saved state: prepare() before QEMU starts,
    arm(debugger) once attached (at `main`)."""

    name = NAME
    entry = None                # no breakpoint of its own (harness/run/stop_count.py)

    def __init__(self, state: Path, main: int, args: bytes, held=None,
                 cache: Optional[ProbeCache] = None):
        self.state, self.main, self.args = state, main, args
        self.held = held            # STATE opened under a shared lock (snapshot_cache.hold)
        self.cache = cache          # the index STATE is in (None: none)
        self.machine = None
        self.taken = False

    @property
    def note(self) -> str:
        return ("booted from the machine state saved at main() once for this kernel build and "
                "machine (SeaBIOS and the loader not run; docs/pintos-kaist.md, "
                "\"Boot snapshot\")")

    @property
    def missed(self) -> Optional[str]:
        """Why the run booted cold after all (the restore failed), or None."""
        failed = self.machine.incoming_failed if self.machine is not None else None
        return f"the boot snapshot was not restored ({failed}): booted cold" if failed else None

    def prepare(self, machine) -> None:
        self.machine = machine
        machine.incoming = self.state

    def arm(self, dbg) -> None:
        """Writes the run's kernel arguments where the loader left the boot
        sector; HarnessError if the restored CPU is not at `main`. QEMU has
        read the state: its lock is let go. After a failed restore, the
        state is removed (unless another run is loading it): the next run
        probes again."""
        self.release()
        if self.missed is not None:
            self._remove()
            return
        if dbg.pc != self.main:
            raise HarnessError(f"the restored boot snapshot stands at {dbg.describe(dbg.pc)}, "
                               f"not at main ({self.main:#x}): remove {self.state}")
        dbg.write_phys(ARGS_AT, self.args)
        self.taken = True

    def release(self) -> None:
        """Lets other runs' evictions remove the state (snapshot_cache.py)."""
        if self.held is not None:
            self.held.close()
            self.held = None

    def _remove(self) -> None:
        if self.cache is None:
            remove_unused(self.state)
            return
        with self.cache.locked() as entries:
            if remove_unused(self.state):
                evict(entries, self.state.parent, cap_bytes(), keep="")


def probe_state(adapter, options, guest_args: list[str], path: Path) -> None:
    """Boots GUEST_ARGS under OPTIONS to `main`, parks the CPU there and
    saves the machine to PATH. HarnessError if it does not get there."""
    from harness.machine.state_file import save_state
    main = adapter.kernel_symbols().address_of(adapter.long_mode_symbol)
    with probe_machine(options, lambda machine: machine.start(guest_args)) as (machine, gdb):
        run_to(machine, gdb, main, "boot snapshot")
        code = gdb.read_memory(main, len(JMP_SELF))
        gdb.write_memory(main, JMP_SELF)
        gdb.resume()
        gdb.halt(machine.timeouts(10))
        if gdb.pc() != main:
            raise HarnessError(f"boot snapshot probe: parked at {gdb.pc():#x}, not main")
        gdb.write_memory(main, code)
        save_state(machine.qmp, path, machine.timeouts(SAVE_TIMEOUT_S), ram=machine.guest_ram)


def boot_snapshot(adapter, options, build: str, disks, guest_args: list[str],
                  cache: Optional[ProbeCache] = None, probe=probe_state,
                  boot_digest: Optional[str] = None):
    """(BootSnapshot, None) for a run of ADAPTER's kernel with DISKS
    (PintosDisks, raw) and GUEST_ARGS under OPTIONS, probing once per key()
    (BOOT_DIGEST: the boot disk's boot_image_digest if known already);
    (None, why) when the run boots cold: no -icount, disks that are not
    raw, VMCHECK_PINTOS_BOOT=cold, a probe that failed."""
    if not wanted():
        return None, f"{ENV}=cold"
    if not options.icount_clock:
        return None, "the run is not under -icount"
    if disks.format != "raw":
        return None, f"its disks are {disks.format}, not raw"
    cache = cache or ProbeCache(build_path(CACHE_NAME))
    boot_digest = boot_digest or boot_image_digest(disks.raw_boot)
    name = hashlib.sha256(key(build, options, guest_args, boot_digest).encode()).hexdigest()
    state = cache.path.parent / STATE_DIR / f"{name[:24]}.state"
    with cache.locked() as entries:
        if name not in entries or not state.is_file():
            state.parent.mkdir(parents=True, exist_ok=True)
            try:
                probe(adapter, options, guest_args, state)
            except Exception as e:  # noqa: BLE001 - the run then boots cold, as it always did
                entries.pop(name, None)
                return None, f"the boot snapshot probe failed: {str(e).splitlines()[0]}"
            entries[name] = {"build": build, "state": state.name}
            evict(entries, state.parent, cap_bytes(), keep=name)
        held = hold(state)      # under the lock: no eviction between the choice and this
    main = adapter.kernel_symbols().address_of(adapter.long_mode_symbol)
    return BootSnapshot(state, main, args_sector(disks.raw_boot), held, cache), None
