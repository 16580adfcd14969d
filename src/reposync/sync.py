"""One sync: walk every source, normalise, then apply the whole run to the catalogue at once.

Data flows one way: fetch -> parse -> normalise (per source, nothing written;
the rows wait in a ``Spool``), then ``catalogue.apply_run`` writes everything in
one transaction. A source that fails at any step contributes an error, never a
partial set of entries.

A live sync walks the library catalogue incrementally on most nights (it stops
at a run of known, unchanged records, and marks nothing it did not visit) and in
full every ``crawl.full_walk_days``; see ``walk_source`` and ``full_walk_due``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import sqlite_utils

from . import catalogue, settings
from .catalogue import decisions
from .crawl import hosts, linkcheck
from .reports import night as report
from .catalogue import SourceOutcome
from .config import Config, Source, site_of
from .crawl.deadline import Deadline
from .errors import (EXIT_DATA, EXIT_OK, CatalogueUnreadable, ConfigError, LockHeld, NeedsPerson, SourceError,
                     WalkCutShort)
from .crawl.fetch import Fetcher, Page, make_client
from .models import ParseResult
from .normalise.entries import normalise, unique_ids
from .parsers import parser_for
from .archive.snapshots import Archive, ReadOnlyArchive, ReplayTransport, archive_lock, url_key
from .archive.spool import Spool, Spooler

Progress = Callable[[str], None]


def departure_kind(source: Source) -> str:
    """What it means when an entry leaves this source's pages."""
    if source.kind == "local":
        return "expired"  # local pages take reports down after a year
    if source.parser == "nspcc-rolling":
        return "rolled-off"
    return "delisted"


