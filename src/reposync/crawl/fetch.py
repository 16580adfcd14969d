"""Fetching pages over HTTP, live or replayed: one code path for both.

Offline, the client's transport is the snapshot archive's ``ReplayTransport``;
everything after the transport (status handling, redirects, size cap,
decoding) is the same as for a live crawl. Live, and only live, the fetcher is
also a polite crawler:

- robots.txt is fetched once per site (scheme, host and port) per run and
  obeyed. A 4xx answer (404 included) means no rules; a 5xx or no answer after
  the retries is a temporary failure of every source on that site, and is not
  asked again in the same run. Its redirects are followed, up to the limit, on
  the same host only (http to https, say); one to another host is not
  requested, and the site has no rules (RFC 9309's "unavailable").
- one request at a time (the fetcher is synchronous; a sync gives each host a
  fetcher and a thread of its own, see hosts.py), and between two requests
  to one host at least ``crawl.delay`` seconds, or the host's robots.txt
  Crawl-delay (or Request-rate) when that is longer: ``--delay`` cannot go
  under what the site asked for. Measured on a monotonic clock, from the end of
  one answer to the start of the next request.
- a conditional GET with the validators of the last fetch of the URL (the
  newest archive row for it); a 304 gives a ``Page`` with ``not_modified`` set,
  carrying the stored body it stands for and its hash, so the stored parse of
  that body is reused (``sync.parse_page``).
- every answer kept (200 bodies, 304s and redirects) goes to the archive.

``crawl.timeout`` is the deadline of a whole request (``reposync.deadline``): a
server that trickles its headers or body fails the attempt when it passes.

A host no connection could be made to (refused, no route, no DNS answer, connect timeout) after the retries is
not asked again in the same run: every later request to it fails at once, so its other sources fail without
retries of their own.

Temporary failures (connection errors, timeouts, 408, 429, 5xx) are retried with exponential backoff; a
Retry-After (seconds or an HTTP date) is honoured as the wait, and one over ``settings.RETRY_AFTER_CAP`` gives up
at once. Waits go through the ``sleep`` and ``clock`` the fetcher was given, so tests run them on a fake clock.
A 404 or 410 is ``PageGone``, a redirect off the site ``RedirectsOffSite``: ``crawl/moves.py`` reads both.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import httpx
from protego import Protego
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from .. import settings
from ..config import Crawl, site_of
from .deadline import Deadline, deadline_transport
from .encoding import decode
from ..errors import NeedsPerson, PageGone, RedirectsOffSite, SourceError, Temporary
from ..archive.snapshots import Archive, DamagedSnapshot, ManifestRow, utc_now

REDIRECTS = frozenset((301, 302, 303, 307, 308))
Site = tuple[str, str, int | None]


@dataclass
class Page:
    url: str  # the URL that answered, after redirects
    status: int  # 200 (or another 2xx), or 304 when the stored body still holds
    content_type: str | None
    body: bytes  # for a 304, the stored body it stands for
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None  # where a redirect points
    sha256: str | None = None  # hash of ``body``
    not_modified: bool = False  # a 304: the stored parse of ``sha256`` may be reused
    redirects: tuple[int, ...] = ()  # the statuses of the redirects (within the site) that led here

    @property
    def text(self) -> str:
        return decode(self.body, self.content_type)


_LOCATION = "X-Reposync-Location"


def _hide_location(response: httpx.Response) -> None:
    """Keep a redirect's Location from httpx, which would parse it to build a redirect it never sends, and
    raise on junk (``javascript:``, ``http://[::1``) before the fetcher could refuse it as off the site."""
    if "Location" in response.headers:
        response.headers[_LOCATION] = response.headers.pop("Location")


def _join(base: str, location: str) -> str:
    """``location`` resolved against ``base``; what is not a URL stays as written (and is no site)."""
    try:
        return urljoin(base, location)
    except ValueError:
        return location


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header as seconds from ``now``: delay-seconds or an HTTP date; None if unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def robots_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: ``reposync`` of ``reposync/0.1 (+...)``."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


class _Retryable(Exception):
    """A temporary failure worth another try (wrapped so tenacity can tell)."""

    def __init__(self, url: str, reason: str, retry_after: float | None = None, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason
        self.retry_after = retry_after
        self.unreachable = unreachable  # no connection could be made at all (refused, no route, DNS, connect timeout)


@dataclass
class _Answer:
    """One HTTP exchange, read (within the size cap) and closed."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes


@dataclass
class Probe:
    """What a link check learnt of a URL (``Fetcher.probe``): the last answer's status, and where it came from."""

    url: str  # the URL asked about
    status: int  # of the last answer (after redirects within the site)
    final_url: str  # the URL that gave it: ``url`` unless a redirect within the site moved it
    method: str  # HEAD, or GET when the server refused HEAD (or said no to it)
    off_site: str | None = None  # a redirect off the site, to here: not followed, and ``status`` is the redirect's


class RobotsForbids(NeedsPerson):
    """robots.txt forbids fetching this URL: it is never requested."""


class TooBig(NeedsPerson):
    """The body is over the size cap (as declared, or as it came): the rest is never read."""


class RobotsUnavailable(Temporary):
    """The site's robots.txt could not be read this run (5xx, no answer): nothing on the site is requested."""


class HostUnreachable(Temporary):
    """No connection could be made to the host earlier in this run: it is not tried again (never requested)."""


@dataclass
class _Robots:
    rules: Protego | None = None
    failure: SourceError | None = None  # why this site cannot be crawled this run


def make_client(crawl: Crawl, *, transport: httpx.BaseTransport | None = None, deadline: Deadline | None = None,
                limits: httpx.Limits | None = None) -> httpx.Client:
    """The httpx client a ``Fetcher`` sends through; one may be shared by fetchers in several threads
    (httpx: "It can be shared between threads"), with one ``deadline`` (it is per thread).

    Without a ``transport``, httpx's own, its sockets bounded by ``deadline`` and its connections by ``limits``.
    """
    if transport is None:
        transport = deadline_transport(deadline or Deadline(), limits)
    timeout = httpx.Timeout(
        connect=settings.TIMEOUT_CONNECT,
        read=crawl.timeout,
        write=crawl.timeout,
        pool=settings.TIMEOUT_POOL,
    )
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        headers={"User-Agent": crawl.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
        follow_redirects=False,  # redirects are followed by hand, within the site only
        event_hooks={"response": [_hide_location]},
    )


class Fetcher:
    """An httpx client that knows the crawl rules: robots.txt, pacing, site bounds, size cap, retries."""

    def __init__(
        self,
        crawl: Crawl,
        *,
        transport: httpx.BaseTransport | None = None,
        archive: Archive | None = None,
        run_id: int | None = None,
        offline: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        backoff: float | None = None,
        client: httpx.Client | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.crawl = crawl
        self.archive = archive  # live fetches are archived here; None when replaying
        self.run_id = run_id
        self.polite = not offline  # offline: no robots.txt, no delay, no validators
        self.sleep = sleep
        self.clock = clock
        self.backoff = settings.BACKOFF_INITIAL if backoff is None else backoff
        self.requests = 0
        self.bytes = 0
        self.not_modified = 0
        self._robots: dict[Site, _Robots] = {}
        self._host_delay: dict[str, float] = {}  # host -> robots.txt's pause, when it asks for one
        self._last_end: dict[str, float] = {}  # host -> clock() when its last answer ended
        self._unreachable: dict[str, Temporary] = {}  # host -> why it could not be reached this run
        self._token = robots_token(crawl.user_agent)
        # ``crawl.timeout`` bounds a whole request (connect, headers and body), not each read: a live
        # transport's sockets wait at most what is left of it. A given transport (the replay) needs no bound.
        # A client given (one shared by the hosts of a sync) comes with the deadline its transport reads.
        self._deadline = deadline or Deadline()
        self._own_client = client is None  # a shared client is not ours to close
        self.client = client if client is not None else make_client(crawl, transport=transport,
                                                                    deadline=self._deadline)

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one public call ---------------------------------------------------
    def get(self, url: str, site: Site, *, max_bytes: int | None = None) -> Page:
        """Fetch ``url``, following redirects within ``site``; raise a ``SourceError`` on failure.

        ``max_bytes``: a cap of its own instead of ``crawl.max_bytes`` (a report document's)."""
        if site_of(url) != site:
            raise NeedsPerson(url, "refused: outside the source's site")
        hops: list[int] = []
        for _hop in range(settings.MAX_REDIRECTS + 1):
            self._reachable(url)
            if self.polite:
                self._obey_robots(url)
            stored = self._stored(url)
            headers = {}
            if stored is not None:
                row, _ = stored
                if row.etag:
                    headers["If-None-Match"] = row.etag
                if row.last_modified:
                    headers["If-Modified-Since"] = row.last_modified
            answer = self._exchange_with_retries(url, headers, cap=max_bytes)
            status = answer.status
            if status in REDIRECTS:
                location = answer.headers.get(_LOCATION)
                if not location:
                    raise NeedsPerson(url, f"HTTP {status} without a Location")
                target = _join(url, location)  # "http://[::1" is no URL, and off every site
                self._archive(ManifestRow(url, utc_now(), status, None, 0, None, None, None, self.run_id,
                                          location=target))
                if site_of(target) != site:
                    raise RedirectsOffSite(url, target, status)
                url = target
                hops.append(status)
                continue
            if status == 304 or 200 <= status < 300:
                page = self._not_modified(url, answer, stored) if status == 304 else self._fresh(url, answer)
                page.redirects = tuple(hops)
                return page
            replay = answer.headers.get("X-Reposync-Replay")
            if replay in ("missing", "damaged"):
                raise NeedsPerson(url, f"no usable snapshot of this URL in the archive ({replay})")
            raise PageGone(url, status) if status in (404, 410) else NeedsPerson(url, f"HTTP {status}")
        raise NeedsPerson(url, f"more than {settings.MAX_REDIRECTS} redirects")

    def probe(self, url: str, site: Site, also: Collection[Site] = ()) -> Probe:
        """Whether ``url`` still answers, by the crawl's rules, reading no body (a report-link check).

        HEAD first; a HEAD answered 501 or with a 4xx (servers refuse HEAD with 405, 403 or 400, and some
        answer it 404 wrongly) is asked again as ``GET`` with ``Range: bytes=0-0``, whose answer stands.
        Redirects are followed within ``site`` and the sites in ``also`` (scheme, host and port each; each
        site's robots.txt obeyed); one anywhere else, another port or scheme of the same host included, is
        not followed and comes back as ``off_site``. Raises ``RobotsForbids`` for a URL robots.txt forbids
        (never requested), ``HostUnreachable`` for a host no connection could be made to earlier in the run
        (never asked again), and a ``SourceError`` when no answer comes (``Temporary`` after the retries of
        a timeout, a connection error, 429 or 5xx).
        """
        if site_of(url) != site:
            raise NeedsPerson(url, "refused: outside the link's site")
        allowed = {site, *also}
        current = url
        for _hop in range(settings.MAX_REDIRECTS + 1):
            self._reachable(current)
            if self.polite:
                try:
                    self._obey_robots(current)
                except RobotsForbids:
                    raise
                except SourceError as exc:
                    raise RobotsUnavailable(exc.url, exc.reason) from None
            method = "HEAD"
            answer = self._exchange_with_retries(current, {}, "HEAD", read=False)
            if 400 <= answer.status < 500 or answer.status == 501:
                method = "GET"
                answer = self._exchange_with_retries(current, {"Range": "bytes=0-0"}, "GET", read=False)
            if answer.status in REDIRECTS:
                location = answer.headers.get(_LOCATION)
                target = _join(current, location) if location else ""
                if site_of(target) not in allowed:
                    return Probe(url, answer.status, current, method, off_site=target or "(no Location)")
                current = target
                continue
            return Probe(url, answer.status, current, method)
        raise NeedsPerson(url, f"more than {settings.MAX_REDIRECTS} redirects")

    def carry_over(self, other: Fetcher) -> None:
        """Go on where ``other`` stopped: its robots.txt rules and pauses, and when it last asked each host."""
        self._robots.update(other._robots)
        self._host_delay.update(other._host_delay)
        self._last_end.update(other._last_end)
        self._unreachable.update(other._unreachable)

    # -- answers -----------------------------------------------------------------
    def _fresh(self, url: str, answer: _Answer) -> Page:
        page = Page(
            url=url,
            status=answer.status,
            content_type=answer.headers.get("Content-Type"),
            body=answer.body,
            etag=answer.headers.get("ETag"),
            last_modified=answer.headers.get("Last-Modified"),
            sha256=hashlib.sha256(answer.body).hexdigest(),
        )
        if self.archive is not None:
            self.archive.add(
                url, page.body, status=page.status, content_type=page.content_type,
                etag=page.etag, last_modified=page.last_modified, fetched_at=utc_now(), run=self.run_id,
            )
        return page

    def _not_modified(self, url: str, answer: _Answer, stored: tuple[ManifestRow, bytes] | None) -> Page:
        if stored is None:
            raise NeedsPerson(url, "HTTP 304 to a request that sent no validators")
        row, body = stored
        etag = answer.headers.get("ETag") or row.etag
        last_modified = answer.headers.get("Last-Modified") or row.last_modified
        self.not_modified += 1
        self._archive(ManifestRow(url, utc_now(), 304, row.content_type, 0, etag, last_modified, row.sha256,
                                  self.run_id))
        return Page(url=url, status=304, content_type=row.content_type, body=body, etag=etag,
                    last_modified=last_modified, sha256=row.sha256, not_modified=True)

    def _stored(self, url: str) -> tuple[ManifestRow, bytes] | None:
        """The last fetch of ``url`` and its body, when a conditional GET can stand on them."""
        if not self.polite or self.archive is None:
            return None
        row = self.archive.newest(url)
        if row is None or row.sha256 is None or not (row.etag or row.last_modified):
            return None
        try:
            return row, self.archive.body(row.sha256)
        except DamagedSnapshot:
            return None  # no copy to fall back on: ask for the whole page

    def _archive(self, row: ManifestRow) -> None:
        if self.archive is not None:
            self.archive.record(row)

    def _reachable(self, url: str) -> None:
        """A host no connection could be made to is not tried again this run: its other sources fail at once."""
        host = site_of(url)[1]
        failure = self._unreachable.get(host)
        if failure is not None:
            raise HostUnreachable(url, f"{host} could not be reached earlier in this run ({failure.url}: "
                                       f"{failure.reason}); not tried again")

    # -- robots.txt ------------------------------------------------------------
    def _obey_robots(self, url: str) -> None:
        site = site_of(url)
        robots = self._robots.get(site)
        if robots is None:
            robots = self._robots[site] = self._fetch_robots(urljoin(url, "/robots.txt"))
        if robots.failure is not None:
            raise type(robots.failure)(robots.failure.url, robots.failure.reason)
        if robots.rules is not None and not robots.rules.can_fetch(url, self.crawl.user_agent):
            raise RobotsForbids(url, "robots.txt forbids fetching it")

    def _fetch_robots(self, robots_url: str) -> _Robots:
        url = robots_url
        try:
            for _hop in range(settings.MAX_REDIRECTS + 1):
                answer = self._exchange_with_retries(url, {})
                if answer.status not in REDIRECTS:
                    break
                target = _join(url, answer.headers.get(_LOCATION, ""))
                scheme, host, _port = site_of(target)
                if scheme not in ("http", "https") or host != site_of(robots_url)[1]:
                    break  # nothing is fetched off the source's host, not even its robots.txt
                url = target  # RFC 9309: follow robots.txt redirects (http to https, say) on the same host
        except SourceError as exc:  # 5xx or no answer after retries, a Retry-After over the cap, the size cap
            return _Robots(failure=type(exc)(robots_url, f"robots.txt could not be read: {exc.reason}"))
        if answer.status in REDIRECTS:
            return _Robots()  # RFC 9309: a redirect chain that does not end is "unavailable": no rules
        if 200 <= answer.status < 300:
            if self.archive is not None:
                self.archive.add(url, answer.body, status=answer.status,
                                 content_type=answer.headers.get("Content-Type"),
                                 etag=answer.headers.get("ETag"), last_modified=answer.headers.get("Last-Modified"),
                                 fetched_at=utc_now(), run=self.run_id)
            rules = Protego.parse(decode(answer.body, "text/plain; charset=utf-8"))
            pause = rules.crawl_delay(self.crawl.user_agent)
            rate = rules.request_rate(self.crawl.user_agent)
            if rate is not None and rate.requests:
                pause = max(pause or 0.0, rate.seconds / rate.requests)
            if pause:
                host = site_of(robots_url)[1]
                self._host_delay[host] = max(self._host_delay.get(host, 0.0), float(pause))
            return _Robots(rules=rules)
        if 400 <= answer.status < 500:
            return _Robots()  # RFC 9309: unavailable (404 and the rest of 4xx) means no rules
        return _Robots(failure=Temporary(robots_url, f"robots.txt answered HTTP {answer.status}"))

    # -- one exchange, paced, retried ----------------------------------------------
    def delay_for(self, host: str) -> float:
        """The pause between two requests to ``host``: ours, or robots.txt's when longer."""
        if not self.polite:
            return 0.0
        return max(self.crawl.delay, self._host_delay.get(host, 0.0))

    def _pace(self, host: str) -> None:
        last = self._last_end.get(host)
        if last is None:
            return
        wait = last + self.delay_for(host) - self.clock()
        if wait > 0:
            self.sleep(wait)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return min(settings.BACKOFF_MAX, self.backoff * 2 ** (state.attempt_number - 1))

    def _exchange_with_retries(self, url: str, headers: dict[str, str], method: str = "GET",
                               read: bool = True, cap: int | None = None) -> _Answer:
        attempts = self.crawl.retries + 1
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(self._exchange, url, headers, method, read, cap)
        except _Retryable as exc:
            tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
            failure = Temporary(exc.url, f"{exc.reason} (gave up after {tries})")
            if exc.unreachable:
                self._unreachable[site_of(url)[1]] = failure
            raise failure from None

    def _exchange(self, url: str, headers: dict[str, str], method: str = "GET", read: bool = True,
                  cap: int | None = None) -> _Answer:
        """One request, paced. ``read=False`` (a link check) reads no body at all: the size cap is never near."""
        host = site_of(url)[1]
        if self.polite:
            self._pace(host)
        self.requests += 1
        cap = cap or self.crawl.max_bytes
        try:
            with (self._deadline.within(self.crawl.timeout),  # the whole exchange, body included
                  self.client.stream(method, url, headers=headers) as response):
                declared = response.headers.get("Content-Length", "") if read else ""
                if declared.isdigit() and int(declared) > cap:
                    raise TooBig(url, f"body of {declared} bytes is over the {cap}-byte cap")
                chunks, size = [], 0
                for chunk in response.iter_bytes() if read else ():  # decoded bytes: a gzip bomb meets the cap too
                    size += len(chunk)
                    if size > cap:
                        raise TooBig(url, f"body is over the {cap}-byte cap")
                    chunks.append(chunk)
                self.bytes += size
                answer = _Answer(url, response.status_code, response.headers, b"".join(chunks))
        except httpx.TransportError as exc:  # connection errors, timeouts, a body cut short
            raise _Retryable(url, f"{type(exc).__name__}: {exc or 'no detail'}",
                             unreachable=isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))) from None
        except httpx.RequestError as exc:  # e.g. a body that does not decode as its Content-Encoding says
            raise NeedsPerson(url, f"{type(exc).__name__}: {exc}") from None
        except httpx.InvalidURL as exc:  # a link with a control character in it: never requested
            raise NeedsPerson(url, f"not a URL that can be requested: {exc}") from None
        finally:
            self._last_end[host] = self.clock()
        status = answer.status
        if (status in (408, 429) or status >= 500) and not (method == "HEAD" and status == 501):  # 501: no HEAD here
            reason = f"HTTP {status}"
            wait = retry_after_seconds(answer.headers.get("Retry-After"))
            if wait is not None and wait > settings.RETRY_AFTER_CAP:
                raise Temporary(url, f"{reason} with Retry-After {wait:.0f} s, over the "
                                     f"{settings.RETRY_AFTER_CAP:.0f} s cap: try again later")
            raise _Retryable(url, reason, wait)
        return answer
