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

A link is due a check on a day of its own: ``recheck_day`` fixes it by a stable hash of its URL, one of the
``[crawl] check_links_days`` days, so a steady night asks about that share of the links, not all of them on the
night a week after the first. A link never checked (or checked at another URL) is due at once, and one whose
day passed without a check (no sync that night) is due until it is checked.

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
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

import sqlite_utils

from ..config import Config, site_of
from ..errors import SourceError
from .fetch import Fetcher, HostUnreachable, RobotsForbids, RobotsUnavailable, Site
from ..archive.snapshots import utc_now
from ..urls import web_url

STATUSES = ("ok", "moved", "gone", "error", "not-checked")
WORKING = ("ok", "moved")
BROKEN = ("gone", "error")
# A link checked a little before its day began (last week's sync ran late in the night before) is due all the same
# (and one checked an hour before ``--older-than`` says, too).
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
    checked_url: str | None = None  # the URL the last check asked (another when the entry's link changed)
    checked_at: str | None = None  # when (ISO, UTC)


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


_SELECT = ("SELECT id, source, report_url, link_status, link_detail, link_url, link_checked_at FROM entries "
           "WHERE status = 'listed' AND coalesce(report_url, '') != ''")


def due(db: sqlite_utils.Database, sources: Iterable[str], older_than: timedelta | None = None,
        now: datetime | None = None) -> list[Link]:
    """The report links of listed entries of ``sources`` to check: all of them, or those not checked within
    ``older_than`` (never checked, or checked when the entry's report link was another, count as old)."""
    sources = list(sources)
    if not sources:
        return []
    sql = f"{_SELECT} AND source IN ({', '.join('?' for _ in sources)})"
    params: list[object] = list(sources)
    if older_than is not None:
        cutoff = ((now or datetime.now(timezone.utc)) - older_than).isoformat(timespec="seconds")
        sql += " AND (link_checked_at IS NULL OR link_checked_at < ? OR link_url IS NOT report_url)"
        params.append(cutoff)
    sql += " ORDER BY source, id"
    return [Link(*row) for row in db.execute(sql, params).fetchall()]


def recheck_day(url: str, days: int) -> int:
    """The link's own day of every ``days`` (0 to days - 1: the day whose ordinal leaves it, modulo ``days``):
    a stable hash of its URL, the same in every process and on every machine, so the links spread over them."""
    return zlib.crc32(url.encode("utf-8", "surrogatepass")) % days


def is_due(link: Link, days: int, now: datetime) -> bool:
    """Whether ``link`` is due a check at ``now`` when each link is checked every ``days`` days on its own day:
    never checked (or at another URL), or not checked since its day last began (UTC). ``days`` 0: always."""
    if link.checked_at is None or link.checked_url != link.url or days <= 0:
        return True
    today = now.astimezone(timezone.utc).date().toordinal()
    began = today - (today - recheck_day(link.url, days)) % days
    day_began = datetime.combine(datetime.fromordinal(began).date(), time(0), tzinfo=timezone.utc)
    try:
        checked = datetime.fromisoformat(link.checked_at)
    except ValueError:
        return True  # a date no check wrote: ask again
    if checked.tzinfo is None:
        checked = checked.replace(tzinfo=timezone.utc)
    return checked < day_began - SCHEDULE_SLACK


def scheduled_links(db: sqlite_utils.Database, sources: Iterable[str], days: int,
                    now: datetime | None = None) -> tuple[list[Link], list[Link]]:
    """The report links of listed entries of ``sources``: (due a check now, not due), by ``is_due``."""
    now = now or datetime.now(timezone.utc)
    every = due(db, sources)
    return [link for link in every if is_due(link, days, now)], [link for link in every if not is_due(link, days, now)]


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


def not_asked(config: Config, link: Link) -> str | None:
    """Why ``link`` is never asked, whatever its host says (not a web link, or off the sites it may be asked
    on); None when it may be asked."""
    if web_url(link.url) is None:
        return "not an http(s) link"
    site = site_of(link.url)
    if site not in allowed_sites(config, link.source):
        return f"off-site: {_origin(site)} is neither its source's site nor a host [crawl] check_links_hosts names"
    return None


def check_one(fetcher: Fetcher, config: Config, link: Link) -> tuple[str, str | None]:
    """The status of one link, and its detail (the new URL, the reason, or why it was not checked)."""
    refused = not_asked(config, link)
    if refused is not None:
        return "not-checked", refused
    site = site_of(link.url)
    allowed = allowed_sites(config, link.source)
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


def check(fetcher: Fetcher, config: Config, links: Iterable[Link], progress: Progress | None = None) -> list[Verdict]:
    """The links asked one after another through one fetcher (``linkhosts`` gives each host its own)."""
    verdicts = []
    for n, link in enumerate(links, 1):
        status, detail = check_one(fetcher, config, link)
        verdicts.append(Verdict(link, status, detail, utc_now()))
        if progress and n % 50 == 0:
            progress(f"links: {n} asked")
    return verdicts


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


# Why a link was not asked, as a run's report counts it (``not-checked`` details, and the links not due).
NOT_DUE = "not due"
WHY_NOT = ("not due", "off-site", "host unreachable", "robots", "robots.txt unreadable", "not a web link")


def why_not(detail: str | None) -> str:
    """The reason of a ``not-checked`` verdict, in the words of ``WHY_NOT``."""
    detail = detail or ""
    if detail == "robots":
        return "robots"
    if detail.startswith("off-site"):
        return "off-site"
    if "could not be reached earlier in this run" in detail:
        return "host unreachable"
    if detail.startswith("robots.txt could not be read"):
        return "robots.txt unreadable"
    return "not a web link" if detail == "not an http(s) link" else detail


def summary(verdicts: Iterable[Verdict], not_due: int = 0) -> dict[str, object]:
    """What a run did with the report links, for its ``counts`` (``report_links``) and its report: the links
    asked by status, and those not asked by why (``WHY_NOT``)."""
    verdicts = list(verdicts)
    why: dict[str, int] = {NOT_DUE: not_due} if not_due else {}
    for verdict in verdicts:
        if verdict.status == "not-checked":
            reason = why_not(verdict.detail)
            why[reason] = why.get(reason, 0) + 1
    asked = {status: n for status, n in tally(verdicts).items() if status != "not-checked"}
    order = {reason: n for n, reason in enumerate(WHY_NOT)}
    return {"asked": asked, "not_checked": dict(sorted(why.items(), key=lambda item: order.get(item[0], 99)))}


def record_summary(db: sqlite_utils.Database, run_id: int, found: dict[str, object]) -> None:
    """Keep ``summary`` in the run's ``counts``, as ``report_links`` (the report shows it)."""
    with db.conn:
        db.execute("UPDATE runs SET counts = json_set(coalesce(counts, '{}'), '$.report_links', json(?)) WHERE id = ?",
                   [json.dumps(found), run_id])
