"""Report-link health: does each listed entry's report link still answer?

A check asks each link by the crawl's own rules (``Fetcher.probe``: robots.txt,
user agent, pacing, retries, timeouts; HEAD, then a ranged GET where HEAD is
refused; no body is read, so nothing is kept or passed on). Each entry gets a
status, kept across syncs in the ``entries`` table (catalogue migration m006):

- ``ok``: it answers (2xx);
- ``moved``: a redirect within the sites it may be checked on (below) leads to an answer; ``link_detail`` is the new URL;
- ``gone``: 404 or 410;
- ``error``: any other answer, a redirect off the sites it may be checked on, or no answer; ``link_detail``
  says which;
- ``not-checked``: not asked, and ``link_detail`` says why (robots.txt forbids it, robots.txt could not
  be read, its host could not be reached earlier in the run, or the link is neither on its source's site
  nor on a host ``[crawl] check_links_hosts`` names).

A check asks only its source's site (scheme, host and port) and the configured hosts (on http's and https's
own ports), redirect hops included. A host no connection can be made to fails once a run: its first link
costs the retries, the rest are ``not-checked`` without a request.

A link that stops working (``gone`` or ``error`` after anything else) is a
``link-broken`` change of the run, one that works again (``ok`` or ``moved``
after ``gone`` or ``error``) is ``link-fixed``. ``not-checked`` says nothing
about the link, so it is never a change either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlite_utils

from ..config import Config, Crawl, site_of
from ..errors import SourceError
from .fetch import Fetcher, HostUnreachable, RobotsForbids, RobotsUnavailable, Site
from ..archive.snapshots import utc_now
from ..urls import web_url

STATUSES = ("ok", "moved", "gone", "error", "not-checked")
WORKING = ("ok", "moved")
BROKEN = ("gone", "error")
# A sync checks links "every N days": a link checked a little less than N days ago (last week's sync ran a
# few minutes later in the night) is due all the same.
SCHEDULE_SLACK = timedelta(hours=1)
# Verdicts written per transaction: at a second a link, a stopped check loses at most two minutes of asking.
RECORD_BATCH = 100

Progress = Callable[[str], None]


@dataclass
class Link:
    """A listed entry's report link, and what the last check of it said."""

    entry_id: str
    source: str
    url: str
    status: str | None = None
    detail: str | None = None


@dataclass
class Verdict:
    link: Link
    status: str
    detail: str | None
    checked_at: str

    @property
    def change(self) -> str | None:
        """``link-broken``, ``link-fixed`` or None: what this check changed about the link."""
        if self.status in BROKEN and self.link.status not in BROKEN:
            return "link-broken"
        if self.status in WORKING and self.link.status in BROKEN:
            return "link-fixed"
        return None


def describe(status: str | None, detail: str | None) -> str | None:
    """A status as a change row and the report show it: ``gone (HTTP 404)``, ``moved to URL``, ``ok``."""
    if status is None:
        return None
    if status == "moved":
        return f"moved to {detail}"
    return f"{status} ({detail})" if detail else status


def due(db: sqlite_utils.Database, sources: Iterable[str], older_than: timedelta | None = None,
        now: datetime | None = None) -> list[Link]:
    """The report links of listed entries of ``sources`` to check: all of them, or those not checked within
    ``older_than`` (never checked, or checked when the entry's report link was another, count as old)."""
    sources = list(sources)
    if not sources:
        return []
    sql = (f"SELECT id, source, report_url, link_status, link_detail FROM entries "
           f"WHERE status = 'listed' AND coalesce(report_url, '') != '' "
           f"AND source IN ({', '.join('?' for _ in sources)})")
    params: list[object] = list(sources)
    if older_than is not None:
        cutoff = ((now or datetime.now(timezone.utc)) - older_than).isoformat(timespec="seconds")
        sql += " AND (link_checked_at IS NULL OR link_checked_at < ? OR link_url IS NOT report_url)"
        params.append(cutoff)
    sql += " ORDER BY source, id"
    return [Link(*row) for row in db.execute(sql, params).fetchall()]


def allowed_sites(config: Config, source_id: str) -> set[Site]:
    """Where a check of a report link of ``source_id`` may ask, redirect hops included: its source's site
    (scheme, host and port) and the hosts ``[crawl] check_links_hosts`` names (on http's and https's own ports,
    or on the port it gives: ``host:port``)."""
    source = next((s for s in config.sources if s.id == source_id), None)
    sites: set[Site] = {source.site} if source is not None else set()
    for configured in config.crawl.check_links_hosts:
        host, _, port = configured.partition(":")
        sites |= {("https", host, int(port or 443)), ("http", host, int(port or 80))}
    return sites


def _origin(site: Site) -> str:
    scheme, host, port = site
    return f"{scheme}://{host}:{port}"


