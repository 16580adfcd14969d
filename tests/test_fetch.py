"""The fetcher against a real loopback server: every fault, the outcome and how many requests it cost.

Waits (backoff, Retry-After, politeness) run on a fake clock: the fetcher is
given ``sleep`` and ``clock``, so the tests assert the waits without sleeping.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mockserver import HUGE_BYTES, OK_PAGE, MockServer, Resource
from reposync import settings
from reposync.config import Crawl, site_of
from reposync.errors import NeedsPerson, Temporary
from reposync.crawl.fetch import Fetcher, retry_after_seconds, robots_token
from reposync.archive.snapshots import Archive, ReplayTransport

UA = "reposync/0.1 (+https://github.com/reposync/reposync; tests)"


class FakeTime:
    """A monotonic clock that only moves when the fetcher sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "snapshots")


def fetcher(archive: Archive | None, fake: FakeTime, *, delay: float = 0.0, retries: int = 3, timeout: float = 0.5,
            max_bytes: int = 1_000_000, backoff: float = 1.0, **kwargs) -> Fetcher:
    crawl = Crawl(delay=delay, timeout=timeout, user_agent=UA, max_bytes=max_bytes, retries=retries)
    return Fetcher(crawl, archive=archive, run_id=1, sleep=fake.sleep, clock=fake.clock, backoff=backoff, **kwargs)


def get(f: Fetcher, server: MockServer, target: str):
    url = server.url(target)
    return f.get(url, site_of(url))


# -- an ordinary page -----------------------------------------------------------------------------------------------
def test_a_page_is_fetched_archived_and_named_with_a_contact(server: MockServer, archive: Archive, fake: FakeTime):
    with fetcher(archive, fake) as f:
        page = get(f, server, "/ok")
    assert (page.status, page.body, page.url) == (200, OK_PAGE, server.url("/ok"))
    assert server.count("/robots.txt") == 1 and server.count("/ok") == 1 and f.requests == 2
    ua = server.log[-1].headers["user-agent"]
    assert ua.startswith("reposync/") and "https://" in ua
    [row] = [r for r in archive.rows() if r.url == page.url]
    assert (row.status, row.sha256, row.bytes, row.run) == (200, page.sha256, len(OK_PAGE), 1)
    assert archive.body(row.sha256) == OK_PAGE


# -- retries --------------------------------------------------------------------------------------------------------
def test_500_always_fails_as_temporary_after_the_retries(server: MockServer, archive: Archive, fake: FakeTime):
    with fetcher(archive, fake, retries=3, backoff=1.0) as f, pytest.raises(Temporary) as caught:
        get(f, server, "/status/500")
    assert server.count("/status/500") == 4  # one try and three retries, no more
    assert fake.waits == [1.0, 2.0, 4.0]  # exponential backoff
    assert "HTTP 500" in caught.value.reason and "4 attempts" in caught.value.reason
    assert caught.value.url == server.url("/status/500")
    assert not [r for r in archive.rows() if "status" in r.url]  # nothing archived for a failure


