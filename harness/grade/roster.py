"""The roster: which submissions a class grading covers (`vmcheck grade ROSTER`).

    scenarios = ["lazy", "mmap-*"]   # optional: the selection (default: all)
    points = "points.toml"           # optional: the course's points file
    kernel = "pintos-kaist"          # optional: family of every tree (default)

    [[submission]]
    name = "team01"                  # letters, digits, . _ - + @ (names its folder)
    path = "trees/team01"            # a local tree, copied before it is built

    [[submission]]
    name = "team02"
    repo = "bundles/team02.bundle"   # a local git repository or bundle
    commit = "7b1efaa"               # a commit, tag or branch in it
    kernel = "reference"             # optional: this tree's family
    layout = "team02-spt.toml"       # optional: $VMCHECK_PINTOS_LAYOUT for this tree

Relative paths are relative to the roster's folder. Nothing is fetched
over a network; a repository is only read (cloned into the work folder).
Mistakes are UsageErrors naming the file, line and key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Optional

from harness.errors import UsageError
from harness.run.toml_lines import TomlLines, read_toml
from oracles.schema import Field, SchemaError, one_of, validate_table
from results.model import parse_shard

FAMILIES = ("pintos-kaist", "reference")
NAME = re.compile(r"^\w[\w.+@-]{0,79}$")
GIT_TIMEOUT_S = 120


def _name_check(value: str) -> Optional[str]:
    if NAME.match(value):
        return None
    return (f"{value!r} is not a submission name: letters, digits and . _ - + @, "
            "at most 80, starting with a letter or digit (it names a folder)")


TOP_FIELDS = {
    "scenarios": Field(list, None, items=str),
    "points": Field(str, None),
    "kernel": Field(str, "pintos-kaist", check=one_of(*FAMILIES)),
    "submission": Field(list, [], items=dict),
}
SUBMISSION_FIELDS = {
    "name": Field(str, check=_name_check),
    "path": Field(str, None),
    "repo": Field(str, None),
    "commit": Field(str, None),
    "kernel": Field(str, None, check=one_of(*FAMILIES)),
    "layout": Field(str, None),
}


@dataclasses.dataclass(frozen=True)
class Submission:
    """One roster entry. Exactly one of PATH (a tree) and REPO (a git
    repository or bundle, with COMMIT) is set; paths are absolute.
    WRITTEN: the entry's paths as the roster writes them."""
    name: str
    family: str
    path: Optional[Path] = None
    repo: Optional[Path] = None
    commit: Optional[str] = None
    layout: Optional[Path] = None
    written: tuple = ()            # ((key, text), ...) of path, repo, layout

    def identity(self) -> dict:
        """What makes two gradings the same submission (kept in its result;
        a changed entry is graded again). Paths as written, so the same
        roster checked out elsewhere (another CI job) is the same."""
        return {"family": self.family, "commit": self.commit,
                **{key: dict(self.written).get(key) for key in ("path", "repo", "layout")}}


