"""What a report folder holds besides the HTML (reports/, results/):
JUnit XML, Gradescope JSON, results.json and its round trip, merging
shards, `python3 -m reports`, and the replay schedules the runner writes.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from results.codec import from_json, load_run, run_from_json, run_to_json, save_run, to_json
from results.merge import MergeError, merge_files, merge_runs
from results.model import HangRecord, RunResult, ScenarioResult, Verdict, parse_shard
from harness.run.runner import _write_schedule
from oracles.model.machine_state import PoolState, SptPage, Violation
from oracles.model.page_tables import PageTableSnapshot
from oracles.model.wait_graph import LOCK, ThreadNode, Wait, WaitGraph
from reports import write_junit
from tests.unit import report_fixtures as fx

REPO = Path(__file__).resolve().parents[2]
XSD = Path(__file__).with_name("junit.xsd")


@pytest.fixture
def run(tmp_path):
    return fx.build_run(tmp_path)


@pytest.fixture
def report(run, tmp_path):
    return fx.published(run, tmp_path / "out")


# ---- JUnit -----------------------------------------------------------------

def test_junit_structure(run, tmp_path):
    root = ET.parse(write_junit(run, tmp_path / "junit.xml")).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("10", "3", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["lazy", "stack", "mmap", "swap", "fork", "cow", "robustness",
                            "injection", "core"]
    swap = suites["swap"]
    assert (swap.get("tests"), swap.get("failures"), swap.get("errors")) == ("2", "1", "1")
    case = swap.find(f"testcase[@name='{fx.FAILING}']")
    assert case.get("classname") == "swap" and case.get("time") == "4.370"
    failure = case.find("failure")
    assert failure.get("type") == "FAIL" and failure.get("message").startswith("4 failed checks")
    for v in fx.failing_violations(run):
        assert f"[expected: {v.expected}; actual: {v.actual}]" in failure.text
    assert "console (last 40 lines):" in failure.text and "swap-anon: exit(0)" in failure.text
    assert "checking 64 pages" in case.find("system-out").text
    panic = suites["stack"].find("testcase/failure")
    assert panic.get("type") == "KERNEL_PANIC" and "exit status: expected 0" in panic.text
    assert swap.find("testcase[@name='swap-slot-reuse']/error").get("type") == "HARNESS_ERROR"
    assert suites["lazy"].find("testcase").findall("*") == \
        suites["lazy"].find("testcase").findall("system-out")
    assert swap.get("timestamp") == "2025-03-04T10:15:30"


def test_junit_survives_control_characters(run, tmp_path):
    run.scenarios[3].console = "a\x1b[0m\x00b\n"
    root = ET.parse(write_junit(run, tmp_path / "j.xml")).getroot()
    assert "a\\x1b[0m\\x00b" in "".join(root.itertext())


def _schema():
    etree = pytest.importorskip("lxml.etree", reason="python3-lxml not installed (make deps)")
    return etree, etree.XMLSchema(etree.parse(str(XSD)))


def test_junit_validates_against_the_schema(run, tmp_path):
    etree, schema = _schema()
    doc = etree.parse(str(write_junit(run, tmp_path / "junit.xml")))
    assert schema.validate(doc), schema.error_log


@pytest.mark.parametrize("bad", [
    '<testsuites><testsuite name="a" tests="1"><testcase classname="x"/></testsuite></testsuites>',
    '<testsuites><testcase name="t"/></testsuites>',
    '<testsuite name="a" tests="1"><testcase name="t" time="slow"/></testsuite>',
    '<testsuite name="a" tests="1"><testcase name="t"><failed/></testcase></testsuite>',
    '<testsuite name="a" tests="1"><system-out/><testcase name="t"/></testsuite>'])
def test_schema_rejects_malformed_junit(bad):
    etree, schema = _schema()
    assert not schema.validate(etree.fromstring(bad))


# ---- JSON --------------------------------------------------------------------

def test_results_json_round_trips(report):
    out, run = report
    loaded = load_run(out / "results.json")
    assert run_to_json(loaded) == json.loads(json.dumps(run_to_json(run)))
    assert loaded.scenarios[3].checkpoints[1].violations == run.scenarios[3].checkpoints[1].violations
    assert loaded.scenarios[3].checkpoints[1].pages == run.scenarios[3].checkpoints[1].pages
    assert loaded.scenarios[3].verdict is Verdict.FAIL
    assert loaded.address_layout == run.address_layout is not None


def test_results_json_has_a_line_for_each_scenario(report):
    out, run = report
    lines = (out / "results.json").read_text().splitlines()
    named = [line for line in lines if line.startswith('{"name": ')]
    assert [json.loads(line.rstrip(","))["name"] for line in named] == \
        [sc.name for sc in run.scenarios]
    assert lines[0] == "{" and lines[-1] == "}" and '"schema": 1' in lines


def test_swap_slots_in_use_round_trip_as_ranges():
    pools = PoolState(swap_slots_total=64, swap_slots_in_use=frozenset({0, 1, 2, 7, 9, 10}))
    data = json.loads(json.dumps(to_json(pools)))
    assert data["swap_slots_in_use"] == "0-2, 7, 9-10"
    assert from_json(PoolState, data) == pools
    empty = PoolState(swap_slots_in_use=frozenset())
    assert from_json(PoolState, to_json(empty)) == empty


def test_autograder_json(report):
    out, run = report
    data = json.loads((out / "autograder.json").read_text())
    tests = {t["name"]: t for t in data["tests"]}
    assert set(tests) == {sc.name for sc in run.scenarios}
    assert tests["lazy-bss-array"] | {"output": ""} == {
        "name": "lazy-bss-array", "score": 2.0, "max_score": 2.0, "status": "passed",
        "output": "", "tags": ["lazy"], "visibility": "visible"}
    failing = tests[fx.FAILING]
    assert (failing["score"], failing["max_score"], failing["status"]) == (0.0, 3.0, "failed")
    assert "expected: 766d636865636b2d; actual: 0000000000000000" in failing["output"]
    assert data["score"] == 8.5 and data["extra_data"]["max_score"] == 15.5
    assert data["execution_time"] == 42


# ---- merging shards ------------------------------------------------------------

def _shards(run, n):
    out = []
    for k in range(n):
        shard = copy.deepcopy(run)
        shard.scenarios = run.scenarios[k::n]
        shard.shard, shard.jobs = f"{k + 1}/{n}", 1
        shard.started = f"2025-03-04T10:15:{30 + k:02d}"
        shard.duration_s = 10.0
        out.append(shard)
    return out


def test_merge_shards(run):
    merged = merge_runs(list(reversed(_shards(run, 3))))
    assert sorted(sc.name for sc in merged.scenarios) == sorted(sc.name for sc in run.scenarios)
    assert [sc.name for sc in merged.scenarios[:2]] == \
        [run.scenarios[0].name, run.scenarios[3].name]
    assert (merged.started, merged.duration_s, merged.jobs, merged.shard) == \
        ("2025-03-04T10:15:30", 12.0, 3, None)


@pytest.mark.parametrize("spoil, message", [
    (lambda s: s.pop(), "missing shard 3/3"),
    (lambda s: setattr(s[1], "shard", "1/3"), "shard 1/3 appears twice"),
    (lambda s: setattr(s[1], "shard", "2/4"), "of another split"),
    (lambda s: setattr(s[1], "shard", None), "is not a shard"),
    (lambda s: setattr(s[1], "kernel", "reference"), "different kernels"),
    (lambda s: s[1].scenarios.append(s[0].scenarios[0]), "is in both"),
])
def test_merge_refuses_wrong_input(run, spoil, message):
    shards = _shards(run, 3)
    spoil(shards)
    with pytest.raises(MergeError, match=message):
        merge_runs(shards)


@pytest.mark.parametrize("spec, why", [("2/4", None), ("0/4", "1 <= K <= N"),
                                       ("5/4", "1 <= K <= N"), ("2-4", "is not K/N")])
def test_one_reading_of_a_shard_for_run_and_merge(spec, why):
    """`vmcheck run --shard` and merge read K/N the same way (results/model.py)."""
    from harness.errors import UsageError
    from harness.run.suite import shard
    if why is None:
        assert parse_shard(spec) == (2, 4) and shard([], spec) == []
        return
    with pytest.raises(ValueError, match=why):
        parse_shard(spec)
    with pytest.raises(UsageError, match=f"--shard: .*{why}"):
        shard([], spec)
    with pytest.raises(MergeError, match=f"r1: shard .*{why}"):
        merge_runs([RunResult("k", "t", 1.0, 1, shard=spec)], ["r1"])


def test_merge_partial_when_allowed(run):
    shards = _shards(run, 3)[:2]
    assert len(merge_runs(shards, allow_partial=True).scenarios) == 7


def test_merge_files_names_the_bad_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MergeError, match=r"bad\.json: not JSON"):
        merge_files([bad])
    bad.write_text('{"schema": 99}')
    with pytest.raises(MergeError, match="not a vmcheck results file"):
        merge_files([bad])
    with pytest.raises(MergeError, match="no such file"):
        merge_files([tmp_path / "absent.json"])


# ---- python3 -m reports -------------------------------------------------------

def _main(*args):
    return subprocess.run([sys.executable, "-m", "reports", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_main_merges_shards_into_a_report(run, tmp_path):
    paths = []
    for shard in _shards(run, 2):
        paths.append(tmp_path / f"r{shard.shard[0]}.json")
        save_run(shard, paths[-1])
    done = _main(*paths, tmp_path / "rep")
    assert done.returncode == 0, done.stderr
    assert "6/10 scenarios passed" in done.stdout
    for name in ("index.html", "junit.xml", "autograder.json", "results.json"):
        assert (tmp_path / "rep" / name).is_file()
    assert len(load_run(tmp_path / "rep" / "results.json").scenarios) == 10
    assert 'href="junit.xml"' in (tmp_path / "rep" / "index.html").read_text()


@pytest.mark.parametrize("args, message", [
    (["missing.json", "out"], "missing.json: no such file"),
    (["only-one-arg"], "the following arguments are required"),
])
def test_main_bad_input_is_one_line_and_status_2(tmp_path, args, message):
    done = _main(*[tmp_path / a if a.endswith(".json") else a for a in args])
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


# ---- the codec: typed values back, wrong input named ----------------------

def test_loaded_results_are_typed_values(report):
    out, run = report
    loaded = load_run(out / "results.json")
    failing = next(sc for sc in loaded.scenarios if sc.name == fx.FAILING)
    cp = failing.checkpoints[1]
    assert isinstance(cp.pages, PageTableSnapshot) and isinstance(cp.pools, PoolState)
    assert all(isinstance(p, SptPage) for p in cp.spt)
    assert all(isinstance(v, Violation) for v in failing.violations)
    fault = next(sc for sc in loaded.scenarios if sc.faults).faults[0]
    assert all(isinstance(addr, int) and isinstance(line, tuple)
               for line in fault.disassembly for addr in line[:1])


def test_a_hang_comes_back_with_its_wait_graph():
    graph = WaitGraph([ThreadNode(5, "a", "blocked", wait=Wait(LOCK, "`x`", 1, 6)),
                       ThreadNode(6, "b", "blocked", wait=Wait(LOCK, "`y`", 2, 5))])
    hang = HangRecord("deadlock", 3.5, 1.2, graph)
    data = json.loads(json.dumps(to_json(hang)))
    assert data["graph"]["cycle"] == [5, 6]
    assert from_json(HangRecord, data) == hang


@pytest.mark.parametrize("spoil, message", [
    (lambda d: d["scenarios"][0].update(colour="red"), "ScenarioResult: unknown key 'colour'"),
    (lambda d: d["scenarios"][0].update(checkpoints="none"), "is not a list"),
    (lambda d: d["scenarios"][0]["checkpoints"][0].update(id="one"), "'one' is not a whole"),
    (lambda d: d.update(schema=7), "results schema 7, expected 1"),
])
def test_a_results_file_that_does_not_fit_is_named(run, spoil, message):
    data = json.loads(json.dumps(run_to_json(run), default=str))
    spoil(data)
    with pytest.raises(ValueError, match=message):
        run_from_json(data)


# ---- replay schedules: written by the runner, once --------------------------

def _failed_with_injections(verdict=Verdict.FAIL) -> ScenarioResult:
    return ScenarioResult("swap-anon", "swap", verdict, 1.0,
                          schedule={"vmcheck_schedule": 1, "scenario": "swap-anon",
                                    "injections": []})


def test_a_failed_run_with_injections_writes_its_schedule_once(tmp_path):
    folder = tmp_path / "schedule-files"
    result = _failed_with_injections()
    _write_schedule(result, folder)
    written = Path(result.schedule_file)
    assert written.parent == folder and json.loads(written.read_text())["scenario"] == "swap-anon"
    _write_schedule(result, folder)
    assert Path(result.schedule_file) == written and len(list(folder.iterdir())) == 1


@pytest.mark.parametrize("verdict", [Verdict.PASS, Verdict.NOT_RUN])
def test_a_passed_or_cut_short_run_writes_no_schedule(tmp_path, verdict):
    result = _failed_with_injections(verdict)
    _write_schedule(result, tmp_path / "schedule-files")
    assert result.schedule_file is None and not (tmp_path / "schedule-files").exists()


def test_without_a_folder_no_schedule_is_written():
    result = _failed_with_injections()
    _write_schedule(result, None)
    assert result.schedule_file is None
