"""One sync: walk every source, normalise, then apply the whole run to the catalogue at once.

Data flows one way: fetch -> parse -> normalise (per source, nothing written),
then ``catalogue.apply_run`` writes everything in one transaction. A source
that fails at any step contributes an error, never a partial set of entries.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from . import catalogue, decisions, report, settings
from .catalogue import SourceOutcome
from .config import Config, Source, site_of
from .errors import EXIT_DATA, EXIT_OK, LockHeld, NeedsPerson, SourceError
from .fetch import Fetcher, Page
from .models import ParseResult, RawEntry
from .normalise import normalise
from .parsers import parser_for
from .snapshots import Archive, ReplayTransport

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


@functools.cache
def parsing_code() -> str:
    """A fingerprint of the parsing code: a parse stored by other code is never reused."""
    from . import models, parsers

    digest = hashlib.sha256()
    for path in sorted(Path(parsers.__file__).parent.glob("*.py")) + [Path(models.__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
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
                return ParseResult(
                    entries=[RawEntry(**entry) for entry in stored["entries"]],
                    next_url=stored["next_url"],
                    meta=stored["meta"],
                )
            except (KeyError, TypeError):
                pass  # a parse that does not fit the records any more: parse again
    result = parser_for(source)(page.text, page.url)
    if archive is not None and page.sha256:
        archive.save_parse(page.sha256, source.parser, page.url, key, result.to_dict())
    return result


def walk_source(source: Source, fetcher: Fetcher, config: Config, progress: Progress | None = None) -> SourceOutcome:
    """Fetch and parse every page of one source, following its next links within its site."""
    outcome = SourceOutcome(source=source.id, departure=departure_kind(source))
    url: str | None = source.url
    visited: set[str] = set()
    entries: list[dict] = []
    try:
        while url is not None:
            if url in visited:
                raise NeedsPerson(url, "the next-page links loop")
            if len(visited) >= settings.MAX_PAGES_PER_SOURCE:
                raise NeedsPerson(url, f"more than {settings.MAX_PAGES_PER_SOURCE} pages")
            visited.add(url)
            page = fetcher.get(url, source.site)
            result = parse_page(page, source, fetcher.archive)
            outcome.pages += 1
            for raw in result.entries:
                entries.append(normalise(raw, source, config.areas))
            if progress and outcome.pages % 50 == 0:
                progress(f"{source.id}: {outcome.pages} pages, {len(entries)} entries")
            url = result.next_url
            if url is not None and site_of(url) != source.site:
                url = None  # a next link off the site is recorded nowhere and never fetched
    except SourceError as exc:
        outcome.error, outcome.error_url, outcome.exit_code = exc.reason, exc.url, exc.exit_code
        return outcome
    except Exception as exc:  # a parser bug on hostile input must not take the other sources down
        outcome.error, outcome.error_url, outcome.exit_code = f"{type(exc).__name__}: {exc}", url, EXIT_DATA
        return outcome
    outcome.entries = entries
    outcome.complete = True
    return outcome


def guard_layout(outcome: SourceOutcome, previous: int) -> SourceOutcome:
    """A walk that finds far fewer entries than last time is a changed layout, not removals."""
    if outcome.error is not None or previous == 0:
        return outcome
    if len(outcome.entries) < previous * settings.GUARD_MIN_SHARE:
        return replace(
            outcome,
            entries=[],
            complete=False,
            error=(f"layout guard: {len(outcome.entries)} entries where the last good walk had {previous}; "
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
) -> SyncResult:
    sources = config.select(source_ids)
    db_path = db_path or config.paths.db
    archive = Archive(snapshots_path or config.paths.snapshots)
    crawl = config.crawl if delay is None else replace(config.crawl, delay=delay)
    people = decisions.load(config.paths.decisions)  # a malformed file stops the run before any fetch
    with sync_lock(db_path):
        db = catalogue.open_db(db_path)
        try:
            if dry_run:
                run_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM runs").fetchone()[0]
            else:
                run_id = catalogue.start_run(db, "offline" if offline else "live")
            transport: httpx.BaseTransport | None = ReplayTransport(archive, as_of) if offline else None
            with Fetcher(crawl, transport=transport, archive=None if offline else archive, run_id=run_id,
                         offline=offline) as fetcher:
                outcomes = []
                for source in sources:
                    if progress:
                        progress(f"{source.id}: {source.url}")
                    outcome = walk_source(source, fetcher, config, progress)
                    outcome = guard_layout(outcome, catalogue.listed_count(db, source.id))
                    outcomes.append(outcome)
            exit_code = max([o.exit_code for o in outcomes] + [EXIT_OK])
            result = catalogue.apply_run(db, run_id, outcomes, exit_code=exit_code, dry_run=dry_run,
                                         mode="offline" if offline else "live", inspect=report.build,
                                         decisions=people)
            if not dry_run:  # the catalogue's decisions (Datasette's too) reach the file a rebuild reads
                decisions.export(db, config.paths.decisions)
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
        requests=fetcher.requests,
        bytes=fetcher.bytes,
        dry_run=dry_run,
        report=result.inspected,
    )

