"""JUnit XML for CI systems (Jenkins/Ant format, read by GitHub and GitLab).

    <testsuites name="vmcheck" tests failures errors skipped time>
      <testsuite name=AREA ... timestamp hostname id package>
        <properties> kernel, jobs, shard, host facts </properties>
        <testcase name=SCENARIO classname=AREA time>
          <failure message=REASON type=VERDICT> failed checks + console tail
          or <error ...> (harness error) or <skipped message=REASON>
          (NOT_RUN; NOT_JUDGED: the kernel cannot observe the injection)
          <system-out> console </system-out>
        </testcase>
        <testcase name="SCENARIO · unknown: ORACLE" classname=AREA time="0">
          <skipped message="could not inspect: REASON (where)"/>
        </testcase>   one per UNKNOWN check (oracle and reason), the
                      scenario's own testcase keeps its verdict
        <system-out/> <system-err/>
      </testsuite>
    </testsuites>

One testsuite per area, classname = area: GitLab shows the classname as the
suite column and GitHub test-report actions group by it.
tests/unit/junit.xsd is the schema a test validates this against.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from pathlib import Path

from reports.summary_view import area_summaries
from reports.text import failure_lines, printable, tail_lines

# Verdict -> JUnit child element (PASS and unknown verdicts: none / failure).
VERDICT_ELEMENTS = {"FAIL": "failure", "KERNEL_PANIC": "failure",
                    "TRIPLE_FAULT": "failure", "HANG": "failure",
                    "BUILD_FAILED": "failure", "HARNESS_ERROR": "error",
                    "SKIPPED": "skipped", "NOT_RUN": "skipped", "NOT_JUDGED": "skipped"}
CONSOLE_TAIL_LINES = 40
MAX_MESSAGE = 300
MAX_SYSTEM_OUT = 200_000


def _timestamp(started: str) -> str:
    """ISO 8601 without time zone (the Ant schema's form); '' if unparsable."""
    try:
        moment = datetime.datetime.fromisoformat(started)
    except (TypeError, ValueError):
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def _outcome(sc) -> str:
    """'', 'failure', 'error' or 'skipped' for a ScenarioResult."""
    if sc.verdict.passed:
        return ""
    return VERDICT_ELEMENTS.get(sc.verdict.value, "failure")


def _message(sc) -> str:
    lines = failure_lines(sc)
    first = lines[0] if lines else sc.verdict.value
    return first if len(first) <= MAX_MESSAGE else first[:MAX_MESSAGE - 1] + "…"


def _failure_text(sc) -> str:
    text = "\n".join(failure_lines(sc)) or sc.verdict.value
    tail = tail_lines(sc.console, CONSOLE_TAIL_LINES)
    if tail:
        text += f"\n\nconsole (last {CONSOLE_TAIL_LINES} lines):\n{tail}"
    return text


def _system_out(console: str) -> str:
    text = printable(console)
    if len(text) > MAX_SYSTEM_OUT:
        text = (f"[first {len(text) - MAX_SYSTEM_OUT} characters cut]\n"
                + text[-MAX_SYSTEM_OUT:])
    return text


def _unknown_testcases(parent: ET.Element, sc) -> None:
    """A skipped testcase for each UNKNOWN check of SC (same oracle and
    reason once), the message saying what could not be inspected, where."""
    for oracle, reason, wheres in sc.unknown_groups():
        case = ET.SubElement(parent, "testcase", name=printable(f"{sc.name} · unknown: {oracle}"),
                             classname=printable(sc.area), time="0.000")
        message = printable(f"could not inspect: {reason} ({', '.join(wheres)})")
        ET.SubElement(case, "skipped", message=message[:MAX_MESSAGE])


def _testcase(parent: ET.Element, sc) -> None:
    case = ET.SubElement(parent, "testcase", name=printable(sc.name),
                         classname=printable(sc.area), time=f"{sc.duration_s:.3f}")
    outcome = _outcome(sc)
    if outcome == "skipped":
        ET.SubElement(case, "skipped", message=_message(sc))
    elif outcome:
        element = ET.SubElement(case, outcome, message=_message(sc),
                                type=sc.verdict.value)
        element.text = _failure_text(sc)
    if sc.console:
        ET.SubElement(case, "system-out").text = _system_out(sc.console)


def _properties(parent: ET.Element, run) -> None:
    props = ET.SubElement(parent, "properties")
    facts = [("kernel", run.kernel), ("jobs", run.jobs)]
    facts += [("shard", run.shard)] if run.shard else []
    facts += [(f"host.{k}", v) for k, v in sorted(run.host.items())]
    for name, value in facts:
        ET.SubElement(props, "property", name=name, value=printable(str(value)))


def _counts(scenarios) -> dict:
    outcomes = [_outcome(sc) for sc in scenarios]
    outcomes += ["skipped" for sc in scenarios for _ in sc.unknown_groups()]
    return {"tests": str(len(outcomes)),
            "failures": str(outcomes.count("failure")),
            "errors": str(outcomes.count("error")),
            "skipped": str(outcomes.count("skipped")),
            "time": f"{sum(sc.duration_s for sc in scenarios):.3f}"}


def junit_tree(run) -> ET.ElementTree:
    """The JUnit document of RUN (a RunResult)."""
    root = ET.Element("testsuites", name="vmcheck", **_counts(run.scenarios))
    root.set("time", f"{run.duration_s:.3f}")
    stamp = _timestamp(run.started)
    hostname = printable(str(run.host.get("hostname", "localhost")))
    areas = [a for a in area_summaries(run) if a.total]
    for index, area in enumerate(areas):
        suite = ET.SubElement(root, "testsuite", name=printable(area.area),
                              **_counts(area.scenarios), hostname=hostname,
                              id=str(index), package="vmcheck")
        if stamp:
            suite.set("timestamp", stamp)
        _properties(suite, run)
        for sc in area.scenarios:
            _testcase(suite, sc)
            _unknown_testcases(suite, sc)
        ET.SubElement(suite, "system-out")
        ET.SubElement(suite, "system-err")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(run, path: Path) -> Path:
    """Writes RUN as JUnit XML to PATH (UTF-8) and returns PATH."""
    path = Path(path)
    junit_tree(run).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_class_junit(named_files: list, path: Path) -> Path:
    """One JUnit document of a class (`vmcheck grade`): the testsuites of
    each submission's junit.xml in NAMED_FILES ([(name, path)]), renamed
    NAME/AREA (testcases' classname NAME.AREA), with the totals summed;
    a file that is not there is left out."""
    root = ET.Element("testsuites", name="vmcheck grade")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    seconds = 0.0
    for name, source in named_files:
        if not Path(source).is_file():
            continue
        for suite in ET.parse(source).getroot().iter("testsuite"):
            suite.set("name", printable(f"{name}/{suite.get('name', '')}"))
            suite.set("id", str(len(root)))
            for case in suite.iter("testcase"):
                case.set("classname", printable(f"{name}.{case.get('classname', '')}"))
            for key in totals:
                totals[key] += int(suite.get(key, "0"))
            seconds += float(suite.get("time", "0"))
            root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return Path(path)
