"""The archive of fetched pages, and the transport that replays it offline.

Layout of a snapshot directory::

    manifest.jsonl      one JSON object per fetch, appended in time order
    objects/<sha256>    each distinct body once, named by its hash (never by URL)

    parses/<sha256>-<parser>.json   derived: the parse of a body, reused when it comes back
                                    (a 304, or the same bytes again); safe to delete

A manifest row: ``url``, ``fetched_at`` (ISO 8601 UTC), ``status``,
``content_type``, ``bytes`` (body bytes received by this fetch), ``etag``,
``last_modified``, ``sha256``, ``run`` (the sync run that fetched it; null for
the bundled pages) and ``note`` (why a bundled page holds what it holds, e.g.
an entry placed where it was not seen). By status:

- 200: ``sha256`` names the body in ``objects/``.
- 304: ``sha256`` names the body the answer stands for (the stored body whose
  validators were sent), ``bytes`` is 0, and ``etag``/``last_modified`` are the
  304's own or, when it sent none, those carried over. Replay serves it as 200.
- 3xx redirect: ``sha256`` null, ``bytes`` 0, and a ``location`` key (absolute
  URL) that only redirect rows carry; replay answers with the same redirect.

Files are written to a temp name and renamed; a crash mid-append leaves at most
a torn last manifest line, which readers skip and the next append cuts off.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import httpx

from ..errors import LockHeld

_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")  # \Z, not $: "<hash>\n" is no file name of ours


@dataclass
class ManifestRow:
    url: str
    fetched_at: str
    status: int
    content_type: str | None
    bytes: int
    etag: str | None
    last_modified: str | None
    sha256: str | None  # None for a bodiless answer (a redirect); a 304 names the body it stands for
    run: int | None = None
    note: str | None = None
    location: str | None = None  # redirect rows only (and then written out)

    def to_json(self) -> str:
        data = asdict(self)
        if data["location"] is None:
            del data["location"]  # the key appears on redirect rows only
        return json.dumps(data, ensure_ascii=False)


class DamagedSnapshot(LookupError):
    """An object file is missing or its bytes do not hash to its name."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _umask() -> int:
    """The process's umask, read once at import (before any thread: setting it to read it is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's 0600 left the pack and reports owner-only


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write beside the target and rename, so no reader sees half a file.

    ``durable`` also syncs the data to disk before the rename (about 1.5 ms a file here): what a
    power cut must not lose. A derived cache that its reader checks and rebuilds does without.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Archive:
    """A snapshot directory: bodies by hash, and a manifest of every fetch."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest = self.root / "manifest.jsonl"
        self.parses = self.root / "parses"
        self._newest: dict[bytes, int] | None = None  # url key -> offset of its newest row with a body
        self._unsynced: list[Path] | None = None  # with defer_sync(): files written, not yet synced to disk
        self._ours: tuple[int, int] | None = None  # (inode, size) of the manifest as our last append left it
        # Hosts are walked in threads that share the archive: one manifest append, index or file list at a time.
        self._lock = threading.RLock()

    # -- reading ------------------------------------------------------------
    def rows(self) -> list[ManifestRow]:
        return [row for _, row in self.scan()]

    def scan(self) -> Iterator[tuple[int, ManifestRow]]:
        """Every row with the byte offset of its line, in order, one at a time (150,000 rows are not a list)."""
        if not self.manifest.exists():
            return
        with self.manifest.open("rb") as handle:
            number, offset = 0, 0
            for raw in handle:
                number += 1
                start, offset = offset, offset + len(raw)
                if not raw.strip():
                    continue
                row = self._read_row(raw, number)
                if row is not None:
                    yield start, row

    def _read_row(self, raw: bytes, number: int | str) -> ManifestRow | None:
        try:
            line = raw.decode("utf-8")
            row = ManifestRow(**json.loads(line))
        except (ValueError, TypeError) as exc:
            # A torn last line (a crash mid-append) is skipped, not fatal.
            if number == 1 or not raw.endswith(b"\n"):
                return None
            raise ValueError(f"{self.manifest}:{number}: bad manifest row: {exc}") from exc
        if row.sha256 is not None and not _SHA256.match(row.sha256):
            raise ValueError(f"{self.manifest}:{number}: sha256 is not a hash: {row.sha256!r}")
        return row

    def row_at(self, offset: int) -> ManifestRow | None:
        """The row whose line starts at ``offset`` (from ``scan``)."""
        with self.manifest.open("rb") as handle:
            handle.seek(offset)
            return self._read_row(handle.readline(), f"byte {offset}")

    def index(self, keep: Callable[[ManifestRow], bool]) -> dict[bytes, int]:
        """URL key -> offset of the last row that ``keep`` takes: an index that stays small at 150,000 URLs."""
        return {url_key(row.url): offset for offset, row in self.scan() if keep(row)}

    def lookup(self, index: dict[bytes, int], url: str) -> ManifestRow | None:
        """The row an ``index`` holds for ``url``."""
        offset = index.get(url_key(url))
        if offset is None:
            return None
        row = self.row_at(offset)
        return row if row is not None and row.url == url else None

    def latest(self, url: str, as_of_run: int | None = None) -> ManifestRow | None:
        """The newest row with a body for ``url``, or the one run ``as_of_run`` saw."""
        found = None
        for row in self.rows():
            if row.url != url or row.sha256 is None:
                continue
            if as_of_run is not None and row.run is not None and row.run > as_of_run:
                continue
            found = row
        return found

    def newest(self, url: str) -> ManifestRow | None:
        """The newest row with a body for ``url``: what the last fetch of it stood for.

        Indexed once, then kept in step by ``record``: a walk of thousands of
        pages asks this for each one.
        """
        with self._lock:
            if self._newest is None:
                self._newest = self.index(lambda row: row.sha256 is not None)
            return self.lookup(self._newest, url)

    def body(self, sha256: str) -> bytes:
        """The stored body, checked against its hash: a damaged file is never read back."""
        if not _SHA256.match(sha256):
            raise ValueError(f"not a content hash: {sha256!r}")
        try:
            data = (self.objects / sha256).read_bytes()
        except FileNotFoundError:
            raise DamagedSnapshot(f"{self.objects / sha256}: missing") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DamagedSnapshot(f"{self.objects / sha256}: content does not match its hash")
        return data

    # -- parses of bodies (derived, a cache) ---------------------------------
    def _parse_path(self, sha256: str, parser: str) -> Path:
        if not _SHA256.match(sha256) or not re.fullmatch(r"[a-z0-9_-]+", parser):
            raise ValueError(f"bad parse key: {sha256!r}, {parser!r}")
        return self.parses / f"{sha256}-{parser}.json"

    def load_parse(self, sha256: str, parser: str, url: str, code: str) -> dict | None:
        """The stored parse of this body at this URL by this parsing code, or None.

        A parse made at another URL (links resolve against it) or by other code
        is a miss, as is a file that does not read back: the caller parses again.
        """
        try:
            data = json.loads(self._parse_path(sha256, parser).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("url") != url or data.get("code") != code:
            return None
        result = data.get("result")
        return result if isinstance(result, dict) else None

    def save_parse(self, sha256: str, parser: str, url: str, code: str, result: dict) -> None:
        record = {"url": url, "code": code, "result": result}
        # A cache: a file a power cut spoils does not read back (load_parse: a miss), and is parsed again.
        atomic_write(self._parse_path(sha256, parser), json.dumps(record, ensure_ascii=False).encode("utf-8"),
                     durable=False)

    # -- writing ------------------------------------------------------------
    def store(self, body: bytes) -> str:
        digest = hashlib.sha256(body).hexdigest()
        path = self.objects / digest
        if not path.exists():  # an unchanged page adds no file
            self._write(path, body)
        else:
            try:
                self.body(digest)
            except DamagedSnapshot:  # a damaged copy is replaced by the good bytes in hand
                self._write(path, body)
        return digest

    def _write(self, path: Path, body: bytes) -> None:
        atomic_write(path, body, durable=self._unsynced is None)
        with self._lock:
            if self._unsynced is not None:
                self._unsynced.append(path)

    # -- durability, one write at a time or once for a walk ---------------------
    def defer_sync(self) -> None:
        """From now on, write without syncing each file; ``sync`` makes it all durable at once.

        A live walk syncs once before its run is committed to the catalogue, instead of twice a
        page (1.5 ms a file here: most of a loopback crawl's time). What a power cut before then
        spoils is what the archive already survives: an object that does not hash to its name is
        damaged (refetched, replaced, never replayed) and a torn manifest tail is cut off. A
        killed process loses nothing either way: the kernel has the writes.
        """
        if self._unsynced is None:
            self._unsynced = []

    def sync(self) -> None:
        """Sync to disk every file written since ``defer_sync`` (and the manifest, and the folders' entries)."""
        with self._lock:
            if self._unsynced is None:
                return
            paths, self._unsynced = self._unsynced, []
        if paths and _syncfs(self.root):
            return  # the whole file system at once: one call where Linux has it, for thousands of files
        for path in [*paths, self.manifest, self.objects, self.root]:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def record(self, row: ManifestRow) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = (row.to_json() + "\n").encode("utf-8")
        with self._lock, self.manifest.open("ab") as handle:
            stat = os.fstat(handle.fileno())
            if (stat.st_ino, stat.st_size) != self._ours:  # not as our last append left it: look at the tail
                _cut_torn_tail(handle)
                stat = os.fstat(handle.fileno())
            offset = stat.st_size
            handle.write(line)
            handle.flush()
            if self._unsynced is None:
                os.fsync(handle.fileno())
            self._ours = (stat.st_ino, offset + len(line))
            if self._newest is not None and row.sha256 is not None:
                self._newest[url_key(row.url)] = offset

    def forget(self, url: str) -> int:
        """Drop every manifest row of ``url`` (objects stay: others may share them)."""
        rows = self.rows()
        kept = [row for row in rows if row.url != url]
        if len(kept) != len(rows):
            text = "".join(row.to_json() + "\n" for row in kept)
            atomic_write(self.manifest, text.encode("utf-8"))
            self._newest = None
        return len(rows) - len(kept)

    def add(
        self,
        url: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str | None = "text/html; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
        fetched_at: str | None = None,
        run: int | None = None,
        note: str | None = None,
    ) -> ManifestRow:
        """Store a body and record its fetch; the one way pages enter the archive."""
        row = ManifestRow(
            url=url,
            fetched_at=fetched_at or utc_now(),
            status=status,
            content_type=content_type,
            bytes=len(body),
            etag=etag,
            last_modified=last_modified,
            sha256=self.store(body),
            run=run,
            note=note,
        )
        self.record(row)
        return row


class ReadOnlyArchive(Archive):
    """An archive a dry run reads (stored pages, their validators and parses) and never writes: a page it
    fetches is hashed, not stored, so no row or body a later run could take for its own is left behind."""

    def store(self, body: bytes) -> str:
        return hashlib.sha256(body).hexdigest()

    def record(self, row: ManifestRow) -> None:
        pass

    def save_parse(self, sha256: str, parser: str, url: str, code: str, result: dict) -> None:
        pass


LOCK_NAME = "archive.lock"  # in the archive's folder: two catalogues may share one archive


@contextmanager
def archive_lock(root: Path, *, exclusive: bool, create: bool = True) -> Iterator[None]:
    """Syncs that read or append to the archive hold it shared; ``snapshots prune``, which rewrites the
    manifest and removes bodies, holds it exclusive. Either way it is not waited for: LockHeld (75).

    An archive that is not there yet is made first (a sync is about to write into it), unless not ``create``
    (a dry run makes nothing). Where the folder cannot be written (a read-only copy of the bundled pages) a
    shared lock is not taken: nothing can prune it either.
    """
    try:
        if create:
            root.mkdir(parents=True, exist_ok=True)
        handle = open(root / LOCK_NAME, "a+")
    except OSError:
        if exclusive:
            raise
        yield
        return
    try:
        try:
            fcntl.flock(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            doing = "a sync is reading or writing it" if exclusive else "`reposync snapshots prune` is at work on it"
            raise LockHeld(f"{root / LOCK_NAME} is held: {doing}; try again later") from None
        yield
    finally:
        handle.close()


def _syncfs(folder: Path) -> bool:
    """syncfs(2) on the file system holding ``folder`` (Linux); False where it cannot be had."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        return syncfs(fd) == 0
    finally:
        os.close(fd)


def url_key(url: str) -> bytes:
    """A URL as an index key: 16 bytes of its hash, where the URL itself is often 300 characters."""
    return hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _cut_torn_tail(handle: BinaryIO) -> None:
    """Drop a torn last line (a crash mid-append) so the next row starts on a line of its own."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return
    with open(handle.name, "rb") as reader:
        reader.seek(end - 1)
        if reader.read(1) == b"\n":
            return
        # Find the last complete line: read backwards in blocks.
        position = end
        while position > 0:
            start = max(0, position - 65536)
            reader.seek(start)
            block = reader.read(position - start)
            newline = block.rfind(b"\n")
            if newline != -1:
                handle.truncate(start + newline + 1)
                return
            position = start
    handle.truncate(0)


class ReplayTransport(httpx.BaseTransport):
    """Answers requests from the archive, as the site answered them then.

    A URL the archive never saw answers 404 with ``X-Reposync-Replay: missing``
    (``damaged`` when its object does not read back), so a missing snapshot
    fails its source like a missing page would. A 304 row answers 200 with the
    body it stands for; a redirect row answers the same redirect.
    """

    def __init__(self, archive: Archive, as_of_run: int | None = None) -> None:
        self.archive = archive
        self.as_of_run = as_of_run
        self._index: dict[bytes, int] | None = None
        self._lock = threading.Lock()  # hosts replay in threads: the index is built once

    def _keep(self, row: ManifestRow) -> bool:
        if row.sha256 is None and row.location is None:
            return False
        return self.as_of_run is None or row.run is None or row.run <= self.as_of_run

    def _lookup(self, url: str) -> ManifestRow | None:
        with self._lock:
            if self._index is None:
                self._index = self.archive.index(self._keep)  # later rows win: the newest fetch
        return self.archive.lookup(self._index, url)

    def close(self) -> None:
        """The client is done with it (httpx closes its transport): the index goes, not to sit in memory
        through the catalogue's write (150,000 URLs at 100 times the real size)."""
        with self._lock:
            self._index = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        row = self._lookup(url)
        if row is None:
            return httpx.Response(
                404,
                headers={"X-Reposync-Replay": "missing"},
                content=b"no snapshot of this URL",
                request=request,
            )
        if row.sha256 is None:  # a redirect, as the site answered it
            return httpx.Response(
                row.status, headers={"X-Reposync-Replay": "hit", "Location": row.location or ""}, request=request
            )
        try:
            body = self.archive.body(row.sha256)
        except DamagedSnapshot as exc:
            return httpx.Response(
                404, headers={"X-Reposync-Replay": "damaged"}, content=str(exc).encode(), request=request
            )
        headers = {"X-Reposync-Replay": "hit"}
        if row.content_type:
            headers["Content-Type"] = row.content_type
        if row.etag:
            headers["ETag"] = row.etag
        if row.last_modified:
            headers["Last-Modified"] = row.last_modified
        status = 200 if row.status == 304 else row.status
        return httpx.Response(status, headers=headers, content=body, request=request)
