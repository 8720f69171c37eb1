"""The roster of `vmcheck grade` (harness/grade/roster.py) and the checkout
of a submission into the work folder (harness/grade/checkout.py): bad
rosters are one-line errors with file and line; a git source is cloned at
the commit named, its committed build/ folders dropped, the source left
as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.grade.checkout import CheckoutError, materialize
from harness.grade.roster import load_roster


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
                          cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with two commits: `first` (a.c says 1, a committed
    vm/build/stale.o) and HEAD (a.c says 2)."""
    path = tmp_path / "student"
    (path / "vm" / "build").mkdir(parents=True)
    (path / "vm" / "build" / "stale.o").write_text("old object")
    (path / "a.c").write_text("int a = 1;\n")
    git(path, "init", "-q")
    git(path, "add", ".")
    git(path, "commit", "-qm", "first")
    git(path, "tag", "first")
    (path / "a.c").write_text("int a = 2;\n")
    git(path, "commit", "-qam", "second")
    return path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.toml"
    path.write_text(text)
    return path


def test_roster_with_trees_repositories_and_bundles(tmp_path, repo):
    git(repo, "bundle", "create", "-q", str(tmp_path / "s.bundle"), "HEAD", "first")
    (tmp_path / "tree").mkdir()
    roster = load_roster(write(tmp_path, '''
scenarios = ["lazy", "mmap-*"]
kernel = "reference"
[[submission]]
name = "team-01"
path = "tree"
[[submission]]
name = "team_02"
repo = "student"
commit = "first"
kernel = "pintos-kaist"
[[submission]]
name = "kim.minsu"
repo = "s.bundle"
commit = "HEAD"
'''))
    a, b, c = roster.submissions
    assert roster.scenarios == ("lazy", "mmap-*")
    assert (a.family, a.path, a.repo) == ("reference", tmp_path / "tree", None)
    assert (b.family, b.repo, b.commit) == ("pintos-kaist", repo, "first")
    assert (c.family, c.repo) == ("reference", tmp_path / "s.bundle")
    assert b.identity() == {"family": "pintos-kaist", "commit": "first", "path": None,
                            "repo": "student", "layout": None}
    assert [s.name for s in roster.shard("1/2")] == ["team-01", "kim.minsu"]
    assert [s.name for s in roster.shard("2/2")] == ["team_02"]


@pytest.mark.parametrize("body, message", [
    ('[[submission]]\nname = "a"\n', "roster.toml:2: submission 'a' needs exactly one of `path`"),
    ('[[submission]]\nname = "a"\npath = "t"\nrepo = "student"\ncommit = "HEAD"\n',
     "roster.toml:2: submission 'a' needs exactly one"),
    ('[[submission]]\nname = "a"\nrepo = "student"\n',
     "roster.toml:3: submission 'a': `repo` needs `commit`"),
    ('[[submission]]\nname = "a"\npath = "t"\ncommit = "x"\n',
     "roster.toml:4: submission 'a': `commit` goes with `repo`"),
    ('[[submission]]\nname = "a"\npath = "nowhere"\n', "roster.toml:3: submission 'a': "),
    ('[[submission]]\nname = "a"\nrepo = "student"\ncommit = "nosuch"\n',
     "roster.toml:4: submission 'a': no commit 'nosuch' in"),
    ('[[submission]]\nname = "a b"\npath = "t"\n', "roster.toml:2: 'a b' is not a submission name"),
    ('[[submission]]\nname = "a"\npath = "t"\n[[submission]]\nname = "A"\npath = "t"\n',
     "roster.toml:5: submission name 'A' appears twice"),
    ('[[submission]]\nname = "a"\npath = "t"\ncolour = 1\n', "roster.toml:4: unknown key 'colour'"),
    ('kernel = "linux"\n[[submission]]\nname = "a"\npath = "t"\n', "roster.toml:1: must be one of"),
    ('points = "p.toml"\n[[submission]]\nname = "a"\npath = "t"\n', "the points file"),
    ('scenarios = "all"\n', "roster.toml:1: must be a list"),
    ('', "no [[submission]] in the roster"),
    ('name = 1\n\n[[submission]\n', "roster.toml:3: not valid TOML"),
])
def test_roster_mistakes_name_file_line_and_key(tmp_path, repo, body, message):
    (tmp_path / "t").mkdir()
    with pytest.raises(UsageError) as caught:
        load_roster(write(tmp_path, body))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_merging_does_not_need_the_sources(tmp_path):
    roster = load_roster(write(tmp_path, '[[submission]]\nname = "a"\nrepo = "gone"\n'
                                         'commit = "abc1234"\n'), check_sources=False)
    assert roster.submissions[0].identity()["repo"] == "gone"


def test_a_bundle_without_the_commit_is_refused(tmp_path, repo):
    git(repo, "bundle", "create", "-q", str(tmp_path / "s.bundle"), "HEAD")
    with pytest.raises(UsageError, match="'release' names no head of the bundle"):
        load_roster(write(tmp_path, '[[submission]]\nname = "a"\nrepo = "s.bundle"\n'
                                    'commit = "release"\n'))


def test_checkout_of_a_commit_leaves_the_source_alone(tmp_path, repo):
    before = (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"),
              git(repo, "for-each-ref"))
    sub = load_roster(write(tmp_path, '[[submission]]\nname = "a"\nrepo = "student"\n'
                                      'commit = "first"\n')).submissions[0]
    commit = materialize(sub, tmp_path / "work" / "tree")
    tree = tmp_path / "work" / "tree"
    assert commit == git(repo, "rev-parse", "first")
    assert (tree / "a.c").read_text() == "int a = 1;\n"      # the commit named, not HEAD
    assert not (tree / "vm" / "build").exists()               # committed build output dropped
    assert not (tree / ".git").exists()
    assert (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"),
            git(repo, "for-each-ref")) == before


def test_checkout_of_a_bundle_and_of_a_tree(tmp_path, repo):
    git(repo, "bundle", "create", "-q", str(tmp_path / "s.bundle"), "HEAD")
    roster = load_roster(write(tmp_path, '[[submission]]\nname = "b"\nrepo = "s.bundle"\n'
                                         'commit = "HEAD"\n[[submission]]\nname = "t"\n'
                                         'path = "student"\n'))
    bundled, copied = roster.submissions
    assert materialize(bundled, tmp_path / "b") == git(repo, "rev-parse", "HEAD")
    assert (tmp_path / "b" / "a.c").read_text() == "int a = 2;\n"
    assert materialize(copied, tmp_path / "t") is None
    assert (tmp_path / "t" / "a.c").read_text() == "int a = 2;\n"
    assert not (tmp_path / "t" / ".git").exists() and not (tmp_path / "t" / "vm" / "build").exists()
    assert (repo / "vm" / "build" / "stale.o").exists()


def test_a_short_hash_missing_from_a_bundle_fails_its_checkout(tmp_path, repo):
    git(repo, "bundle", "create", "-q", str(tmp_path / "s.bundle"), "HEAD")
    sub = load_roster(write(tmp_path, '[[submission]]\nname = "b"\nrepo = "s.bundle"\n'
                                      'commit = "deadbeef"\n')).submissions[0]
    with pytest.raises(CheckoutError, match="cannot check out 'deadbeef'"):
        materialize(sub, tmp_path / "b")
