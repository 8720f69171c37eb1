"""`vmcheck grade ROSTER --merge DIR... --report OUT`: one class folder from
the class folders of shard jobs (`grade --shard K/N`, and
`--shard-scenarios J/M`), as `vmcheck merge` makes one report of `run`
shards.

Refused (UsageError, exit 2), as `merge` refuses its shards: a folder that
is not a grading, one of another roster or other points, a shard given
twice or missing (results/merge.py check_shard_set), and a submission its
shard should have graded but did not finish; `--allow-partial` merges
what is there. A submission graded in one piece is copied whole; one
graded in scenario shards gets its shards' results merged into one
report (reports.merge.merge_runs, which checks the scenario shards again).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from harness.errors import UsageError
from harness.grade.grading import ClassState
from harness.grade.roster import Roster
from harness.grade.store import RESULTS, ClassFolder, ClassSettings
from results.codec import load_run
from results.grade import SubmissionResult, cell_of
from results.merge import MergeError, check_shard_set, merge_runs

SAME = ("points", "default_points", "strict", "roster_digest")


def _shard_folders(dirs: list, roster: Roster) -> list:
    """[(ClassFolder, ClassSettings)] of DIRS, all of ROSTER's grading."""
    out = []
    for path in dirs:
        folder = ClassFolder(path)
        settings = folder.read_settings()
        if settings is None:
            raise UsageError(f"grade --merge: {path} is not a grading's folder (no grade.json)")
        if settings.roster_digest != roster.digest():
            raise UsageError(f"grade --merge: {path} graded another roster than {roster.path}")
        first = out[0][1] if out else settings
        differ = [key for key in SAME if getattr(settings, key) != getattr(first, key)]
        if differ:
            raise UsageError(f"grade --merge: {path} and {out[0][0].root} were graded with "
                             f"other settings ({', '.join(differ)} differ)")
        out.append((folder, settings))
    return out


def _check_complete(folders: list, allow_partial: bool) -> None:
    """Every scenario shard covered by a whole set of submission shards."""
    groups: dict = {}
    for folder, settings in folders:
        groups.setdefault(settings.scenario_shard, []).append((folder, settings))
    try:
        for members in groups.values():
            check_shard_set([s.shard for _, s in members], [str(f.root) for f, _ in members],
                            allow_partial)
        firsts = [members[0] for members in groups.values()]
        check_shard_set([s.scenario_shard for _, s in firsts], [str(f.root) for f, _ in firsts],
                        allow_partial)
        for members in groups.values():   # every part has the same scenarios graded
            if any(s.scenarios != members[0][1].scenarios for _, s in members):
                raise MergeError(f"{members[0][0].root} and another shard of the same "
                                 "scenarios graded different scenarios")
    except MergeError as e:
        raise UsageError(f"grade --merge: {e}") from None


def _pieces(folders: list, roster: Roster, allow_partial: bool) -> dict:
    """{name: [(ClassFolder, SubmissionResult)]} of every roster submission."""
    pieces: dict = {sub.name: [] for sub in roster.submissions}
    for folder, settings in folders:
        for sub in roster.shard(settings.shard):
            result = folder.finished(sub.name)
            if result is None or result.identity != sub.identity():
                if allow_partial:
                    continue
                raise UsageError(f"grade --merge: {sub.name} is not graded in {folder.root} "
                                 f"(shard {settings.shard or 'whole'}): grade that shard "
                                 "again, or merge with --allow-partial")
            pieces[sub.name].append((folder, result))
    return pieces


def merge_class(roster: Roster, dirs: list, out: Path, allow_partial: bool,
                write_report: Callable, scenario_order: list) -> ClassState:
    """Merges the shard folders DIRS into the class folder OUT; returns its
    state (the caller writes the class report). SCENARIO_ORDER: every
    scenario name in suite order (the merged columns follow it)."""
    target = ClassFolder(out)
    if any(Path(d).resolve() == target.root for d in dirs):
        raise UsageError("grade --merge: --report must be a folder of its own, not a shard's")
    folders = _shard_folders(dirs, roster)
    _check_complete(folders, allow_partial)
    with target.locked():
        return _merge_into(target, folders, roster, allow_partial, write_report, scenario_order)


def _merge_into(target: ClassFolder, folders: list, roster: Roster, allow_partial: bool,
                write_report: Callable, scenario_order: list) -> ClassState:
    first = folders[0][1]
    names = {n for _, s in folders for n in s.scenarios}
    settings = ClassSettings(scenarios=[n for n in scenario_order if n in names],
                             points=first.points, default_points=first.default_points,
                             strict=first.strict, roster_digest=first.roster_digest)
    target.adopt_settings(settings, start_over=True)
    state = ClassState(target, settings, list(roster.submissions), {})
    for name, parts in _pieces(folders, roster, allow_partial).items():
        target.discard(name)
        if len(parts) == 1:
            shutil.copytree(parts[0][0].submission_dir(name), target.submission_dir(name),
                            symlinks=True)
            state.results[name] = target.finished(name)
        elif parts:
            state.results[name] = _merge_submission(target, name, parts, write_report)
    return state


def _merge_submission(target: ClassFolder, name: str, parts: list,
                      write_report: Callable) -> SubmissionResult:
    """One submission graded in scenario shards: their results merged."""
    sources = [str(folder.submission_dir(name) / RESULTS) for folder, _ in parts]
    try:
        run = merge_runs([load_run(Path(p)) for p in sources], sources)
    except (MergeError, OSError, ValueError) as e:
        raise UsageError(f"grade --merge: {name}: {e}") from None
    folder = target.submission_dir(name)
    folder.mkdir(parents=True)
    for source, _ in parts:
        build_log = source.submission_dir(name) / "build.log"
        if build_log.is_file() and not (folder / "build.log").exists():
            shutil.copyfile(build_log, folder / "build.log")
    write_report(run, folder)
    first = parts[0][1]
    result = SubmissionResult(
        name=name, identity=first.identity, kernel=first.kernel,
        built=all(r.built for _, r in parts), seconds=sum(r.seconds for _, r in parts),
        finished=max(r.finished for _, r in parts), cells=[cell_of(sc) for sc in run.scenarios],
        commit=first.commit, build_error=first.build_error)
    target.mark_finished(result)
    return result
