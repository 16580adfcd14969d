"""What a page gives as a source, shown before anything is written: fetch it once, parse it, normalise it.

``reposync sources add`` previews a page that is not a source yet (live, as a
sync would fetch it: robots.txt, the user agent, the size cap); ``reposync
sources check`` previews a configured source against its last stored page, or
live. Neither writes the catalogue or the snapshot archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import Config, Source
from ..errors import NeedsPerson
from ..crawl.fetch import Fetcher
from ..models import ParseResult
from ..normalise.entries import normalise
from ..parsers import parser_for
from ..archive.snapshots import Archive, ReplayTransport


@dataclass
class Preview:
    source: Source
    url: str  # the page that answered (after redirects within the site)
    rows: list[dict[str, Any]]  # normalised entries, as a sync would store them
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (text as written, why it was not taken)
    layout: str | None = None
    next_url: str | None = None  # a further page of the listing (not fetched by a preview)
    live: bool = True
    stored_at: str | None = None  # offline: when the stored page was fetched


def preview(source: Source, config: Config, *, live: bool = True, require_entries: bool = True) -> Preview:
    """The first page of ``source``, fetched once (live, or from the snapshot archive) and read.

    Raises a ``SourceError`` as a sync would record it: 65 (needs a person: robots.txt, 404, no stored
    page offline, a page that is not a page of reviews, a page with no entries), 75 (temporary).
    """
    stored_at = None
    if live:
        fetcher = Fetcher(config.crawl, archive=None)  # polite, as a sync; keeps nothing
    else:
        archive = Archive(config.paths.snapshots)
        newest = archive.newest(source.url)
        stored_at = newest.fetched_at if newest else None
        fetcher = Fetcher(config.crawl, transport=ReplayTransport(archive), offline=True)
    with fetcher:
        page = fetcher.get(source.url, source.site)
    result: ParseResult = parser_for(source)(page.text, page.url)
    if require_entries and not result.entries:
        raise NeedsPerson(page.url, "no entries found on the page")
    rows = [normalise(raw, source, config.areas) for raw in result.entries]
    return Preview(source=source, url=page.url, rows=rows, skipped=list(result.skipped), layout=result.layout,
                   next_url=result.next_url, live=live, stored_at=stored_at)
