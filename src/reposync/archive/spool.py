"""Each source's normalised rows between its walk and the run's one transaction, kept off the heap.

A walk produces rows page by page; the catalogue applies them all at once, at
the end of the run, so that a run lands whole or not at all and a failed
source writes nothing. Holding a 150,000-record catalogue's rows in lists
until then costs hundreds of megabytes, so the rows of a run go to a
``Spooler``: the first ``settings.SPOOL_IN_MEMORY`` rows of the run stay in
memory (a run of list and local pages never leaves it), the rest go to one
private temporary SQLite database that SQLite deletes when it is closed
(``sqlite3.connect("")``), with a page cache of a few megabytes. Each source
has its own ``Spool`` in it, read back in the order it was written, as often
as wanted.

Nothing else changes: the catalogue is not touched during the walk (no lock is
held while crawling), a source that fails drops its spool, and the apply still
runs in one transaction.
"""

from __future__ import annotations

import itertools
import pickle
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .. import settings

_BATCH = 1000  # rows per executemany when spilling, and per fetch when reading back


class Spooler:
    """The rows of one run: a budget of rows held in memory, then one temporary database."""

    def __init__(self, in_memory: int | None = None) -> None:
        self.room = settings.SPOOL_IN_MEMORY if in_memory is None else in_memory
        self._db: sqlite3.Connection | None = None
        self._numbers = itertools.count(1)
        # Hosts are walked in threads, each with spools of its own in the one run: the budget, the
        # numbers and the temporary database are shared, one thread at a time.
        self.lock = threading.RLock()

    def spool(self, rows: Iterable[dict[str, Any]] = ()) -> Spool:
        spool = Spool(self)
        for row in rows:
            spool.append(row)
        return spool

    def _next_number(self) -> int:
        with self.lock:
            return next(self._numbers)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            # An empty name: a private on-disk database that SQLite deletes on close. Used from the walking
            # threads (under ``lock``) and read back by the apply's.
            self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA cache_size = -{settings.SPOOL_CACHE_KIB}")
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(
                "CREATE TABLE rows (spool INTEGER, n INTEGER, data BLOB NOT NULL, PRIMARY KEY (spool, n)) WITHOUT ROWID"
            )
        return self._db

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class Spool:
    """One source's rows: ``append``, ``len``, iterate in order, ``close``."""

    def __init__(self, spooler: Spooler | None = None) -> None:
        self._spooler = spooler if spooler is not None else Spooler()
        self._number = self._spooler._next_number()
        self._head: list[dict[str, Any]] = []  # rows held in memory: always the first ones
        self._pending: list[tuple[int, int, bytes]] = []  # spilled rows not yet written
        self._spilled = 0
        self._count = 0

    def append(self, row: dict[str, Any]) -> None:
        self._count += 1
        if not self._spilled and not self._pending:
            with self._spooler.lock:
                kept = self._spooler.room > 0
                if kept:
                    self._spooler.room -= 1
            if kept:
                self._head.append(row)
                return
        self._pending.append((self._number, self._count, pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)))
        if len(self._pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write out the rows still buffered (a finished walk does: hundreds of sources' buffers add up)."""
        if not self._pending:
            return
        with self._spooler.lock:
            db = self._spooler.db
            db.execute("BEGIN")
            db.executemany("INSERT INTO rows (spool, n, data) VALUES (?, ?, ?)", self._pending)
            db.execute("COMMIT")
        self._spilled += len(self._pending)
        self._pending = []

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self._head
        self.flush()
        if self._spilled:
            cursor = self._spooler.db.execute("SELECT data FROM rows WHERE spool = ? ORDER BY n", [self._number])
            while batch := cursor.fetchmany(_BATCH):
                for (data,) in batch:
                    yield pickle.loads(data)

    def spill(self) -> None:
        """Move the rows held in memory to the temporary database (read back as before, in order), and give
        their room back to the run: a source already written to the catalogue keeps its rows off the heap."""
        if not self._head:
            return
        with self._spooler.lock:
            db = self._spooler.db
            rows = [(self._number, n, pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL))
                    for n, row in enumerate(self._head, 1)]  # the first rows: numbers 1..len(head)
            db.execute("BEGIN")
            db.executemany("INSERT INTO rows (spool, n, data) VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")
            self._spooler.room += len(self._head)
            self._spilled += len(self._head)
            self._head = []
        self.flush()

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read the rows back while other threads walk (their spools share one temporary database)."""
        return self._spooler.lock

    @property
    def spilled(self) -> bool:
        return bool(self._spilled or self._pending)

    def close(self) -> None:
        """Drop the rows (their room in memory goes back to the run)."""
        with self._spooler.lock:
            self._spooler.room += len(self._head)
            if self._spilled:
                self._spooler.db.execute("DELETE FROM rows WHERE spool = ?", [self._number])
        self._head, self._pending, self._spilled, self._count = [], [], 0, 0

    def __repr__(self) -> str:
        return f"Spool({self._count} rows{', spilled' if self.spilled else ''})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Spool, list)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