def test_backoff_is_capped(server: MockServer, fake: FakeTime, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(settings, "BACKOFF_MAX", 3.0)
    with fetcher(None, fake, retries=4, backoff=1.0) as f, pytest.raises(Temporary):
        get(f, server, "/status/502")
    assert fake.waits == [1.0, 2.0, 3.0, 3.0] and server.count("/status/502") == 5


def test_503_twice_then_200_recovers(server: MockServer, archive: Archive, fake: FakeTime):
    with fetcher(archive, fake, backoff=0.0) as f:
        page = get(f, server, "/status/503?fail=2")
    assert page.status == 200 and page.body == OK_PAGE
    assert server.count("/status/503") == 3 and server.statuses("/status/503") == [503, 503, 200]


@pytest.mark.parametrize("code", [408, 429, 502, 504])
def test_every_temporary_status_is_retried(server: MockServer, fake: FakeTime, code: int):
    with fetcher(None, fake, retries=1, backoff=0.0) as f:
        assert get(f, server, f"/status/{code}?fail=1").status == 200
    assert server.count(f"/status/{code}") == 2


@pytest.mark.parametrize("code", [400, 403, 404, 410])
def test_a_client_error_is_not_retried_and_needs_a_person(server: MockServer, fake: FakeTime, code: int):
    with fetcher(None, fake) as f, pytest.raises(NeedsPerson, match=f"HTTP {code}"):
        get(f, server, f"/status/{code}")
    assert server.count(f"/status/{code}") == 1


def test_429_waits_as_long_as_retry_after_says(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, backoff=1.0) as f:
        assert get(f, server, "/too-many?after=7&fail=1").status == 200
    assert fake.waits == [7.0] and server.count("/too-many") == 2


def test_429_with_an_http_date_retry_after(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, backoff=1.0) as f:
        assert get(f, server, "/too-many?after=date30&fail=1").status == 200
    [wait] = fake.waits
    assert 27 <= wait <= 31 and server.count("/too-many") == 2


def test_429_always_gives_up_after_the_retries(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, retries=2) as f, pytest.raises(Temporary, match="HTTP 429"):
        get(f, server, "/too-many?after=1")
    assert fake.waits == [1.0, 1.0] and server.count("/too-many") == 3


def test_a_retry_after_over_the_cap_gives_up_at_once(server: MockServer, fake: FakeTime):
    with fetcher(None, fake) as f, pytest.raises(Temporary, match="over the 120 s cap"):
        get(f, server, "/too-many?after=3600")
    assert server.count("/too-many") == 1 and fake.waits == []


def test_retry_after_values() -> None:
    now = datetime(2026, 11, 20, 2, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Fri, 20 Nov 2026 02:01:30 GMT", now) == 90.0
    assert retry_after_seconds("Fri, 20 Nov 2026 01:00:00 GMT", now) == 0.0  # already past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
    assert retry_after_seconds("-5", now) is None


# -- connections that go wrong ---------------------------------------------------------------------------------------
def test_an_answer_slower_than_the_timeout(server: MockServer, fake: FakeTime):
    started = time.monotonic()
    with fetcher(None, fake, timeout=0.15, retries=1, backoff=0.0) as f, pytest.raises(Temporary, match="Timeout"):
        get(f, server, "/slow?seconds=2")
    assert server.count("/slow") == 2 and time.monotonic() - started < 1.5


@pytest.mark.parametrize("target", ["/trickle?every=0.05&bytes=1000", "/trickle?every=0.05&headers=1&bytes=10"],
                         ids=["body", "headers"])
def test_a_trickled_answer_fails_within_the_deadline(server: MockServer, fake: FakeTime, target: str):
    # A byte every 0.05 s never lets a read wait 0.5 s: only a deadline on the whole request ends it
    # (the body would take 50 s, the headers about 14 s).
    started = time.monotonic()
    with fetcher(None, fake, timeout=0.5, retries=1, backoff=0.0) as f, \
            pytest.raises(Temporary, match=r"no whole answer within 0.5 s.*2 attempts"):
        get(f, server, target)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 2.5  # two attempts of 0.5 s each, and not much more
    assert server.count("/trickle") == 2
    assert server.sent() < 40  # the body was cut off far from its end


def test_a_trickle_that_ends_within_the_deadline_is_an_answer(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, timeout=3.0, retries=0) as f:
        page = get(f, server, "/trickle?every=0.01&bytes=20")
    assert page.body == b"x" * 20 and server.count("/trickle") == 1


def test_the_deadline_is_per_request_not_per_fetcher(server: MockServer, fake: FakeTime):
    # Three answers of 0.3 s each under a 0.5 s timeout: each request has its own deadline.
    with fetcher(None, fake, timeout=0.5, retries=0) as f:
        for _ in range(3):
            assert get(f, server, "/slow?seconds=0.3").body == OK_PAGE
    assert server.count("/slow") == 3


def test_a_slow_answer_then_a_quick_one_recovers(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, timeout=0.15, retries=1, backoff=0.0) as f:
        assert get(f, server, "/slow?seconds=2&fail=1").body == OK_PAGE
    assert server.count("/slow") == 2


def test_a_body_cut_short_of_its_content_length(server: MockServer, archive: Archive, fake: FakeTime):
    with fetcher(archive, fake, retries=2, backoff=0.0) as f, pytest.raises(Temporary) as caught:
        get(f, server, "/truncated")
    assert server.count("/truncated") == 3
    assert "RemoteProtocolError" in caught.value.reason
    assert not [r for r in archive.rows() if "truncated" in r.url]  # half a page is never archived


def test_a_connection_reset(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, retries=2, backoff=0.0) as f, pytest.raises(Temporary):
        get(f, server, "/reset")
    assert server.count("/reset") == 3 and server.statuses("/reset") == [None, None, None]


def test_a_reset_then_an_answer_recovers(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, retries=2, backoff=0.0) as f:
        assert get(f, server, "/reset?fail=1").status == 200
    assert server.count("/reset") == 2


def test_a_200_mb_body_with_its_length_declared_is_refused_unread(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, max_bytes=1_000_000) as f, pytest.raises(NeedsPerson, match="over the 1000000-byte cap"):
        get(f, server, "/huge")
    assert server.count("/huge") == 1 and f.bytes == len(b"not found")  # robots.txt's 404 only
    assert server.wait_done() and server.log[-1].sent < HUGE_BYTES


def test_a_200_mb_stream_is_cut_at_the_cap_while_streaming(server: MockServer, fake: FakeTime):
    started = time.monotonic()
    with fetcher(None, fake, max_bytes=1_000_000) as f, pytest.raises(NeedsPerson, match="body is over the"):
        get(f, server, "/huge?chunked=1")
    assert server.count("/huge") == 1 and time.monotonic() - started < 5
    assert server.wait_done() and server.log[-1].sent < HUGE_BYTES // 10  # the server was stopped early


# -- redirects ----------------------------------------------------------------------------------------------------------
def test_a_redirect_within_the_site_is_followed_and_archived(server: MockServer, archive: Archive, fake: FakeTime):
    with fetcher(archive, fake) as f:
        page = get(f, server, "/redirect")
    assert page.url == server.url("/ok") and page.body == OK_PAGE
    assert server.count("/redirect") == 1 and server.count("/ok") == 1
    hop = next(r for r in archive.rows() if r.url == server.url("/redirect"))
    assert (hop.status, hop.location, hop.sha256) == (301, server.url("/ok"), None)


def test_an_endless_redirect_loop_stops_at_the_limit(server: MockServer, fake: FakeTime):
    with fetcher(None, fake) as f, pytest.raises(NeedsPerson, match=f"more than {settings.MAX_REDIRECTS} redirects"):
        get(f, server, "/loop/0")
    assert server.count("/loop/") == settings.MAX_REDIRECTS + 1


def test_a_redirect_to_another_host_is_not_followed(server: MockServer, fake: FakeTime):
    with fetcher(None, fake) as f, pytest.raises(NeedsPerson, match="off the source's site") as caught:
        get(f, server, "/offsite")
    assert f"http://localhost:{server.port}/ok" in caught.value.reason
    assert server.count("/offsite") == 1 and server.count("/ok") == 0
    assert all(not entry.headers["host"].startswith("localhost") for entry in server.log)


def test_a_start_url_off_the_site_is_refused_without_a_request(server: MockServer, fake: FakeTime):
    with fetcher(None, fake) as f, pytest.raises(NeedsPerson, match="outside the source's site"):
        f.get(server.url("/ok"), ("http", "example.org", 80))
    assert server.count() == 0


# -- odd bodies -----------------------------------------------------------------------------------------------------------
def test_an_empty_200_is_a_page_with_no_body(server: MockServer, fake: FakeTime):
    with fetcher(None, fake) as f:
        page = get(f, server, "/empty")
    assert (page.status, page.body, page.text) == (200, b"", "") and server.count("/empty") == 1


def test_random_bytes_served_as_html_decode_without_error(server: MockServer, fake: FakeTime):
    with fetcher(None, fake) as f:
        page = get(f, server, "/garbage")
    assert page.status == 200 and len(page.body) == 8192 and isinstance(page.text, str)
    assert server.count("/garbage") == 1


# -- robots.txt -----------------------------------------------------------------------------------------------------------
def test_robots_txt_is_fetched_once_per_site_and_obeyed(server: MockServer, archive: Archive, fake: FakeTime):
    server.robots = (200, "User-agent: *\nDisallow: /private/\n")
    with fetcher(archive, fake) as f:
        with pytest.raises(NeedsPerson, match="robots.txt forbids"):
            get(f, server, "/private/page")
        assert get(f, server, "/ok").status == 200
        with pytest.raises(NeedsPerson, match="robots.txt forbids"):
            get(f, server, "/private/other")
    assert server.count("/robots.txt") == 1 and server.count("/private") == 0 and server.count("/ok") == 1
    assert any(r.url == server.url("/robots.txt") and r.status == 200 for r in archive.rows())


def test_robots_txt_rules_for_reposync_by_name(server: MockServer, fake: FakeTime):
    server.robots = (200, "User-agent: reposync\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    assert robots_token(UA) == "reposync"
    with fetcher(None, fake) as f, pytest.raises(NeedsPerson, match="robots.txt forbids"):
        get(f, server, "/ok")
    assert server.count("/ok") == 0


def test_robots_txt_is_not_asked_again_in_a_new_run_object_only(server: MockServer, fake: FakeTime):
    """Once per run: a new fetcher (the next night) asks again."""
    for _night in range(2):
        with fetcher(None, fake) as f:
            get(f, server, "/ok")
            get(f, server, "/ok")
    assert server.count("/robots.txt") == 2 and server.count("/ok") == 4


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_robots_txt_unavailable_means_allow_all(server: MockServer, fake: FakeTime, status: int):
    server.robots = (status, "Disallow: /")  # the body of an error is not rules
    with fetcher(None, fake) as f:
        assert get(f, server, "/ok").status == 200
    assert server.count("/robots.txt") == 1


def test_robots_txt_5xx_fails_the_site_as_temporary(server: MockServer, fake: FakeTime):
    server.robots = (503, "down")
    with fetcher(None, fake, retries=2, backoff=0.0) as f:
        for _ in range(2):
            with pytest.raises(Temporary, match="robots.txt could not be read: HTTP 503") as caught:
                get(f, server, "/ok")
            assert caught.value.url == server.url("/robots.txt")
    assert server.count("/robots.txt") == 3  # retried once per run, then remembered
    assert server.count("/ok") == 0


def test_robots_txt_crawl_delay_applies_on_top_of_a_shorter_delay(server: MockServer, fake: FakeTime):
    server.robots = (200, "User-agent: *\nCrawl-delay: 3\n")
    with fetcher(None, fake, delay=1.0) as f:
        get(f, server, "/ok")
        get(f, server, "/redirect")  # two requests: /redirect, then /ok
    assert fake.waits == [3.0, 3.0, 3.0]  # before /ok, /redirect, /ok: robots' 3 s beats our 1 s
    assert f.delay_for("127.0.0.1") == 3.0


def test_a_longer_configured_delay_wins_over_crawl_delay(server: MockServer, fake: FakeTime):
    server.robots = (200, "User-agent: *\nCrawl-delay: 2\n")
    with fetcher(None, fake, delay=5.0) as f:
        get(f, server, "/ok")
        get(f, server, "/ok")
    assert fake.waits == [5.0, 5.0]


def test_the_delay_counts_from_the_end_of_the_last_answer(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, delay=2.0) as f:
        get(f, server, "/ok")  # robots.txt (404), then /ok after 2 s
        fake.now += 1.5  # the parser took 1.5 s
        get(f, server, "/ok")
    assert fake.waits == [2.0, 0.5]


def test_the_delay_is_per_host(server: MockServer, fake: FakeTime):
    with fetcher(None, fake, delay=2.0) as f:
        get(f, server, "/ok")
        other = f"http://localhost:{server.port}/ok"
        f.get(other, site_of(other))  # another host: its own robots.txt and its own clock
    assert fake.waits == [2.0, 2.0]  # 127.0.0.1: robots then /ok; localhost: robots then /ok
    assert server.count("/robots.txt") == 2


# -- conditional GET -----------------------------------------------------------------------------------------------------
def test_a_conditional_get_gets_a_304_that_stands_for_the_stored_body(server: MockServer, archive: Archive,
                                                                      fake: FakeTime):
    last_modified = "Wed, 03 Jul 2024 09:14:52 GMT"
    server.pages["/page"] = Resource(b"<p>version one</p>", etag='"v1"', last_modified=last_modified)
    with fetcher(archive, fake) as f:
        first = get(f, server, "/page")
        bytes_after_first = f.bytes
        second = get(f, server, "/page")
    assert "if-none-match" not in server.log[1].headers
    assert server.log[-1].headers["if-none-match"] == '"v1"'
    assert server.log[-1].headers["if-modified-since"] == last_modified
    assert server.statuses("/page") == [200, 304]
    assert (first.status, first.not_modified) == (200, False)
    assert (second.status, second.not_modified, second.body, second.sha256) == (304, True, first.body, first.sha256)
    assert f.bytes == bytes_after_first and f.not_modified == 1
    rows = [r for r in archive.rows() if r.url == server.url("/page")]
    assert [(r.status, r.sha256, r.bytes, r.etag) for r in rows] == [
        (200, first.sha256, 18, '"v1"'), (304, first.sha256, 0, '"v1"')]
    assert len(list(archive.objects.iterdir())) == 1  # an unchanged page adds no file

    server.pages["/page"] = Resource(b"<p>version two</p>", etag='"v2"')
    with fetcher(archive, fake) as f:
        third = get(f, server, "/page")
    assert server.log[-1].headers["if-none-match"] == '"v1"'  # the validators of the last fetch, a 304
    assert third.status == 200 and third.body == b"<p>version two</p>" and not third.not_modified


def test_last_modified_alone_is_sent_as_if_modified_since(server: MockServer, archive: Archive, fake: FakeTime):
    server.pages["/dated"] = Resource(b"<p>dated</p>", last_modified="Wed, 03 Jul 2024 09:14:52 GMT")
    with fetcher(archive, fake) as f:
        get(f, server, "/dated")
        assert get(f, server, "/dated").not_modified
    assert "if-none-match" not in server.log[-1].headers and server.statuses("/dated") == [200, 304]


def test_no_validators_no_conditional_get(server: MockServer, archive: Archive, fake: FakeTime):
    with fetcher(archive, fake) as f:
        get(f, server, "/ok")  # /ok serves no ETag or Last-Modified
        get(f, server, "/ok")
    assert server.statuses("/ok") == [200, 200] and len(list(archive.objects.iterdir())) == 1


def test_a_damaged_stored_body_is_not_relied_on(server: MockServer, archive: Archive, fake: FakeTime):
    server.pages["/page"] = Resource(b"<p>version one</p>", etag='"v1"')
    with fetcher(archive, fake) as f:
        first = get(f, server, "/page")
    (archive.objects / first.sha256).write_bytes(b"<p>vers")  # someone's half-copied file
    with fetcher(archive, fake) as f:
        again = get(f, server, "/page")
    assert "if-none-match" not in server.log[-1].headers and again.status == 200
    assert archive.body(first.sha256) == b"<p>version one</p>"  # and the good bytes replace it


def test_an_unasked_for_304_needs_a_person(server: MockServer, fake: FakeTime):
    with fetcher(None, fake) as f, pytest.raises(NeedsPerson, match="304 to a request that sent no validators"):
        get(f, server, "/status/304")
    assert server.count("/status/304") == 1


# -- offline ---------------------------------------------------------------------------------------------------------------
def test_offline_replays_with_no_robots_no_delay_and_no_writes(server: MockServer, archive: Archive, fake: FakeTime):
    url = server.url("/page")
    archive.add(url, b"<p>archived</p>", etag='"v1"')
    before = archive.manifest.read_bytes()
    crawl = Crawl(delay=30.0, timeout=0.5, user_agent=UA)
    with Fetcher(crawl, transport=ReplayTransport(archive), offline=True, sleep=fake.sleep, clock=fake.clock) as f:
        first = f.get(url, site_of(url))
        second = f.get(url, site_of(url))
        with pytest.raises(NeedsPerson, match="no usable snapshot"):
            f.get(server.url("/never"), site_of(url))
    assert first.body == second.body == b"<p>archived</p>" and not second.not_modified
    assert server.count() == 0 and fake.waits == [] and f.requests == 3
    assert archive.manifest.read_bytes() == before
