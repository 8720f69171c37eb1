"""Whether two runs were the same run, and where they part
(harness/run/run_identity.py), and schedules that refuse another kernel,
QEMU or disks (harness/run/schedule.py)."""

import dataclasses
import subprocess

import pytest

from harness.run import schedule as schedule_module
from results.model import CheckpointRecord, ScenarioResult, Verdict
from harness.run.run_identity import first_parting, fingerprint
from harness.run.schedule import ScheduleMismatch, build_id, check_disks, check_travels


def run(console="(t) begin\n(t) end\n", ticks=(10, 20), pages=None, spt=None, entry=1000):
    checkpoints = [CheckpointRecord(id=i + 1, hit=1, pid=3, process="t", icount=entry + 500 * t,
                                    ticks=t, pages=pages or {"0x400000": "r-x"},
                                    spt=spt or [{"va": 0x400000}])
                   for i, t in enumerate(ticks)]
    return ScenarioResult("t", "core", Verdict.PASS, 1.0, console=console,
                          checkpoints=checkpoints, entry_icount=entry)


def test_the_same_run_has_the_same_fingerprint_whatever_the_bios_took():
    assert first_parting(fingerprint(run()), fingerprint(run(entry=98765))) is None


@pytest.mark.parametrize("other, where", [
    (run(ticks=(10, 21)), "at checkpoint 2 (hit 1, t): ticks 20 vs 21"),
    (run(pages={"0x400000": "rw-"}), "at checkpoint 1 (hit 1, t): page tables differ"),
    (run(spt=[{"va": 0x401000}]), "at checkpoint 1 (hit 1, t): SPT differ"),
    (run(ticks=(10,)), "one run reached checkpoint 2 (hit 1, t) where the other reached "
                       "the end of the run"),
    (run(console="(t) begin\n(t) END\n"),
     "at the end of the run: console differs from line 2: '(t) end' vs '(t) END'"),
])
def test_the_first_point_where_two_runs_part_is_named(other, where):
    assert first_parting(fingerprint(run()), fingerprint(other), (run().console, other.console)) \
        == where


def test_instructions_since_the_kernel_entry_tell_runs_apart():
    moved = run()
    moved.checkpoints[0] = dataclasses.replace(moved.checkpoints[0], icount=1000 + 5001)
    assert first_parting(fingerprint(run()), fingerprint(moved)) == \
        "at checkpoint 1 (hit 1, t): instructions 5000 vs 5001"


def test_a_schedules_build_id_ignores_debug_information(tmp_path):
    source = tmp_path / "k.c"
    source.write_text("int answer(void) { return 42; }\nint _start(void) { return answer(); }\n")
    ids = []
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "k.c").write_text(source.read_text())
        subprocess.run(["gcc", "-g", "-O1", "-nostdlib", "-static", "-o", "k", "k.c"],
                       cwd=tmp_path / folder, check=True)
        ids.append(build_id(tmp_path / folder / "k"))
    assert (tmp_path / "one" / "k").read_bytes() != (tmp_path / "two" / "k").read_bytes()
    assert ids[0] == ids[1]
    (tmp_path / "one" / "k.c").write_text(source.read_text().replace("42", "43"))
    subprocess.run(["gcc", "-g", "-O1", "-nostdlib", "-static", "-o", "k", "k.c"],
                   cwd=tmp_path / "one", check=True)
    assert build_id(tmp_path / "one" / "k") != ids[1]


class Kernel:
    def __init__(self, path):
        self.symbol_file = path


def test_a_schedule_refuses_another_kernel_or_qemu(tmp_path, monkeypatch):
    elf = tmp_path / "kernel"
    elf.write_bytes(b"not an ELF file: hashed whole")
    recorded = {"kernel_build_id": build_id(elf), "qemu": "QEMU emulator version 7.2.0"}
    monkeypatch.setattr(schedule_module, "qemu_version", lambda: "QEMU emulator version 7.2.0")
    check_travels(recorded, Kernel(elf))
    elf.write_bytes(b"another build")
    with pytest.raises(ScheduleMismatch, match="recorded on another kernel build"):
        check_travels(recorded, Kernel(elf))
    recorded["kernel_build_id"] = build_id(elf)
    monkeypatch.setattr(schedule_module, "qemu_version", lambda: "QEMU emulator version 10.0.2")
    with pytest.raises(ScheduleMismatch, match="recorded with QEMU emulator version 7.2.0, not "
                                               "QEMU emulator version 10.0.2"):
        check_travels(recorded, Kernel(elf))


def test_a_schedule_refuses_other_disks(tmp_path):
    (tmp_path / "fs.img").write_bytes(b"\0" * 1024)
    (tmp_path / "console.log").write_text("not a disk")
    digest = check_disks(tmp_path, None)
    assert check_disks(tmp_path, digest) == digest
    (tmp_path / "console.log").write_text("still not a disk")
    assert check_disks(tmp_path, digest) == digest
    (tmp_path / "fs.img").write_bytes(b"\0" * 1023 + b"\1")
    with pytest.raises(ScheduleMismatch, match="disks differ from the ones the schedule"):
        check_disks(tmp_path, digest)
