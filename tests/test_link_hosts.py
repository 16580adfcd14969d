"""Report links asked host by host (issue 23): each host's links through its own worker, paced with its pages,
hosts at once; and each link's own day of the week, so a steady night asks about a seventh of them.

Live tests run against real loopback servers, one per host (127.0.3.x: Linux answers on all of 127.0.0.0/8, and
a crawler paces by host name). Times are asserted only with generous bounds; the pacing itself is checked on a
fake clock, and on the servers' own arrival times (a gap can only be longer than the pause, never shorter).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from conftest import fake_time, local_source, loopback_config
from mockserver import MockServer, Resource
from reposync.catalogue import open_db
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.crawl import linkcheck, linkhosts
from reposync.crawl.fetch import Fetcher
from reposync.reports import night as report
from reposync.sync import run_sync

PDF = b"%PDF-1.4 synthetic report\n"
UA = "reposync/0.1 (+https://github.com/reposync/reposync; link host tests)"
LOOPBACK = iter(range(10, 250))  # 127.0.3.x addresses handed out to this module's servers
NAMES = ("child-ya", "child-yb", "child-yc")


def page(names: tuple[str, ...] = NAMES) -> bytes:
    """A synthetic partnership page whose entries link reports on its own site."""
    items = "".join(f'<li><a href="/reports/{name}.pdf">{name.replace("-", " ").title()}</a> (published 2019)</li>'
                    for name in names)
    return (f"<!DOCTYPE html><html><head><title>Reviews</title></head><body><h1>Safeguarding Practice Reviews</h1>"
            f"<ul class=\"reviews\">{items}</ul></body></html>").encode()


class Arrivals:
    """When each request reached a server, and how many were being answered at once across them all."""

    def __init__(self, answer_in: float = 0.0) -> None:
        self.answer_in = answer_in  # every answer waits this long: a slow host
        self.times: dict[str, list[tuple[float, str]]] = {}
        self.now = self.most = 0
        self.lock = threading.Lock()

    def gate(self, host: str, what: str):
        def before() -> None:
            with self.lock:
                self.times.setdefault(host, []).append((time.monotonic(), what))
                self.now += 1
                self.most = max(self.most, self.now)
            time.sleep(self.answer_in)
            with self.lock:
                self.now -= 1
        return before


pytestmark = pytest.mark.usefixtures("no_backoff")  # retries at once


@pytest.fixture
def servers(request: pytest.FixtureRequest) -> Iterator[list[MockServer]]:
    made = [MockServer(f"127.0.3.{next(LOOPBACK)}").start() for _ in range(request.param)]
    yield made
    for server in made:
        server.stop()


def serve(servers: list[MockServer], arrivals: Arrivals, robots: dict[int, str] | None = None) -> None:
    for n, server in enumerate(servers):
        server.robots = (200, (robots or {}).get(n, "User-agent: *\nDisallow: /private/\n"))
        server.pages["/reviews"] = Resource(page(), before=arrivals.gate(server.host, "page"))
        for name in NAMES:
            server.pages[f"/reports/{name}.pdf"] = Resource(PDF, content_type="application/pdf",
                                                            before=arrivals.gate(server.host, name))


def write_config(folder: Path, servers: list[MockServer], documents: dict | None = None, **crawl: object) -> Path:
    # [documents] fetch off unless given: the links alone (a host's documents and links together: the test below
    # test_a_hosts_documents_then_its_links_go_through_its_own_worker_paced_with_its_pages)
    return loopback_config(folder, *(local_source(f"p{n}", server.url("/reviews")) for n, server in enumerate(servers)),
                           crawl={"timeout": 5.0, "retries": 1, "user_agent": UA, **crawl},
                           documents=documents or {"fetch": False})


def statuses(db_path: Path) -> Counter[str]:
    db = sqlite_utils.Database(db_path)
    try:
        return Counter(row["link_status"] for row in db.query("SELECT link_status FROM entries"))
    finally:
        db.close()


# -- hosts at once --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("servers", [4], indirect=True)
def test_links_check_asks_slow_hosts_at_once_each_one_link_at_a_time(servers: list[MockServer],
                                                                     tmp_path: Path) -> None:
    arrivals = Arrivals()
    serve(servers, arrivals)
    config = write_config(tmp_path / "config", servers, check_links_days=0, max_hosts=4)
    run_sync(load_config(config))  # no link asked: check_links_days 0 leaves them to `links check`
    assert statuses(tmp_path / "catalogue.db") == {None: 12}
    arrivals.answer_in, arrivals.times = 0.4, {}  # each host now takes 0.4 s an answer
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config)])
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert "12 report links: 12 ok; 16 requests" in result.output  # robots.txt and three links a host
    assert statuses(tmp_path / "catalogue.db") == {"ok": 12}
    # One host after another would take 12 x 0.4 = 4.8 s of answers; four at once, about 1.2 s.
    assert took < 0.6 * 4.8, took
    assert arrivals.most == 4  # every host at once ...
    for server in servers:  # ... each asked one request at a time
        assert [what for _, what in arrivals.times[server.host]] == list(NAMES)
        ends = [when for when, _ in arrivals.times[server.host]]
        assert all(b - a >= 0.4 for a, b in zip(ends, ends[1:]))


@pytest.mark.parametrize("servers", [3], indirect=True)
def test_a_sync_asks_each_hosts_links_right_after_its_walk_hosts_at_once(servers: list[MockServer],
                                                                         tmp_path: Path) -> None:
    arrivals = Arrivals(answer_in=0.3)
    serve(servers, arrivals)
    config = load_config(write_config(tmp_path / "config", servers, max_hosts=3))
    started = time.monotonic()
    result = run_sync(config)
    took = time.monotonic() - started
    assert result.exit_code == 0 and statuses(tmp_path / "catalogue.db") == {"ok": 9}
    assert result.requests == 3 * (1 + 1 + 3)  # robots.txt, the page, three links: a host's one robots.txt
    # One host after another: 3 x 4 answers of 0.3 s = 3.6 s; at once, about 1.2 s and the sync's own work.
    assert took < 0.75 * 3.6, took
    assert arrivals.most == 3
    for server in servers:
        assert [what for _, what in arrivals.times[server.host]] == ["page", *NAMES]
    # The night's report says what was asked.
    assert result.report["report_links"] == {"asked": {"ok": 9}, "not_checked": {}}
    assert "## Report links checked\n\n9 asked: 9 ok" in report.render_md(result.report)


# -- paced with the host's pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("servers", [1], indirect=True)
def test_a_hosts_links_keep_the_pause_after_its_pages_on_a_fake_clock(servers: list[MockServer],
                                                                      tmp_path: Path) -> None:
    arrivals = Arrivals()
    serve(servers, arrivals, robots={0: "User-agent: *\nCrawl-delay: 7\n"})
    config = load_config(write_config(tmp_path / "config", servers, delay=2.0))
    source = config.sources[0]
    slept, sleep, clock = fake_time()
    queue = linkhosts.HostLinks(config)
    with Fetcher(config.crawl, sleep=sleep, clock=clock) as fetcher:
        fetcher.get(source.url, source.site)  # the walk: robots.txt, then its page
        queue.add(linkcheck.Link(f"p0:{name}", "p0", servers[0].url(f"/reports/{name}.pdf")) for name in NAMES)
        queue.ask(servers[0].host, fetcher, threading.Event())
    assert [v.status for v in queue.verdicts] == ["ok"] * 3
    # robots.txt's Crawl-delay (7 s, over our 2 s) before the page and before each link: the links go on
    # from the walk's last answer, not from a fresh start.
    assert slept == [7.0, 7.0, 7.0, 7.0]
    assert [e.target for e in servers[0].log] == ["/robots.txt", "/reviews", *[f"/reports/{n}.pdf" for n in NAMES]]


@pytest.mark.parametrize("servers", [2], indirect=True)
def test_a_syncs_checks_keep_each_hosts_pause_interleaved_with_the_other_hosts(servers: list[MockServer],
                                                                               tmp_path: Path) -> None:
    arrivals = Arrivals()
    serve(servers, arrivals, robots={0: "User-agent: *\nCrawl-delay: 0.6\n"})
    config = load_config(write_config(tmp_path / "config", servers, delay=0.25, max_hosts=2))
    result = run_sync(config)
    assert result.exit_code == 0 and statuses(tmp_path / "catalogue.db") == {"ok": 6}
    pauses = {servers[0].host: 0.6, servers[1].host: 0.25}
    for host, pause in pauses.items():
        when = [t for t, _ in arrivals.times[host]]
        assert [what for _, what in arrivals.times[host]] == ["page", *NAMES]
        assert all(b - a >= pause for a, b in zip(when, when[1:])), (host, when)  # never closer than its pause
        assert when[1] - when[0] < pause + 1.0  # its first link right after its page, not after every walk
    # The fast host's links are asked while the slow one waits out its pauses.
    slow, fast = (arrivals.times[s.host] for s in servers)
    assert fast[-1][0] < slow[-1][0] and fast[1][0] < slow[2][0]


@pytest.mark.parametrize("servers", [2], indirect=True)
def test_a_hosts_documents_then_its_links_go_through_its_own_worker_paced_with_its_pages(
        servers: list[MockServer], tmp_path: Path) -> None:
    arrivals = Arrivals()
    serve(servers, arrivals, robots={0: "User-agent: *\nCrawl-delay: 0.6\n"})
    slow, fast = servers
    # Each page also links a report that is a web page, not a document: its link is asked (HEAD) after the
    # documents (GET), which answer for their own links.
    for server in servers:
        server.pages["/reviews"] = Resource(server.pages["/reviews"].body.replace(
            b"</ul>", b'<li><a href="/reports/child-yd">Child YD</a> (published 2019)</li></ul>'),
            before=arrivals.gate(server.host, "page"))
        server.pages["/reports/child-yd"] = Resource(b"<p>Child YD</p>", before=arrivals.gate(server.host, "web"))
    # The fast host's page also links a report on the slow host, a host [documents] hosts names: fetched
    # after every walk by the slow host's own worker, its pause carried from its walk.
    fast.pages["/reviews"] = Resource(fast.pages["/reviews"].body.replace(
        b"</ul>", f'<li><a href="{slow.url("/shared/child-yz.pdf")}">Child YZ</a> (published 2019)</li></ul>'.encode()),
        before=arrivals.gate(fast.host, "page"))
    slow.pages["/shared/child-yz.pdf"] = Resource(PDF, content_type="application/pdf",
                                                  before=arrivals.gate(slow.host, "shared"))
    config = load_config(write_config(tmp_path / "config", servers, delay=0.25, max_hosts=2,
                                      documents={"fetch": True, "hosts": [slow.host]}))
    result = run_sync(config)
    assert result.exit_code == 0 and result.report["report_links"]["asked"] == {"ok": 8}
    assert result.report["documents"] == {"error": 7}  # synthetic PDFs that do not read: fetched all the same
    for server, pause in ((slow, 0.6), (fast, 0.25)):
        when = [t for t, _ in arrivals.times[server.host]]
        # its page, its own documents (GET), then its links (HEAD): one worker, one request at a time; a
        # document fetched tonight answers for its link, which is not asked again
        assert [what for _, what in arrivals.times[server.host]][:5] == ["page", *NAMES, "web"], server.host
        assert [server.methods(f"/reports/{n}.pdf") for n in NAMES] == [["GET"]] * 3
        assert server.methods("/reports/child-yd") == ["HEAD"]
        assert all(b - a >= pause for a, b in zip(when, when[1:])), (server.host, when)  # never under its pause
    # The shared document came last on the slow host, after its links, at its pace; the fast host's links
    # were asked while the slow host was still walking.
    assert [what for _, what in arrivals.times[slow.host]][-1] == "shared"
    assert slow.methods("/shared/child-yz.pdf") == ["GET"]
    assert arrivals.times[fast.host][-1][0] < arrivals.times[slow.host][4][0]
    assert result.requests == 2 * (1 + 1 + 3 + 1) + 1  # robots.txt, the page, documents, a web link; the shared one


@pytest.mark.parametrize("servers", [1], indirect=True)
def test_a_document_fetched_tonight_answers_for_its_link_moved_or_not_and_a_failed_one_is_asked(
        servers: list[MockServer], tmp_path: Path) -> None:
    arrivals = Arrivals()
    serve(servers, arrivals)
    server = servers[0]
    server.moved["/reports/child-yb.pdf"] = "/archive/child-yb.pdf"  # moved within the site: the fetch follows
    server.pages["/archive/child-yb.pdf"] = Resource(PDF, content_type="application/pdf")
    server.pages["/reports/child-yc.pdf"] = Resource(b"gone", status=404)  # no body: its link is asked itself
    config = load_config(write_config(tmp_path / "config", servers, documents={"fetch": True}))
    result = run_sync(config)
    assert result.report["report_links"]["asked"] == {"ok": 1, "moved": 1, "gone": 1}
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    found = {row["id"].split(":")[-1]: (row["link_status"], row["link_detail"])
             for row in db.query("SELECT id, link_status, link_detail FROM entries")}
    db.close()
    assert found == {"child-ya": ("ok", None), "child-yb": ("moved", server.url("/archive/child-yb.pdf")),
                     "child-yc": ("gone", "HTTP 404")}
    # the failed one: its document's GET, then the link's own check (HEAD, and a GET of one byte after a 4xx)
    assert [server.methods(f"/reports/{n}.pdf") for n in NAMES] == [["GET"], ["GET"], ["GET", "HEAD", "GET"]]


@pytest.mark.parametrize("servers", [1], indirect=True)
def test_a_person_watching_sees_each_hosts_documents_then_its_links_asked(servers: list[MockServer],
                                                                        tmp_path: Path) -> None:
    from reposync.crawl.hosts import Watcher

    class Seen(Watcher):
        def __init__(self) -> None:
            self.asked: list[tuple[str, str, int, int]] = []

        def asking(self, host: str, what: str, done: int, total: int) -> None:
            self.asked.append((host, what, done, total))

    arrivals = Arrivals()
    serve(servers, arrivals)
    server = servers[0]
    server.pages["/reviews"] = Resource(server.pages["/reviews"].body.replace(
        b"</ul>", b'<li><a href="/reports/child-yd">Child YD</a> (published 2019)</li></ul>'))
    server.pages["/reports/child-yd"] = Resource(b"<p>Child YD</p>")
    seen = Seen()
    result = run_sync(load_config(write_config(tmp_path / "config", servers, documents={"fetch": True})),
                      watcher=seen)
    assert result.exit_code == 0
    host = server.host
    # its three documents, then its four links (three answered by their documents, one asked: all counted)
    assert seen.asked == [(host, "documents", n, 3) for n in (1, 2, 3)] + [(host, "links", n, 4) for n in (1, 2, 3, 4)]


# -- each link's own day ----------------------------------------------------------------------------------------------
def test_a_links_day_is_fixed_by_its_url_and_spreads_the_links_over_the_week() -> None:
    urls = [f"https://partnership{n}.example.org/reports/review-{n}.pdf" for n in range(700)]
    days = [linkcheck.recheck_day(url, 7) for url in urls]
    assert days == [linkcheck.recheck_day(url, 7) for url in urls]  # stable: the URL decides
    assert set(Counter(days)) == set(range(7)) and all(70 <= n <= 130 for n in Counter(days).values())


def test_fourteen_nights_on_a_fake_clock_ask_each_link_once_a_week_about_a_seventh_a_night(tmp_path: Path) -> None:
    db = open_db(tmp_path / "catalogue.db")
    total = 350
    db["entries"].insert_all({"id": f"p:{n}", "source": "p", "title": f"Child {n}", "status": "listed",
                              "report_url": f"https://p.example.org/reports/child-{n}.pdf"} for n in range(total))
    first = datetime(2026, 12, 7, 2, 10, tzinfo=timezone.utc)  # a first night, at ten past two
    asked: dict[int, list[str]] = {}
    for night in range(15):
        now = first + timedelta(days=night, minutes=(night * 7) % 40)  # cron starts a few minutes apart
        due, not_due = linkcheck.scheduled_links(db, ["p"], 7, now)
        assert len(due) + len(not_due) == total
        asked[night] = [link.entry_id for link in due]
        linkcheck.record(db, night + 1, [linkcheck.Verdict(link, "ok", None, now.isoformat(timespec="seconds"))
                                         for link in due])
    db.close()
    assert len(asked[0]) == total  # the first night: never checked, all due
    for night in range(1, 15):  # then about a seventh a night (350 / 7 = 50)
        assert 25 <= len(asked[night]) <= 75, (night, len(asked[night]))
    for start in (1, 8):  # every link once in each week after the first night, on the same weekday
        week = Counter(entry for night in range(start, start + 7) for entry in asked[night])
        assert set(week) == {f"p:{n}" for n in range(total)} and set(week.values()) == {1}
    assert all(set(asked[night]) == set(asked[night + 7]) for night in range(1, 8))


def test_a_night_without_a_sync_leaves_its_links_due_the_next_night_then_back_on_their_day(tmp_path: Path) -> None:
    db = open_db(tmp_path / "catalogue.db")
    db["entries"].insert_all({"id": f"p:{n}", "source": "p", "title": f"Child {n}", "status": "listed",
                              "report_url": f"https://p.example.org/reports/child-{n}.pdf"} for n in range(140))
    first = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
    asked: dict[int, set[str]] = {}
    for night in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12):  # no sync on night 4
        now = first + timedelta(days=night)
        due, _ = linkcheck.scheduled_links(db, ["p"], 7, now)
        asked[night] = {link.entry_id for link in due}
        linkcheck.record(db, night + 1, [linkcheck.Verdict(link, "ok", None, now.isoformat()) for link in due])
    db.close()
    day = linkcheck.recheck_day
    missed = {f"p:{n}" for n in range(140)
              if day(f"https://p.example.org/reports/child-{n}.pdf", 7) == (first.toordinal() + 4) % 7}
    assert missed and missed <= asked[5]  # caught up the next night ...
    assert not missed & set().union(*(asked[night] for night in (6, 7, 8, 9, 10, 12)))
    assert missed <= asked[11]  # ... and back on their own day, a week after the night missed


@pytest.mark.parametrize("servers", [1], indirect=True)
def test_a_link_check_run_reports_the_links_it_did_not_ask_and_why(servers: list[MockServer], tmp_path: Path) -> None:
    arrivals = Arrivals()
    serve(servers, arrivals)
    server = servers[0]
    names = (*NAMES, "child-yd")  # one more, behind robots.txt
    server.pages["/reviews"] = Resource(page(names).replace(b"/reports/child-yd", b"/private/child-yd")
                                        .replace(b"</ul>", b'<li><a href="https://cdn.example.net/x.pdf">Child YE</a>'
                                                          b" (published 2019)</li></ul>"))
    config = write_config(tmp_path / "config", servers)
    first = run_sync(load_config(config))  # a first night: every link due
    assert first.report["report_links"] == {"asked": {"ok": 3}, "not_checked": {"off-site": 1, "robots": 1}}
    server.reset_counts()
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config)])  # by hand: what is due
    assert result.exit_code == 0, result.output
    assert "nothing to check; 0 requests" in result.output and "not-checked (not due): 5" in result.output
    assert server.count() == 0
    db = open_db(tmp_path / "catalogue.db")
    try:
        run_id = db.execute("SELECT max(id) FROM runs WHERE mode = 'link-check'").fetchone()[0]
        built = report.build(db, run_id)
    finally:
        db.close()
    assert built["report_links"] == {"asked": {}, "not_checked": {"not due": 5}}
    assert "0 asked; 5 not checked: 5 not due" in report.render_md(built)
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config), "--all"])
    assert "5 report links: 3 ok, 2 not-checked; 4 requests" in result.output  # robots.txt and three links
