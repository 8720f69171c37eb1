"""The mutants page (OUT/mutants.html), from the rows of mutants.json
(harness/course/mutants.py writes them)."""

from __future__ import annotations

import shutil
from pathlib import Path

from reports.html import STATIC, environment


def render_mutants(rows: list[dict], out_dir: Path, kernel: str = "reference mutants",
                   started: str = "") -> Path:
    """OUT_DIR/mutants.html of ROWS (MutantResult.row()); its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not (out_dir / "static").exists():
        shutil.copytree(STATIC, out_dir / "static")
    page = environment().get_template("mutants.html.j2").render(
        rows=rows, killed=sum(r["killed"] for r in rows), root="",
        run={"kernel": kernel, "started": started, "shard": None})
    path = out_dir / "mutants.html"
    path.write_text(page)
    return path
