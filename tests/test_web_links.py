"""Only http(s) links (issue 26, point 4): a link is resolved against its page and kept only when a browser would
read it as http or https, after dropping what a browser drops (a tab or newline anywhere, control characters and
spaces at the ends, case). ``java&#x09;script:`` decodes to a tab inside the scheme: it is javascript: all the
same. Every parser that takes hrefs, normalise, the pack and the feeds hold to it."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
import yaml

from conftest import ROOT
from mockserver import MockServer, Resource
from reposync.reports import completeness
from reposync import parsers
from reposync.normalise.areas import load_areas
from reposync.config import Source, load_config
from reposync.models import RawEntry
from reposync.normalise.entries import normalise
from reposync.sync import run_sync
from test_hostile_fetch import local, page, write_config

# As they stand in a page's HTML: each decodes to a link a browser would not open as a web page.
HOSTILE = {
    "tab in javascript": "java&#x09;script:alert(1)",
    "newline in javascript": "java&#x0A;script:alert(1)",
    "control and space before it": "&#x01; JavaScript:alert(1)",
    "data": "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
    "file": "file:///etc/passwd",
    "no URL at all": "//[evil",
}
PARTNERSHIP = "https://www.example-partnership.org.uk/case-reviews/"
NSPCC = "https://learning.nspcc.org.uk/case-reviews/2018"
LIBRARY = "https://library.nspcc.org.uk/HeritageScripts/Hapi.dll/retrieve2?SetID=1&DataSetName=LIVEDATA"


def test_the_rule_itself() -> None:
    from reposync.urls import web_url

    assert web_url("java\tscript:alert(1)", PARTNERSHIP) is None
    assert web_url("\x01 JavaScript:alert(1)", PARTNERSHIP) is None
    assert web_url("data:text/html,x", PARTNERSHIP) is None and web_url("file:///etc/passwd", PARTNERSHIP) is None
    assert web_url("http:no-host", PARTNERSHIP) is None and web_url("http://[::1", PARTNERSHIP) is None
    assert web_url(" /r.pdf\n", PARTNERSHIP) == "https://www.example-partnership.org.uk/r.pdf"
    assert web_url("ht\ttps://cdn.example.net/r.pdf") == "https://cdn.example.net/r.pdf"  # as a browser reads it
    assert web_url("HTTPS://Cdn.example.net/R.pdf") == "https://Cdn.example.net/R.pdf"


@pytest.mark.parametrize("case", HOSTILE)
def test_the_generic_parser_keeps_no_link_but_an_http_one(case: str) -> None:
    html = ("<html><head><title>Case reviews</title></head><body><main><ul>"
            f"<li><a href=\"{HOSTILE[case]}\">Child XA</a> (published 10/10/13)</li>"
            f"<li><a href=\"{HOSTILE[case]}\">Child XB</a> (published 11/10/13) <a href='/xb.pdf'>report</a></li>"
            "</ul></main></body></html>")
    result = parsers.get_parser("generic")(html, PARTNERSHIP)
    assert [(e.title, e.url) for e in result.entries] == [
        ("Child XA", None), ("Child XB", "https://www.example-partnership.org.uk/xb.pdf")]


@pytest.mark.parametrize("name", ["nspcc-yearly", "nspcc-rolling"])
@pytest.mark.parametrize("case", HOSTILE)
def test_the_nspcc_list_parsers_keep_no_link_but_an_http_one(name: str, case: str) -> None:
    html = ("<!DOCTYPE html><html><head><title>Case reviews published in 2018</title></head><body><main>"
            "<h1>Case reviews published in 2018</h1>"
            "<h3>2018 - York - Child A</h3><p>Summary of the review.</p>"
            f"<p><a href=\"{HOSTILE[case]}\">Read the overview report</a></p>"
            f"<h3><a href=\"{HOSTILE[case]}\">2017 - Leeds - Child B</a></h3><p>Another summary.</p>"
            "<h3>2016 - Hull - Child C</h3><p>A third summary.</p>"
            f"<p><a href=\"{HOSTILE[case]}\">Read the report</a> <a href='/c.pdf'>Read the report (PDF)</a></p>"
            "</main></body></html>")
    result = parsers.get_parser(name)(html, NSPCC)
    assert [(e.title, e.url) for e in result.entries] == [
        ("Child A", None), ("Child B", None), ("Child C", "https://learning.nspcc.org.uk/c.pdf")]


@pytest.mark.parametrize("case", HOSTILE)
def test_the_library_parser_keeps_no_link_but_an_http_one(case: str) -> None:
    record = ("<html><head><title>NSPCC Library</title></head><body><table>"
              "<tr><td class='fulllabel'>Title</td><td>Child R1</td></tr>"
              "<tr><td class='fulllabel'>Copy number</td><td>R1</td></tr>"
              "<tr><td class='fulllabel'>Other</td><td>{links}</td></tr>"
              "</table><p>Record 1 of 3</p><a class='navNext' href=\"{next}\">Next record</a></body></html>")
    alone = record.format(links=f"<a href=\"{HOSTILE[case]}\">R1.pdf</a>", next=HOSTILE[case])
    result = parsers.get_parser("nspcc-library")(alone, LIBRARY)
    assert [e.url for e in result.entries] == [None]
    assert result.next_url is None or not result.next_url.startswith("http")  # the walk refuses it as off the site
    beside = record.format(links=f"<a href=\"{HOSTILE[case]}\">R1.pdf</a> <a href='/pdf/R1.pdf'>R1.pdf</a>", next="")
    assert [e.url for e in parsers.get_parser("nspcc-library")(beside, LIBRARY).entries] == [
        "https://library.nspcc.org.uk/pdf/R1.pdf"]


@pytest.mark.parametrize("raw_url", ["java\tscript:alert(1)", "data:text/html,x", "file:///etc/passwd", "//[evil"])
def test_normalise_stores_no_other_scheme_whatever_a_parser_gives(raw_url: str) -> None:
    areas = load_areas(ROOT / "config" / "areas.toml")
    york = Source(id="york", kind="local", parser="generic", url=PARTNERSHIP, area=areas.lookup("York"))
    row = normalise(RawEntry(title="Child XA", page_url=PARTNERSHIP, date_text="2015", url=raw_url), york, areas)
    assert (row["url"], row["report_url"]) == (None, None)


def test_a_sync_stores_only_http_links_and_its_feed_and_pack_emit_no_other_scheme(tmp_path: Path,
                                                                                   server: MockServer) -> None:
    items = [f"<a href=\"{href}\">Child {n}</a> (published 10/10/13)" for n, href in enumerate(HOSTILE.values())]
    items.append("<a href='/reports/child-ok.pdf'>Child OK</a> (published 10/10/13)")
    server.pages["/reviews"] = Resource(page(*items).encode("utf-8"))
    config = load_config(write_config(tmp_path, [local("york", server.url("/reviews"))]))
    result = run_sync(config)
    assert result.exit_code == 0, result.outcomes[0].error
    db = sqlite_utils.Database(config.paths.db)
    stored = {row["title"]: (row["url"], row["report_url"]) for row in db.query("SELECT * FROM entries")}
    assert stored.pop("Child OK") == (server.url("/reports/child-ok.pdf"),) * 2
    assert set(stored.values()) == {(None, None)} and len(stored) == len(HOSTILE)

    # The area's feed links each entry to its report or the page that lists it: http(s) only.
    queries = yaml.safe_load((ROOT / "config" / "metadata.yml").read_text(encoding="utf-8"))
    sql = queries["databases"]["catalogue"]["queries"]["new_entries_for_area"]["sql"]
    with sqlite3.connect(config.paths.db) as feed:
        feed.row_factory = sqlite3.Row
        links = [row["atom_link"] for row in feed.execute(sql, {"area": "York"})]
    assert len(links) == len(HOSTILE) + 1 and all(link.startswith(("http://", "https://")) for link in links)

    # A catalogue written before this rule may still hold another scheme: the pack never passes it on.
    db.execute("UPDATE entries SET report_url = 'java' || char(9) || 'script:alert(1)', url = 'data:text/html,x' "
               "WHERE title = 'Child 0'")
    db.conn.commit()
    pack = completeness.write_pack(db, "York", ["york"], tmp_path / "pack")
    db.close()
    csv_path, email_path = pack.paths
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert {row["report_url"] for row in rows} == {"", server.url("/reports/child-ok.pdf")}
    text = csv_path.read_text(encoding="utf-8") + email_path.read_text(encoding="utf-8")
    assert "script:" not in text and "data:" not in text and "file:" not in text
