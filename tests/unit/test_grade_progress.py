"""What `vmcheck grade` prints while it runs (harness/grade/progress.py): a
live line redrawn in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from harness.grade.progress import CLEAR_LINE, Progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_output_has_one_line_per_submission_and_no_control_characters():
    out = io.StringIO()
    progress = Progress(2, 3, already=1, stream=out, live=False)
    progress.build_started("bob")
    progress.build_ended("bob")
    progress.scenario_done()
    progress.submission_done("bob: 3/3 passed")
    progress.say("vmcheck: a note")
    progress.close()
    assert out.getvalue() == "[2/3] bob: 3/3 passed\nvmcheck: a note\n"


def test_the_live_line_counts_builds_and_estimates_the_rest():
    out, clock = io.StringIO(), Clock()
    progress = Progress(2, 3, stream=out, live=True, now=clock)
    progress.build_started("ann")
    assert out.getvalue().endswith(CLEAR_LINE + "grading: 0/2 submissions, 0/6 scenarios, "
                                   "building ann, elapsed 0m00s")
    progress.build_ended("ann")
    clock.now += 30
    progress.scenario_done()
    assert progress.status() == ("grading: 0/2 submissions, 1/6 scenarios, elapsed 0m30s, "
                                 "about 2m30s to go")
    progress.build_ended("bob", scenarios_left_out=3)     # bob did not build
    assert "1/3 scenarios" in progress.status() and "about 1m00s to go" in progress.status()
    progress.submission_done("ann: 3/3 passed")
    assert CLEAR_LINE + "[1/2] ann: 3/3 passed\n" + CLEAR_LINE + "grading: 1/2" in out.getvalue()
    progress.close()
    assert out.getvalue().endswith(CLEAR_LINE)
