"""The HTML report (reports/): summary and scenario pages, page tables and
their changes, the timeline, faults, hangs, escaping. JUnit, Gradescope
JSON, results.json, merging shards and `python3 -m reports`:
tests/unit/test_report_files.py.

Most tests render tests/unit/report_fixtures.build_run(), a run with
passing and failing scenarios, ~100-page snapshots and oracle violations.
"""

from __future__ import annotations

import dataclasses
import html
import html.parser
import json
import re
from pathlib import Path

import pytest

from oracles.model.machine_state import PoolState, Violation
from results.codec import load_run, run_from_json, run_to_json, save_run
from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from results.model import HangRecord, Verdict
from reports import render_report, write_report
from reports.addrspace import regions
from reports.pages_view import page_rows, page_state
from reports.scenario_view import _pool_counts
from reports.summary_view import area_summaries
from tests.unit import report_fixtures as fx

VOID = {"meta", "link", "input", "br", "img", "hr", "col", "wbr"}


@pytest.fixture
def run(tmp_path):
    return fx.build_run(tmp_path)


@pytest.fixture
def report(run, tmp_path):
    """(out dir, run) after the report and results.json are written."""
    return fx.published(run, tmp_path / "out")


def page_of(out: Path, name: str) -> str:
    return (out / "scenarios" / f"{name}.html").read_text()


