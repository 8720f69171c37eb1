"""The CI templates (ci/): valid YAML with the structure a course relies on
(shard matrix, artifacts, merge job, summary), and their build, run and
merge scripts, executed here with bash against the reference kernel:
shards 1/2 and 2/2 of the `core` area, then the merge."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.run.suite import load_all, select

REPO_ROOT = Path(__file__).resolve().parents[2]
GITHUB = REPO_ROOT / "ci" / "github" / "vmcheck.yml"
GITLAB = REPO_ROOT / "ci" / "gitlab" / ".gitlab-ci.yml"
GRADING_GITHUB = REPO_ROOT / "ci" / "grading" / "vmcheck-grade.yml"
GRADING_GITLAB = REPO_ROOT / "ci" / "grading" / ".gitlab-ci.yml"
# What a run needs at least; the CI lists may add only CI_ONLY packages
# to those of `make deps`.
RUNTIME_PACKAGES = {"make", "gcc", "binutils", "qemu-system-x86", "qemu-utils", "seabios",
                    "python3-pyelftools", "python3-capstone", "python3-jinja2"}
CI_ONLY_PACKAGES = {"git", "ca-certificates", "python3"}
SELECTION = "core"
POINTS_TOML = 'default = 1\n[points]\nforktree = 4\n"fs*" = 2\n'
SCRIPT_TIMEOUT_S = 600


def github() -> dict:
    return yaml.safe_load(GITHUB.read_text())


def gitlab() -> dict:
    return yaml.safe_load(GITLAB.read_text())


def makefile_packages() -> set:
    text = (REPO_ROOT / "Makefile").read_text()
    block = re.search(r"^DEBIAN_PACKAGES :=((?:.*\\\n)*.*)$", text, re.MULTILINE).group(1)
    return set(block.replace("\\\n", " ").split())


def step(job: dict, step_id: str) -> dict:
    found = [s for s in job["steps"] if s.get("id") == step_id]
    assert len(found) == 1, f"expected one step with id {step_id!r} in {job.get('name', job)}"
    return found[0]


def uses(job: dict, action: str) -> list:
    return [s for s in job["steps"] if s.get("uses", "").startswith(action + "@")]


# ---- structure ----

def test_github_workflow_structure():
    wf = github()
    triggers = wf.get("on", wf.get(True))   # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    suite, report = wf["jobs"]["suite"], wf["jobs"]["report"]
    for job in (suite, report):
        assert job["container"] == "debian:bookworm"
        assert job["timeout-minutes"] > 0
    assert len(suite["strategy"]["matrix"]["shard"]) >= 2
    assert suite["strategy"]["fail-fast"] is False
    assert step(suite, "run")["env"] == {"SHARD_INDEX": "${{ strategy.job-index }}",
                                         "SHARD_TOTAL": "${{ strategy.job-total }}",
                                         "DISPATCH_SCENARIOS": "${{ github.event.inputs.scenarios }}"}
    shard_upload = uses(suite, "actions/upload-artifact")
    assert [u["with"] for u in shard_upload] == [{"name": "${{ steps.run.outputs.report }}",
                                                  "path": "${{ steps.run.outputs.report }}/",
                                                  "if-no-files-found": "warn"}]
    assert shard_upload[0]["if"] == "always()"
    assert report["needs"] == "suite" and report["if"] == "always()"
    assert uses(report, "actions/download-artifact")[0]["with"]["pattern"] == "out-*"
    assert "$GITHUB_STEP_SUMMARY" in step(report, "merge")["run"]
    assert {u["with"]["path"] for u in uses(report, "actions/upload-artifact")} == \
        {"merged/", "merged/junit.xml"}


def test_github_scripts_take_expressions_only_through_env():
    """${{ }} inside a run script is a script-injection risk (and could
    not be run here); values come in through env."""
    for job in github()["jobs"].values():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), f"expression in the script of {s['name']!r}"


def test_gitlab_pipeline_structure():
    ci = gitlab()
    assert ci["stages"] == ["test", "report"]
    setup, suite, report = ci[".vmcheck-setup"], ci["vmcheck-suite"], ci["vmcheck-report"]
    assert setup["image"] == "debian:bookworm"
    assert suite["extends"] == report["extends"] == ".vmcheck-setup"
    assert isinstance(suite["parallel"], int) and suite["parallel"] >= 2
    assert suite["artifacts"]["when"] == "always" and suite["artifacts"]["paths"] == ["out-*/"]
    assert report["when"] == "always"
    assert report["needs"] == [{"job": "vmcheck-suite", "artifacts": True}]
    assert report["artifacts"]["reports"]["junit"] == "merged/junit.xml"
    assert report["artifacts"]["paths"] == ["merged/"]


@pytest.mark.parametrize("packages", [
    github()["env"]["VMCHECK_PACKAGES"], gitlab()["variables"]["VMCHECK_PACKAGES"],
    yaml.safe_load(GRADING_GITHUB.read_text())["env"]["VMCHECK_PACKAGES"],
    yaml.safe_load(GRADING_GITLAB.read_text())["variables"]["VMCHECK_PACKAGES"]],
    ids=["github", "gitlab", "grading-github", "grading-gitlab"])
def test_ci_packages_are_the_runtime_subset_of_make_deps(packages):
    listed = set(packages.split())
    assert RUNTIME_PACKAGES <= listed, f"missing: {RUNTIME_PACKAGES - listed}"
    extra = listed - makefile_packages() - CI_ONLY_PACKAGES
    assert not extra, f"not in the Makefile's DEBIAN_PACKAGES: {extra}"


# ---- the scripts, run here ----

def bash(script: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """SCRIPT as CI runs it (bash, stop at the first failing command)."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT_S)


