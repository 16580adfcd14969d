"""Report links asked host by host: each host's links through that host's worker and ``Fetcher``, hosts at once.

A report-link check is a request to the link's host, owed what its pages are owed: the host's pause (``[crawl]
delay``, or its robots.txt Crawl-delay when longer), its robots.txt, the whole-request deadline. So links are
queued by the host they are asked of, and each host's are asked by one worker with that host's ``Fetcher``, up
to ``max_hosts`` hosts at once (``hosts.each_host``): a check takes about as long as the host with the most
links, not one link at a time across every host.

In a sync, a source's due links are queued as soon as its walk ends (``release``: the links its walk found,
and those the catalogue lists), and a host's worker asks its own right after walking it, with the ``Fetcher``
that walked it: the pause after its last page holds before its first link. Links whose host's worker had
already finished (a national list's links into the library), or whose host has no source, are asked in a
second round (``ask_rest``), each host again through its own ``Fetcher``. The verdicts wait in memory and are
written after the run's apply (``record``): an entry the walk found is in the catalogue only then.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime, timezone
from queue import Empty, SimpleQueue

import httpx
import sqlite_utils

from ..archive.snapshots import utc_now
from ..archive.spool import Spool
from ..config import Config, Source, site_of
from ..models import SourceOutcome
from . import hosts, linkcheck
from .deadline import Deadline
from .fetch import Fetcher, make_client
from .linkcheck import Link, Verdict

Progress = Callable[[str], None]
FetcherFor = Callable[[str], Fetcher]


def host_of(link: Link) -> str:
    """The host a link is paced by: its URL's host name."""
    return site_of(link.url)[1] or ""


