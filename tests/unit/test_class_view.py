"""The class report (reports/class_view.py) from hand-made results: the
scenarios most often not passed come first, failure signatures group
submissions, grades.csv has points per area, each cell links to the
submission's own scenario page, and the class JUnit sums the
submissions'."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from oracles.model.machine_state import Violation
from reports.class_view import ClassInput, columns, grades_csv, render_class, signature_groups
from results.grade import ScenarioCell, SubmissionResult, failure_cause
from results.model import HangRecord, ScenarioResult, Verdict

SCENARIOS = [("lazy-a", "lazy"), ("mmap-b", "mmap"), ("swap-c", "swap")]


def result(name, outcomes, built=True, points=1.0):
    """OUTCOMES: {scenario: (verdict, cause)}; others pass."""
    cells = []
    for scenario, area in SCENARIOS:
        verdict, cause = outcomes.get(scenario, ("PASS", ""))
        cells.append(ScenarioCell(scenario, area, verdict, points, cause,
                                  "" if verdict == "PASS" else f"{scenario} broke"))
    return SubmissionResult(name=name, identity={"path": f"trees/{name}"}, kernel="pintos-kaist",
                            built=built, seconds=3.0, finished="2026-01-01T00:00:00", cells=cells,
                            build_error="" if built else "make failed:\nvm.c:1: error: x")


def class_input():
    spt = ("FAIL", "FAIL: spt_consistent")
    results = {
        "ann": result("ann", {}),
        "bob": result("bob", {"mmap-b": spt}),
        "cy": result("cy", {"mmap-b": spt}),
        "dee": result("dee", {"mmap-b": ("HANG", "HANG: deadlock"), "swap-c": spt}),
        "eve": result("eve", {s: ("BUILD_FAILED", "BUILD_FAILED") for s, _ in SCENARIOS},
                      built=False),
    }
    return ClassInput(names=["ann", "bob", "cy", "dee", "eve", "fay"], results=results,
                      scenarios=SCENARIOS, title="roster.toml")


def test_most_often_wrong_scenarios_come_first_with_their_causes():
    cols = columns(class_input())
    assert [c.name for c in cols] == ["mmap-b", "swap-c", "lazy-a"]
    assert (cols[0].not_passed, cols[0].graded) == (4, 5)
    assert cols[0].causes == [("FAIL: spt_consistent", 2), ("BUILD_FAILED", 1),
                              ("HANG: deadlock", 1)]


def test_submissions_failing_the_same_way_are_one_group():
    groups = signature_groups(class_input().results)
    assert groups[0] == ((("mmap-b", "FAIL: spt_consistent"),), ["bob", "cy"])
    assert sorted(names for _, names in groups[1:]) == [["dee"], ["eve"]]
    assert all("ann" not in names for _, names in groups)        # passed everything


def test_grades_csv_has_points_per_area_and_build_status():
    rows = list(csv.DictReader(io.StringIO(grades_csv(class_input()))))
    by_name = {row["name"]: row for row in rows}
    assert list(rows[0]) == ["name", "source", "commit", "build", "passed", "scenarios",
                             "lazy", "mmap", "swap", "total", "max"]
    assert by_name["bob"] == {"name": "bob", "source": "trees/bob", "commit": "", "build": "ok",
                              "passed": "2", "scenarios": "3", "lazy": "1", "mmap": "0",
                              "swap": "1", "total": "2", "max": "3"}
    assert by_name["eve"]["build"] == "BUILD_FAILED" and by_name["eve"]["total"] == "0"
    assert by_name["fay"]["build"] == "not graded"


def test_the_page_links_each_cell_to_its_scenario_page(tmp_path):
    index = render_class(class_input(), tmp_path)
    page = index.read_text()
    assert (tmp_path / "static" / "report.js").is_file() and (tmp_path / "grades.csv").is_file()
    cell = re.search(r'<a class="hm v-HANG" href="([^"]+)" title="([^"]+)"', page)
    assert cell.group(1) == "submissions/dee/scenarios/mmap-b.html"
    assert "dee · mmap-b: HANG — mmap-b broke" in cell.group(2)
    assert page.count('<a class="hm v-') == 5 * 3          # fay (not graded) has no cells
    header = re.findall(r'<th data-sort="num" class="sc" data-area="(\w+)"', page)
    assert header == ["mmap", "swap", "lazy"]
    assert "PARTIAL" in page and "5 of 6 submissions graded" in page
    assert 'href="http' not in page and 'src="http' not in page   # opens from disk


def test_class_junit_holds_every_submission(tmp_path):
    from reports import write_report
    from results.model import RunResult
    data = class_input()
    for name in data.results:
        run = RunResult(kernel="pintos-kaist", started="2026-01-01T00:00:00", duration_s=1, jobs=1,
                        scenarios=[ScenarioResult(c.name, c.area, Verdict(c.verdict), 0.5,
                                                  reason=c.reason)
                                   for c in data.results[name].cells])
        write_report(run, tmp_path / "submissions" / name)
    render_class(data, tmp_path)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.get("tests") == "15" and root.get("failures") == "7"
    suites = {s.get("name") for s in root.iter("testsuite")}
    assert {"bob/mmap", "eve/lazy", "ann/swap"} <= suites
    case = next(c for c in root.iter("testcase") if c.get("classname") == "dee.mmap")
    assert case.find("failure").get("type") == "HANG"


def test_failure_causes():
    def sc(verdict, **fields):
        res = ScenarioResult("x", "lazy", verdict, 1.0, **fields)
        return failure_cause(res)
    assert sc(Verdict.PASS) == ""
    assert sc(Verdict.FAIL, run_violations=[Violation("pte_matches_spt", "wrong")]) == \
        "FAIL: pte_matches_spt"
    assert sc(Verdict.FAIL, missing_output=["ok"]) == "FAIL: output"
    assert sc(Verdict.FAIL, exit_status=-1, expected_exit_status=0) == "FAIL: exit status"
    assert sc(Verdict.HANG, hang=HangRecord("deadlock")) == "HANG: deadlock"
    assert sc(Verdict.KERNEL_PANIC, reason="Kernel PANIC at vm.c:9 in spt_find_page(): bad") == \
        "KERNEL_PANIC in spt_find_page"
    assert sc(Verdict.BUILD_FAILED) == "BUILD_FAILED"
