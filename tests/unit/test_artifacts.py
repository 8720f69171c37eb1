"""What a kept run folder holds (harness/machine/artifacts.py, Machine.close): a
failed run keeps its logs and the files the runner asks for, --keep keeps
everything with raw disk images made sparse; compression round-trips."""

from __future__ import annotations

import gzip
import os

from harness.machine import artifacts
from harness.machine.qemu import Machine, MachineOptions

MIB = 1 << 20


def image_with_data(path, size=8 * MIB, data_at=(0, 3 * MIB)):
    """A fully allocated raw image: zeros, with a 4 KiB record at DATA_AT."""
    with open(path, "wb") as f:
        f.write(bytes(size))
        for offset in data_at:
            f.seek(offset)
            f.write(b"vmcheck!" * 512)
        f.flush()
        os.fsync(f.fileno())
    return path


def run_folder(tmp_path):
    run = tmp_path / "vmcheck-run"
    run.mkdir()
    (run / "console.log").write_text("hello: exit(0)\n")
    (run / "qemu-stderr.log").write_text("")
    image_with_data(run / "fs.img")
    image_with_data(run / "swap.img")
    (run / "fs.qcow2").write_bytes(b"QFI\xfb")
    (run / "qmp.sock").write_text("")
    return run


def test_a_failed_run_keeps_the_logs_and_what_was_asked_for(tmp_path):
    run = run_folder(tmp_path)
    wanted = artifacts.compress(run / "fs.img")
    artifacts.keep_only_readable(run, [wanted])
    assert sorted(p.name for p in run.iterdir()) == ["console.log", "fs.img.gz", "qemu-stderr.log"]


def test_compression_keeps_the_contents_and_is_small(tmp_path):
    image = image_with_data(tmp_path / "fs.img")
    original = image.read_bytes()
    packed = artifacts.compress(image)
    assert not image.exists() and gzip.decompress(packed.read_bytes()) == original
    assert packed.stat().st_size < 64 * 1024       # 8 MiB of mostly zeros


def test_sparse_images_keep_their_contents_in_less_space(tmp_path):
    image = image_with_data(tmp_path / "fs.img")
    original = image.read_bytes()
    assert artifacts.allocated_bytes(image) >= 8 * MIB
    artifacts.make_sparse(image)
    assert image.read_bytes() == original and image.stat().st_size == 8 * MIB
    assert artifacts.allocated_bytes(image) <= 2 * 64 * 1024 + 64 * 1024


def closed_machine(tmp_path, **options) -> Machine:
    """A Machine never started whose run folder holds logs and disks, closed as failed."""
    machine = Machine(MachineOptions(run_root=tmp_path, **options))
    for path in run_folder(tmp_path).iterdir():
        path.rename(machine.run_dir / path.name)
    machine.close(failed=True)
    return machine


def test_machine_close_drops_disks_of_a_failed_run_by_default(tmp_path):
    machine = closed_machine(tmp_path)
    assert machine.kept
    assert sorted(p.name for p in machine.run_dir.iterdir()) == ["console.log", "qemu-stderr.log"]


def test_machine_close_with_keep_keeps_sparse_disks(tmp_path):
    machine = closed_machine(tmp_path, keep=True)
    names = sorted(p.name for p in machine.run_dir.iterdir())
    assert {"fs.img", "swap.img", "fs.qcow2", "console.log"} <= set(names)
    assert artifacts.allocated_bytes(machine.run_dir / "fs.img") < MIB
