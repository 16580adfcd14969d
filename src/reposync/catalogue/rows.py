"""What the linker reads back from the catalogue: the entry rows, and the decisions people made."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .. import link
from ..archive.snapshots import utc_now

LINK_ROWS_SQL = (
    "SELECT id, kind, source, area, la_codes, pseudonyms, title_key, published_start, published_end, "
    "published_precision, published_year, review_type, document_kind, review_id, title, summary, note, keywords, "
    # the bytes of its report document, when one was read (a page's error page is no document: ok, no-text only)
    "(SELECT d.sha256 FROM documents d WHERE d.url = entries.report_url AND d.status IN ('ok', 'no-text')) "
    "AS report_sha256 FROM entries"
)


class LinkRows:
    """The entry rows linking reads (``link.Rows``): every row once, in rowid order, one row at a time."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(LINK_ROWS_SQL + " ORDER BY rowid")
        columns = [d[0] for d in cursor.description]
        for values in cursor:
            yield dict(zip(columns, values))


@dataclass(frozen=True)
class PersonDecision(link.Decision):
    """A person's decision with who made it (an actor id, a user name) and how (``cli``, ``datasette``), where
    known: what the catalogue's links and decisions.toml keep beside the decision."""

    decided_by: str | None = None
    decided_via: str | None = None


def person_decisions(db: sqlite_utils.Database, *, stamp: bool = False) -> list[link.Decision]:
    """The accepted and rejected pairs in the links table.

    A decision set directly in the table (a Datasette canned query) may lack ``decided_at``: with
    ``stamp`` it gets the current time, written back, so it counts as the newest word on its pair.
    """
    decisions: list[link.Decision] = []
    now = utc_now()
    for row in db.query("SELECT entry_a, entry_b, decision, decided_at, decided_by, decided_via FROM links "
                        "WHERE decision IN (?, ?)", list(link.PERSON_DECISIONS)):
        decided_at = row["decided_at"]
        if not decided_at:
            decided_at = now
            if stamp:
                db.execute("UPDATE links SET decided_at = ? WHERE entry_a = ? AND entry_b = ?",
                           [now, row["entry_a"], row["entry_b"]])
        decisions.append(PersonDecision(row["entry_a"], row["entry_b"], row["decision"], decided_at,
                                        row["decided_by"], row["decided_via"]))
    return decisions