def ok(done: subprocess.CompletedProcess, what: str) -> str:
    assert done.returncode == 0, (f"{what} exited {done.returncode}\n--- stdout\n"
                                  f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")
    return done.stdout


def local_env(template_env: dict, tmp_path: Path, **more) -> dict:
    """The template's variables with the kernel, vmcheck and selection of
    this machine."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in template_env.items()})
    (tmp_path / "points.toml").write_text(POINTS_TOML)
    env.update(VMCHECK_DIR=str(REPO_ROOT), VMCHECK_KERNEL="reference",
               VMCHECK_SCENARIOS=SELECTION, VMCHECK_JOBS="1",
               VMCHECK_POINTS=str(tmp_path / "points.toml"), **more)
    return env


@contextlib.contextmanager
def build_lock(build_dir: Path):
    """The lock the `built` fixture holds while it runs make (xdist
    workers must not run make in one tree at once)."""
    with open(build_dir / ".pytest-make.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def check_merged(work: Path) -> dict:
    """The merged report has every scenario of the selection, all passing,
    with the points of POINTS_TOML; returns the results."""
    names = {sc.name for sc in select(load_all(None, None), [SELECTION])}
    results = json.loads((work / "merged" / "results.json").read_text())
    assert {sc["name"] for sc in results["scenarios"]} == names
    assert all(sc["verdict"] == "PASS" for sc in results["scenarios"])
    assert (work / "merged" / "index.html").is_file()
    assert (work / "merged" / "junit.xml").read_text().count("<testcase") == len(names)
    graded = json.loads((work / "merged" / "autograder.json").read_text())
    points = {t["name"]: t["max_score"] for t in graded["tests"]}
    assert points["forktree"] == 4 and points["fsround"] == 2 and points["hello"] == 1
    return results


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_github_steps_run_two_shards_and_merge(built, tmp_path):
    wf = github()
    suite, report = wf["jobs"]["suite"], wf["jobs"]["report"]
    summary = tmp_path / "step-summary.md"
    env = local_env(wf["env"], tmp_path, GITHUB_STEP_SUMMARY=str(summary))
    with build_lock(built):
        ok(bash(step(suite, "build")["run"], env, tmp_path), "the build step")
    for index in (0, 1):
        outputs = tmp_path / f"github-output-{index}"
        shard_env = dict(env, SHARD_INDEX=str(index), SHARD_TOTAL="2", DISPATCH_SCENARIOS="",
                         GITHUB_OUTPUT=str(outputs))
        ok(bash(step(suite, "run")["run"], shard_env, tmp_path), f"the run step of shard {index + 1}")
        assert outputs.read_text() == f"report=out-{index + 1}\n"   # the upload's path
        assert (tmp_path / f"out-{index + 1}" / "results.json").is_file()
    ok(bash(step(report, "merge")["run"], env, tmp_path), "the merge step")
    results = check_merged(tmp_path)
    text = summary.read_text()
    assert "## vmcheck: All" in text and "| area | passed | not passed | unknown checks | points |" in text
    for sc in results["scenarios"]:
        assert f"| {sc['name']} | core | PASS |" in text


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_gitlab_scripts_run_two_shards_and_merge(built, tmp_path):
    ci = gitlab()
    env = local_env(ci["variables"], tmp_path, CI_PROJECT_DIR=str(tmp_path))
    clone = [line for line in ci[".vmcheck-setup"]["before_script"] if "git clone" in line]
    ok(bash("\n".join(clone), env, tmp_path), "the vmcheck fetch (skipped: present)")
    build, run = ci["vmcheck-suite"]["script"]
    with build_lock(built):
        ok(bash(build, env, tmp_path), "the build script")
    for index in (1, 2):
        shard_env = dict(env, CI_NODE_INDEX=str(index), CI_NODE_TOTAL="2")
        ok(bash(run, shard_env, tmp_path), f"the run script of shard {index}")
    out = ok(bash("\n".join(ci["vmcheck-report"]["script"]), env, tmp_path), "the merge script")
    assert "passed" in out
    check_merged(tmp_path)


@pytest.mark.integration
def test_run_step_fails_on_bad_input(built, tmp_path):
    """Exit status 2 (a pattern that matches nothing) fails the shard job."""
    wf = github()
    env = local_env(wf["env"], tmp_path, SHARD_INDEX="0", SHARD_TOTAL="2", DISPATCH_SCENARIOS="",
                    GITHUB_OUTPUT=str(tmp_path / "output"))
    env["VMCHECK_SCENARIOS"] = "no-such-scenario"
    done = bash(step(wf["jobs"]["suite"], "run")["run"], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "no scenario matches 'no-such-scenario'" in done.stderr


# ---- points and the Markdown summary (no machine) ----

def fake_run(*verdicts):
    from results.model import RunResult, ScenarioResult, Verdict
    scenarios = [ScenarioResult(name, area, Verdict(v), 1.0, reason=reason)
                 for name, area, v, reason in verdicts]
    return RunResult(kernel="reference", started="2026-01-01T00:00:00", duration_s=3.0, jobs=1,
                     scenarios=scenarios)


def test_points_rules_first_match_wins(tmp_path):
    from harness.course.points import apply_points, load_points
    path = tmp_path / "p.toml"
    path.write_text('default = 0.5\n[points]\n"mmap-read" = 5\n"mmap-*" = 2\nswap = 3\n'
                    'typo-name = 9\n')
    run = fake_run(("mmap-read", "mmap", "PASS", ""), ("mmap-ro", "mmap", "PASS", ""),
                   ("swap-file", "swap", "FAIL", ""), ("hello", "core", "PASS", ""))
    unused = apply_points(run, *load_points(path))
    assert [sc.points for sc in run.scenarios] == [5, 2, 3, 0.5]
    assert unused == ["typo-name"]


@pytest.mark.parametrize("text, message", [
    ("[points\n", "not valid TOML"),
    ("[points]\nswap = -1\n", "points.swap must be a number >= 0"),
    ("[points]\nswap = \"3\"\n", "points.swap must be a number >= 0"),
    ("bonus = 1\n", "unknown key 'bonus'"),
])
def test_points_file_errors_name_the_key(tmp_path, text, message):
    from harness.errors import UsageError
    from harness.course.points import load_points
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=re.escape(message)):
        load_points(path)


def test_markdown_summary_lists_failures_in_one_table_cell():
    from harness.cli.merge import markdown_summary
    run = fake_run(("hello", "core", "PASS", ""),
                   ("mmap-read", "mmap", "FAIL", "expected 'a | b'\nsecond line"))
    text = markdown_summary(run)
    assert "## vmcheck: 1 of 2 scenarios did not pass (1 FAIL)" in text
    assert "points **1 / 2**" in text
    assert "| mmap-read | mmap | **FAIL** | expected 'a \\| b' second line |" in text
    assert "| hello | core | PASS | 1 / 1 | 1.0 s |" in text
