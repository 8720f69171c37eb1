"""Where the commands write by default: one folder per command under out/
(config.OUT_DIR, git-ignored), none in the source packages, and each
default named once, in harness/config.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness import config
from harness.cli.main import parse_args

# command line -> the option whose default is the command's output folder
COMMANDS = {("run",): "report", ("report",): "report", ("compare",): "report",
            ("replay", "f.json"): "report", ("coverage",): "report",
            ("mutants",): "report", ("explore", "x", "--point", "yield"): "schedules"}


@pytest.mark.parametrize("argv, option", COMMANDS.items(), ids=[a[0] for a in COMMANDS])
def test_every_command_writes_under_out_by_default(argv, option):
    folder = Path(getattr(parse_args(list(argv)), option))
    assert folder.is_relative_to(config.OUT_DIR), f"{argv[0]} writes to {folder}"
    assert folder != config.OUT_DIR


def test_the_commands_default_folders_are_apart():
    folders = [getattr(parse_args(list(a)), o) for a, o in COMMANDS.items()
               if a[0] != "report"]               # report rewrites the run's report
    assert len(set(folders)) == len(folders)


def test_out_is_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", str(config.OUT_DIR / "run" / "x")],
                             cwd=config.REPO_ROOT)
    assert ignored.returncode == 0


def test_no_module_but_config_names_an_output_folder():
    """The defaults are set in harness/config.py only: no other module of
    the harness builds a path into out/ or the old reports/out folders."""
    pattern = re.compile(r"""["'](out|reports)["']\s*[/)]|REPO_ROOT\s*/\s*["'](out|reports)""")
    offenders = [str(p.relative_to(config.REPO_ROOT))
                 for p in (config.REPO_ROOT / "harness").rglob("*.py")
                 if p.name != "config.py" and pattern.search(p.read_text())]
    assert offenders == []
