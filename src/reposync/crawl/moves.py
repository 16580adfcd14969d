"""Pages that move (issue 20, point 3): a source's configured page read where a redirect sends it, and a page
that is gone looked for on its site.

- ``read_first``: the configured page, the first of a walk. A permanent redirect (301, 308) within its site is
  followed (as the fetcher follows any redirect within the site) and said: ``outcome.moved``. A redirect to
  another site is followed too, once, and said with ``off_site``: the catalogue holds the walk's departures
  until a person records the move (``reposync sources move``); the config is never rewritten by a sync.
- ``look_for_gone``: a configured page that answered 404 or 410 failed its walk (65, nothing departs); discovery
  (``crawl/discover.py``, bounded as ``sources discover`` is) then reads its site from the home page, at most
  once in ``settings.REDISCOVER_HOURS`` a source: within them the candidates found before are given again.

Takes a source, the host's fetcher and what the catalogue knows of the source's page; gives the outcome's
``moved`` and ``gone``. Writes nothing (discovery's pages are not archived).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urljoin

from .. import settings
from ..config import Config, Source, site_of
from ..errors import RedirectsOffSite, SourceError
from ..models import SourceOutcome
from .discover import BRIEFINGS, MAX_REQUESTS, discover
from .fetch import Fetcher, Page

PERMANENT = frozenset((301, 308))


def read_first(fetcher: Fetcher, source: Source, outcome: SourceOutcome) -> Page:
    """The configured page, read where a redirect sends it; ``outcome.moved`` says where when it moved."""
    try:
        page = fetcher.get(source.url, source.site)
    except RedirectsOffSite as exc:
        scheme, host, _ = site_of(exc.target)
        if scheme not in ("http", "https") or not may_follow(source.site[1], host):
            raise  # javascript:, a file, no host, a private address: nowhere a partnership's page moves to
        page = fetcher.get(exc.target, site_of(exc.target))  # its own redirects within the new site followed
        outcome.moved = {"from": source.url, "to": page.url, "status": exc.status, "off_site": True}
        return page
    if page.url != source.url and page.redirects and all(status in PERMANENT for status in page.redirects):
        outcome.moved = {"from": source.url, "to": page.url, "status": page.redirects[0], "off_site": False}
    return page


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if host == "localhost" or host.endswith(".localhost"):
        return ipaddress.ip_address("127.0.0.1")
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None  # a name


def may_follow(source_host: str, target_host: str) -> bool:
    """Whether a page on ``source_host`` may be followed to ``target_host``: any host name, or a public address;
    a loopback, private or link-local address (a cloud's metadata service) only from a page on one itself."""
    if not target_host:
        return False
    target = _address(target_host)
    if target is None or target.is_global:
        return True
    source = _address(source_host)
    return source is not None and not source.is_global


def look_for_gone(outcome: SourceOutcome, source: Source, fetcher: Fetcher, config: Config,
                  known: dict[str, Any] | None) -> None:
    """For a walk whose configured page is gone: the pages of its site that list reviews now, in ``outcome.gone``.

    ``known`` is what a discovery of the same page found within ``settings.REDISCOVER_HOURS`` (the catalogue's
    ``source_moves``): given again, nothing asked. A local source only (discovery reads partnership pages), and
    a live walk only (a replay has no site to search).
    """
    gone = outcome.gone
    if gone is None or source.kind != "local" or not fetcher.polite:
        return
    if known is not None:
        gone.update(candidates=known.get("candidates") or [], again=True)  # as found then (its time in the catalogue)
        return
    home = urljoin(source.url, "/")
    finder = Fetcher(config.crawl, client=fetcher.client, deadline=fetcher._deadline, sleep=fetcher.sleep,
                     clock=fetcher.clock)  # no archive: discovery's pages are not the source's
    finder.carry_over(fetcher)  # robots.txt as read, the host's pause kept
    try:
        found = discover(home, source.area, config, max_requests=MAX_REQUESTS, fetcher=finder)
    except SourceError as exc:
        gone.update(error=f"{exc.url}: {exc.reason}", candidates=[])
        return
    finally:
        fetcher.carry_over(finder)
        fetcher.requests += finder.requests
        fetcher.bytes += finder.bytes
        gone.update(home=home, requests=finder.requests)  # searched now (when: the catalogue's checked_at)
    listed = [c for c in found.candidates if c.rank <= BRIEFINGS and (c.reviews or c.briefings)]
    gone.update(pages=found.pages, candidates=[{"url": c.url, "entries": c.entries, "reviews": c.reviews}
                                               for c in listed[:settings.GONE_CANDIDATES]])
