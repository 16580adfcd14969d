"""The archive of fetched pages, and the transport that replays it offline.

Layout of a snapshot directory::

    manifest.jsonl      one JSON object per fetch, appended in time order
    objects/<sha256>    each distinct body once, named by its hash (never by URL)

A manifest row: ``url``, ``fetched_at`` (ISO 8601 UTC), ``status``,
``content_type``, ``bytes``, ``etag``, ``last_modified``, ``sha256``, ``run``
(the sync run that fetched it; null for the bundled pages) and ``note`` (why a
bundled page holds what it holds, e.g. an entry placed where it was not seen).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class ManifestRow:
    url: str
    fetched_at: str
    status: int
    content_type: str | None
    bytes: int
    etag: str | None
    last_modified: str | None
    sha256: str | None  # None for a bodiless answer (304, errors)
    run: int | None = None
    note: str | None = None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
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

    # -- reading ------------------------------------------------------------
    def rows(self) -> list[ManifestRow]:
        if not self.manifest.exists():
            return []
        rows = []
        with self.manifest.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    row = ManifestRow(**data)
                except (ValueError, TypeError) as exc:
                    # A torn last line (a crash mid-append) is skipped, not fatal.
                    if number == 1 or not line.endswith("\n"):
                        continue
                    raise ValueError(f"{self.manifest}:{number}: bad manifest row: {exc}") from exc
                if row.sha256 is not None and not _SHA256.match(row.sha256):
                    raise ValueError(f"{self.manifest}:{number}: sha256 is not a hash: {row.sha256!r}")
                rows.append(row)
        return rows

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

    def body(self, sha256: str) -> bytes:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a content hash: {sha256!r}")
        return (self.objects / sha256).read_bytes()

    # -- writing ------------------------------------------------------------
    def store(self, body: bytes) -> str:
        digest = hashlib.sha256(body).hexdigest()
        path = self.objects / digest
        if not path.exists():  # an unchanged page adds no file
            atomic_write(path, body)
        return digest

    def record(self, row: ManifestRow) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(row), ensure_ascii=False) + "\n"
        with self.manifest.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def forget(self, url: str) -> int:
        """Drop every manifest row of ``url`` (objects stay: others may share them)."""
        rows = self.rows()
        kept = [row for row in rows if row.url != url]
        if len(kept) != len(rows):
            text = "".join(json.dumps(asdict(row), ensure_ascii=False) + "\n" for row in kept)
            atomic_write(self.manifest, text.encode("utf-8"))
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


class ReplayTransport(httpx.BaseTransport):
    """Answers requests from the archive, as the site answered them then.

    A URL the archive never saw answers 404 with ``X-Reposync-Replay: missing``,
    so a missing snapshot fails its source like a missing page would.
    """

    def __init__(self, archive: Archive, as_of_run: int | None = None) -> None:
        self.archive = archive
        self.as_of_run = as_of_run
        self._index: dict[str, ManifestRow] | None = None

    def _lookup(self, url: str) -> ManifestRow | None:
        if self._index is None:
            index: dict[str, ManifestRow] = {}
            for row in self.archive.rows():
                if row.sha256 is None:
                    continue
                if self.as_of_run is not None and row.run is not None and row.run > self.as_of_run:
                    continue
                index[row.url] = row  # later rows win: the newest fetch
            self._index = index
        return self._index.get(url)

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
        headers = {"X-Reposync-Replay": "hit"}
        if row.content_type:
            headers["Content-Type"] = row.content_type
        if row.etag:
            headers["ETag"] = row.etag
        if row.last_modified:
            headers["Last-Modified"] = row.last_modified
        return httpx.Response(row.status, headers=headers, content=self.archive.body(row.sha256), request=request)
