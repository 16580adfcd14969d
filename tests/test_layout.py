"""Every parser's layout fingerprint, the generic parser's skipped lines, and a stored parse that keeps both.

The fingerprint says how a page lays its entries out (the elements and classes they
were found in), never what they say: a text edit keeps it, new markup changes it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import CONFIG, FIXTURES
from reposync import sync
from reposync.config import load_config
from reposync.crawl.fetch import Page
from reposync.parsers import get_parser
from reposync.archive.snapshots import Archive

URL = "https://partnership.example.org/reviews"

LIST = """<html><head><title>Case reviews</title></head><body>
<nav><a href="/">Home</a></nav>
<main><h1>Safeguarding practice reviews</h1>
<ul class="reviews grid">
  <li class="review"><a href="/a.pdf">Child A</a> (published 12/03/2021)</li>
  <li class="review"><a href="/b.pdf">Child B</a> (published 01/02/2022)</li>
</ul>
<p><a href="/policies">Safeguarding policies</a> <a href="/contact">Contact us</a></p>
</main></body></html>"""


def generic(html: str):
    return get_parser("generic")(html, URL)


def test_a_text_edit_keeps_the_generic_fingerprint_and_new_markup_changes_it() -> None:
    before = generic(LIST)
    assert len(before.entries) == 2
    assert before.layout is not None and len(before.layout) == 16
    edited = LIST.replace("Child B", "Child BB").replace("01/02/2022", "3 March 2022").replace("/b.pdf", "/b2.pdf")
    assert generic(edited).layout == before.layout
    more = LIST.replace("</ul>", '<li class="review"><a href="/c.pdf">Child C</a> (published 2023)</li></ul>')
    assert len(generic(more).entries) == 3 and generic(more).layout == before.layout  # a new entry, same markup
    redesigned = (LIST.replace('<ul class="reviews grid">', '<div class="cards">').replace("</ul>", "</div>")
                  .replace('<li class="review">', '<div class="card">').replace("</li>", "</div>"))
    after = generic(redesigned)
    assert [e.title for e in after.entries] == [e.title for e in before.entries]
    assert after.layout not in (None, before.layout)
    # Class order is not layout: the same classes written the other way round.
    assert generic(LIST.replace("reviews grid", "grid reviews")).layout == before.layout


def test_the_generic_parser_says_what_it_skipped_and_why() -> None:
    skipped = dict(generic(LIST).skipped)
    assert skipped["Safeguarding policies"] == "not a review: names 'policies'"
    assert skipped["Contact us"] == "not a review: names 'contact us'"
    assert "Home" not in skipped  # site navigation is never read at all


def test_a_page_without_entries_has_no_fingerprint() -> None:
    html = "<html><head><title>Case reviews</title></head><body><h1>Case reviews</h1><p>None yet.</p></body></html>"
    assert generic(html).layout is None


def _fixture(parser: str, name: str) -> tuple[str, str]:
    import json

    page = FIXTURES / "pages" / parser / name
    return page.read_text(encoding="utf-8"), json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))["url"]


def test_nspcc_list_fingerprints_follow_markup_not_text() -> None:
    html, url = _fixture("nspcc-yearly", "br-lines.html")
    parse = get_parser("nspcc-yearly")
    before = parse(html, url)
    assert before.entries and before.layout is not None
    first = before.entries[0]
    assert parse(html.replace(first.title, first.title + " and Child Z"), url).layout == before.layout
    html2, url2 = _fixture("nspcc-rolling", "label-drift.html")
    assert parse(html2, url2).layout not in (None, before.layout)


def test_library_records_share_one_fingerprint_and_new_markup_has_another() -> None:
    """Every bundled record of the real catalogue is laid out alike; a record in other markup is not."""
    import json

    records = sorted((FIXTURES / "snapshots" / "nspcc-library").glob("*.json"))
    assert len(records) > 10
    layouts = {json.loads(path.read_text(encoding="utf-8"))["result"]["layout"] for path in records}
    assert len(layouts) == 1 and None not in layouts
    parse = get_parser("nspcc-library")
    assert parse(*_fixture("nspcc-library", "no-pdf.html")).layout not in (None, *layouts)


def test_a_stored_parse_keeps_layout_and_skipped(tmp_path: Path) -> None:
    """A 304 reuses the stored parse: it must give back the same fingerprint and skipped lines."""
    config = load_config(CONFIG)
    source = next(s for s in config.sources if s.parser == "generic")
    archive = Archive(tmp_path / "snapshots")
    body = LIST.encode()
    page = Page(url=URL, status=200, content_type="text/html", body=body, sha256=hashlib.sha256(body).hexdigest())
    fresh = sync.parse_page(page, source, archive)
    assert fresh.layout and fresh.skipped
    stored = sync.parse_page(Page(url=URL, status=304, content_type="text/html", body=body, sha256=page.sha256,
                                  not_modified=True), source, archive)
    assert list(archive.parses.glob("*.json"))  # the second came from the store ...
    assert stored == fresh  # ... with every field, layout and skipped included
    assert isinstance(stored.skipped[0], tuple)
