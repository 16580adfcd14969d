"""The ``documents`` table (migration m009): what the night's document stage (``crawl/documents.py``) found,
written in the run's transaction; what it needs to know of earlier nights; what ``snapshots prune`` keeps.

A row is never deleted: an entry a page drops keeps its document's text here (and its body in the archive).
A failed fetch never blanks a document read before: its row stays as it was read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils

# What the document stage writes of a read document (the rest of the row is its url and run).
READ_FIELDS = ("sha256", "bytes", "kind", "content_type", "pages", "text", "title_read", "review_type_read",
               "pseudonym_read", "partnership_read", "published_read", "published_precision", "fetched_at",
               "checked_at", "status", "reason")
# Statuses a read can give (whatever the bytes said): the rows a same body at another URL is copied from.
READ_STATUSES = ("ok", "no-text", "not-a-pdf", "encrypted", "error")


def known(db: sqlite_utils.Database) -> dict[str, tuple]:
    """url -> (sha256, status, published_read, published_precision) of every document row: what the stage
    needs to skip a document it has read, and to date an entry by a document read on an earlier night."""
    return {url: (sha256, status, published, precision) for url, sha256, status, published, precision in db.execute(
        "SELECT url, sha256, status, published_read, published_precision FROM documents")}


def read_before(db: sqlite_utils.Database, sha256: str) -> dict[str, Any] | None:
    """A row whose bytes were these, read on an earlier night (the same PDF at another URL): copied, not read."""
    for row in db.query(f"SELECT {', '.join(READ_FIELDS)} FROM documents WHERE sha256 = ? AND status IN "
                        f"({', '.join('?' * len(READ_STATUSES))}) LIMIT 1", [sha256, *READ_STATUSES]):
        return row
    return None


def record(db: sqlite_utils.Database, run_id: int, rows: Iterable[dict[str, Any]]) -> None:
    """Write the stage's rows (inside the run's transaction). A row with ``unchanged`` only says when its
    document was last asked for; a failure (``forbidden``, ``too-big``, ``error`` before any byte was read)
    never replaces a document that was read."""
    for row in rows:
        url = row["url"]
        if row.get("unchanged"):
            db.execute("UPDATE documents SET checked_at = ? WHERE url = ?", [row["checked_at"], url])
            continue
        if row.get("sha256") is None:  # nothing read: keep what an earlier night read, or the same failure
            before = db.execute("SELECT sha256, status, reason FROM documents WHERE url = ?", [url]).fetchone()
            if before is not None and (before[0] is not None or before[1:] == (row["status"], row.get("reason"))):
                db.execute("UPDATE documents SET checked_at = ? WHERE url = ?", [row["checked_at"], url])
                continue
        values = {name: row.get(name) for name in READ_FIELDS}
        values.update(url=url, run_id=run_id)
        columns = ", ".join(values)
        db.execute(f"INSERT INTO documents ({columns}) VALUES ({', '.join('?' * len(values))}) "
                   f"ON CONFLICT(url) DO UPDATE SET "
                   + ", ".join(f"{name} = excluded.{name}" for name in values if name != "url"),
                   list(values.values()))


def kept_bodies(db: sqlite_utils.Database) -> set[str]:
    """The bodies ``snapshots prune`` keeps whatever their age: the documents of entries still in the
    catalogue, listed or gone from their page (what ``reposync pack`` sends for a review taken down)."""
    return {sha for (sha,) in db.execute(
        "SELECT DISTINCT d.sha256 FROM documents d JOIN entries e ON e.report_url = d.url "
        "WHERE d.sha256 IS NOT NULL")}


def run_counts(db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
    """The documents this run read (or failed to), by status: the night's report counts ``no-text`` among them."""
    return dict(db.execute("SELECT status, count(*) FROM documents WHERE run_id = ? GROUP BY status ORDER BY status",
                           [run_id]).fetchall())


def for_entries(db: sqlite_utils.Database, entry_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Each entry's document as read (``url``, ``sha256``, ``status``, ``kind``), for those that have one."""
    ids = list(entry_ids)
    if not ids:
        return []
    return list(db.query(
        f"SELECT e.id AS entry_id, d.url, d.sha256, d.status, d.kind FROM entries e JOIN documents d "
        f"ON d.url = e.report_url WHERE e.id IN ({', '.join('?' * len(ids))}) ORDER BY e.id", ids))
