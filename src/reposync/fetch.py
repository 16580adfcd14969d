"""Fetching pages over HTTP, live or replayed: one code path for both.

Offline, the client's transport is the snapshot archive's ``ReplayTransport``;
everything after the transport (status handling, redirects, size cap,
decoding) is the same as for a live crawl.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from . import settings
from .config import Crawl, site_of
from .errors import NeedsPerson, Temporary
from .snapshots import Archive, utc_now

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass
class Page:
    url: str  # the URL that answered, after redirects
    status: int
    content_type: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None  # where a redirect points

    @property
    def text(self) -> str:
        return decode(self.body, self.content_type)


def decode(body: bytes, content_type: str | None) -> str:
    """Bytes to text: a BOM, then the HTTP charset, then a <meta> charset, then UTF-8."""
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    candidates = []
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'"))
    meta = _CHARSET.search(body[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "ignore").lower())
    candidates.append("utf-8")
    for name in candidates:
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("windows-1252", errors="replace")


class _Retryable(Exception):
    """A temporary failure worth another try (wrapped so tenacity can tell)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason


class Fetcher:
    """An httpx client that knows the crawl rules: site bounds, size cap, retries."""

    def __init__(
        self,
        crawl: Crawl,
        *,
        transport: httpx.BaseTransport | None = None,
        archive: Archive | None = None,
        run_id: int | None = None,
    ) -> None:
        self.crawl = crawl
        self.archive = archive  # live fetches are archived here; None when replaying
        self.run_id = run_id
        self.requests = 0
        self.bytes = 0
        timeout = httpx.Timeout(
            connect=settings.TIMEOUT_CONNECT, read=crawl.timeout, write=crawl.timeout, pool=settings.TIMEOUT_POOL
        )
        self.client = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": crawl.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
            follow_redirects=False,  # redirects are followed by hand, within the site only
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, site: tuple[str, str, int | None]) -> Page:
        """Fetch ``url``, following redirects within ``site``; raise a ``SourceError`` on failure."""
        for _hop in range(settings.MAX_REDIRECTS + 1):
            if site_of(url) != site:
                raise NeedsPerson(url, "refused: outside the source's site")
            page = self._get_with_retries(url)
            if page.status in (301, 302, 303, 307, 308):
                if not page.location:
                    raise NeedsPerson(url, f"HTTP {page.status} without a Location")
                url = urljoin(url, page.location)
                continue
            return page
        raise NeedsPerson(url, f"more than {settings.MAX_REDIRECTS} redirects")

    def _get_with_retries(self, url: str) -> Page:
        attempt = retry(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.crawl.retries + 1),
            wait=wait_exponential(multiplier=settings.BACKOFF_INITIAL, max=settings.BACKOFF_MAX),
            reraise=True,
        )(self._get_once)
        try:
            return attempt(url)
        except _Retryable as exc:
            raise Temporary(exc.url, exc.reason) from None

    def _get_once(self, url: str) -> Page:
        self.requests += 1
        try:
            with self.client.stream("GET", url) as response:
                status = response.status_code
                if status in (301, 302, 303, 307, 308):
                    # The caller checks the Location is on the site before following it.
                    return Page(url, status, None, b"", location=response.headers.get("Location"))
                if status in (408, 429) or status >= 500:
                    raise _Retryable(url, f"HTTP {status}")
                if status >= 400:
                    raise NeedsPerson(url, f"HTTP {status}")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.crawl.max_bytes:
                    raise NeedsPerson(url, f"body of {declared} bytes is over the {self.crawl.max_bytes}-byte cap")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.crawl.max_bytes:
                        raise NeedsPerson(url, f"body is over the {self.crawl.max_bytes}-byte cap")
                    chunks.append(chunk)
                body = b"".join(chunks)
                self.bytes += size
                page = Page(
                    url=url,
                    status=status,
                    content_type=response.headers.get("Content-Type"),
                    body=body,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Retryable(url, f"{type(exc).__name__}: {exc}") from None
        if self.archive is not None:
            self.archive.add(
                url, page.body, status=page.status, content_type=page.content_type,
                etag=page.etag, last_modified=page.last_modified, fetched_at=utc_now(), run=self.run_id,
            )
        return page

