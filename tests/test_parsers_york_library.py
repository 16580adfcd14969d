"""York and library parsers: the pages they refuse, and the odd cases between."""

from __future__ import annotations

import pytest

from reposync.errors import ParseError
from reposync.parsers import library, york

YORK_URL = "https://york.example/safeguarding%20practice%20reviews%20formerly%20serious-case-reviews%20htm"
LIBRARY_URL = "https://library.example.org/HeritageScripts/Hapi.dll/retrieve2?SetID=X&Offset=5"

UNRELATED = """<!DOCTYPE html><html><head><title>Opening hours</title></head>
<body><h1>Library opening hours</h1><p>Monday to Friday, 9am to 5pm.</p>
<ul><li><a href="/contact">Contact us</a></li></ul></body></html>"""


@pytest.mark.parametrize("parse", [york.parse, library.parse], ids=["york", "library"])
@pytest.mark.parametrize("page", ["", "   \n", UNRELATED], ids=["empty", "blank", "unrelated"])
def test_not_the_page_raises(parse, page: str) -> None:
    with pytest.raises(ParseError):
        parse(page, YORK_URL)


def test_parse_error_names_the_url() -> None:
    with pytest.raises(ParseError) as caught:
        york.parse(UNRELATED, YORK_URL)
    assert caught.value.url == YORK_URL


def test_york_entry_without_title_page_still_counts() -> None:
    # No review-page title at all, but an entry: the entry itself is the marker.
    page = "<html><body><p><a href='x.pdf'>Child XZ</a> (published 2/3/14)</p></body></html>"
    result = york.parse(page, YORK_URL)
    assert [(e.title, e.date_text) for e in result.entries] == [("Child XZ", "published 2/3/14")]
    assert result.entries[0].url == "https://york.example/x.pdf"


def test_york_lines_without_published_are_not_entries() -> None:
    page = """<html><head><title>Serious Case Reviews</title></head><body>
    <p>Page published 12/03/2019</p><p>Child XY - published 2014</p>
    <p><a href="/x.pdf">Child XX</a> (published 2014)</p></body></html>"""
    titles = [e.title for e in york.parse(page, YORK_URL).entries]
    assert titles == ["Child XX"]


def test_york_javascript_and_anchor_links_are_not_report_links() -> None:
    page = """<html><head><title>Serious Case Reviews</title></head><body>
    <li><a href="#top">Child XW</a> (published 2014)</li></body></html>"""
    assert york.parse(page, YORK_URL).entries[0].url is None


def test_library_record_without_title_is_skipped_not_fatal() -> None:
    page = """<html><body><a class="navNext" href="retrieve2?SetID=X&amp;Offset=6">Next</a>
    <table><tr><td class="fulllabel">Copy number:</td><td>NC00001</td></tr></table></body></html>"""
    result = library.parse(page, LIBRARY_URL)
    assert result.entries == []
    assert result.next_url == "https://library.example.org/HeritageScripts/Hapi.dll/retrieve2?SetID=X&Offset=6"
    assert result.meta["skipped"]


def test_library_empty_other_field_gives_no_url() -> None:
    page = """<html><body><table>
    <tr><td class="fulllabel">Title:</td><td>Serious case review: Child XV</td></tr>
    <tr><td class="fulllabel">Other format:</td><td></td></tr>
    </table></body></html>"""
    entry = library.parse(page, LIBRARY_URL).entries[0]
    assert entry.url is None
    assert entry.title == "Serious case review: Child XV"
    assert entry.details == {}
