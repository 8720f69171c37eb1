"""Malformed scenario files: each mistake gives one line naming the file,
the line, the scenario and the key (ScenarioError, exit code 2)."""

import textwrap

import pytest

from harness.errors import EXIT_USAGE
from harness.run.scenario import ScenarioError, load_file, load_suite

GOOD = """\
area = "mmap"

[[scenario]]
name = "ok"
program = "hello"
"""

# A program printing begin, one checked call and end; a kernel may kill it in the call.
ENDINGS = GOOD + 'output = ["(p) begin", "(p) call fails", "(p) end", "hello: exit(0)"]\n'
KILLED = 'also_accept = [\n  { exit_status = -1, output = ["(p) begin", "(p) call fails"] },\n]\n'
CP_AFTER_CALL = '[[scenario.checkpoint]]\nid = 1\ncount = 1\n'

# (id, file text, expected line, expected text in the message)
CASES = [
    ("toml-syntax", 'area = "mmap"\n[[scenario]]\nname = "x\n', 3, "not valid TOML"),
    ("unknown-file-key", 'areas = "mmap"\n[[scenario]]\nname = "x"\nprogram = "p"\n', 1,
     "unknown key 'areas' in scenario file"),
    ("no-scenarios", 'area = "mmap"\n', 1, "missing required key 'scenario'"),
    ("unknown-scenario-key", GOOD + 'mem = 20\n', 6, "unknown key 'mem' in scenario"),
    ("wrong-type", GOOD + 'mem_mb = "20"\n', 6, "mem_mb: must be an integer, not '20'"),
    ("bool-is-not-int", GOOD + 'swap_mb = true\n', 6, "swap_mb: must be an integer"),
    ("missing-program", 'area = "mmap"\n[[scenario]]\nname = "x"\n', 2,
     "missing required key 'program'"),
    ("bad-name", 'area = "mmap"\n[[scenario]]\nname = "Bad Name"\nprogram = "p"\n', 3,
     "is not a valid name"),
    ("out-of-range", GOOD + 'mem_mb = 1\n', 6, "mem_mb: must be between 2 and 4096"),
    ("negative-timeout", GOOD + 'timeout = -5\n', 6, "timeout: must be more than 0"),
    ("bad-area", GOOD + 'area = "paging"\n', 6, "area: must be one of"),
    ("list-item-type", GOOD + 'args = ["a", 3]\n', 6, "args[1]: must be a string"),
    ("output-not-list", GOOD + 'output = "(x) begin"\n', 6, "output: must be a list"),
    ("unknown-invariant", GOOD + 'invariants_off = { no_such = "why" }\n', 6,
     "unknown invariant 'no_such'"),
    ("invariant-without-reason", GOOD + 'invariants_off = { user_bit = "" }\n', 6,
     "needs a reason"),
    ("checkpoint-without-id", GOOD + '[[scenario.checkpoint]]\nhit = 2\n', 6,
     "checkpoint is missing required key 'id'"),
    ("checkpoint-twice", GOOD + '[[scenario.checkpoint]]\nid = 1\n[[scenario.checkpoint]]\nid = 1\n',
     9, "checkpoint 1 (hit 1) is listed twice"),
    ("unknown-check", GOOD + '[[scenario.checkpoint]]\nid = 1\nexpect = [{ check = "presnt" }]\n',
     8, "unknown check 'presnt'"),
    ("check-missing-param", GOOD + '[[scenario.checkpoint]]\nid = 1\n'
     'expect = [{ check = "present", start = "buf" }]\n', 8, "missing required key 'present'"),
    ("check-param-type", GOOD + '[[scenario.checkpoint]]\nid = 1\nexpect = [\n'
     '  { check = "present", start = "buf", present = "all" },\n'
     '  { check = "unmapped", addr = "buf", pages = "two" },\n]\n', 10,
     "pages: must be an integer"),
    ("bad-address", GOOD + '[[scenario.checkpoint]]\nid = 1\n'
     'expect = [{ check = "unmapped", addr = "buf(1)" }]\n', 8, "bad address expression"),
    ("contents-file-missing", GOOD + '[[scenario.checkpoint]]\nid = 1\n'
     'expect = [{ check = "contents", addr = 4096, length = 8, source = "file" }]\n', 8,
     "needs a 'file' key"),
    ("after-check-at-checkpoint", GOOD + '[[scenario.checkpoint]]\nid = 1\n'
     'expect = [{ check = "file_bytes", file = "a" }]\n', 8, "belongs in [[scenario.after]]"),
    ("second-scenario", GOOD + '\n[[scenario]]\nname = "two"\nprogram = "p"\nexit_status = 300\n',
     10, "scenario 'two': exit_status: must be between -1 and 255"),
    # the lint: an accepted ending that can never pass (scenario_lint.py)
    ("killed-ending-vs-checkpoint-count", ENDINGS + KILLED + CP_AFTER_CALL, 7,
     "also_accept[0]: this ending stops the program early (exit status -1, output cut short) "
     "but checkpoint 1 requires count = 1 in every ending"),
    ("killed-ending-vs-checkpoint-reached", ENDINGS + KILLED + CP_AFTER_CALL.replace(
        "count = 1\n", ""), 7, "checkpoint 1 requires at least one hit in every ending"),
    ("ending-names-an-undeclared-checkpoint", ENDINGS + KILLED.replace(
        "] }", '], checkpoints = { 7 = 0 } }') + CP_AFTER_CALL, 8,
     "also_accept[0].checkpoints: checkpoint 7 is not declared in this scenario"),
    ("ending-count-not-a-number", ENDINGS + KILLED.replace(
        "] }", '], checkpoints = { 1 = -1 } }') + CP_AFTER_CALL, 8,
     "the number of hits must be a whole number >= 0"),
    ("hit-beyond-count", GOOD + '[[scenario.checkpoint]]\nid = 1\ncount = 1\n'
     '[[scenario.checkpoint]]\nid = 1\nhit = 2\n', 11,
     "checkpoint[1].hit: checkpoint 1: hit 2 can never be reached"),
]


