"""What earlier runs left that a sync asks about: the last complete walk of a source, its pages, its layout."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from ..archive.snapshots import utc_now


def stored_hash(db: sqlite_utils.Database, entry_id: str) -> str | None:
    """The content hash of a listed entry (None when there is no such listed entry)."""
    row = db.execute("SELECT content_hash FROM entries WHERE id = ? AND status = 'listed'", [entry_id]).fetchone()
    return row[0] if row else None


def last_complete_walk(db: sqlite_utils.Database, source: str) -> dict[str, Any] | None:
    """When the last complete walk of a source started, and whether it found it newest first (runs.sources).

    Only a full walk that reached its end without an error is one: an incremental walk, or one cut short,
    would put off the next full walk that finds what it missed.
    """
    path = f'$."{source}"'  # source ids are [a-z0-9_-]: safe inside a quoted JSON path
    row = db.execute(
        "SELECT started_at, json_extract(sources, ? || '.newest_first') FROM runs "
        "WHERE finished_at IS NOT NULL AND json_valid(sources) AND json_extract(sources, ? || '.complete') = 1 "
        "AND coalesce(json_extract(sources, ? || '.walk'), 'full') = 'full' "
        "AND json_extract(sources, ? || '.error') IS NULL "
        "AND NOT coalesce(json_extract(sources, ? || '.cut_short'), 0) "
        "ORDER BY id DESC LIMIT 1",
        [path] * 5,
    ).fetchone()
    if row is None:
        return None
    return {"started_at": row[0], "newest_first": bool(row[1])}


def nights_cut_short(db: sqlite_utils.Database, source: str, limit: int) -> int:
    """How many of a source's last walks in a row (up to ``limit``) ended before their listing's end."""
    path = f'$."{source}"'  # source ids are [a-z0-9_-]: safe inside a quoted JSON path
    rows = db.execute(
        "SELECT coalesce(json_extract(sources, ? || '.cut_short'), 0) FROM runs "
        "WHERE finished_at IS NOT NULL AND json_valid(sources) AND json_type(sources, ?) IS NOT NULL "
        "ORDER BY id DESC LIMIT ?",
        [path, path, limit],
    ).fetchall()
    nights = 0
    for (cut_short,) in rows:
        if not cut_short:
            break
        nights += 1
    return nights


def last_pages(db: sqlite_utils.Database, source: str) -> int | None:
    """Pages the last finished walk of a source took (runs.sources), whether it succeeded or not."""
    path = f'$."{source}".pages'  # source ids are [a-z0-9_-]: safe inside a quoted JSON path
    row = db.execute(
        "SELECT json_extract(sources, ?) FROM runs WHERE finished_at IS NOT NULL AND json_valid(sources) "
        "AND json_extract(sources, ?) > 0 ORDER BY id DESC LIMIT 1",
        [path, path],
    ).fetchone()
    return int(row[0]) if row else None


def listed_count(db: sqlite_utils.Database, source: str) -> int:
    return db.execute("SELECT count(*) FROM entries WHERE source = ? AND status = 'listed'", [source]).fetchone()[0]


def last_walks(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """Per source, its last walk in a finished run: the run, when it started, and the outcome it recorded."""
    walks: dict[str, dict[str, Any]] = {}
    rows = db.execute(
        "SELECT r.id, r.started_at, j.key, j.value FROM runs r, json_each(r.sources) j "
        "WHERE r.finished_at IS NOT NULL AND json_valid(r.sources) ORDER BY r.id DESC"
    )
    for run_id, started_at, source, value in rows:
        if source not in walks:
            walks[source] = {"run": run_id, "started_at": started_at, **json.loads(value)}
    return walks


def layout_state(db: sqlite_utils.Database, source: str) -> dict[str, Any]:
    """A source's row of ``sources_layout`` ({} before its first walk with a fingerprint)."""
    rows = list(db.query("SELECT * FROM sources_layout WHERE source = ?", [source]))
    return rows[0] if rows else {}


def layout_states(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    return {row["source"]: row for row in db.query("SELECT * FROM sources_layout")}


def accept_layout(db: sqlite_utils.Database, source: str) -> dict[str, Any] | None:
    """A person looked at a source whose departures are held: the next sync applies them.

    Returns the source's state as accepted, or None when nothing is held.
    """
    state = layout_state(db, source)
    if not state.get("held_layout"):
        return None
    now = utc_now()
    db.execute("UPDATE sources_layout SET accepted_layout = held_layout, accepted_at = ? WHERE source = ?",
               [now, source])
    return layout_state(db, source)