@contextmanager
def sync_lock(db_path: Path) -> Iterator[None]:
    """One sync at a time per catalogue: a lock file the kernel frees if we die."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another sync holds {lock_path}; try again later") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


@contextmanager
def dry_run_copy(db_path: Path) -> Iterator[Path]:
    """Where a dry run applies its run: a copy of the catalogue (or a new one when there is none) in a temporary
    folder, removed after. The catalogue itself is only read: never created, migrated or written."""
    with tempfile.TemporaryDirectory(prefix="reposync-dry-run-") as folder:
        copy = Path(folder) / db_path.name
        if db_path.exists():
            try:
                with contextlib.closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True,
                                                        timeout=settings.BUSY_TIMEOUT_MS / 1000)) as source, \
                        contextlib.closing(sqlite3.connect(copy)) as target:
                    source.backup(target)  # a consistent copy, even while a sync writes
            except sqlite3.OperationalError:
                raise  # busy or locked: not damage
            except sqlite3.DatabaseError as exc:
                raise CatalogueUnreadable(db_path, str(exc)) from None
        yield copy


@functools.cache
def parsing_code() -> str:
    """A fingerprint of the parsing code: a parse stored by other code is never reused."""
    from . import models, parsers

    digest = hashlib.sha256()
    root = Path(parsers.__file__).parent
    for path in sorted(root.rglob("*.py")) + [Path(models.__file__)]:  # rglob: parsers/ may hold packages
        digest.update(path.relative_to(root.parent).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def parse_page(page: Page, source: Source, archive: Archive | None) -> ParseResult:
    """Parse a page, or reuse the stored parse of the same body at the same URL (a 304 costs no parse).

    Only a live crawl keeps parses (``archive`` is None offline, so replaying
    never writes into the archive it reads).
    """
    key = f"{parsing_code()}:{source.entry_selector}:{source.date_pattern}"
    if archive is not None and page.sha256:
        stored = archive.load_parse(page.sha256, source.parser, page.url, key)
        if stored is not None:
            try:
                return ParseResult.from_dict(stored)
            except (KeyError, TypeError, ValueError):
                pass  # a parse that does not fit the records any more: parse again
    result = parser_for(source)(page.text, page.url)
    if archive is not None and page.sha256:
        # result.to_dict() as it would be, without dataclasses.asdict's deep copy of every string
        # (a fifth of a page's time on a loopback crawl): json.dumps only reads the values.
        stored_result = {"entries": [dict(vars(entry)) for entry in result.entries], "next_url": result.next_url,
                         "meta": result.meta, "layout": result.layout, "skipped": result.skipped}
        archive.save_parse(page.sha256, source.parser, page.url, key, stored_result)
    return result


# Sources walked incrementally on most nights: a chain of one-record pages that
# sorts newest first (checked on every walk, see ``walk_source``).
INCREMENTAL_PARSERS = frozenset({"nspcc-library"})
# Look up the stored content hash of a listed entry by id (None: not known, or not listed).
StoredHash = Callable[[str], "str | None"]


# Told after each page of a walk: pages so far, entries so far, and the page's meta (the parser's notes).
OnPage = Callable[[int, int, dict], None]


def walk_source(source: Source, fetcher: Fetcher, config: Config, progress: Progress | None = None, *,
                stored: StoredHash | None = None, spooler: Spooler | None = None,
                on_page: OnPage | None = None) -> SourceOutcome:
    """Fetch and parse every page of one source, following its next links within its site.

    Entries go to a ``Spool`` (of the run's ``spooler``) as pages come: a long
    catalogue is not held in memory.
    Along the walk the publication years are checked to be non-increasing
    (``newest_first``), which is what lets a later walk be incremental.

    With ``stored`` the walk is incremental: once ``settings.INCREMENTAL_KNOWN_RUN``
    entries in a row are known and unchanged (their content hash is the stored
    one of a listed entry), it stops, and the outcome is not complete, so it marks
    nothing it did not visit. If the records turn out not to be newest first it
    does not stop early: it walks on to the end, as a full walk. A walk that
    reaches the end is complete, whichever way it started.

    Where the pages say how long the listing is (the library's "Record 12 of
    1466"), the end is that record: a walk that runs out of next links before
    it, or meets a next link off the site, is cut short (``WalkCutShort``, 75)
    and is not complete. Where they say nothing, the last page is the end, and
    ``guard_layout`` judges a short walk.
    """
    outcome = SourceOutcome(source=source.id, departure=departure_kind(source))
    url: str | None = source.url
    visited: set[bytes] = set()
    entries = (spooler or Spooler()).spool()
    newest_first, oldest_year = True, None  # publication years so far non-increasing; the last year seen
    known_run = 0  # entries in a row, up to here, that are known and unchanged
    ids: set[str] = set()  # the walk's list-entry ids so far: no two entries share one (normalise.unique_ids)
    layouts: set[str] = set()  # the pages' layout fingerprints (how their entries are laid out)
    position: tuple[int, int] | None = None  # the last page's "record N of M", when it gives one
    total: int | None = None  # the listing's length as its pages last declared it
    off_site: str | None = None  # a next link that left the site, where the walk had to stop
    last_url = source.url  # the page the walk last read
    try:
        while url is not None:
            key = url_key(url)  # 16 bytes, not a 300-character URL, for each of 150,000 pages
            if key in visited:
                raise NeedsPerson(url, "the next-page links loop")
            if len(visited) >= settings.MAX_PAGES_PER_SOURCE:
                raise NeedsPerson(url, f"more than {settings.MAX_PAGES_PER_SOURCE} pages")
            visited.add(key)
            page = fetcher.get(url, source.site)
            last_url = page.url
            result = parse_page(page, source, fetcher.archive)
            outcome.pages += 1
            if result.layout is not None:
                layouts.add(result.layout)
            rows = unique_ids([normalise(raw, source, config.areas) for raw in result.entries], ids)
            for entry in rows:
                entries.append(entry)
                year = entry.get("published_year")
                if year is not None:
                    if oldest_year is not None and year > oldest_year:
                        newest_first = False
                    oldest_year = year
                if stored is not None:
                    unchanged = stored(entry["id"]) == catalogue.content_hash(entry)
                    known_run = known_run + 1 if unchanged else 0
            position = _position(result.meta)
            total = position[1] if position else total
            if on_page:
                on_page(outcome.pages, len(entries), result.meta)
            if progress and outcome.pages % 50 == 0:
                progress(f"{source.id}: {outcome.pages} pages, {len(entries)} entries")
            url = result.next_url
            if url is not None and site_of(url) != source.site:
                off_site, url = url, None  # never fetched: the walk stops short of what follows it
            if (url is not None and stored is not None and newest_first
                    and known_run >= settings.INCREMENTAL_KNOWN_RUN):
                outcome.walk = "incremental"
                break
        if outcome.walk == "full":
            stopped = cut_short(position, total, outcome.pages, off_site)
            if stopped is not None:
                raise WalkCutShort(last_url, stopped)
    except SourceError as exc:
        outcome.cut_short = isinstance(exc, WalkCutShort)
        entries.close()
        outcome.error, outcome.error_url, outcome.exit_code = exc.reason, exc.url, exc.exit_code
        return outcome
    except Exception as exc:  # a parser bug on hostile input must not take the other sources down
        entries.close()
        outcome.error, outcome.error_url, outcome.exit_code = f"{type(exc).__name__}: {exc}", url, EXIT_DATA
        return outcome
    entries.flush()
    outcome.entries = entries
    outcome.newest_first = newest_first
    outcome.complete = outcome.walk == "full"
    outcome.layout = walk_layout(layouts)
    return outcome


def _position(meta: dict) -> tuple[int, int] | None:
    """Where a page stands in its listing, when it says so: the library's "Record 12 of 1466"."""
    try:
        return int(meta["record"]), int(meta["of"])
    except (KeyError, TypeError, ValueError):
        return None


def cut_short(position: tuple[int, int] | None, total: int | None, pages: int, off_site: str | None) -> str | None:
    """Why a walk that ended did not reach the end its listing declares; None when it did, or none is declared.

    A next link off the site always cuts a walk short: there was more to walk.
    """
    if position is not None:
        where = f"record {position[0]} of {position[1]}"
    elif total is not None:  # the last page gave no record number; an earlier one declared the length
        where = f"page {pages} (no record number on it) of a listing of {total} records"
    else:
        where = f"page {pages}"
    if off_site is not None:
        return f"walk stopped at {where}: its next link points off the site ({off_site})"
    if total is not None and (position is None or position[0] < position[1]):
        return f"walk stopped at {where}: no next link"
    return None


def walk_layout(layouts: set[str]) -> str | None:
    """One fingerprint for a walk: its pages' (a library walk's thousands of pages share one or two)."""
    if len(layouts) <= 1:
        return next(iter(layouts), None)
    return hashlib.sha256("\n".join(sorted(layouts)).encode()).hexdigest()[:16]


def full_walk_due(db: sqlite_utils.Database, source: Source, days: int, today: date | None = None) -> bool:
    """Whether a source that may walk incrementally must walk in full this time.

    Yes when no complete walk of it is on record, when the last one did not find
    the records newest first, or when it started ``days`` or more calendar days
    (UTC) ago.
    """
    last = catalogue.last_complete_walk(db, source.id)
    if last is None or not last.get("newest_first"):
        return True
    started = datetime.fromisoformat(last["started_at"]).astimezone(timezone.utc).date()
    today = today or datetime.now(timezone.utc).date()
    return (today - started).days >= days


def escalate_cut_short(outcome: SourceOutcome, nights_before: int) -> SourceOutcome:
    """A walk cut short is 75, worth another night; on ``settings.CUT_SHORT_NIGHTS_TO_PERSON`` walks of the
    source in a row (``nights_before`` of them before this one) it is 65: a person looks at the site."""
    in_a_row = settings.CUT_SHORT_NIGHTS_TO_PERSON
    if not outcome.cut_short or nights_before + 1 < in_a_row:
        return outcome
    return replace(outcome, exit_code=EXIT_DATA,
                   error=f"{outcome.error} (the last {in_a_row} walks in a row were cut short: look at the site)")


def guard_layout(outcome: SourceOutcome, previous: int) -> SourceOutcome:
    """A walk that finds far fewer entries than last time is a changed layout, not removals."""
    if outcome.error is not None or previous == 0 or outcome.walk == "incremental":
        return outcome  # an incremental walk stops early by design: its few entries say nothing
    found = len(outcome.entries)
    if found < previous * settings.GUARD_MIN_SHARE:
        if isinstance(outcome.entries, Spool):
            outcome.entries.close()
        return replace(
            outcome,
            entries=[],
            complete=False,
            error=(f"layout guard: {found} entries where the last good walk had {previous}; "
                   "nothing was changed"),
            error_url=None,
            exit_code=EXIT_DATA,
        )
    return outcome


@dataclass
class SyncResult:
    run_id: int
    outcomes: list[SourceOutcome]
    counts: dict[str, int]
    exit_code: int
    db_path: Path
    reviews: int
    links: int
    requests: int
    bytes: int
    dry_run: bool
    report: dict


def summary_text(result: SyncResult) -> str:
    """The short summary a sync prints: entries per source, reviews, links, where the catalogue is; failures first.

    It lives here, not in ``report``, so imports run one way: sync -> report.
    """
    lines = []
    for outcome in result.outcomes:
        if outcome.error is not None:
            where = f" ({outcome.error_url})" if outcome.error_url else ""
            lines.append(f"FAILED {outcome.source}: {outcome.error}{where}")
        elif outcome.held:
            lines.append(f"HELD {outcome.source}: the page's layout changed; {outcome.held} entries would have "
                         f"{outcome.departure} and are still listed. Look at the page (`reposync sources check "
                         f"{outcome.source}`), then `reposync sources accept-layout {outcome.source}`.")
    head = "dry run" if result.dry_run else f"run {result.run_id}"
    changes = ", ".join(f"{result.counts[k]} {k}" for k in report.KINDS if result.counts.get(k)) or "no changes"
    lines.append(f"reposync {head}: {changes}")
    width = max((len(o.source) for o in result.outcomes), default=0)
    for outcome in result.outcomes:
        state = "failed" if outcome.error else f"{len(outcome.entries)} entries, {outcome.pages} pages"
        lines.append(f"  {outcome.source:<{width}}  {state}")
    lines.append(f"reviews: {result.reviews}  links: {result.links}")
    lines.append(f"catalogue: {result.db_path}")
    return "\n".join(lines)


def expected_pages(db: sqlite_utils.Database, source: Source) -> int:
    """Pages a walk of ``source`` is expected to take: its last walk's, else a default by parser."""
    last = catalogue.last_pages(db, source.id)
    if last:
        return last
    return settings.EXPECTED_PAGES.get(source.parser, settings.EXPECTED_PAGES_DEFAULT)


def _page_total(meta: dict) -> int | None:
    """How many pages the source has, when a page says so (the library's "record 12 of 1466")."""
    try:
        return int(meta["of"]) if "of" in meta else None
    except (TypeError, ValueError):
        return None


class _Lines(hosts.Watcher):
    """--verbose: a line as each source starts, and each host ends (the walk adds one every 50 pages)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def source_started(self, plan: hosts.HostPlan, source: Source) -> None:
        self.progress(f"{source.id}: {source.url}")

    def host_finished(self, plan: hosts.HostPlan) -> None:
        if len(plan.sources) > 1:
            self.progress(f"{plan.host}: done ({len(plan.sources)} sources)")


def _check_as_of(as_of: int, archive: Archive, db_path: Path) -> None:
    """``--as-of N`` names a run that has happened: one the archive's pages or the catalogue know. A later N
    would silently replay the newest pages, as if a run that never was had seen them."""
    newest = max((row.run for _, row in archive.scan() if row.run is not None), default=0)
    if db_path.exists():
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
            try:
                newest = max(newest, db.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0])
            except sqlite3.OperationalError:  # not a catalogue yet: open_db says so, or makes it
                pass
    if as_of > newest:
        known = f"the newest run is {newest}" if newest else "no run has fetched anything yet"
        raise ConfigError(archive.root, None, f"--as-of {as_of}: there is no such run ({known})")


def run_sync(
    config: Config,
    *,
    offline: bool = False,
    as_of: int | None = None,
    source_ids: tuple[str, ...] = (),
    delay: float | None = None,
    dry_run: bool = False,
    db_path: Path | None = None,
    snapshots_path: Path | None = None,
    progress: Progress | None = None,
    watcher: hosts.Watcher | None = None,
    max_hosts: int | None = None,
    on_commit: Callable[[int, dict], None] | None = None,
) -> SyncResult:
    """One sync: walk the sources host by host (``hosts.walk_hosts``), then apply the run in one transaction.

    ``max_hosts`` overrides ``[crawl] max_hosts`` (1: one host at a time, a sequential sync).
    ``on_commit(run_id, report)`` is told as soon as the run has landed, before the work after it (the
    decisions export, the link check) that may still fail: the caller writes the run's report there.
    A dry run takes no lock, applies the run to a copy of the catalogue (``dry_run_copy``) and archives no
    page (``ReadOnlyArchive``): nothing a later run could take for its own is left behind.
    """
    sources = config.select(source_ids)
    db_path = db_path or config.paths.db
    archive = Archive(snapshots_path or config.paths.snapshots)
    crawl = config.crawl if delay is None else replace(config.crawl, delay=delay)
    max_hosts = crawl.max_hosts if max_hosts is None else max_hosts
    people = decisions.load(config.paths.decisions)  # a malformed file stops the run before any fetch
    if offline and as_of is not None:
        _check_as_of(as_of, archive, db_path)
    watch = hosts.Watchers(watcher, _Lines(progress) if progress else None)
    catalogue_lock = contextlib.nullcontext() if dry_run else sync_lock(db_path)
    work = dry_run_copy(db_path) if dry_run else contextlib.nullcontext(db_path)
    # Shared: other syncs may append to the same archive; `snapshots prune` takes it exclusive.
    pages_lock = archive_lock(archive.root, exclusive=False, create=not dry_run)
    fetch_archive = None if offline else ReadOnlyArchive(archive.root) if dry_run else archive
    with catalogue_lock, work as work_path, pages_lock:
        db = catalogue.open_db(work_path)
        try:
            if dry_run:
                run_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM runs").fetchone()[0]
            else:
                run_id = catalogue.start_run(db, "offline" if offline else "live")
            # What each walk needs from the catalogue, read here: its connection stays in this thread.
            incremental = {s.id for s in sources  # offline walks are free: always in full
                           if not offline and s.parser in INCREMENTAL_PARSERS
                           and not full_walk_due(db, s, crawl.full_walk_days)}
            previous = {s.id: catalogue.listed_count(db, s.id) for s in sources}
            in_a_row = settings.CUT_SHORT_NIGHTS_TO_PERSON - 1  # walks before this one that make it 65
            cut_short_before = {s.id: catalogue.nights_cut_short(db, s.id, in_a_row) for s in sources}
            plans = hosts.plan_hosts(sources, functools.partial(expected_pages, db))
            transport: httpx.BaseTransport | None = ReplayTransport(archive, as_of) if offline else None
            archive.defer_sync()  # a live walk's pages are synced to disk once, before the apply
            spooler = Spooler()  # the run's rows until the apply; freed with the outcomes
            stop = threading.Event()
            fetchers: list[Fetcher] = []
            lock = threading.Lock()

            def walk_one(plan: hosts.HostPlan, source: Source, fetcher: Fetcher) -> SourceOutcome:
                full = source.id not in incremental

                def on_page(pages: int, entries: int, meta: dict) -> None:
                    watch.page(plan, source, pages, entries, _page_total(meta) if full else None)

                reader = None if full else sqlite3.connect(work_path, timeout=settings.BUSY_TIMEOUT_MS / 1000)
                try:  # an incremental walk looks up stored hashes on a connection of its own thread
                    stored = None if reader is None else functools.partial(catalogue.stored_hash, reader)
                    outcome = walk_source(source, fetcher, config, progress, stored=stored, spooler=spooler,
                                          on_page=on_page)
                finally:
                    if reader is not None:
                        reader.close()
                return guard_layout(escalate_cut_short(outcome, cut_short_before[source.id]), previous[source.id])

            def walk_host(plan: hosts.HostPlan) -> list[SourceOutcome]:
                watch.host_started(plan)
                fetcher = Fetcher(crawl, archive=fetch_archive, run_id=run_id, offline=offline,
                                  client=client, deadline=deadline, sleep=hosts.stoppable_sleep(stop))
                with lock:
                    fetchers.append(fetcher)
                outcomes = []
                for source in plan.sources:
                    if stop.is_set():
                        raise hosts.Stopped("the sync is stopping")
                    watch.source_started(plan, source)
                    outcome = walk_one(plan, source, fetcher)
                    watch.source_finished(plan, outcome)
                    outcomes.append(outcome)
                watch.host_finished(plan)
                return outcomes

            # One client for every host; its connection limit is the cap on hosts at once. The whole-request
            # deadline it reads is kept per thread: one for all.
            limits = httpx.Limits(max_connections=max_hosts, max_keepalive_connections=max_hosts)
            deadline = Deadline()
            with make_client(crawl, transport=transport, deadline=deadline, limits=limits) as client:
                watch.planned(plans, max_hosts)
                by_source = hosts.walk_hosts(plans, walk_host, max_hosts=max_hosts, stop=stop)
            outcomes = [by_source[s.id] for s in sources]  # the config's order, whatever order hosts ended in
            watch.walked()
            archive.sync()  # what the catalogue will point at is on disk before it commits
            exit_code = max([o.exit_code for o in outcomes] + [EXIT_OK])
            result = catalogue.apply_run(db, run_id, outcomes, exit_code=exit_code, dry_run=dry_run,
                                         mode="offline" if offline else "live", inspect=report.build,
                                         decisions=people)
            exit_code = result.exit_code  # a walk whose departures were held needs a person (65)
            if not dry_run and on_commit is not None:
                on_commit(run_id, result.inspected)  # the run has landed: its report first, whatever fails next
            if not dry_run:  # the catalogue's decisions (Datasette's too) reach the file a rebuild reads
                decisions.export(db, config.paths.decisions)
            link_requests = 0
            if not dry_run and not offline and crawl.check_links_days:  # report links due a check, same run
                with Fetcher(crawl) as walked:  # where every host's walk stopped: robots.txt, pauses, reachability
                    for fetcher in fetchers:
                        walked.carry_over(fetcher)
                    link_counts, link_requests = linkcheck.scheduled(db, config, crawl, [s.id for s in sources],
                                                                     run_id, walked, progress)
                if link_counts:
                    result.counts.update(link_counts)
                    result.inspected = report.build(db, run_id)
            reviews = db.execute("SELECT count(*) FROM reviews").fetchone()[0]
            links = db.execute("SELECT count(*) FROM links").fetchone()[0]
        finally:
            db.close()
    return SyncResult(
        run_id=run_id,
        outcomes=outcomes,
        counts=result.counts,
        exit_code=exit_code,
        db_path=db_path,
        reviews=reviews,
        links=links,
        requests=sum(f.requests for f in fetchers) + link_requests,
        bytes=sum(f.bytes for f in fetchers),
        dry_run=dry_run,
        report=result.inspected,
    )
