"""Report-link health against the loopback server: a PDF that starts answering 404 (and comes back), a
redirect within the site, a robots-disallowed path, a server that refuses HEAD, off-site links; statuses kept
across syncs, change rows, the night's report and the "Dead report links" query."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from conftest import FIXTURES, ROOT, fake_time, local_source, loopback_config
from mockserver import MockServer, Resource
from reposync.reports import night as report
from reposync.catalogue import migrations, open_db
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.sync import run_sync

pytestmark = pytest.mark.usefixtures("no_backoff")  # retries at once

PAGE = (FIXTURES / "linkcheck" / "partnership.html").read_text(encoding="utf-8")  # synthetic
PDF = b"%PDF-1.4 synthetic report\n" + b"x" * 2000
UA = "reposync/0.1 (+https://github.com/reposync/reposync; link tests)"


@pytest.fixture
def site() -> Iterator[MockServer]:
    mock = MockServer().start()
    mock.pages["/partnership"] = Resource(PAGE.replace("PORT", str(mock.port)).encode())
    for name in ("child-xa", "baby-xb", "child-xc", "child-xd", "child-xe", "child-xg", "child-xh"):
        mock.pages[f"/reports/{name}.pdf"] = Resource(PDF, content_type="application/pdf")
    mock.moved["/reports/child-xc-old.pdf"] = "/reports/child-xc.pdf"  # within the site
    mock.moved["/reports/child-xh.pdf"] = f"http://elsewhere.invalid:{mock.port}/reports/child-xa.pdf"  # another host
    mock.no_head.add("/reports/child-xe.pdf")
    mock.robots = (200, "User-agent: *\nDisallow: /private/\n")
    yield mock
    mock.stop()

def write_config(tmp_path: Path, site: MockServer, **crawl: object) -> Path:
    crawl = {"retries": 1, "user_agent": UA, "check_links_hosts": [f"localhost:{site.port}"], **crawl}
    # documents={"fetch": False}: the check alone; a sync's documents are tests/test_documents_sync.py
    return loopback_config(tmp_path / "config", local_source("synthetic", site.url("/partnership")), crawl=crawl,
                           documents={"fetch": False})


def links(tmp_path: Path) -> dict[str, tuple[str | None, str | None]]:
    """Title -> (link_status, link_detail)."""
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    try:
        return {row["title"]: (row["link_status"], row["link_detail"])
                for row in db.query("SELECT title, link_status, link_detail FROM entries")}
    finally:
        db.close()


def changes(tmp_path: Path, kind: str) -> list[dict]:
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    try:
        return list(db.query("SELECT c.*, e.title FROM changes c JOIN entries e ON e.id = c.entry_id "
                             "WHERE c.kind = ? ORDER BY c.id", [kind]))
    finally:
        db.close()


def test_a_sync_checks_each_report_link_by_the_crawl_rules(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site)
    result = run_sync(load_config(config))
    assert result.exit_code == 0
    port = site.port
    assert links(tmp_path) == {
        "Child XA": ("ok", None),
        "Baby XB": ("ok", None),
        "Child XC": ("moved", site.url("/reports/child-xc.pdf")),
        "Child XD": ("not-checked", "robots"),
        "Child XE": ("ok", None),
        "Child XF": ("not-checked", "off-site: https://cdn.example.net:443 is neither its source's site nor a "
                                    "host [crawl] check_links_hosts names"),
        "Child XG": ("ok", None),
        "Child XH": ("error", f"HTTP 301 redirects off its site, to http://elsewhere.invalid:{port}/reports/"
                              "child-xa.pdf (not followed)"),
    }
    # HEAD first, and nothing else where HEAD answers; a ranged GET where HEAD is refused.
    assert site.methods("/reports/child-xa.pdf") == ["HEAD"]
    assert site.methods("/reports/child-xe.pdf") == ["HEAD", "GET"]
    ranged = [entry for entry in site.log if entry.target == "/reports/child-xe.pdf" and entry.method == "GET"]
    assert ranged[0].headers.get("range") == "bytes=0-0" and ranged[0].status == 206
    # The redirect within the site is followed; the one off it is not.
    assert site.methods("/reports/child-xc.pdf") == ["HEAD"]
    assert site.count("/private/") == 0  # robots.txt forbids it: never requested
    # No report body is asked for (one byte at most), and every request carries the crawl's user agent.
    assert all(entry.headers.get("user-agent") == UA for entry in site.log)
    assert all(entry.sent <= 1 for entry in site.log if entry.target.startswith("/reports/"))
    # A first check that finds a link already dead is a link-broken change.
    broken = changes(tmp_path, "link-broken")
    assert [(c["title"], c["old"], c["new"]) for c in broken] == [("Child XH", None, links(tmp_path)["Child XH"][0]
                                                                   + f" ({links(tmp_path)['Child XH'][1]})")]


def test_a_pdf_that_starts_answering_404_is_broken_then_fixed(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site)
    run_sync(load_config(config))
    assert links(tmp_path)["Baby XB"] == ("ok", None)
    site.pages["/reports/baby-xb.pdf"].status = 404

    # The next night's sync: every link was checked hours ago, none is due, nothing is asked.
    site.reset_counts()
    night2 = run_sync(load_config(config))
    assert site.count("/reports/") == 0
    assert links(tmp_path)["Baby XB"] == ("ok", None)
    assert "link-broken" not in night2.counts

    # `reposync links check` by hand asks what is due: nothing, every link was checked a moment ago, and it says so.
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "nothing to check; 0 requests" in result.output and "not-checked (not due): 8" in result.output
    # With --all it asks again now: the PDF is gone.
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config), "--all"])
    assert result.exit_code == 0, result.output
    assert "1 gone" in result.output and "link-broken: synthetic:baby-xb  Baby XB: gone (HTTP 404)" in result.output
    assert links(tmp_path)["Baby XB"] == ("gone", "HTTP 404")
    broken, = [c for c in changes(tmp_path, "link-broken") if c["title"] == "Baby XB"]
    assert (broken["old"], broken["new"]) == ("ok", "gone (HTTP 404)")
    db = open_db(tmp_path / "catalogue.db")
    try:
        run = db["runs"].get(broken["run_id"])
        assert run["mode"] == "link-check" and run["status"] == "ok" and run["finished_at"]
        built = report.build(db, broken["run_id"])
    finally:
        db.close()
    text = report.render_md(built)
    assert "## Report links that broke (1)" in text
    assert "Baby XB" in text and r"gone \(HTTP 404\), was ok" in text
    assert "## Sources" not in text  # a link check walks no source
    assert "Report links that broke" in report.render_html(built)

    # The status is kept across syncs that change nothing about the link.
    run_sync(load_config(config))
    assert links(tmp_path)["Baby XB"] == ("gone", "HTTP 404")

    # The PDF comes back: a check of only the links older than a day finds nothing to do; all of them, fixed.
    site.pages["/reports/baby-xb.pdf"].status = 200
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config), "--older-than", "1"])
    assert result.exit_code == 0 and "nothing to check" in result.output
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config), "--source", "synthetic", "--all"])
    assert result.exit_code == 0 and "link-fixed: synthetic:baby-xb  Baby XB: ok" in result.output
    assert links(tmp_path)["Baby XB"] == ("ok", None)
    fixed, = changes(tmp_path, "link-fixed")
    assert (fixed["title"], fixed["old"], fixed["new"]) == ("Baby XB", "gone (HTTP 404)", "ok")


def test_the_sync_checks_links_again_when_they_are_due(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site, check_links_days=1)
    run_sync(load_config(config))
    site.pages["/reports/child-xa.pdf"].status = 410
    db = sqlite3.connect(tmp_path / "catalogue.db")
    with db:  # a day and a bit later
        db.execute("UPDATE entries SET link_checked_at = '2020-01-01T00:00:00+00:00'")
    db.close()
    result = run_sync(load_config(config))
    assert result.counts.get("link-broken") == 1
    assert links(tmp_path)["Child XA"] == ("gone", "HTTP 410")
    assert "## Report links that broke (1)" in report.render_md(result.report)
    assert report.is_eventful(result.report)  # so a --quiet cron run mails it


def test_no_link_is_checked_offline_or_when_the_schedule_is_off(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site, check_links_days=0)
    run_sync(load_config(config))
    assert site.count("/reports/") == 0
    assert set(links(tmp_path).values()) == {(None, None)}
    run_sync(load_config(config), offline=True)  # replays the snapshots just taken: no request at all
    assert site.count("/reports/") == 0


def test_links_check_waits_for_a_running_sync(site: MockServer, tmp_path: Path) -> None:
    from reposync.sync import sync_lock

    config = write_config(tmp_path, site, check_links_days=0)
    run_sync(load_config(config))
    with sync_lock((tmp_path / "catalogue.db").resolve()):
        result = CliRunner().invoke(cli, ["links", "check", "--config", str(config)])
    assert result.exit_code == 75 and "another sync holds" in result.output
    assert site.count("/reports/") == 0


def test_dead_report_links_query_lists_them_per_partnership(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site)
    site.pages["/reports/baby-xb.pdf"].status = 404
    run_sync(load_config(config))
    metadata = yaml.safe_load((ROOT / "config" / "metadata.yml").read_text(encoding="utf-8"))
    query = metadata["databases"]["catalogue"]["queries"]["dead_report_links"]
    assert query["title"] == "Dead report links"
    db = sqlite3.connect(tmp_path / "catalogue.db")
    db.row_factory = sqlite3.Row
    try:
        rows = [dict(row) for row in db.execute(query["sql"], {"partnership": ""})]
        only = [dict(row) for row in db.execute(query["sql"], {"partnership": "york"})]
        none = [dict(row) for row in db.execute(query["sql"], {"partnership": "Essex"})]
    finally:
        db.close()
    assert [(row["partnership"], row["title"], row["link"]) for row in rows] == [
        ("York", "Baby XB", "gone (HTTP 404)"),
        ("York", "Child XH", rows[1]["link"]),
    ]
    assert rows[1]["link"].startswith("error (HTTP 301 redirects off its site")
    assert rows[0]["report"] == site.url("/reports/baby-xb.pdf") and rows[0]["checked_at"]
    assert only == rows and none == []


def test_m006_adds_link_health_to_an_existing_catalogue_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m006_link_health")
    db["entries"].insert({"id": "york-child-a", "source": "york", "title": "Child A", "status": "listed",
                          "report_url": "https://example.org/a.pdf"})
    db.close()
    db = open_db(path)
    try:
        row = db["entries"].get("york-child-a")
        assert row["title"] == "Child A" and row["report_url"] == "https://example.org/a.pdf"
        assert {"link_status", "link_detail", "link_url", "link_checked_at"} <= set(row)
        assert not migrations.pending(db)
    finally:
        db.close()




def test_link_checks_keep_the_crawl_pace_and_robots_crawl_delay(site: MockServer, tmp_path: Path) -> None:
    from reposync.crawl import linkcheck
    from reposync.crawl.fetch import Fetcher

    site.robots = (200, "User-agent: *\nDisallow: /private/\nCrawl-delay: 7\n")
    config = load_config(write_config(tmp_path, site, delay=2.0))
    slept, sleep, clock = fake_time()
    todo = [linkcheck.Link(f"synthetic:{n}", "synthetic", site.url(f"/reports/{n}.pdf"))
            for n in ("child-xa", "baby-xb", "child-xg")]
    with Fetcher(config.crawl, sleep=sleep, clock=clock) as fetcher:
        verdicts = linkcheck.check(fetcher, config, todo)
    assert [v.status for v in verdicts] == ["ok", "ok", "ok"]
    # robots.txt, then three HEADs to one host: the robots.txt pause (7 s, over our 2 s) before each but the first.
    assert slept == [7.0, 7.0, 7.0]


# Hosts asked at once, each at its own pace, and the weekly spread: tests/test_link_hosts.py.


def test_check_links_hosts_must_be_host_names(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site, check_links_hosts=["https://library.nspcc.org.uk/"])
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config)])
    assert result.exit_code == 2
    assert "crawl.check_links_hosts" in result.output and "host names" in result.output
    config = write_config(tmp_path, site, check_links_hosts=["library.nspcc.org.uk:99999"])  # no such port
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config)])
    assert result.exit_code == 2 and "crawl.check_links_hosts" in result.output


def test_a_check_stopped_half_way_keeps_what_it_found(site: MockServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from reposync.crawl import linkcheck

    config = write_config(tmp_path, site, check_links_days=0)
    run_sync(load_config(config))
    site.pages["/reports/baby-xb.pdf"].status = 404
    monkeypatch.setattr(linkcheck, "RECORD_BATCH", 2)
    asked = []
    check_one = linkcheck.check_one

    def stopped_at_the_fifth(*args):
        if len(asked) == 4:
            raise KeyboardInterrupt  # Ctrl-C, or systemd stopping the unit
        asked.append(args[2].entry_id)
        return check_one(*args)

    monkeypatch.setattr(linkcheck, "check_one", stopped_at_the_fifth)
    result = CliRunner().invoke(cli, ["links", "check", "--config", str(config)])
    assert result.exit_code != 0
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    try:
        checked = [row["id"] for row in db.query("SELECT id FROM entries WHERE link_checked_at IS NOT NULL "
                                                 "ORDER BY id")]
        broken = list(db.query("SELECT entry_id FROM changes WHERE kind = 'link-broken'"))
        run = list(db.query("SELECT * FROM runs WHERE mode = 'link-check'"))[0]
    finally:
        db.close()
    # Everything found before the stop: the links asked, and the off-site one (never asked, known at once).
    assert checked == sorted(asked + ["synthetic:child-xf"])
    assert broken == [{"entry_id": "synthetic:baby-xb"}] and json.loads(run["counts"]) == {"link-broken": 1}
    assert run["status"] == "running"  # the next sync marks it crashed


def test_a_link_that_does_not_answer_in_time_is_an_error_within_the_deadline(site: MockServer,
                                                                               tmp_path: Path) -> None:
    from reposync.crawl import linkcheck
    from reposync.crawl.fetch import Fetcher

    config = load_config(write_config(tmp_path, site, timeout=0.3, retries=0))
    slow = linkcheck.Link("synthetic:slow", "synthetic", site.url("/slow?seconds=5"))
    started = time.monotonic()
    with Fetcher(config.crawl) as fetcher:
        (verdict,) = linkcheck.check(fetcher, config, [slow])
    assert time.monotonic() - started < 3
    assert verdict.status == "error" and "Timeout" in verdict.detail


# --- a check stays on its sites; a host that cannot be reached fails once (issue 26, point 5) -------------------------

def test_a_check_stays_on_the_scheme_host_and_port_of_its_site_redirects_included(site: MockServer,
                                                                                   tmp_path: Path) -> None:
    from reposync.crawl import linkcheck
    from reposync.crawl.fetch import Fetcher

    other_port = MockServer().start()  # the same host, 127.0.0.1, on another port: another site
    try:
        other_port.pages["/reports/child-xa.pdf"] = Resource(PDF, content_type="application/pdf")
        elsewhere = other_port.url("/reports/child-xa.pdf")
        https = f"https://127.0.0.1:{site.port}/reports/child-xa.pdf"  # the same host and port, another scheme
        site.moved["/reports/to-another-port.pdf"] = elsewhere
        site.moved["/reports/to-https.pdf"] = https
        config = load_config(write_config(tmp_path, site))
        todo = [linkcheck.Link("synthetic:port", "synthetic", site.url("/reports/to-another-port.pdf")),
                linkcheck.Link("synthetic:https", "synthetic", site.url("/reports/to-https.pdf")),
                linkcheck.Link("synthetic:there", "synthetic", elsewhere)]
        with Fetcher(config.crawl) as fetcher:
            verdicts = linkcheck.check(fetcher, config, todo)
        assert [(v.status, v.detail) for v in verdicts] == [
            ("error", f"HTTP 301 redirects off its site, to {elsewhere} (not followed)"),
            ("error", f"HTTP 301 redirects off its site, to {https} (not followed)"),
            ("not-checked", f"off-site: http://127.0.0.1:{other_port.port} is neither its source's site nor a host "
                            "[crawl] check_links_hosts names"),
        ]
        assert other_port.count() == 0  # not even its robots.txt
        assert [(e.method, e.target) for e in site.log] == [
            ("GET", "/robots.txt"), ("HEAD", "/reports/to-another-port.pdf"), ("HEAD", "/reports/to-https.pdf")]
    finally:
        other_port.stop()


def test_a_host_no_connection_can_be_made_to_fails_once_a_run(site: MockServer, tmp_path: Path) -> None:
    # The site answers the walk (robots.txt, the page), then stops taking connections before its links are asked.
    site.pages["/partnership"].before = site.stop
    config = load_config(write_config(tmp_path, site, retries=2))
    result = run_sync(config)
    assert result.exit_code == 0, [o.error for o in result.outcomes]
    found = links(tmp_path)
    own = {title: found[title] for title in ("Child XA", "Baby XB", "Child XC", "Child XE", "Child XH")}
    failed = [title for title, (status, _) in own.items() if status == "error"]
    assert len(failed) == 1, own  # the host's one failure this run, with all its tries
    assert "ConnectError" in own[failed[0]][1] and "gave up after 3 attempts" in own[failed[0]][1]
    for title, (status, detail) in own.items():
        if title not in failed:  # the rest are not asked again: not checked this run, not broken
            assert status == "not-checked" and "127.0.0.1 could not be reached earlier in this run" in detail, title
    # Child XG's host, localhost, is another host: its robots.txt could not be read, once.
    assert found["Child XG"][0] == "not-checked" and "robots.txt could not be read" in found["Child XG"][1]
    assert [c["title"] for c in changes(tmp_path, "link-broken")] == failed
    # Connection attempts: robots.txt and the page of the walk, then three tries for each of the two hosts.
    assert result.requests == 2 + 3 + 3
