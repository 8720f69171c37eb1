"""The mutants page (OUT/mutants.html) and mutants.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from reports.html import STATIC, environment


def write_mutants_report(results: list, out_dir: Path, kernel: str = "reference mutants",
                         started: str = "") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in results:
        state = ("build failed" if r.build_error else "killed" if r.killed
                 else r.stopped or "SURVIVED")
        if r.killed and not r.named_cause and not r.mutant.expect_crash:
            state = "killed (crash only)"
        rows.append({"name": r.mutant.name, "area": r.mutant.area,
                     "description": r.mutant.description, "state": state, "killed": r.killed,
                     "kills": r.killed_by[:5], "seconds": r.seconds,
                     "build_error": r.build_error})
    (out_dir / "mutants.json").write_text(json.dumps(rows, indent=1))
    if not (out_dir / "static").exists():
        shutil.copytree(STATIC, out_dir / "static")
    page = environment().get_template("mutants.html.j2").render(
        rows=rows, killed=sum(r["killed"] for r in rows), root="",
        run={"kernel": kernel, "started": started, "shard": None})
    path = out_dir / "mutants.html"
    path.write_text(page)
    return path
