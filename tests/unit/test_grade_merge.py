"""`vmcheck grade --merge` (harness/grade/merge.py): the class folders of
shard jobs make one class folder; a missing or doubled shard, another
roster or an unfinished submission is refused as `vmcheck merge` refuses
its shards. The shards are graded with the recorders of
test_grade_scheduler (no QEMU)."""

from __future__ import annotations

import json

import pytest

from harness.cli.report import publish
from harness.errors import UsageError
from harness.grade.grading import GradeRequest, grade
from harness.grade.merge import merge_class
from harness.grade.scheduler import GradePlan
from harness.run.runner import RunnerOptions
from results.model import Verdict
from tests.unit.test_grade_scheduler import SCENARIOS, FakeClass, no_stop_left, roster  # noqa: F401

NAMES = ("ann", "bob", "cy")
ORDER = [sc.name for sc in SCENARIOS]


def grade_shard(tmp_path, monkeypatch, shard=None, scenario_shard=None, fake=None, names=NAMES):
    fake = (fake or FakeClass(fails={("bob", "s-mmap"): Verdict.FAIL})).install(monkeypatch)
    label = f"{shard or 'all'}-{scenario_shard or 'all'}".replace("/", "of")
    request = GradeRequest(roster=roster(tmp_path, names), report=tmp_path / f"class-{label}",
                           scenarios=list(SCENARIOS), shard=shard, scenario_shard=scenario_shard)
    plan = GradePlan(scenarios=[], runner=RunnerOptions(), jobs=1)
    grade(request, plan, publish, lambda state: None, progress_stream=open("/dev/null", "w"),
          live=False)
    return request.report


def merged(tmp_path, dirs, allow_partial=False):
    return merge_class(roster(tmp_path, NAMES), dirs, tmp_path / "class", allow_partial,
                       publish, ORDER)


def test_submission_shards_merge_into_the_whole_class(tmp_path, monkeypatch):
    dirs = [grade_shard(tmp_path, monkeypatch, shard=s) for s in ("1/2", "2/2")]
    state = merged(tmp_path, dirs)
    assert set(state.results) == set(NAMES) and not state.pending
    assert state.results["bob"].signature() == (("s-mmap", "FAIL: other"),)
    graded = json.loads((tmp_path / "class" / "submissions" / "cy" / "autograder.json").read_text())
    assert graded["score"] == 3
    assert state.folder.finished("ann") is not None


@pytest.mark.parametrize("shards, message", [
    (("1/3", "3/3"), "missing shard 2/3"),
    (("1/2", "1/2", "2/2"), "shard 1/2 appears twice"),
    (("1/2", "2/3"), "is of another split"),
    (("1/2", None), "is not a shard, but other results are"),
])
def test_shards_that_do_not_make_a_whole_are_refused(tmp_path, monkeypatch, shards, message):
    dirs = [grade_shard(tmp_path, monkeypatch, shard=s) for s in shards]
    with pytest.raises(UsageError, match=message):
        merged(tmp_path, dirs)


def test_an_unfinished_submission_is_refused_unless_partial(tmp_path, monkeypatch):
    dirs = [grade_shard(tmp_path, monkeypatch, shard=s) for s in ("1/2", "2/2")]
    (dirs[0] / "submissions" / "cy" / "submission.json").unlink()   # cy is in shard 1/2
    with pytest.raises(UsageError, match="cy is not graded in .* \\(shard 1/2\\)"):
        merged(tmp_path, dirs)
    state = merged(tmp_path, dirs, allow_partial=True)
    assert state.pending == ["cy"]


def test_another_roster_is_refused(tmp_path, monkeypatch):
    dirs = [grade_shard(tmp_path, monkeypatch, shard="1/2"),
            grade_shard(tmp_path, monkeypatch, shard="2/2", names=("ann", "bob"))]
    with pytest.raises(UsageError, match="graded another roster"):
        merged(tmp_path, dirs)
    with pytest.raises(UsageError, match="not a grading's folder"):
        merged(tmp_path, [dirs[0], tmp_path / "trees"])


def test_scenario_shards_merge_into_one_report_per_submission(tmp_path, monkeypatch):
    dirs = [grade_shard(tmp_path, monkeypatch, scenario_shard=s) for s in ("1/2", "2/2")]
    state = merged(tmp_path, dirs)
    assert {c.name for c in state.results["bob"].cells} == set(ORDER)
    results = json.loads((tmp_path / "class" / "submissions" / "bob" / "results.json").read_text())
    assert sorted(sc["name"] for sc in results["scenarios"]) == sorted(ORDER)
    with pytest.raises(UsageError, match="missing shard 2/2"):
        merged(tmp_path, dirs[:1])
