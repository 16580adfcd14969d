"""The night's report documents against a loopback partnership (issue 21): each PDF fetched once by the crawl's
rules, read into the ``documents`` table, a second night that asks with validators and reads no body again,
bad documents as statuses while the night goes on, an undated entry dated by its document, a review the page
drops keeping its text and its body (prune, the pack's zip), and offline replay from the archive."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import pdfs
from conftest import ROOT, local_source, loopback_config
from mockserver import MockServer, Resource
from reposync.archive.housekeeping import prune
from reposync.archive.snapshots import Archive
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.reports import night
from reposync.sync import run_sync

pytestmark = pytest.mark.usefixtures("no_backoff")  # retries at once

UA = "reposync/0.1 (+https://github.com/reposync/reposync; document tests)"
REPORTS = pdfs.reports()
CAP = 200_000  # [documents] max_bytes in these tests
ENCRYPTED = pdfs.build([pdfs.title_page("Serious Case Review", "Child S")], user_password="secret")
UNDATED = pdfs.build([pdfs.title_page("Northshire Safeguarding Children Partnership", "Serious Case Review",
                                      "Child Y", "Published: March 2023"), *pdfs.body_pages(2)])

# synthetic partnership page: invented pseudonyms, one report link per case
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Reviews | Northshire</title></head>
<body><h1>Safeguarding Practice Reviews</h1><ul class="reviews">
{items}
</ul></body></html>"""
ITEMS = {
    "child-k": '<li><a href="/reports/child-k.pdf">Child K</a> (published 31/03/23)</li>',
    "child-y": '<li><a href="/reports/child-y.pdf">Child Y SCR</a></li>',
    "scan": '<li><a href="/reports/scan.pdf">Child Q</a> (published 10/10/19)</li>',
    "html": '<li><a href="/reports/child-h.pdf">Child H</a> (published 11/10/18)</li>',
    "encrypted": '<li><a href="/reports/child-s.pdf">Child S</a> (published 2 March 2015)</li>',
    "truncated": '<li><a href="/reports/child-t.pdf">Child T</a> (published 2 March 2016)</li>',
    "claim": '<li><a href="/reports/child-m.pdf">Child M</a> (published 2 March 2017)</li>',
    "big": '<li><a href="/reports/child-b.pdf">Child B</a> (published 2 March 2014)</li>',
    "gone": '<li><a href="/reports/child-g.pdf">Child G</a> (published 2 March 2013)</li>',
    "robots": '<li><a href="/private/child-p.pdf">Child P</a> (published 2 March 2012)</li>',
    "word": '<li><a href="/reports/child-w.docx">Child W</a> (published 2 March 2024)</li>',
    "offsite": '<li><a href="http://localhost:PORT/reports/child-o.pdf">Child O</a> (published 2 March 2011)</li>',
}
PDF = "application/pdf"


def page(site: MockServer, *names: str) -> bytes:
    chosen = names or tuple(ITEMS)
    return PAGE.format(items="\n".join(ITEMS[n] for n in chosen)).replace("PORT", str(site.port)).encode()


