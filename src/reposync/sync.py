"""One sync: walk every source, normalise, then apply the whole run to the catalogue at once.

Data flows one way: fetch -> parse -> normalise (per source, nothing written;
the rows wait in a ``Spool``), then ``catalogue.apply_run`` writes everything in
one transaction. A source that fails at any step contributes an error, never a
partial set of entries.

A live sync walks the library catalogue incrementally on most nights (it stops
at a run of known, unchanged records, and marks nothing it did not visit) and in
full every ``crawl.full_walk_days``; see ``crawl/walk.py`` and ``full_walk_due``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
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
from .catalogue import decisions, documents as stored_documents, register
from .crawl import afterwalk, documents, hosts, linkhosts, moves
from .reports import night as report
from .models import SourceOutcome
from .config import Config, Source
from .crawl.deadline import Deadline
from .errors import (EXIT_DATA, EXIT_OK, CatalogueUnreadable, ConfigError, LockHeld)
from .crawl.fetch import Fetcher, make_client
from .crawl.walk import INCREMENTAL_PARSERS, Progress, departure_kind, parse_page, walk_source  # noqa: F401 - parse_page: 0.1 callers
from .archive.snapshots import Archive, ReadOnlyArchive, ReplayTransport, archive_lock
from .archive.spool import Spool, Spooler
from .wording import plural


@contextmanager
def sync_lock(db_path: Path) -> Iterator[None]:
    """One sync at a time per catalogue: a lock file the kernel frees if we die (none beside a file that is
    not a catalogue: NotACatalogue first)."""
    catalogue.refuse_non_sqlite(db_path)
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


def problem_lines(result: SyncResult) -> list[str]:
    """A line per failed or held source, and per page moved or gone: what the CLI writes to standard error, also
    under --quiet."""
    lines = []
    for outcome in result.outcomes:
        if outcome.error is not None:
            where = f" ({outcome.error_url})" if outcome.error_url else ""
            lines.append(f"FAILED {outcome.source}: {outcome.error}{where}")
        elif outcome.held and (outcome.moved or {}).get("off_site"):
            still = "is" if outcome.held == 1 else "are"
            lines.append(f"HELD {outcome.source}: its page moved to another site; {plural(outcome.held, 'entry')} "
                         f"would have {outcome.departure} and {still} still listed until the move is recorded.")
        elif outcome.held:
            still = "is" if outcome.held == 1 else "are"
            lines.append(f"HELD {outcome.source}: the page's layout changed; {plural(outcome.held, 'entry')} would "
                         f"have {outcome.departure} and {still} still listed. Look at the page (`reposync sources check "
                         f"{outcome.source}`), then `reposync sources accept-layout {outcome.source}`.")
        lines += report.move_lines(outcome.source, outcome.as_json())  # a page moved or gone: a person records it
    return lines


def summary_text(result: SyncResult) -> str:
    """The short summary a sync prints: entries per source, reviews, links, where the catalogue is (a failure's
    reason is in ``problem_lines``, for standard error).

    It lives here, not in ``report``, so imports run one way: sync -> report.
    """
    lines = []
    head = "dry run, nothing written" if result.dry_run else f"run {result.run_id}"
    changes = ", ".join(f"{result.counts[k]} {k}" for k in report.KINDS if result.counts.get(k)) or "no changes"
    lines.append(f"reposync {head}: {changes}")
    width = max((len(o.source) for o in result.outcomes), default=0)
    for outcome in result.outcomes:
        state = ("failed" if outcome.error else
                 f"{plural(len(outcome.entries), 'entry')}, {plural(outcome.pages, 'page')}")
        lines.append(f"  {outcome.source:<{width}}  {state}")
    lines.append(f"reviews: {result.reviews}  links: {result.links}")
    lines.append(f"catalogue: {result.db_path}")
    if result.dry_run:
        lines.append(report.DRY_RUN_NOTE)
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
            self.progress(f"{plan.host}: done ({plural(len(plan.sources), 'source')})")


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
    catalogue.refuse_non_sqlite(db_path)  # before the lock: no stray lock file beside a mistyped --db
    archive = Archive(snapshots_path or config.paths.snapshots)
    crawl = config.crawl if delay is None else replace(config.crawl, delay=delay)
    max_hosts = crawl.max_hosts if max_hosts is None else max_hosts
    people = decisions.load(config.paths.decisions)  # a malformed file stops the run before any fetch
    partnerships = register.register_rows(config)  # so does a malformed register
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
            config_url = {s.id: s.url for s in sources}
            in_a_row = settings.CUT_SHORT_NIGHTS_TO_PERSON - 1  # walks before this one that make it 65
            cut_short_before = {s.id: catalogue.nights_cut_short(db, s.id, in_a_row) for s in sources}
            searched = {source: row for source, row in catalogue.recent_discoveries(db, settings.REDISCOVER_HOURS)
                        .items() if row["old_url"] == config_url.get(source)}  # gone pages' sites read tonight
            plans = hosts.plan_hosts(sources, functools.partial(expected_pages, db))
            transport: httpx.BaseTransport | None = ReplayTransport(archive, as_of) if offline else None
            archive.defer_sync()  # a live walk's pages are synced to disk once, before the apply
            spooler = Spooler()  # the run's rows until the apply; freed with the outcomes
            stage = documents.DocumentStage(config, archive, run_id=run_id, offline=offline, spooler=spooler,
                                            known=stored_documents.known(db),
                                            read_before=functools.partial(stored_documents.read_before, db))
            stop = threading.Event()
            fetchers: dict[str, Fetcher] = {}  # by host: its documents and report links go through its walk's
            due_links = (None if dry_run or offline or not crawl.check_links_days  # report links, in this run
                         else linkhosts.HostLinks.for_sync(db, config, sources, crawl.check_links_days))
            after = afterwalk.AfterWalk(stage, due_links, stop, watch)  # a host's documents and links, after its walk
            lock = threading.Lock()

            def fetcher_for(host: str) -> Fetcher:  # the host's own, kept for its work after every walk
                with lock:
                    if host not in fetchers:
                        fetchers[host] = Fetcher(crawl, archive=fetch_archive, run_id=run_id, offline=offline,
                                                 client=client, deadline=deadline, sleep=hosts.stoppable_sleep(stop))
                    return fetchers[host]

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
                moves.look_for_gone(outcome, source, fetcher, config, searched.get(source.id))
                return guard_layout(escalate_cut_short(outcome, cut_short_before[source.id]), previous[source.id])

            def walk_host(plan: hosts.HostPlan) -> list[SourceOutcome]:
                watch.host_started(plan)
                fetcher = fetcher_for(plan.host)
                outcomes = []
                for source in plan.sources:
                    if stop.is_set():
                        raise hosts.Stopped("the sync is stopping")
                    watch.source_started(plan, source)
                    outcome = walk_one(plan, source, fetcher)
                    after.source_walked(source, outcome, fetcher)  # its documents, its due links queued
                    watch.source_finished(plan, outcome)
                    outcomes.append(outcome)
                after.host_walked(plan.host, fetcher)  # its links, by the same fetcher, paced with its pages
                watch.host_finished(plan)
                return outcomes

            # One client for every host; its connection limit is the cap on hosts at once. The whole-request
            # deadline it reads is kept per thread: one for all.
            limits = httpx.Limits(max_connections=max_hosts, max_keepalive_connections=max_hosts)
            deadline = Deadline()
            with make_client(crawl, transport=transport, deadline=deadline, limits=limits) as client:
                watch.planned(plans, max_hosts)
                by_source = hosts.walk_hosts(plans, walk_host, max_hosts=max_hosts, stop=stop)
                # documents on hosts [documents] hosts names, and links found after their host's walk
                after.rest(fetcher_for, max_hosts)
            outcomes = [by_source[s.id] for s in sources]  # the config's order, whatever order hosts ended in
            document_rows = stage.rows()  # each new document read; then entries the page leaves undated
            stage.date(outcomes)
            watch.walked()
            archive.sync()  # what the catalogue will point at is on disk before it commits
            exit_code = max([o.exit_code for o in outcomes] + [EXIT_OK])
            totals: dict[str, int] = {}

            def inspect(db: sqlite_utils.Database, run_id: int) -> dict:
                # Read before a dry run's rollback: its summary counts what the run would leave.
                for table in ("reviews", "links"):
                    totals[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                return report.build(db, run_id)

            result = catalogue.apply_run(db, run_id, outcomes, exit_code=exit_code, dry_run=dry_run,
                                         mode="offline" if offline else "live", inspect=inspect,
                                         decisions=people, documents=document_rows, register=partnerships)
            exit_code = result.exit_code  # a walk whose departures were held needs a person (65)
            if not dry_run and on_commit is not None:
                on_commit(run_id, result.inspected)  # the run has landed: its report first, whatever fails next
            if not dry_run:  # the catalogue's decisions (Datasette's too) reach the file a rebuild reads
                decisions.export(db, config.paths.decisions)
            if due_links is not None:  # asked during the walk; written now that the entries they belong to are
                result.counts.update(due_links.record(db, run_id))
                result.inspected = report.build(db, run_id)  # with the link changes, and what was asked
            reviews, links = totals["reviews"], totals["links"]
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
        requests=sum(f.requests for f in fetchers.values()),
        bytes=sum(f.bytes for f in fetchers.values()),
        dry_run=dry_run,
        report={**result.inspected, "dry_run": True} if dry_run else result.inspected,  # its heading says so
    )
