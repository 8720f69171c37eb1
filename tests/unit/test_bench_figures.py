"""The benchmarks' figures and their --json output (harness/bench/figures.py,
overhead.py, boot_time.py), with the measuring replaced by fixed figures."""

from __future__ import annotations

import json

import pytest

from harness.bench import boot_time, overhead
from harness.bench.figures import Figure, print_figures

FIGURES = [Figure("capture_ms", "full capture", 12.5, "ms", 20.0),
           Figure("scenario_ratio", "harness / bare", 1.4, "x", 1.15),
           Figure("breakpoints_per_s", "round trips", 1300.0, "/s")]


def check_shape(data: dict, benchmark: str, runs: int) -> None:
    assert set(data) == {"benchmark", "runs", "host", "figures"}
    assert data["benchmark"] == benchmark and data["runs"] == runs
    assert isinstance(data["host"]["cpus"], int) and len(data["host"]["load"]) == 3
    assert data["figures"], "no figures"
    for figure in data["figures"]:
        assert set(figure) == {"key", "label", "value", "unit", "target", "met"}, figure
        assert isinstance(figure["value"], (int, float)) and figure["unit"] in ("ms", "x", "/s")
        if figure["target"] is None:
            assert figure["met"] is None
        else:
            assert figure["met"] == (figure["value"] <= figure["target"])
    keys = [f["key"] for f in data["figures"]]
    assert len(keys) == len(set(keys)), keys


def test_overhead_json_has_every_figure_and_its_target(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(overhead, "measure", lambda runs, parts, kernel: FIGURES)
    path = tmp_path / "bench.json"
    assert overhead.main(["--runs", "2", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    check_shape(data, "overhead", 2)
    assert [f["met"] for f in data["figures"]] == [True, False, None]
    table = capsys.readouterr().out
    assert "<= 20 ms ok" in table and "<= 1.15 x MISSED" in table and "load average" in table


def test_json_to_standard_output_keeps_the_table_apart(monkeypatch, capsys):
    monkeypatch.setattr(overhead, "measure", lambda runs, parts, kernel: FIGURES)
    assert overhead.main(["--runs", "1", "--json", "-"]) == 0
    out = capsys.readouterr()
    check_shape(json.loads(out.out), "overhead", 1)
    assert "full capture" in out.err


def test_boot_figures_follow_the_rows(tmp_path, monkeypatch):
    samples = {key: [0.05, 0.07, 0.06] for key, _, _ in boot_time.ROWS}
    figures = boot_time.boot_figures(samples, "reference")
    monkeypatch.setattr(boot_time, "run_benchmark",
                        lambda *args: ("table", True, figures))
    path = tmp_path / "boot.json"
    assert boot_time.main(["--runs", "3", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    check_shape(data, "boot_time", 3)
    user = next(f for f in data["figures"] if f["key"] == "boot_user_ms")
    assert user["value"] == pytest.approx(60.0) and user["target"] == 100.0 and user["met"]
    assert {f"boot_{stage}_ms" for stage in boot_time.STAGES} <= {f["key"] for f in
                                                                 data["figures"]}


def test_a_ratio_and_a_rate_are_shown_in_their_units(capsys):
    print_figures("t", FIGURES)
    out = capsys.readouterr().out
    assert "12.5 ms" in out and "1.40 x" in out and "1300 /s" in out


def test_unknown_parts_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        overhead.main(["--parts", "boot,warp"])
    assert stopped.value.code == 2 and "choose from" in capsys.readouterr().err