class HostLinks:
    """The report links a run asks, queued by host, and what each check found. Safe to share between the
    hosts' threads; one thread asks a host at a time."""

    def __init__(self, config: Config, *, days: int = 0, known: dict[str, dict[str, Link]] | None = None,
                 now: datetime | None = None) -> None:
        self.config = config
        self.days = days  # a link is asked every ``days`` days on its own day (``linkcheck.is_due``)
        self.now = now or datetime.now(timezone.utc)
        self._known = known or {}  # source id -> entry id -> its listed link and last check, as the catalogue says
        self._queues: dict[str, list[Link]] = {}
        self._lock = threading.Lock()
        self.verdicts: list[Verdict] = []
        self.not_due = 0
        self.on_verdict: Callable[[Verdict], None] | None = None
        # A link's check already answered tonight (its document fetched, ``DocumentStage.answered``): not asked again.
        self.answered: Callable[[str], tuple[str, str | None] | None] | None = None
        self.on_asked: Callable[[str, int, int], None] | None = None  # host, links asked so far, of how many

    @classmethod
    def for_sync(cls, db: sqlite_utils.Database, config: Config, sources: Iterable[Source], days: int,
                 now: datetime | None = None) -> HostLinks:
        """A sync's: the catalogue's listed links of ``sources`` with their last checks, read before the walk
        (the catalogue's connection stays in the sync's thread)."""
        known: dict[str, dict[str, Link]] = {}
        for link in linkcheck.due(db, [s.id for s in sources]):
            known.setdefault(link.source, {})[link.entry_id] = link
        return cls(config, days=days, known=known, now=now)

    # -- what is asked ---------------------------------------------------------------------------------------
    def release(self, source: str, outcome: SourceOutcome) -> None:
        """Queue the due links of ``source`` once its walk has ended: those of the entries it found (at the URL
        found), and, where the walk did not see the whole listing, the catalogue's others (they stay listed)."""
        known = self._known.get(source, {})
        candidates: dict[str, Link] = {}
        if outcome.error is not None:  # a failed walk changes nothing: its entries stay as listed
            candidates = dict(known)
        else:
            entries = outcome.entries  # a Spool shares the run's temporary database with the other walks
            with entries.lock if isinstance(entries, Spool) else contextlib.nullcontext():
                found = [(row["id"], row.get("report_url")) for row in entries]
            for entry_id, url in found:
                if url:
                    before = known.get(entry_id)
                    candidates[entry_id] = Link(entry_id, source, url) if before is None else replace(before, url=url)
            if not outcome.complete:  # an incremental walk: what it did not reach stays listed
                candidates = {**known, **candidates}
        due = [link for link in candidates.values() if linkcheck.is_due(link, self.days, self.now)]
        with self._lock:
            self.not_due += len(candidates) - len(due)
        self.add(due)

    def add(self, links: Iterable[Link]) -> None:
        """Queue links by host; one never asked wherever it is (off-site, not a web link) has its verdict now."""
        refused = []
        with self._lock:
            for link in links:
                why = linkcheck.not_asked(self.config, link)
                if why is None:
                    self._queues.setdefault(host_of(link), []).append(link)
                else:
                    refused.append(Verdict(link, "not-checked", why, utc_now()))
        for verdict in refused:
            self._found(verdict)

    def waiting(self) -> list[str]:
        """Hosts with links queued, the most first (the longest bounds the check: start it at once)."""
        with self._lock:
            return sorted((host for host, todo in self._queues.items() if todo), key=lambda h: -len(self._queues[h]))

    def __len__(self) -> int:
        with self._lock:
            return sum(len(todo) for todo in self._queues.values())

    # -- asking ---------------------------------------------------------------------------------------------
    def ask(self, host: str, fetcher: Fetcher, stop: threading.Event) -> None:
        """Ask ``host``'s queued links, one after another through its ``fetcher``, until none is left."""
        while True:
            with self._lock:
                todo = self._queues.pop(host, [])
            if not todo:
                return
            for n, link in enumerate(todo):
                if self.on_asked is not None:
                    self.on_asked(host, n + 1, len(todo))
                if stop.is_set():
                    with self._lock:  # not asked: back in the queue, for what records the rest
                        self._queues.setdefault(host, [])[:0] = todo[n:]
                    raise hosts.Stopped("the check is stopping")
                known = self.answered(link.url) if self.answered is not None else None
                try:
                    status, detail = known or linkcheck.check_one(fetcher, self.config, link)
                except hosts.Stopped:
                    raise
                except Exception as exc:  # a bug on a hostile answer must not take the night's walk down with it
                    status, detail = "not-checked", f"the check failed: {type(exc).__name__}: {exc}"
                self._found(Verdict(link, status, detail, utc_now()))

    def ask_rest(self, fetcher_for: FetcherFor, max_hosts: int, stop: threading.Event) -> None:
        """Ask every host's queued links, ``max_hosts`` hosts at once, each through ``fetcher_for(host)``."""
        hosts.each_host(self.waiting(), lambda host: self.ask(host, fetcher_for(host), stop),
                        max_hosts=max_hosts, stop=stop)

    def _found(self, verdict: Verdict) -> None:
        with self._lock:
            self.verdicts.append(verdict)
        if self.on_verdict is not None:
            self.on_verdict(verdict)

    # -- writing ----------------------------------------------------------------------------------------------
    def record(self, db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
        """A sync's verdicts written after its apply, ``linkcheck.RECORD_BATCH`` a transaction, with the run's
        ``report_links`` summary; returns the run's link changes by kind."""
        counts: dict[str, int] = {}
        # in the order of the entries, whatever order the hosts answered in: a run's changes do not depend on it
        verdicts = as_listed(db, sorted(self.verdicts, key=lambda v: (v.link.source, v.link.entry_id)))
        for start in range(0, len(verdicts), linkcheck.RECORD_BATCH):
            counts = linkcheck.record(db, run_id, verdicts[start:start + linkcheck.RECORD_BATCH])
        linkcheck.record_summary(db, run_id, linkcheck.summary(self.verdicts, self.not_due))
        return counts


def as_listed(db: sqlite_utils.Database, verdicts: list[Verdict]) -> list[Verdict]:
    """The verdicts whose entry is listed now with the link that was asked, each with what the catalogue last
    said of its link (a change is told against that): a verdict reached during the walk is written after it."""
    current: dict[str, tuple] = {}
    ids = [verdict.link.entry_id for verdict in verdicts]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        current.update((row[0], row[1:]) for row in db.execute(
            f"SELECT id, report_url, link_status, link_detail FROM entries WHERE status = 'listed' "
            f"AND id IN ({', '.join('?' for _ in chunk)})", chunk).fetchall())
    kept = []
    for verdict in verdicts:
        row = current.get(verdict.link.entry_id)
        if row is not None and row[0] == verdict.link.url:
            kept.append(replace(verdict, link=replace(verdict.link, status=row[1], detail=row[2])))
    return kept


class _Writer:
    """Verdicts written as they come from the hosts' threads, ``linkcheck.RECORD_BATCH`` a transaction."""

    def __init__(self, db: sqlite_utils.Database, run_id: int, total: int, progress: Progress | None) -> None:
        self.db, self.run_id, self.total, self.progress = db, run_id, total, progress
        self.found: SimpleQueue[Verdict] = SimpleQueue()
        self.held: list[Verdict] = []
        self.written: list[Verdict] = []

    def write(self, everything: bool = False) -> None:
        """Whole batches, or (``everything``) all found so far."""
        while True:
            try:
                self.held.append(self.found.get_nowait())
            except Empty:
                break
        while len(self.held) >= linkcheck.RECORD_BATCH or (everything and self.held):
            batch, self.held = self.held[:linkcheck.RECORD_BATCH], self.held[linkcheck.RECORD_BATCH:]
            linkcheck.record(self.db, self.run_id, batch)
            self.written += batch
            if self.progress:
                self.progress(f"links: {len(self.written)} of {self.total} done (recorded)")


def check_and_record(db: sqlite_utils.Database, run_id: int, config: Config, links: list[Link], *,
                     not_due: int = 0, max_hosts: int | None = None,
                     progress: Progress | None = None) -> tuple[list[Verdict], int]:
    """``reposync links check``: the links asked by host, ``max_hosts`` hosts at once, each through a ``Fetcher``
    of its own; verdicts written ``linkcheck.RECORD_BATCH`` at a time as they come, and all found so far when
    the check stops (a timeout of its unit, Ctrl-C), so a stopped check keeps what it found. Returns the
    verdicts and the requests made."""
    crawl = config.crawl
    max_hosts = crawl.max_hosts if max_hosts is None else max_hosts
    writer = _Writer(db, run_id, len(links), progress)
    queue = HostLinks(config)
    queue.on_verdict = writer.found.put
    queue.add(links)
    stop = threading.Event()
    fetchers: list[Fetcher] = []
    deadline = Deadline()
    limits = httpx.Limits(max_connections=max_hosts, max_keepalive_connections=max_hosts)
    with make_client(crawl, deadline=deadline, limits=limits) as client:

        def fetcher_for(host: str) -> Fetcher:
            fetcher = Fetcher(crawl, client=client, deadline=deadline, sleep=hosts.stoppable_sleep(stop))
            fetchers.append(fetcher)
            return fetcher

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reposync-links") as runner:
            asking = runner.submit(queue.ask_rest, fetcher_for, max_hosts, stop)
            try:
                while True:
                    done = asking.done()  # read before the queue is emptied: nothing comes once it is done
                    writer.write(everything=done)
                    if done:
                        break
                    wait([asking], timeout=0.25)
            except BaseException:
                stop.set()  # each host stops at its next link or pause; what was found is still written
                wait([asking])
                writer.write(everything=True)
                raise
        asking.result()  # a host's failure, raised once what was found is written
    linkcheck.record_summary(db, run_id, linkcheck.summary(writer.written, not_due))
    return writer.written, sum(f.requests for f in fetchers)