@pytest.mark.parametrize("text,line,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_file_gives_one_line_with_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}:{line}: "), text
    assert message in text
    assert info.value.exit_code == EXIT_USAGE


def test_at_least_fifteen_kinds_of_mistake():
    assert len(CASES) >= 15


def test_duplicate_name_across_files(tmp_path):
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text(GOOD)
    with pytest.raises(ScenarioError, match=r"b.toml:3: scenario 'ok': name already used at .*a.toml:3"):
        load_suite([tmp_path / "a.toml", tmp_path / "b.toml"])


def test_missing_program_and_data_file(tmp_path):
    (tmp_path / "s.toml").write_text(GOOD + 'files = ["sample.txt"]\n')
    (tmp_path / "progs").mkdir()
    (tmp_path / "data").mkdir()
    with pytest.raises(ScenarioError, match=r"s.toml:3: scenario 'ok': program: no program 'hello'"):
        load_suite([tmp_path / "s.toml"], tmp_path / "progs", tmp_path / "data")
    (tmp_path / "progs" / "hello").write_bytes(b"\x7fELF")
    with pytest.raises(ScenarioError, match=r"files: no data file 'sample.txt'"):
        load_suite([tmp_path / "s.toml"], tmp_path / "progs", tmp_path / "data")


def test_good_file_loads_with_defaults(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD + textwrap.dedent("""\
        [[scenario.checkpoint]]
        id = 2
        expect = [{ check = "present", start = "buf + 2 * PGSIZE", pages = 3, present = [0] }]
        [[scenario.after]]
        check = "file_bytes"
        file = "sample.txt"
        """))
    [sc] = load_file(path)
    assert (sc.name, sc.area, sc.mem_mb, sc.swap_mb, sc.exit_status) == ("ok", "mmap", 20, 0, 0)
    [cp] = sc.checkpoints
    assert cp.id == 2 and cp.hit == 1 and cp.expect[0].params["pages"] == 3
    assert sc.after[0].check == "file_bytes" and sc.source == f"{path}:3"


def test_an_ending_that_says_how_often_it_reaches_each_checkpoint_loads(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(ENDINGS + KILLED.replace("] }", "], checkpoints = { 1 = 0 } }")
                    + CP_AFTER_CALL)
    [sc] = load_file(path)
    assert sc.also_accept[0].checkpoints == ((1, 0),)
    # an ending that goes further than the primary one (not cut short) needs nothing
    path.write_text(GOOD + 'exit_status = -1\noutput = ["(p) begin"]\nalso_accept = [\n'
                    '  { exit_status = 0, output = ["(p) begin", "(p) end"] },\n]\n'
                    + CP_AFTER_CALL)
    load_file(path)


def test_the_whole_suite_passes_the_lint():
    from harness.run.suite import load_all
    scenarios = {sc.name: sc for sc in load_all(None, None)}
    assert len(scenarios) >= 131
    for name in ("mmap-bad-fd", "mmap-bad-fd2", "mmap-bad-fd3", "mmap-zero-len"):
        assert dict(scenarios[name].also_accept[0].checkpoints) == {1: 0}
