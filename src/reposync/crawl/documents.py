"""The night's report documents (issue 21): fetch each entry's report PDF (or Word file) once, read it, and
date by it the entries whose page gives no date.

- **Which.** Each entry of a source that has documents (``Source.has_documents``: local pages and the
  yearly lists) whose report link ends ``.pdf``, ``.docx`` or ``.doc`` (``settings.DOCUMENT_SUFFIXES``),
  each URL once a night, when ``[documents] fetch`` is on.
- **How.** Through the crawl's own ``Fetcher``: its user agent, robots.txt (a forbidden document is never
  asked for: status ``forbidden``), the pause between two requests to a host, the whole-request deadline,
  the retries, and ``[documents] max_bytes`` as its size cap (``too-big``, the rest never read). A document on
  the source's own site is fetched right after the source's walk by that host's fetcher; one on another host
  only when ``[documents] hosts`` names it, after every walk (``after_walks``, by that host's own worker and
  fetcher: ``crawl/afterwalk.py``), so no host is ever asked by two threads at once. A body that came before is asked for with its validators (ETag, Last-Modified): an
  unchanged night costs a 304 and no body, and a body already read is not read again.
- **Kept.** Every body goes to the snapshot archive like a page (content-addressed, in the manifest), so
  ``--offline``, ``--as-of``, ``snapshots verify`` and ``prune`` cover documents. Offline, a document comes
  from the archive; one the archive does not hold is simply not read (not a failure).
- **Read.** One ``documents.DocumentReader`` for the night (pypdfium2 in a bounded worker process): a bad
  document is a status, never an exception, and the night goes on. Nothing here writes the catalogue: the
  rows go to ``catalogue.documents.record`` in the run's transaction.
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from .. import settings
from ..archive.snapshots import Archive, DamagedSnapshot, utc_now
from ..archive.spool import Spool, Spooler
from ..config import Config, Source, site_of
from ..documents import DocumentReader, Limits
from ..errors import SourceError
from ..models import SourceOutcome
from .fetch import Fetcher, RobotsForbids, TooBig

# Statuses of a read (``documents.STATUSES``) and of a fetch that read nothing.
READ = ("ok", "no-text", "not-a-pdf", "too-big", "encrypted", "error")
DATED = ("ok", "no-text")  # a document whose title page may date its entry


def is_document(url: str | None) -> bool:
    """Whether a report link is a document: its path ends as a PDF or Word file does."""
    if not url:
        return False
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return False
    return path.endswith(settings.DOCUMENT_SUFFIXES)


@dataclass
class Found:
    """What asking for one document gave: a body (``fetched``, with its hash), or why not."""

    url: str
    status: str  # fetched | forbidden | too-big | error | missing (offline: not in the archive)
    sha256: str | None = None
    content_type: str | None = None
    bytes: int = 0
    reason: str | None = None
    fetched_at: str | None = None  # when its body came; None for a 304 (the body it stands for is older)
    final_url: str | None = None  # where its body came from, after redirects within its site


class DocumentStage:
    """One night's documents: ``after_walk`` per source (in its host's thread), ``after_walks`` for each host
    ``waiting`` (in that host's worker), then ``rows`` (for the catalogue) and ``date`` (the entries their
    page leaves undated)."""

    def __init__(self, config: Config, archive: Archive, *, run_id: int, offline: bool,
                 known: dict[str, tuple], read_before: Callable[[str], dict | None], spooler: Spooler) -> None:
        self.config = config
        self.on = config.documents.fetch
        self.archive = archive
        self.run_id = run_id
        self.offline = offline
        self.known = known  # url -> (sha256, status, published_read, precision) of earlier nights
        self.read_before = read_before
        self.spooler = spooler
        self.found: dict[str, Found] = {}
        self.read: dict[str, dict[str, Any]] = {}  # url -> the row read tonight (``rows``)
        self.deferred: list[str] = []  # off-site documents on hosts [documents] hosts names
        self.on_asked: Callable[[str, int, int], None] | None = None  # host, documents asked so far, of how many
        self._lock = threading.Lock()

    # -- which documents ---------------------------------------------------------------------------------
    def _wanted(self, source: Source, outcome: SourceOutcome) -> Iterable[str]:
        seen: set[str] = set()
        for entry in outcome.entries:
            url = entry.get("report_url")
            if is_document(url) and url not in seen:
                seen.add(url)
                yield url

    def after_walk(self, source: Source, outcome: SourceOutcome, fetcher: Fetcher) -> None:
        """Fetch the documents of a source just walked that are on its own site, with its host's fetcher;
        set aside those on hosts ``[documents] hosts`` names. A failed walk's documents wait for a good one."""
        if not self.on or not source.has_documents or outcome.error is not None:
            return
        wanted = list(self._wanted(source, outcome))
        for n, url in enumerate(wanted, 1):
            if self.on_asked is not None:
                self.on_asked(source.site[1], n, len(wanted))
            scheme, host, _port = site_of(url)
            with self._lock:
                if url in self.found:
                    continue
                if (scheme, host, _port) != source.site:
                    if host in self.config.documents.hosts and scheme in ("http", "https"):
                        self.deferred.append(url)
                    continue
                self.found[url] = Found(url, "asking")  # taken: no other thread asks for it
            found = self._fetch(fetcher, url)
            with self._lock:
                self.found[url] = found

    def waiting(self) -> list[str]:
        """Hosts with documents set aside (on hosts ``[documents] hosts`` names), for their own workers."""
        with self._lock:
            return list(dict.fromkeys(site_of(url)[1] for url in self.deferred if url not in self.found))

    def after_walks(self, host: str, fetcher: Fetcher) -> None:
        """Fetch the documents set aside on ``host``, one after another through that host's ``fetcher`` (the
        one that walked it, where one did: its robots.txt rules and its pause hold)."""
        with self._lock:
            urls = [url for url in dict.fromkeys(self.deferred) if site_of(url)[1] == host and url not in self.found]
            for url in urls:
                self.found[url] = Found(url, "asking")
        for n, url in enumerate(urls, 1):
            if self.on_asked is not None:
                self.on_asked(host, n, len(urls))
            found = self._fetch(fetcher, url)
            with self._lock:
                self.found[url] = found

    def _fetch(self, fetcher: Fetcher, url: str) -> Found:
        try:
            page = fetcher.get(url, site_of(url), max_bytes=self.config.documents.max_bytes)
        except RobotsForbids as exc:
            return Found(url, "forbidden", reason=exc.reason)
        except TooBig as exc:
            return Found(url, "too-big", reason=exc.reason)
        except SourceError as exc:
            return Found(url, "missing" if self.offline else "error", reason=exc.reason)
        except Exception as exc:  # a document never takes the night down
            return Found(url, "error", reason=f"{type(exc).__name__}: {exc}")
        return Found(url, "fetched", page.sha256, page.content_type, len(page.body),
                     fetched_at=None if page.not_modified else utc_now(), final_url=page.url)

    def answered(self, url: str) -> tuple[str, str | None] | None:
        """A report link's check from its document, fetched tonight (``linkcheck.check_one``'s status and
        detail): a body came, so the link answers, at the URL the body came from. None when no body came
        (not asked, refused, failed): the link is asked on its own."""
        with self._lock:
            found = self.found.get(url)
        if found is None or found.status != "fetched":
            return None
        return ("ok", None) if found.final_url in (None, url) else ("moved", found.final_url)

    # -- reading ---------------------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """The ``documents`` rows of the night: each document read once (a body read before, at this URL or
        another, is not read again), each failure with its reason; nothing for one missing offline."""
        rows: list[dict[str, Any]] = []
        reader: DocumentReader | None = None
        now = utc_now()
        try:
            for found in self.found.values():
                if found.status == "missing" or found.status == "asking":
                    continue
                if found.status != "fetched":
                    rows.append({"url": found.url, "status": found.status, "reason": found.reason,
                                 "checked_at": now, "fetched_at": found.fetched_at})
                    continue
                prior = self.known.get(found.url)
                if prior is not None and prior[0] == found.sha256 and prior[1] in READ:
                    rows.append({"url": found.url, "unchanged": True, "checked_at": now})
                    continue
                row = self.read_before(found.sha256)
                if row is None:
                    if reader is None:
                        reader = DocumentReader(Limits(max_bytes=self.config.documents.max_bytes))
                    row = self._read(reader, found)
                row = dict(row, url=found.url, checked_at=now, content_type=found.content_type,
                           fetched_at=found.fetched_at or now)
                rows.append(row)
        finally:
            if reader is not None:
                reader.close()
        self.read = {row["url"]: row for row in rows if not row.get("unchanged")}
        return rows

    def _read(self, reader: DocumentReader, found: Found) -> dict[str, Any]:
        try:
            body = self.archive.body(found.sha256)
        except (DamagedSnapshot, ValueError) as exc:
            return {"sha256": found.sha256, "bytes": found.bytes, "status": "error", "reason": str(exc)}
        read = reader.read(body, found.content_type)
        del body
        return {"sha256": read.sha256 or found.sha256, "bytes": read.bytes, "kind": read.kind, "pages": read.pages,
                "text": read.text, "title_read": read.title_read, "review_type_read": read.review_type_read,
                "pseudonym_read": read.pseudonym_read, "partnership_read": read.partnership_read,
                "published_read": read.published_read, "published_precision": read.published_precision,
                "status": read.status, "reason": read.reason}

    # -- dating entries ------------------------------------------------------------------------------------
    def date(self, outcomes: list[SourceOutcome]) -> None:
        """An entry whose page gives no date takes its document's (read tonight or on an earlier night), marked
        ``published_from = "document"``; its spool is rewritten only when one of its entries is dated."""
        dates = {url: (published, precision) for url, (_sha, status, published, precision) in self.known.items()
                 if published and status in DATED}
        for url, row in self.read.items():
            if row.get("status") in DATED and row.get("published_read"):
                dates[url] = (row["published_read"], row["published_precision"])
            else:
                dates.pop(url, None)
        if not dates:
            return
        for outcome in outcomes:
            if outcome.error is not None or not any(
                    not e.get("published") and e.get("report_url") in dates for e in outcome.entries):
                continue
            rows = (dated(e, *dates[e["report_url"]]) if not e.get("published") and e.get("report_url") in dates
                    else e for e in outcome.entries)
            old, outcome.entries = outcome.entries, self.spooler.spool(rows)
            if isinstance(outcome.entries, Spool):
                outcome.entries.flush()
            if isinstance(old, Spool):
                old.close()


def dated(entry: dict[str, Any], published: str, precision: str) -> dict[str, Any]:
    """The entry with its document's date, as an interval at its precision."""
    try:
        year = int(published[:4])
        if precision == "year":
            start, end = date(year, 1, 1), date(year, 12, 31)
        elif precision == "month":
            month = int(published[5:7])
            start, end = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        else:
            start = end = date.fromisoformat(published)
    except ValueError:
        return entry
    return dict(entry, published=published, published_precision=precision, published_start=start.isoformat(),
                published_end=end.isoformat(), published_year=start.year, published_from="document")