@dataclasses.dataclass(frozen=True)
class Roster:
    path: Path
    submissions: tuple
    scenarios: Optional[tuple] = None    # patterns, None: the whole suite
    points: Optional[Path] = None

    def digest(self) -> str:
        """A short hash of every submission's identity, in roster order."""
        text = json.dumps([[s.name, s.identity()] for s in self.submissions], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def shard(self, spec: Optional[str]) -> list:
        """The submissions of shard SPEC ("K/N"; None: all): every N-th in
        roster order from the K-th, so shards differ by one at most."""
        if spec is None:
            return list(self.submissions)
        try:
            k, n = parse_shard(spec)
        except ValueError as e:
            raise UsageError(f"--shard: {e}") from None
        return [sub for i, sub in enumerate(self.submissions) if i % n == k - 1]

    def named(self, names: list) -> list:
        """The submissions called NAMES; UsageError for a name not in the roster."""
        known = {s.name: s for s in self.submissions}
        missing = [n for n in names if n not in known]
        if missing:
            raise UsageError(f"{self.path}: no submission named {missing[0]!r} in the roster")
        return [known[n] for n in names]


def load_roster(path: Path, check_sources: bool = True) -> Roster:
    """Reads and checks the roster at PATH (see the module docstring);
    CHECK_SOURCES: that every tree, repository and commit is there (not
    needed to merge shards' results)."""
    path = Path(path)
    doc, lines = read_toml(path, "the roster")
    try:
        top = validate_table(doc, TOP_FIELDS, [], "the roster")
        base = path.resolve().parent
        subs = [_submission(t, i, top["kernel"], base, check_sources)
                for i, t in enumerate(top["submission"])]
    except SchemaError as e:
        raise UsageError(f"{path}:{lines.line_of(e.path)}: {e.message}") from None
    _check_unique(subs, path, lines)
    if not subs:
        raise UsageError(f"{path}: no [[submission]] in the roster")
    points = _existing(base / top["points"], path, "points file") if top["points"] else None
    scenarios = tuple(top["scenarios"]) if top["scenarios"] is not None else None
    return Roster(path=path.resolve(), submissions=tuple(subs), scenarios=scenarios, points=points)


def _submission(table: dict, index: int, family: str, base: Path,
                check_sources: bool) -> Submission:
    where = ["submission", index]
    entry = validate_table(table, SUBMISSION_FIELDS, where, "a submission")
    if (entry["path"] is None) == (entry["repo"] is None):
        raise SchemaError(where + ["name"], f"submission {entry['name']!r} needs exactly one "
                                            "of `path` (a tree) and `repo` (git, with `commit`)")
    if entry["repo"] is not None and not entry["commit"]:
        raise SchemaError(where + ["repo"], f"submission {entry['name']!r}: `repo` needs `commit`")
    if entry["path"] is not None and entry["commit"] is not None:
        raise SchemaError(where + ["commit"], f"submission {entry['name']!r}: `commit` goes "
                                              "with `repo`, not with `path`")
    sub = Submission(name=entry["name"], family=entry["kernel"] or family,
                     path=_located(base, entry["path"]), repo=_located(base, entry["repo"]),
                     commit=entry["commit"], layout=_located(base, entry["layout"]),
                     written=tuple((k, entry[k]) for k in ("path", "repo", "layout")
                                   if entry[k] is not None))
    if check_sources:
        _check_sources(sub, where)
    return sub


def _check_sources(sub: Submission, where: list) -> None:
    for key in ("path", "repo", "layout"):
        value = getattr(sub, key)
        if value is not None and not value.exists():
            raise SchemaError(where + [key], f"submission {sub.name!r}: {value} does not exist")
    if sub.repo is not None:
        problem = commit_problem(sub.repo, sub.commit)
        if problem:
            raise SchemaError(where + ["commit"], f"submission {sub.name!r}: {problem}")


def _located(base: Path, text: Optional[str]) -> Optional[Path]:
    return None if text is None else (base / Path(text).expanduser()).resolve()


def _existing(path: Path, roster: Path, what: str) -> Path:
    if not path.is_file():
        raise UsageError(f"{roster}: the {what} {path} does not exist")
    return path


def _check_unique(subs: list, path: Path, lines: TomlLines) -> None:
    seen: set = set()
    for i, sub in enumerate(subs):
        if sub.name.lower() in seen:   # folder names on case-insensitive disks too
            raise UsageError(f"{path}:{lines.line_of(['submission', i, 'name'])}: "
                             f"submission name {sub.name!r} appears twice")
        seen.add(sub.name.lower())


def git(*args: str, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """git with ARGS, read-only use of repositories owned by anyone."""
    try:
        return subprocess.run(["git", "-c", "safe.directory=*", *args], cwd=cwd,
                              capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise UsageError("git is not installed (a roster with `repo` needs it)") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {' '.join(args)} did not finish in {GIT_TIMEOUT_S} s") from None


def is_bundle(repo: Path) -> bool:
    return repo.is_file()


def commit_problem(repo: Path, commit: str) -> Optional[str]:
    """Why COMMIT cannot be checked out of REPO (a repository or a bundle),
    or None. A bundle's short hash that names no head is left to the
    checkout (a bundle cannot be asked for its objects)."""
    if is_bundle(repo):
        heads = git("bundle", "list-heads", str(repo))
        if heads.returncode != 0:
            return f"{repo} is not a git bundle: {heads.stderr.strip()}"
        refs = [line.split() for line in heads.stdout.splitlines() if line.strip()]
        names = {r for sha, ref in refs for r in (ref, ref.rsplit("/", 1)[-1])}
        if commit in names or any(sha.startswith(commit.lower()) for sha, _ in refs):
            return None
        return None if re.fullmatch(r"[0-9a-fA-F]{7,40}", commit) else \
            f"{commit!r} names no head of the bundle {repo}"
    if not (repo / ".git").exists() and not (repo / "HEAD").is_file():
        return f"{repo} is not a git repository"
    done = git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", cwd=repo)
    return None if done.returncode == 0 else f"no commit {commit!r} in {repo}"
