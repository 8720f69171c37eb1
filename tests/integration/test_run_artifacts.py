"""Run folders of real scenarios on the reference kernel: a failed scenario
keeps its logs only; a failed file-system check also keeps the file-system
image, gzipped, and says so; --keep keeps every disk, sparse; a pass keeps
nothing."""

from __future__ import annotations

import gzip
import textwrap
from pathlib import Path

import pytest

from harness.adapters.reference import fsimage
from harness.machine import artifacts
from harness.adapters import get_adapter
from harness.run.runner import RunnerOptions, run_scenario
from harness.machine.qemu import MachineOptions
from harness.run.scenario import load_file

pytestmark = pytest.mark.integration

SCENARIOS = """
    area = "core"
    [[scenario]]
    name = "wrong-status"
    program = "hello"
    exit_status = 3
    [[scenario]]
    name = "wrong-file"
    program = "fsround"
    [[scenario.after]]
    check = "file_bytes"
    file = "keep.txt"
    text = "not what fsround writes"
    [[scenario]]
    name = "fine"
    program = "hello"
    """


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    path = tmp_path_factory.mktemp("sc") / "s.toml"
    path.write_text(textwrap.dedent(SCENARIOS))
    return {sc.name: sc for sc in load_file(path)}


def run(sc, run_root, keep=False):
    options = RunnerOptions(machine=MachineOptions(run_root=run_root, keep=keep))
    result = run_scenario(get_adapter("reference"), sc, options)
    return result, Path(result.artifacts) if result.artifacts else None


def test_a_failed_scenario_keeps_its_logs_only(built, scenarios, run_root):
    result, folder = run(scenarios["wrong-status"], run_root)
    assert result.verdict.value == "FAIL"
    assert sorted(p.name for p in folder.iterdir()) == ["console.log", "qemu-stderr.log"]
    assert "hello: exit(0)" in (folder / "console.log").read_text()
    assert run(scenarios["fine"], run_root)[1] is None


def test_a_failed_file_system_check_keeps_the_image_compressed(built, scenarios, run_root):
    result, folder = run(scenarios["wrong-file"], run_root)
    assert result.verdict.value == "FAIL" and result.after_violations, result.reason
    assert sorted(p.name for p in folder.iterdir()) == \
        ["console.log", "fs.img.gz", "qemu-stderr.log"]
    note = [n for n in result.notes if n.startswith("file-system image kept")]
    assert note and "fs.img.gz (gzip" in note[0], result.notes
    image = folder / "fs.img"
    image.write_bytes(gzip.decompress((folder / "fs.img.gz").read_bytes()))
    assert fsimage.read_file(image, "keep.txt").startswith(b"vmcheck fsround")


def test_keep_keeps_every_disk_sparse(built, scenarios, run_root):
    result, folder = run(scenarios["wrong-status"], run_root, keep=True)
    image = folder / "fs.img"
    assert image.is_file() and artifacts.allocated_bytes(image) < image.stat().st_size
    assert fsimage.read_file(image, "hello")
