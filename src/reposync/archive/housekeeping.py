"""Archive housekeeping: ``reposync snapshots prune`` and ``reposync snapshots verify``.

Prune keeps every run from ``kept_from`` on (the runs of the last N days) able to
replay exactly as it did: ``sync --offline --as-of K`` reads, for each URL, the
last manifest row of run K or before (or of the bundled pages, ``run`` null).
For any kept K that row is a bundled row, a row of a kept run, or the last row
of the URL before ``kept_from``: those rows stay, with their bodies; every other
row goes from the manifest, and every body no row left names goes from
``objects/`` (with its derived parses), bodies no row ever named too. The new
manifest is in place before the first body goes, so a crash half-way leaves
bodies nobody names, never a row without its body. (The rule keeps a little
more than the least: each URL's last page before the first kept run, even where
that run fetched the URL itself.) A body named in ``keep_bodies`` (the report documents of entries still in
the catalogue, listed or gone from their page) stays whatever its age, with the last row that names it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from .snapshots import _SHA256, Archive, url_key


@dataclass
class Pruned:
    rows_before: int = 0
    rows_after: int = 0
    objects_removed: int = 0
    bytes_freed: int = 0
    parses_removed: int = 0


def oldest_kept_run(db: sqlite_utils.Database, keep_days: float, now: datetime) -> int | None:
    """The first run of the last ``keep_days`` days (any mode: an offline run's --as-of reads older rows too);
    the newest run when none is that recent; None when there is no run at all."""
    cutoff = (now - timedelta(days=keep_days)).isoformat(timespec="seconds")
    row = db.execute("SELECT min(id) FROM runs WHERE started_at >= ?", [cutoff]).fetchone()
    if row and row[0] is not None:
        return int(row[0])
    row = db.execute("SELECT max(id) FROM runs").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _last_before(archive: Archive, kept_from: int, keep_bodies: set[str] = frozenset()) -> set[int]:
    """Offsets of each URL's last row before run ``kept_from`` that a replay can serve (a body or a redirect),
    and of the last row naming each body of ``keep_bodies``."""
    last: dict[bytes, int] = {}  # 16-byte url key -> offset: small at 150,000 URLs
    naming: dict[str, int] = {}
    for offset, row in archive.scan():
        if row.run is not None and row.run < kept_from and (row.sha256 is not None or row.location is not None):
            last[url_key(row.url)] = offset
        if row.sha256 in keep_bodies:
            naming[row.sha256] = offset
    return set(last.values()) | set(naming.values())


def prune(archive: Archive, kept_from: int | None, *, dry_run: bool = False,
          keep_bodies: set[str] = frozenset()) -> Pruned:
    """Drop the rows and bodies no run from ``kept_from`` on can read. Call it holding the sync lock.

    A manifest row that does not read raises ValueError before anything is removed. The manifest is read
    twice, one row at a time, and the new one written beside it and renamed over it.
    """
    result = Pruned()
    keep_offsets = _last_before(archive, kept_from, keep_bodies) if kept_from is not None else set()
    named: set[str] = set()
    archive.root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=archive.root, prefix=".tmp-manifest-")
    try:
        with os.fdopen(fd, "wb") as out:
            for offset, row in archive.scan():
                result.rows_before += 1
                if kept_from is None or row.run is None or row.run >= kept_from or offset in keep_offsets:
                    result.rows_after += 1
                    out.write((row.to_json() + "\n").encode("utf-8"))
                    if row.sha256:
                        named.add(row.sha256)
            out.flush()
            os.fsync(out.fileno())
        if not dry_run and result.rows_after != result.rows_before:
            os.replace(tmp, archive.manifest)  # in place before the first body goes
    finally:
        Path(tmp).unlink(missing_ok=True)
    for folder, counter in ((archive.objects, "objects_removed"), (archive.parses, "parses_removed")):
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            digest = entry.name.split("-", 1)[0] if folder == archive.parses else entry.name
            if _SHA256.match(digest) and digest not in named:
                setattr(result, counter, getattr(result, counter) + 1)
                result.bytes_freed += entry.stat().st_size
                if not dry_run:
                    os.unlink(entry.path)
    return result


@dataclass
class Verified:
    rows: int = 0
    objects: int = 0  # files in objects/ rehashed
    missing: list[str] = field(default_factory=list)  # named by a row, not there
    damaged: list[str] = field(default_factory=list)  # there, but its bytes hash to another name
    unnamed: list[str] = field(default_factory=list)  # there, named by no row (prune removes them)
    manifest_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.manifest_error is None and not self.missing and not self.damaged


def verify(archive: Archive) -> Verified:
    """Rehash every object and check every row's body is there."""
    result = Verified()
    named: set[str] = set()
    try:
        for _, row in archive.scan():  # one row at a time
            result.rows += 1
            if row.sha256:
                named.add(row.sha256)
    except ValueError as exc:
        result.manifest_error = str(exc)
    present = set()
    if archive.objects.is_dir():
        for entry in sorted(os.scandir(archive.objects), key=lambda e: e.name):
            if not _SHA256.match(entry.name):
                continue  # a temp file of a write in progress, or something that is not ours
            present.add(entry.name)
            result.objects += 1
            if _hash(Path(entry.path)) != entry.name:
                result.damaged.append(entry.name)
            if entry.name not in named:
                result.unnamed.append(entry.name)
    result.missing = sorted(named - present)
    return result


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