@pytest.fixture
def site() -> Iterator[MockServer]:
    mock = MockServer().start()
    mock.pages["/partnership"] = Resource(page(mock), etag='"page-1"')
    bodies = {
        "/reports/child-k.pdf": (REPORTS["cspr-child-k"][0], PDF),
        "/reports/child-y.pdf": (UNDATED, PDF),
        "/reports/scan.pdf": (REPORTS["scan"][0], PDF),
        "/reports/child-h.pdf": (pdfs.HTML_ERROR_PAGE, "application/pdf; charset=utf-8"),
        "/reports/child-s.pdf": (ENCRYPTED, PDF),
        "/reports/child-t.pdf": (pdfs.truncated(REPORTS["cspr-child-k"][0]), PDF),
        "/reports/child-m.pdf": (pdfs.million_page_claim(), PDF),
        "/reports/child-b.pdf": (b"%PDF-1.4\n" + b"0" * (CAP + 1), PDF),
        "/reports/child-o.pdf": (REPORTS["scr-baby-t"][0], PDF),
        "/private/child-p.pdf": (REPORTS["thematic-year"][0], PDF),
        "/reports/child-w.docx": (REPORTS["word"][0],
                                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    }
    for n, (target, (body, kind)) in enumerate(bodies.items()):
        mock.pages[target] = Resource(body, content_type=kind, etag=f'"doc-{n}"')
    mock.pages["/reports/child-g.pdf"] = Resource(b"not here", status=404)
    mock.robots = (200, "User-agent: *\nDisallow: /private/\n")
    yield mock
    mock.stop()

def write_config(tmp_path: Path, site: MockServer, **documents: object) -> Path:
    return loopback_config(tmp_path / "config", local_source("northshire", site.url("/partnership")),
                           crawl={"timeout": 5.0, "user_agent": UA, "check_links_days": 0},
                           documents={"max_bytes": CAP, **documents})


def query(tmp_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(tmp_path / "catalogue.db") as db:
        return db.execute(sql, params).fetchall()


def statuses(tmp_path: Path) -> dict[str, str]:
    return {url.rsplit("/", 1)[1]: status for url, status in query(tmp_path, "SELECT url, status FROM documents")}


def test_each_document_becomes_a_status_and_the_night_goes_on(site: MockServer, tmp_path: Path) -> None:
    result = run_sync(load_config(write_config(tmp_path, site)))
    assert result.exit_code == 0  # no document fails its source
    assert statuses(tmp_path) == {
        "child-k.pdf": "ok", "child-y.pdf": "ok", "scan.pdf": "no-text", "child-h.pdf": "not-a-pdf",
        "child-s.pdf": "encrypted", "child-t.pdf": "error", "child-m.pdf": "error", "child-b.pdf": "too-big",
        "child-g.pdf": "error", "child-p.pdf": "forbidden", "child-w.docx": "ok",
    }  # child-o.pdf is on another host, which [documents] hosts does not name: never asked
    assert site.count("/private/") == 0 and site.count("/reports/child-o.pdf") == 0
    reasons = {url.rsplit("/", 1)[1]: why for url, why in query(tmp_path, "SELECT url, reason FROM documents")}
    assert reasons["child-g.pdf"] == "HTTP 404"
    assert "cap" in reasons["child-b.pdf"]
    assert reasons["child-m.pdf"] == "1,000,000 pages claimed (the limit is 3,000)"
    assert all(entry.headers.get("user-agent") == UA for entry in site.log)
    # What the title page says, and the text searchable.
    row, = query(tmp_path, "SELECT title_read, published_read, published_precision, pages, sha256, bytes "
                           "FROM documents WHERE url LIKE '%child-k.pdf'")
    assert row[:4] == ("Child Safeguarding Practice Review \u2014 Child K", "2023-03", "month", 4)
    assert row[5] == len(REPORTS["cspr-child-k"][0])
    found = query(tmp_path, "SELECT d.url FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid "
                            "WHERE documents_fts MATCH 'Northshire'")
    assert {url.rsplit("/", 1)[1] for (url,) in found} == {"child-k.pdf", "child-y.pdf", "child-w.docx"}
    # The undated entry takes its document's date, marked as read from the document; a dated one keeps its own.
    dated = dict((title, (published, source)) for title, published, source in query(
        tmp_path, "SELECT title, published, published_from FROM entries"))
    assert dated["Child Y SCR"] == ("2023-03", "document")
    assert dated["Child K"] == ("2023-03-31", None)
    # The night's report counts the documents, the scans without text among them.
    report = json.loads(night.render(result.report, "json"))
    assert report["documents"]["no-text"] == 1 and report["documents"]["ok"] == 3
    assert "1 without a text layer" in night.render(result.report, "md")
    # Every body is in the archive, content-addressed, in the manifest like a page.
    archive = Archive(tmp_path / "snapshots")
    assert archive.newest(site.url("/reports/child-k.pdf")).sha256 == row[4]


def test_an_unchanged_second_night_reads_no_document_body_again(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site)
    run_sync(load_config(config))
    before = query(tmp_path, "SELECT url, sha256, text, status, fetched_at, run_id FROM documents ORDER BY url")
    site.reset_counts()

    night2 = run_sync(load_config(config))
    assert night2.exit_code == 0
    asked = [entry for entry in site.log if entry.target.startswith("/reports/")]
    assert asked, "the documents are asked for again, with their validators"
    # Every body read the first night is asked for with its validators and answered 304, no body; child-b.pdf
    # was too big (no body kept, none to validate): asked again, refused by its declared length.
    assert {e.target: e.status for e in asked if e.status != 304} == {"/reports/child-g.pdf": 404,
                                                                     "/reports/child-b.pdf": 200}
    assert len([e for e in asked if e.status == 304 and e.sent == 0 and e.headers.get("if-none-match")]) == 8
    assert query(tmp_path, "SELECT url, sha256, text, status, fetched_at, run_id FROM documents ORDER BY url") \
        == before  # nothing read again, nothing rewritten
    assert query(tmp_path, "SELECT count(*) FROM changes WHERE run_id = ?", (night2.run_id,)) == [(0,)]


def test_a_review_the_page_drops_keeps_its_text_its_body_and_goes_in_the_pack(site: MockServer,
                                                                               tmp_path: Path) -> None:
    config = write_config(tmp_path, site)
    run_sync(load_config(config))
    site.pages["/partnership"] = Resource(page(site, *[n for n in ITEMS if n != "child-k"]), etag='"page-2"')
    site.pages["/reports/child-k.pdf"].status = 404  # taken down with it

    night2 = run_sync(load_config(config))
    assert query(tmp_path, "SELECT status FROM entries WHERE title = 'Child K'") == [("expired",)]
    text, sha256 = query(tmp_path, "SELECT text, sha256 FROM documents WHERE url LIKE '%child-k.pdf'")[0]
    assert "Child K" in text

    # snapshots prune keeps the body of a document whose entry is still in the catalogue, however old.
    archive = Archive(tmp_path / "snapshots")
    with sqlite3.connect(tmp_path / "catalogue.db") as db:
        kept = {sha for (sha,) in db.execute("SELECT sha256 FROM documents WHERE sha256 IS NOT NULL")}
    prune(archive, night2.run_id + 1, keep_bodies={sha256})  # as if every run were past --keep-days
    assert archive.body(sha256)
    assert kept - {sha256}  # the others may go: only what a catalogue entry names is kept whatever its age
    result = CliRunner().invoke(cli, ["snapshots", "verify", "--config", str(config)])
    assert result.exit_code == 0, result.output

    # The pack: beside the CSV and the email, a zip of the documents the archive holds for the missing reviews.
    out = tmp_path / "packs"
    result = CliRunner().invoke(cli, ["pack", "--area", "York", "--out", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out / "york-documents.zip") as packed:
        names = packed.namelist()
        assert "northshire-child-k-child-k.pdf" in names
        assert packed.read("northshire-child-k-child-k.pdf") == REPORTS["cspr-child-k"][0]
    assert "wrote " + str(out / "york-documents.zip") in result.output


def test_documents_off_and_offline_replay(site: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, site, fetch=False)
    run_sync(load_config(config))
    assert site.count("/reports/") == 0 and query(tmp_path, "SELECT count(*) FROM documents") == [(0,)]

    config = write_config(tmp_path, site)
    run_sync(load_config(config))
    (tmp_path / "catalogue.db").unlink()
    site.reset_counts()
    # Offline, from the archive: what it holds is read again, the rest (never fetched) simply not read.
    result = run_sync(load_config(config), offline=True)
    assert result.exit_code == 0 and site.count() == 0
    got = statuses(tmp_path)
    assert got["child-k.pdf"] == "ok" and got["scan.pdf"] == "no-text" and "child-g.pdf" not in got
    assert "child-p.pdf" not in got and "child-b.pdf" not in got


def test_off_site_documents_only_on_the_hosts_the_config_names(site: MockServer, tmp_path: Path) -> None:
    run_sync(load_config(write_config(tmp_path, site, hosts=["localhost"])))
    assert statuses(tmp_path)["child-o.pdf"] == "ok"
    assert site.count("/reports/child-o.pdf") == 1


def test_librarians_search_the_reports_text_in_the_saved_query(site: MockServer, tmp_path: Path) -> None:
    import yaml

    run_sync(load_config(write_config(tmp_path, site)))
    queries = yaml.safe_load((ROOT / "config" / "metadata.yml").read_text(encoding="utf-8"))[
        "databases"]["catalogue"]["queries"]
    sql = queries["search_reports"]["sql"]
    with sqlite3.connect(tmp_path / "catalogue.db") as db:
        db.row_factory = sqlite3.Row
        found = [dict(r) for r in db.execute(sql, {"words": "Child Safeguarding Practice Review"})]
        nothing = db.execute(sql, {"words": ""}).fetchall()
        odd = db.execute(sql, {"words": 'Child K" OR "x'}).fetchall()  # FTS syntax is taken as words
    assert sorted((r["entry"], r["partnership"], r["publisher_link"]) for r in found) == [
        ("northshire:child-k", "York", site.url("/reports/child-k.pdf")),
        ("northshire:child-w", "York", site.url("/reports/child-w.docx"))]  # "Local Child Safeguarding ..."
    assert all("[Child Safeguarding Practice Review]" in r["snippet"] for r in found), \
        [r["snippet"] for r in found]
    assert nothing == [] and odd == []
