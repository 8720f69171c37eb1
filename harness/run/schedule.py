"""Schedule files: everything needed to reproduce one run.

A run is a pure function of (kernel build, scenario, schedule, disks,
QEMU): under `-icount shift=0,sleep=off` the same inputs give the same
instruction counts, console output and snapshots
(tests/integration/test_determinism.py), and on a Pintos-KAIST kernel
with the exact disk too (harness/run/exact_disk.py). The schedule names the
scenario, the kernel build (sha256 of its ELF), the QEMU version, the
digest of the disks the guest booted with, the injections with their
hit counts, the clock and disk settings, the verdict and the run's
fingerprint (harness/run/run_identity.py). Every failing run under injection
writes one; `vmcheck replay FILE` runs it again, and refuses (exit 2,
one line) a kernel, QEMU or disks other than the ones it was recorded
with: the replay would be another run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from harness.machine import artifacts
from harness.errors import UsageError
from harness.machine.qemu import qemu_version
from harness.machine.sector_disks import images_digest
from harness.run.injection import Injection
from harness.run.exact_disk import exact_disk_wanted
from harness.run.run_identity import fingerprint

SCHEDULE_VERSION = 2     # 2: build ids of loaded bytes only; QEMU, disks, fingerprint


class ScheduleMismatch(UsageError):
    """A schedule replayed on a kernel, QEMU or disks it was not recorded with."""


def build_id(path: Path) -> str:
    """sha256 (16 hex digits) of what an ELF file loads: its entry point and
    each PT_LOAD segment's address, size and bytes, but for a GNU build-id
    note (a hash of the whole file). Debug information, which names the
    folder it was built in, is left out, so the same tree built in another
    clone has the same id. A file that is not ELF is
    hashed whole."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            notes = [(s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()
                     if s.name == ".note.gnu.build-id"]   # a hash of the whole file
            digest.update(b"entry %x" % elf.header["e_entry"])
            for segment in elf.iter_segments():
                if segment["p_type"] == "PT_LOAD":
                    data = bytearray(segment.data())
                    for offset, size in notes:
                        start = offset - segment["p_offset"]
                        if 0 <= start < len(data):
                            data[start:start + size] = bytes(len(data[start:start + size]))
                    digest.update(b"load %x %x " % (segment["p_vaddr"], segment["p_memsz"]))
                    digest.update(data)
    except ELFError:
        digest = hashlib.sha256(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def kernel_build_id(adapter) -> str:
    """build_id of ADAPTER's kernel, computed once per version of its file
    (the adapter's file_memo; an adapter without one: every time)."""
    memo = getattr(adapter, "file_memo", None)
    if memo is None:
        return build_id(adapter.symbol_file)
    return memo.get("build_id", adapter.symbol_file, build_id)


def boot_shortcuts_for(adapter, options, disks, guest_args: list[str], names) -> tuple:
    """ADAPTER.boot_shortcuts for a run on DISKS with GUEST_ARGS under
    OPTIONS, of those NAMES allows, keyed by the kernel build and this
    host's QEMU (what a probe measured holds for that pair only):
    (shortcuts, why each other one is not taken)."""
    build = f"{kernel_build_id(adapter)} {qemu_version()}"
    return adapter.boot_shortcuts(options, build, disks, guest_args, names)


def console_digest(console: str) -> str:
    return hashlib.sha256(console.encode()).hexdigest()[:16]


def make_schedule(sc, adapter, opts, result) -> dict:
    return {
        "vmcheck_schedule": SCHEDULE_VERSION,
        "scenario": sc.name,
        "scenario_source": sc.source,
        "kernel": adapter.spec,
        "kernel_build_id": kernel_build_id(adapter),
        "qemu": qemu_version(),
        "disks_sha256": result.disks_sha256,
        "injections": [i.to_dict() for i in (*sc.inject, *opts.inject)],
        "fired": [r.__dict__ for r in result.injections],
        "clock": {"accel": opts.machine.accel, "icount": opts.machine.icount},
        "exact_disk": exact_disk_wanted(opts.exact_disk, True),   # a run with injections
        "boot_shortcuts": list(result.boot_shortcuts),      # taken, not only allowed
        "replay_safe_looks": opts.replay_safe_looks,
        "verdict": result.verdict.value,
        "reason": result.reason,
        "console_sha256": console_digest(result.console),
        "fingerprint": fingerprint(result),
    }


# A schedule written before the boot snapshot recorded its boot shortcuts as
# true or false; true then meant the only one there was.
SHORTCUTS_OF_OLD_SCHEDULES = ("calibration",)


def shortcut_names(adapter, allowed) -> tuple:
    """The names of ADAPTER's boot shortcuts that ALLOWED (RunnerOptions.
    boot_shortcuts: True, False or names) lets a run take."""
    offered = tuple(getattr(adapter, "boot_shortcut_names", ()))
    if allowed is True:
        return offered
    return tuple(name for name in (allowed or ()) if name in offered)


def recorded_shortcuts(schedule: dict) -> tuple:
    """The boot shortcuts SCHEDULE's run took (none if it predates them):
    a replay takes the same, and boots cold if it did."""
    recorded = schedule.get("boot_shortcuts", False)
    if isinstance(recorded, bool):
        return SHORTCUTS_OF_OLD_SCHEDULES if recorded else ()
    return tuple(recorded)


def schedule_kernel(schedule: dict, given: str) -> str:
    """The --kernel to replay SCHEDULE on: the one it recorded (family and
    tree or build folder) unless GIVEN names another place; that must be
    of the same family (the build id then decides: check_travels), so a
    student's tree copied or moved to another path replays there."""
    recorded = schedule.get("kernel", "reference")
    if given == "reference":        # the option's default: not given
        return recorded
    if given.partition(":")[0] != recorded.partition(":")[0]:
        raise ScheduleMismatch(f"the schedule was recorded on kernel {recorded}, not {given}")
    return given


def check_travels(schedule: dict, adapter) -> None:
    """ScheduleMismatch (one line) if SCHEDULE was recorded with another
    kernel build or QEMU than ADAPTER's kernel and this host's QEMU (the
    disks are checked when the replay has made them: check_disks)."""
    now = kernel_build_id(adapter)
    if schedule.get("kernel_build_id") != now:
        raise ScheduleMismatch(
            f"the schedule was recorded on another kernel build ({schedule.get('kernel_build_id')}"
            f"), not this one ({now}: {adapter.symbol_file}); rebuild the same tree and commit")
    recorded = schedule.get("qemu")
    if recorded is not None and recorded != qemu_version():
        raise ScheduleMismatch(f"the schedule was recorded with {recorded}, not {qemu_version()}")


def check_disks(run_dir: Path, expected: Optional[str]) -> str:
    """The digest of the disk images in RUN_DIR (made, not yet booted);
    ScheduleMismatch if it is not EXPECTED (when given)."""
    digest = images_digest(artifacts.disk_images(run_dir))
    if expected is not None and digest != expected:
        raise ScheduleMismatch(
            f"the guest's disks differ from the ones the schedule was recorded with (digest "
            f"{digest}, recorded {expected}): other programs or data files (rebuild with "
            "`make programs` from the same commit), or a Pintos-KAIST file system made the "
            "other way (VMCHECK_PINTOS_FS=put replays a schedule recorded with -f and put)")
    return digest


def write_schedule(schedule: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{schedule['scenario']}.schedule.json"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{schedule['scenario']}.{n}.schedule.json"
    path.write_text(json.dumps(schedule, indent=1))
    return path


def load_schedule(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: not a readable schedule file ({e})") from None
    version = data.get("vmcheck_schedule")
    if version == 1:
        raise UsageError(f"{path}: a schedule of an older vmcheck (version 1, which did not "
                         "record the QEMU and the disks): record it again with `explore` or "
                         "`run --inject`")
    if version != SCHEDULE_VERSION:
        raise UsageError(f"{path}: not a vmcheck schedule (version {version!r})")
    try:
        data["injections"] = [Injection(**i) for i in data["injections"]]
    except (KeyError, TypeError) as e:
        raise UsageError(f"{path}: malformed injections ({e})") from None
    return data


def added_injections(schedule: dict, sc) -> tuple:
    """The injections SCHEDULE adds to scenario SC's own: a schedule lists
    SC's `inject` first (make_schedule), and the runner applies SC's own
    anyway, so giving the whole list would apply those twice."""
    own, listed = list(sc.inject), list(schedule["injections"])
    return tuple(listed[len(own):] if listed[:len(own)] == own else listed)
