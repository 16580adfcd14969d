"""A run's row writes queued per table and sent as one ``executemany`` a batch (issue 23).

A table's writes keep their order: a write with another statement first sends those queued before it, so
rowids, change numbers and the full-text index's work are those of writing them one by one. What reads a
table the run writes flushes it first (``Batches.flush``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

WRITES_BATCH = 1000  # a table's writes queued before one executemany sends them


class Batches:
    """Writes waiting to go: a table -> its statement and their values, in order."""

    def __init__(self, conn: sqlite3.Connection, size: int = WRITES_BATCH) -> None:
        self.conn = conn
        self.size = size
        self.queued: dict[str, tuple[str, list[Sequence[Any]]]] = {}

    def write(self, table: str, sql: str, values: Sequence[Any]) -> None:
        """Queue one write of ``table`` (sent in order with its others, ``size`` at a time)."""
        queued = self.queued.get(table)
        if queued is None or queued[0] != sql:
            self.flush(table)
            queued = self.queued[table] = (sql, [])
        queued[1].append(values)
        if len(queued[1]) >= self.size:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        """Send the queued writes (of one table, or all)."""
        for name in [table] if table is not None else list(self.queued):
            queued = self.queued.pop(name, None)
            if queued is not None:
                self.conn.executemany(*queued)
