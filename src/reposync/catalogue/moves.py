"""Where a source's configured page went (issue 20, point 3), as the last walk of it found: ``source_moves``.

Written with each run (``record``, inside the run's transaction); read by ``reposync sources list`` and by the
next sync (``recent_discoveries``: a gone page's site is searched at most once a night).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlite_utils

from ..archive.snapshots import utc_now
from ..models import SourceOutcome


def record(db: sqlite_utils.Database, run_id: int, outcome: SourceOutcome) -> None:
    """Keep what this walk learnt of its page: moved, moved off its site, gone; a page read where it is
    configured clears the row; a walk that failed otherwise leaves it as it was (nothing was learnt)."""
    if outcome.moved:
        state = "moved-off-site" if outcome.moved.get("off_site") else "moved"
        old, new, status, candidates, checked, error = (outcome.moved["from"], outcome.moved["to"],
                                                        outcome.moved.get("status"), None, None, None)
    elif outcome.gone:
        found = outcome.gone.get("candidates") or []
        state, old, status = "gone", outcome.gone["url"], outcome.gone.get("status")
        new = found[0]["url"] if found else None
        candidates, error = json.dumps(found), outcome.gone.get("error")
        checked = utc_now() if "home" in outcome.gone else None  # its site searched on this walk
    else:
        if outcome.error is None:
            db.execute("DELETE FROM source_moves WHERE source = ?", [outcome.source])
        return
    before = db.execute("SELECT state, old_url, new_url, first_run, checked_at FROM source_moves WHERE source = ?",
                        [outcome.source]).fetchone()
    first = before[3] if before is not None and tuple(before[:3]) == (state, old, new) else run_id
    if state == "gone" and outcome.gone.get("again") and before is not None:
        checked = before[4]  # the candidates of the search before: when it was, not now
    db.execute(
        "INSERT OR REPLACE INTO source_moves (source, state, old_url, new_url, status, candidates, checked_at, "
        "error, first_run, last_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [outcome.source, state, old, new, status, candidates, checked, error, first, run_id],
    )


def source_moves(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """Per source, its row of ``source_moves`` (candidates as a list)."""
    rows = {}
    for row in db.query("SELECT * FROM source_moves ORDER BY source"):
        row = dict(row)
        row["candidates"] = json.loads(row["candidates"]) if row["candidates"] else []
        rows[row["source"]] = row
    return rows


def recent_discoveries(db: sqlite_utils.Database, hours: float, now: datetime | None = None) -> dict[str, dict]:
    """Per source, a gone page's discovery within the last ``hours``: its page, candidates and when."""
    since = (now or datetime.now(timezone.utc)) - timedelta(hours=hours)
    return {source: row for source, row in source_moves(db).items()
            if row["state"] == "gone" and row["checked_at"] and datetime.fromisoformat(row["checked_at"]) > since}