class TagBalance(html.parser.HTMLParser):
    """Fails on a closing tag that does not match the open one."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> at {self.getpos()}, open: {self.stack[-3:]}")
        else:
            self.stack.pop()


# ---- HTML ------------------------------------------------------------------

def test_report_folder_has_every_page_and_no_network_reference(report):
    out, run = report
    pages = sorted(p.name for p in (out / "scenarios").iterdir())
    assert len(pages) == len(run.scenarios)
    for path in [out / "index.html", *(out / "scenarios").iterdir(), *(out / "static").iterdir()]:
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//|url\(\s*['\"]?https?:|@import",
                             text), f"{path} refers to the network"
    assert (out / "static" / "report.css").is_file() and (out / "static" / "report.js").is_file()
    index = (out / "index.html").read_text()
    for sc in run.scenarios:
        assert html.escape(sc.name) in index


def test_every_page_is_balanced_html(report):
    out, _ = report
    for path in [out / "index.html", *(out / "scenarios").iterdir()]:
        parser = TagBalance()
        parser.feed(path.read_text())
        assert not parser.errors, f"{path.name}: {parser.errors[:3]}"
        assert [t for t, _ in parser.stack] == [], f"{path.name}: unclosed {parser.stack[:3]}"


def test_summary_banner_and_area_counts(report):
    out, run = report
    index = (out / "index.html").read_text()
    assert 'class="banner fail"' in index
    assert ("4 of 10 scenarios did not pass "
            "(1 FAIL, 1 KERNEL_PANIC, 1 HANG, 1 HARNESS_ERROR)") in index
    swap = next(a for a in area_summaries(run) if a.area == "swap")
    assert (swap.total, swap.passed) == (2, 0)
    assert [v for v, _ in swap.counts] == ["FAIL", "HARNESS_ERROR"]
    assert swap.seconds == pytest.approx(4.57)
    titles = [a.title for a in area_summaries(run)]
    assert titles[:9] == ["Lazy loading", "Stack growth", "mmap", "Swap", "Fork",
                          "Copy-on-write", "Robustness", "Fault injection", "Kernel core"]


def test_all_passing_run_has_a_pass_banner(run, tmp_path):
    run.scenarios = [sc for sc in run.scenarios if sc.verdict.passed]
    index = render_report(run, tmp_path / "ok").read_text()
    assert 'class="banner pass"' in index and "All 6 scenarios passed" in index


def test_failing_page_shows_each_violation_expected_and_actual(report):
    out, run = report
    page = page_of(out, fx.FAILING)
    cards = re.findall(r'<div class="expected"><div class="label">Expected</div>'
                       r'<pre>(.*?)</pre></div>\s*'
                       r'<div class="actual"><div class="label">Actual</div><pre>(.*?)</pre>',
                       page, re.S)
    wanted = [(html.escape(v.expected), html.escape(v.actual))
              for v in fx.failing_violations(run)]
    assert len(wanted) == 4 and cards == wanted


def test_checkpoint_changes_are_highlighted_in_table_and_picture(report):
    out, _ = report
    page = page_of(out, "lazy-bss-array")
    # checkpoint 2 touched bss pages 0..15: page 0x407000 is new there, not at checkpoint 1
    assert re.search(r'<tr id="cp-1-407000" class="chg chg-added">', page)
    assert '<tr id="cp-0-407000" class="">' in page
    assert re.search(r'class="cell st-rw chg" href="#cp-1-407000"', page)
    assert "17 changed since checkpoint 1" in page


def test_violation_page_marked_in_picture_and_table(report):
    out, _ = report
    page = page_of(out, fx.FAILING)
    va = f"{fx.SWAPPED_BACK:x}"
    assert re.search(rf'class="cell st-rw chg viol" href="#cp-1-{va}"', page)
    assert re.search(rf'<tr id="cp-1-{va}" class="chg chg-added viol">', page)


def test_page_rows_report_removed_and_changed_pages():
    space = fx.program(9, "p", 0x100000, 0x800000)
    fx.touch_bss(space, range(3))
    before = space.checkpoint(1, 1, 1, fx.pools(10))
    space.swap_out(fx.BSS, 5)
    m = space.ptes[fx.BSS + fx.PAGE]
    space.ptes[fx.BSS + fx.PAGE] = m._replace(flags=m.flags & ~fx.PTE_W,
                                              leaf_value=m.leaf_value & ~fx.PTE_W)
    rows, _ = page_rows(space.checkpoint(2, 2, 2, fx.pools(10)), before)
    by_va = {r.va: r for r in rows}
    swapped, readonly = by_va[fx.BSS], by_va[fx.BSS + fx.PAGE]
    assert (swapped.state, swapped.change) == ("swapped", "removed")
    assert "swap_slot — -> 5" in swapped.change_text
    assert (readonly.state, readonly.change) == ("ro", "changed")
    assert "flags P|W|U|NX -> P|U|NX" in readonly.change_text
    assert not by_va[fx.BSS + 2 * fx.PAGE].change


@pytest.mark.parametrize("pte, spt, state", [
    (True, {"type": "anon"}, "rw"), ("ro", {"type": "file"}, "ro"),
    ("ro", {"type": "anon", "cow": True}, "cow"),
    (None, {"type": "anon", "swap_slot": 2}, "swapped"),
    (None, {"type": "file"}, "file"), (None, {"type": "uninit"}, "lazy"),
    (None, {"type": "anon"}, "out"), (True, None, "nospt"), (None, None, "gone")])
def test_page_state(pte, spt, state):
    flags = fx.RW_DATA if pte is True else fx.RO_DATA
    mapping = None if pte is None else fx.PageMapping(0x1000, 4096, 0x5000, flags, 0, ())
    entry = None if spt is None else fx.SptPage(0x1000, **spt)
    assert page_state(mapping, entry, spt_known=True) == state


def test_regions_split_on_gaps_and_name_what_they_are():
    space = fx.program(2, "p", 0x100000, 0x800000)
    for i in range(3):
        space.lazy(fx.MMAP_BASE + i * fx.PAGE, fx.FILE, True, file_id=1, file_offset=0)
    rows, _ = page_rows(space.checkpoint(1, 1, 1, fx.pools(1)))
    found = regions(rows, LAYOUT)
    assert [(r.kind, r.start, r.pages) for r in found] == [
        ("program", fx.CODE, 7 + fx.BSS_PAGES), ("mmap", fx.MMAP_BASE, 3),
        ("stack", fx.STACK_TOP - fx.PAGE, 1)]
    space.spt.pop(fx.BSS + 5 * fx.PAGE)        # a hole inside the image stays a cell
    rows, _ = page_rows(space.checkpoint(1, 1, 1, fx.pools(1)))
    image = regions(rows, LAYOUT)[0]
    assert image.pages == 7 + fx.BSS_PAGES
    assert [c.va for c in image.cells if c.row is None] == [fx.BSS + 5 * fx.PAGE]


def test_regions_are_named_by_the_runs_layout_and_not_without_one():
    """The stack is where the layout puts it; results saved without a
    layout name no region program or stack."""
    space = fx.program(2, "p", 0x100000, 0x800000)
    rows, _ = page_rows(space.checkpoint(1, 1, 1, fx.pools(1)))
    higher = dataclasses.replace(LAYOUT, user_stack=LAYOUT.user_stack + (4 << 20))
    assert [r.kind for r in regions(rows, higher)] == ["program", "anon"]
    assert [r.kind for r in regions(rows, None)] == ["anon", "anon"]


def test_uninspectable_spt_and_missing_snapshot(run, tmp_path):
    sc = run.scenarios[0]
    sc.checkpoints[1].spt, sc.checkpoints[1].spt_note = None, "symbol spt_root not found"
    sc.checkpoints[2].pages = None
    render_report(run, tmp_path / "o")
    page = page_of(tmp_path / "o", sc.name)
    assert "SPT not inspectable: symbol spt_root not found" in page
    assert page.count('colspan="7">SPT not inspectable</td>') == 19   # present pages only
    assert "No page-table snapshot at this checkpoint." in page


def test_timeline_order():
    from reports.scenario_view import timeline
    sc = fx.swap_failing_scenario(None)
    events, ordered = timeline(sc)
    assert ordered and [e.label for e in events] == ["cp 1", "delay", "cp 2", "FAIL"]
    sc.injections[0].icount = None
    events, ordered = timeline(sc)
    assert not ordered and [e.label for e in events] == ["cp 1", "cp 2", "delay", "FAIL"]


def test_fault_disassembly_marks_rip_and_operand(report):
    out, _ = report
    page = page_of(out, "robust-write-code-segment")
    rip_row = re.search(r'<tr class="at-rip">.*?</tr>', page, re.S).group()
    assert "0x401013" in rip_row
    assert '<mark class="operand" title="faulting operand">dword ptr [rdi]</mark>, 1' in rip_row
    assert "protection violation, write, user mode" in page


def test_schedule_is_copied_and_linked(report, tmp_path):
    out, _ = report
    page = page_of(out, fx.FAILING)
    link = re.search(r'<a href="\.\./schedules/([^"]+)" id="schedule-link">', page).group(1)
    assert (out / "schedules" / link).read_text() == \
        (tmp_path / "swap-anon-evict.schedule.json").read_text()


def test_missing_schedule_is_named_not_linked(run, tmp_path):
    sc = next(s for s in run.scenarios if s.name == fx.FAILING)
    sc.schedule_file = str(tmp_path / "gone.json")
    render_report(run, tmp_path / "o")
    page = page_of(tmp_path / "o", fx.FAILING)
    assert "gone.json</code> <span class=\"muted\">(file not found" in page
    assert "schedule-link" not in page


def test_everything_is_escaped(run, tmp_path):
    sc = next(s for s in run.scenarios if s.name == fx.FAILING)
    sc.name = "evil<img src=x onerror=alert(1)>"
    sc.console = "<script>alert('console')</script>\x1b[31mred\x00\n"
    cp = sc.checkpoints[1]
    cp.violations[0] = dataclasses.replace(cp.violations[0], expected="<b>W</b> & \"quoted\"")
    out = tmp_path / "o"
    render_report(run, out)
    texts = [p.read_text() for p in [out / "index.html", *(out / "scenarios").iterdir()]]
    joined = "\n".join(texts)
    assert "<img src=x" not in joined and "<script>alert" not in joined and "<b>W</b>" not in joined
    assert "&lt;script&gt;alert(&#39;console&#39;)&lt;/script&gt;\\x1b[31mred\\x00" in joined
    assert "&lt;b&gt;W&lt;/b&gt; &amp; &#34;quoted&#34;" in joined
    assert (out / "scenarios" / "evil-img-src-x-onerror-alert-1.html").is_file()


def test_long_console_keeps_the_tail(run, tmp_path, monkeypatch):
    monkeypatch.setattr("reports.scenario_view.MAX_CONSOLE_LINES", 50)
    run.scenarios[0].console = "".join(f"line {i}\n" for i in range(120))
    render_report(run, tmp_path / "o")
    page = page_of(tmp_path / "o", run.scenarios[0].name)
    assert "70 earlier lines omitted" in page
    assert "line 69<" not in page and "<span class=\"\">line 70</span>" in page


def test_rerender_removes_pages_of_scenarios_gone(run, tmp_path):
    out = tmp_path / "o"
    render_report(run, out)
    run.scenarios = run.scenarios[:2]
    render_report(run, out)
    assert len(list((out / "scenarios").iterdir())) == 2


def test_threads_at_fail_are_shown_escaped(run, tmp_path):
    sc = next(s for s in run.scenarios if s.name == fx.FAILING)
    sc.failure_threads = ["child<x>: fail() called at 0x401550",
                          "main (tid 1, blocked): schedule+0xb0 < sema_down+0x46"]
    out = tmp_path / "o"
    render_report(run, out)
    page = next(p for p in (out / "scenarios").iterdir() if "failure-threads" in p.read_text())
    text = page.read_text()
    assert "child&lt;x&gt;: fail() called at 0x401550" in text
    assert "main (tid 1, blocked): schedule+0xb0 &lt; sema_down+0x46" in text
    others = [p for p in (out / "scenarios").iterdir() if p != page]
    assert all('id="failure-threads"' not in p.read_text() for p in others)


def test_a_schedule_stays_linked_after_rerenders(run, tmp_path):
    out = tmp_path / "o"
    write_report(run, out)
    write_report(run, out)                 # a second report into the same folder
    assert re.search(r'<a href="\.\./schedules/[^"]+" id="schedule-link">', page_of(out, fx.FAILING))


def test_wrong_code_output_difference_and_missed_checkpoints_are_failed_checks(run, tmp_path):
    """A wrong code page found while running comes first among the failed
    checks, with the bytes; an exact-mode output difference and each missed
    checkpoint get a card too (before, only the reason line had them)."""
    from results.model import ScenarioResult, Verdict
    from reports.text import failure_lines
    sc = ScenarioResult("fork-code", "fork", Verdict.FAIL, 1.0, reason="see below",
                        exit_status=1, expected_exit_status=0,
                        output_mismatch="test line 2: expected '<ok>', got 'fork-kid: exit(-1)'",
                        unreached=["checkpoint 1 reached 0 times by fork-kid, expected 1"],
                        run_violations=[Violation("code_page_contents",
                                                  "fork-kid ran the code at 0x405000", 0x405000,
                                                  expected="90 c3", actual="00 00")])
    run.scenarios.append(sc)
    out = tmp_path / "o"
    render_report(run, out)
    page = page_of(out, "fork-code")
    cards = page[page.index('id="failures"'):page.index('id="timeline"')]
    order = [cards.index(s) for s in ("code_page_contents", "console output",
                                      "checkpoint count", "exit status")]
    assert order == sorted(order), cards
    assert "90 c3" in cards and "00 00" in cards and "&lt;ok&gt;" in cards
    assert 'Failed checks <span class="count">4</span>' in cards
    lines = failure_lines(sc)
    assert "while running: " in lines[1] and "code_page_contents" in lines[1]
    assert any(line.startswith("console output: test line 2") for line in lines)
    assert any(line.startswith("checkpoints: checkpoint 1 reached 0 times") for line in lines)


# ---- how the SPT was read (Pintos-KAIST discovery notes) --------------------

LAYOUT_NOTES = ["va = page.zq2: void * (distinct page-aligned addresses on 40/40 pages, "
                "decided at checkpoint 1 (pid 3))",
                "swap slot: unknown (not seen yet: an anonymous page swapped out)"]


def test_scenario_page_lists_which_member_was_used_for_what(run, tmp_path):
    sc = run.scenarios[0]
    sc.spt_layout = LAYOUT_NOTES + ["<b>escaped</b>"]
    render_report(run, tmp_path / "o")
    page = page_of(tmp_path / "o", sc.name)
    assert 'id="spt-layout"' in page and html.escape(LAYOUT_NOTES[0]) in page
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page
    assert 'id="spt-layout"' not in page_of(tmp_path / "o", run.scenarios[1].name)


def test_layout_notes_survive_the_results_round_trip(run, tmp_path):
    run.scenarios[0].spt_layout = LAYOUT_NOTES
    save_run(run, tmp_path / "results.json")
    assert load_run(tmp_path / "results.json").scenarios[0].spt_layout == LAYOUT_NOTES
    old = run_to_json(run)
    for sc in old["scenarios"]:
        del sc["spt_layout"]                       # results written before the field
    assert run_from_json(old).scenarios[0].spt_layout == []


def test_text_summary_counts_each_roles_outcome(run):
    from reports.layout_view import layout_summary
    assert layout_summary(run) == []
    run.scenarios[0].spt_layout = LAYOUT_NOTES
    run.scenarios[1].spt_layout = LAYOUT_NOTES[:1]
    assert layout_summary(run) == [
        "SPT read as (scenarios that reached a checkpoint):",
        "  va = page.zq2: void *  [2]",
        f"  swap slot: unknown  [1]  e.g. {run.scenarios[0].name}: not seen yet: an anonymous "
        "page swapped out"]


def test_a_deadlock_hang_shows_its_wait_graph_with_the_cycle_marked(run, tmp_path):
    from oracles.model.wait_graph import LOCK, ThreadNode, Wait, WaitGraph
    graph = WaitGraph([ThreadNode(5, "swap-kid", "blocked", wait=Wait(LOCK, "`frame_lock`", 1, 6),
                                  where="sema_down < lock_acquire"),
                       ThreadNode(6, "child", "blocked", wait=Wait(LOCK, "`filesys_lock`", 2, 5)),
                       ThreadNode(2, "idle", "running", idle=True)])
    sc = next(s for s in run.scenarios if s.verdict is Verdict.HANG)
    sc.hang = HangRecord("deadlock", 3.5, 1.2, graph)
    again = run_from_json(json.loads(json.dumps(run_to_json(run), default=str)))
    assert again.scenarios[run.scenarios.index(sc)].hang == sc.hang
    render_report(again, tmp_path / "o")
    page = page_of(tmp_path / "o", sc.name)
    assert "every thread blocked on another: a deadlock · guest clock 3.50 s" in page
    assert ("tid 5 swap-kid waits for `frame_lock` held by tid 6 child, which waits for "
            "`filesys_lock` held by tid 5") in page
    rows = re.findall(r'<tr class="(on-cycle)?"><td>(tid \d+ [\w-]+)</td>', page)
    assert rows == [("on-cycle", "tid 5 swap-kid"), ("on-cycle", "tid 6 child"), ("", "tid 2 idle")]
    other = next(s for s in run.scenarios if s.verdict is not Verdict.HANG)
    assert 'id="wait-graph"' not in page_of(tmp_path / "o", other.name)


def test_pool_range_is_shown_in_hex_and_kept_through_results_json():
    pools = PoolState(user_frames_total=512, user_pool=(0x100000, 0x300000))
    assert _pool_counts(pools) == [("user_frames_total", 512), ("vm_busy", False),
                                   ("user_pool", "0x100000-0x300000")]
    run = fx.build_run()
    index = next(i for i, sc in enumerate(run.scenarios) if sc.checkpoints)
    run.scenarios[index].checkpoints[0].pools = pools
    again = run_from_json(run_to_json(run)).scenarios[index].checkpoints[0].pools
    assert again == pools and again.user_pool == (0x100000, 0x300000)