def check_one(fetcher: Fetcher, config: Config, link: Link) -> tuple[str, str | None]:
    """The status of one link, and its detail (the new URL, the reason, or why it was not checked)."""
    if web_url(link.url) is None:
        return "not-checked", "not an http(s) link"
    site = site_of(link.url)
    allowed = allowed_sites(config, link.source)
    if site not in allowed:
        return "not-checked", (f"off-site: {_origin(site)} is neither its source's site nor a host "
                               "[crawl] check_links_hosts names")
    try:
        probe = fetcher.probe(link.url, site, also=allowed)
    except RobotsForbids:
        return "not-checked", "robots"
    except (RobotsUnavailable, HostUnreachable) as exc:  # the host's one failure this run is its first link's
        return "not-checked", exc.reason
    except SourceError as exc:  # no answer after the retries, a 5xx, too many redirects
        return "error", exc.reason
    if probe.off_site is not None:
        return "error", f"HTTP {probe.status} redirects off its site, to {probe.off_site} (not followed)"
    status = probe.status
    where = f" at {probe.final_url}" if probe.final_url != link.url else ""
    if 200 <= status < 300:
        return ("ok", None) if not where else ("moved", probe.final_url)
    if status in (404, 410):
        return "gone", f"HTTP {status}{where}"
    return "error", f"HTTP {status}{where}"


def in_turns(links: Iterable[Link]) -> list[Link]:
    """The links a host at a time in turn (each host's own links in their order): one host's pause between
    two requests then passes while the others are asked, so a check of many partnerships' PDFs takes about
    as long as the host with the most of them, not the sum of every host's pauses."""
    by_host: dict[str, list[Link]] = {}
    for link in links:
        by_host.setdefault(site_of(link.url)[1] or "", []).append(link)
    queues = list(by_host.values())
    turns: list[Link] = []
    for n in range(max((len(q) for q in queues), default=0)):
        turns.extend(q[n] for q in queues if n < len(q))
    return turns


def check(fetcher: Fetcher, config: Config, links: Iterable[Link], progress: Progress | None = None) -> list[Verdict]:
    verdicts = []
    for n, link in enumerate(links, 1):
        status, detail = check_one(fetcher, config, link)
        verdicts.append(Verdict(link, status, detail, utc_now()))
        if progress and n % 50 == 0:
            progress(f"links: {n} asked")
    return verdicts


def check_and_record(db: sqlite_utils.Database, run_id: int, fetcher: Fetcher, config: Config, links: list[Link],
                     progress: Progress | None = None) -> tuple[list[Verdict], dict[str, int]]:
    """Check the links and record them ``RECORD_BATCH`` at a time: a long check that is stopped (a timeout of
    its unit, a reboot) keeps what it found. Returns the verdicts and the run's link changes by kind."""
    verdicts: list[Verdict] = []
    counts: dict[str, int] = {}
    links = in_turns(links)
    for start in range(0, len(links), RECORD_BATCH):
        batch = check(fetcher, config, links[start:start + RECORD_BATCH])
        counts = record(db, run_id, batch)
        verdicts += batch
        if progress:
            progress(f"links: {len(verdicts)} of {len(links)} done (recorded)")
    return verdicts, counts


def record(db: sqlite_utils.Database, run_id: int, verdicts: Iterable[Verdict]) -> dict[str, int]:
    """Write the verdicts and their changes (``link-broken``, ``link-fixed``) as part of run ``run_id``, in
    one transaction; the run's ``counts`` gain the changes. Returns the run's link changes so far, by kind."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for verdict in verdicts:
            link = verdict.link
            db.execute(
                "UPDATE entries SET link_status = ?, link_detail = ?, link_url = ?, link_checked_at = ? WHERE id = ?",
                [verdict.status, verdict.detail, link.url, verdict.checked_at, link.entry_id],
            )
            kind = verdict.change
            if kind is not None:
                db.execute(
                    "INSERT INTO changes (run_id, source, entry_id, kind, field, old, new) "
                    "VALUES (?, ?, ?, ?, 'link_status', ?, ?)",
                    [run_id, link.source, link.entry_id, kind, describe(link.status, link.detail),
                     describe(verdict.status, verdict.detail)],
                )
        counts = dict(db.execute(
            "SELECT kind, count(*) FROM changes WHERE run_id = ? AND kind IN ('link-broken', 'link-fixed') "
            "GROUP BY kind ORDER BY kind", [run_id]).fetchall())
        if counts:
            db.execute("UPDATE runs SET counts = json_patch(coalesce(counts, '{}'), ?) WHERE id = ?",
                       [json.dumps(counts), run_id])
        db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    return counts


def tally(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """Links by status, in the order of ``STATUSES``."""
    found: dict[str, int] = {}
    for verdict in verdicts:
        found[verdict.status] = found.get(verdict.status, 0) + 1
    return {status: found[status] for status in STATUSES if status in found}


def scheduled(db: sqlite_utils.Database, config: Config, crawl: Crawl, sources: Iterable[str], run_id: int,
              walked: Fetcher, progress: Progress | None = None) -> tuple[dict[str, int], int]:
    """A sync's link check: the links not checked for ``crawl.check_links_days``, asked with the walk's
    robots.txt rules and pauses carried over, recorded as part of the sync's run.

    Returns the changes by kind and the number of requests it made.
    """
    links = due(db, sources, timedelta(days=crawl.check_links_days) - SCHEDULE_SLACK)
    if not links:
        return {}, 0
    if progress:
        progress(f"links: checking {len(links)} report links")
    with Fetcher(crawl) as fetcher:
        fetcher.carry_over(walked)
        _verdicts, counts = check_and_record(db, run_id, fetcher, config, links, progress)
        requests = fetcher.requests
    return counts, requests
