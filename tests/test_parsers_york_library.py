"""Library parser: the pages it refuses, and the odd cases between.

(York's page is read by the generic parser now; its refusal tests are in test_generic_parser.py.)
"""

from __future__ import annotations

import pytest

from reposync.errors import ParseError
from reposync.parsers import library

LIBRARY_URL = "https://library.example.org/HeritageScripts/Hapi.dll/retrieve2?SetID=X&Offset=5"

UNRELATED = """<!DOCTYPE html><html><head><title>Opening hours</title></head>
<body><h1>Library opening hours</h1><p>Monday to Friday, 9am to 5pm.</p>
<ul><li><a href="/contact">Contact us</a></li></ul></body></html>"""


@pytest.mark.parametrize("page", ["", "   \n", UNRELATED], ids=["empty", "blank", "unrelated"])
def test_not_the_page_raises(page: str) -> None:
    with pytest.raises(ParseError):
        library.parse(page, LIBRARY_URL)


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
