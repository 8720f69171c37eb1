"""The class folder (`grade --report DIR`): what a grading keeps on disk,
so an interrupted grading resumes where it stopped.

    DIR/grade.json              the grading's settings (selection, points, shards)
    DIR/index.html, grades.csv  the class report (reports/class_view.py)
    DIR/submissions/NAME/       one submission's own report (index.html,
                                results.json, junit.xml, autograder.json),
                                build.log, artifacts/ of failed scenarios,
                                and submission.json, written last
    DIR/work/NAME/              its checkout and build while it is graded

A submission is finished when its submission.json is there and the
results.json it names is unchanged (its hash): the file is written
atomically (a temporary file renamed over it) after everything else, so
a grading stopped at any moment (Ctrl-C, a crash, a reboot) leaves either
a finished submission or one that is graded again from the start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from harness.errors import UsageError
from results.grade import SubmissionResult, submission_from_json, submission_to_json
from results.model import RESULTS_FILE as RESULTS

SETTINGS = "grade.json"
LOCK = ".grade.lock"
MARKER = "submission.json"
SETTINGS_SCHEMA = 1


@dataclasses.dataclass
class ClassSettings:
    """What every submission of one class folder is graded with; a resumed
    grading must use the same (else its report would mix two gradings)."""
    scenarios: list                    # scenario names, suite order
    points: list                       # [[pattern, points], ...] first match wins
    default_points: float = 1.0
    shard: Optional[str] = None        # "K/N" of the roster's submissions
    scenario_shard: Optional[str] = None   # "J/M" of the scenarios
    strict: bool = False
    roster_digest: str = ""            # the roster's entries (for `grade --merge`)

    COMPARED = ("scenarios", "points", "default_points", "shard", "scenario_shard", "strict")

    def differences(self, other: "ClassSettings") -> list:
        return [key for key in self.COMPARED if getattr(self, key) != getattr(other, key)]

    def to_dict(self) -> dict:
        return {"schema": SETTINGS_SCHEMA, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "ClassSettings":
        if data.get("schema") != SETTINGS_SCHEMA:
            raise ValueError(f"settings schema {data.get('schema')!r}, expected {SETTINGS_SCHEMA}")
        return cls(**{k: v for k, v in data.items() if k != "schema"})


def write_atomic(path: Path, text: str) -> None:
    """PATH holds TEXT, or (after a crash at any moment) what it held before."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ClassFolder:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    @contextlib.contextmanager
    def locked(self):
        """Holds the folder for one `grade` at a time; UsageError if another
        process holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(f"{self.root} is being graded by another `vmcheck grade`; "
                                 "wait for it, or use another --report folder") from None
            yield

    def submission_dir(self, name: str) -> Path:
        return self.root / "submissions" / name

    def work_dir(self, name: str) -> Path:
        return self.root / "work" / name

    def read_settings(self) -> Optional[ClassSettings]:
        path = self.root / SETTINGS
        if not path.exists():
            return None
        try:
            return ClassSettings.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as e:
            raise UsageError(f"{path}: not a vmcheck grading's settings ({e})") from None

    def adopt_settings(self, settings: ClassSettings, start_over: bool) -> None:
        """Writes SETTINGS; UsageError if the folder holds a grading with
        other settings, unless START_OVER (--rerun all)."""
        old = self.read_settings()
        if old is not None and not start_over and old.differences(settings):
            keys = ", ".join(old.differences(settings))
            raise UsageError(f"{self.root} holds a grading with other settings ({keys} differ): "
                             "grade into another --report folder, or start over with --rerun all")
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.root / SETTINGS, json.dumps(settings.to_dict(), indent=1) + "\n")

    def finished(self, name: str) -> Optional[SubmissionResult]:
        """NAME's result if it is finished (marker present, results intact)."""
        folder = self.submission_dir(name)
        try:
            result = submission_from_json(json.loads((folder / MARKER).read_text()))
            intact = file_sha256(folder / RESULTS) == result.results_sha256
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return result if intact and result.name == name else None

    def discard(self, name: str) -> None:
        """Removes whatever NAME's grading left (finished or not)."""
        for folder in (self.submission_dir(name), self.work_dir(name)):
            if folder.exists():
                shutil.rmtree(folder)

    def clear_work(self) -> None:
        shutil.rmtree(self.root / "work", ignore_errors=True)

    def mark_finished(self, result: SubmissionResult) -> None:
        """Records RESULT (its results.json already written): the last step."""
        folder = self.submission_dir(result.name)
        result.results_sha256 = file_sha256(folder / RESULTS)
        write_atomic(folder / MARKER, json.dumps(submission_to_json(result), indent=1) + "\n")
