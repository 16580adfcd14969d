"""A source's walk: its pages fetched, parsed and normalised one after another, following its next links
within its site, until its listing ends (or, incrementally, until a run of known, unchanged records).

Takes a source, a fetcher and the run's spooler; gives a ``SourceOutcome`` (entries spooled, complete or not,
cut short or not, the layout's fingerprint). Writes nothing but the archive's pages (through the fetcher).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

from .. import settings
from ..archive.snapshots import Archive, url_key
from ..archive.spool import Spooler
from ..config import Config, Source, site_of
from ..errors import EXIT_DATA, NeedsPerson, PageGone, SourceError, WalkCutShort
from ..models import ParseResult, SourceOutcome, content_hash
from ..normalise.entries import normalise, unique_ids
from ..parsers import parser_for
from ..wording import plural
from .fetch import Fetcher, Page
from .moves import read_first

Progress = Callable[[str], None]


def departure_kind(source: Source) -> str:
    """What it means when an entry leaves this source's pages."""
    if source.kind == "local":
        return "expired"  # local pages take reports down after a year
    if source.parser == "nspcc-rolling":
        return "rolled-off"
    return "delisted"


@functools.cache
def parsing_code() -> str:
    """A fingerprint of the parsing code: a parse stored by other code is never reused."""
    from .. import models, parsers

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
    site = source.site  # where its next links may lead: the site the configured page was read on
    try:
        while url is not None:
            key = url_key(url)  # 16 bytes, not a 300-character URL, for each of 150,000 pages
            if key in visited:
                raise NeedsPerson(url, "the next-page links loop")
            if len(visited) >= settings.MAX_PAGES_PER_SOURCE:
                raise NeedsPerson(url, f"more than {settings.MAX_PAGES_PER_SOURCE} pages")
            visited.add(key)
            if outcome.pages == 0:  # the configured page: read where a redirect sends it (moves.read_first)
                page = read_first(fetcher, source, outcome)
                site = site_of(page.url)
            else:
                page = fetcher.get(url, site)
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
                    unchanged = stored(entry["id"]) == content_hash(entry)
                    known_run = known_run + 1 if unchanged else 0
            position = _position(result.meta)
            total = position[1] if position else total
            if on_page:
                on_page(outcome.pages, len(entries), result.meta)
            if progress and outcome.pages % 50 == 0:
                progress(f"{source.id}: {plural(outcome.pages, 'page')}, {plural(len(entries), 'entry')}")
            url = result.next_url
            if url is not None and site_of(url) != site:
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
        if isinstance(exc, PageGone) and outcome.pages == 0:  # the configured page itself is gone
            outcome.gone = {"url": source.url, "status": exc.status}
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
