"""NSPCC list headings and the pages the list parsers must refuse."""

from __future__ import annotations

import pytest

from reposync.errors import ParseError
from reposync.parsers import rolling, yearly
from reposync.parsers.base import looks_like_keywords, split_heading, split_label

ROLLING_URL = "https://learning.nspcc.org.uk/case-reviews/recently-published-case-reviews"
YEARLY_URL = "https://www.nspcc.org.uk/preventing-abuse/child-protection-system/case-reviews/2016/"


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("2025 - Cambridgeshire and Peterborough - Gabriel", ("2025", "Cambridgeshire and Peterborough", "Gabriel")),
        ("2025 \u2013 Birmingham - Baby A", ("2025", "Birmingham", "Baby A")),
        ("2018 - Anonymous - Charlie and Sam", ("2018", "Anonymous", "Charlie and Sam")),
        ("2018 - Anonymous- Children F, G and H", ("2018", "Anonymous", "Children F, G and H")),
        ("2018 - Anonymous - Child H1", ("2018", "Anonymous", "Child H1")),
        ("2012Ceredigion \u2013 Child J", ("2012", "Ceredigion", "Child J")),
        ("December 2013 - Derbyshire - BDS12", ("December 2013", "Derbyshire", "BDS12")),
        ("December 2013 - Rochdale - Young Person 7", ("December 2013", "Rochdale", "Young Person 7")),
        ("October 2013 - City of York - Baby A", ("October 2013", "City of York", "Baby A")),
        ("2013 - Birmingham - Keanu Williams", ("2013", "Birmingham", "Keanu Williams")),
        ("December 2014 \u2013 Blackpool - Child BR", ("December 2014", "Blackpool", "Child BR")),
        (
            "December 2014NSPCC on behalf of unnamed LSCB - Child C",
            ("December 2014", "NSPCC on behalf of unnamed LSCB", "Child C"),
        ),
        ("2015 - Oxfordshire - Children A, B, C, D, E and F", ("2015", "Oxfordshire", "Children A, B, C, D, E and F")),
        ("2016 \u2013 Anonymous \u2013 Child BS", ("2016", "Anonymous", "Child BS")),
        ("2016 - Northamptonshire - Child R and Family R", ("2016", "Northamptonshire", "Child R and Family R")),
        ("2017 - Anonymous - Child F and Family", ("2017", "Anonymous", "Child F and Family")),
        ("2018 - City of London and Hackney - Child M", ("2018", "City of London and Hackney", "Child M")),
        ("2022 \u2013 Anonymous \u2013 Babies with injuries", ("2022", "Anonymous", "Babies with injuries")),
        ("02 Sept 2025", None),
        ("Sept 2025 - Anonymous - Child X", ("Sept 2025", "Anonymous", "Child X")),
        # an area with hyphens stays whole; a spaced dash in the title stays in the title
        ("2016 - Stockton-on-Tees - Child X - overview", ("2016", "Stockton-on-Tees", "Child X - overview")),
        ("2018\u2013Anonymous\u2013Child Y", ("2018", "Anonymous", "Child Y")),
        ("  2019 \u2013 Anonymous\xa0- Katie ", ("2019", "Anonymous", "Katie")),
    ],
)
def test_split_heading(heading: str, expected: tuple[str, str, str] | None) -> None:
    assert split_heading(heading) == expected


@pytest.mark.parametrize(
    "heading",
    [
        "Case reviews published in 2018",
        "Case reviews published in 2025",
        "New in the collection",
        "Recently published case reviews",
        "Last updated: 04 Sep 2018",
        "Last updated: 02 Sept 2025",
        "December 2014",
        "2018 case reviews",
        "2013 Serious case reviews",
        "Related resources",
        "If you are worried about a child, call 0808 800 5000",
        "2012 - 2013",
        "",
    ],
)
def test_split_heading_refuses_page_headings(heading: str) -> None:
    assert split_heading(heading) is None


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("Learning: a point", ("learning", "a point")),
        ("Learning includes: a point", ("learning", "a point")),
        ("Learning themes include: a point", ("learning", "a point")),
        ("Key issues: include: a point", ("learning", "a point")),
        ("Issues identified include: a point", ("learning", "a point")),
        ("Recommendations: include: a step", ("recommendations", "a step")),
        ("Recommendations to the partnership include: a step", ("recommendations", "a step")),
        ("Background: known to universal services", ("background", "known to universal services")),
        ("Model: SILP", ("model", "SILP")),
        ("Keywords: neglect, parenting.", ("keywords", "neglect, parenting.")),
        ("Death of a child: a summary", None),
        ("Synthetic summary with no label.", None),
    ],
)
def test_split_label(paragraph: str, expected: tuple[str, str] | None) -> None:
    assert split_label(paragraph) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Non-accidental injuries, physical abuse, medical assessment.", True),
        ("Suicide, self-harm.", True),
        ("Substance misuse, pre-birth risk assessments, unknown men", True),
        ("neglect, ADHD, school attendance", True),
        ("Makes recommendations for guidance to staff.", False),
        ("The board has published the report in full, with an action plan.", False),
        ("Learning: one, two", False),
        ("neglect", False),
        ("Child A, Child B and Child C", False),
    ],
)
def test_looks_like_keywords(line: str, expected: bool) -> None:
    assert looks_like_keywords(line) is expected


UNRELATED = [
    "",
    "   \n",
    "<html><body></body></html>",
    "<html><body><main><h1>About the NSPCC</h1><p>We are a charity.</p></main></body></html>",
    # a local partnership page: reviews, but no NSPCC list heading and no NSPCC entry headings
    "<html><body><h1>Safeguarding practice reviews</h1><ul><li><a href='a.pdf'>Child A, B and C</a>"
    " (published 31/01/11)</li></ul></body></html>",
    "<html><body><main><h1>Recently published case reviews</h1><p>Last updated: 04 Sep 2018</p></main></body></html>",
]


@pytest.mark.parametrize("html", UNRELATED)
@pytest.mark.parametrize(("parse", "url"), [(rolling.parse, ROLLING_URL), (yearly.parse, YEARLY_URL)])
def test_unrelated_page_raises(parse, url: str, html: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(html, url)
    assert caught.value.url == url


def test_recognisable_page_without_entries_is_empty() -> None:
    html = "<html><body><main><h1>Case reviews published in 2016</h1><p>None yet.</p></main></body></html>"
    result = yearly.parse(html, YEARLY_URL)
    assert result.entries == []
    assert result.meta == {"list_heading": "Case reviews published in 2016"}
    assert result.next_url is None


def test_entry_fields_as_written() -> None:
    html = (
        "<main><h2>Case reviews published in 2018</h2>"
        "<h3>2018 - Anonymous- Children F, G and H</h3><p>Summary.</p>"
        "<p><strong>Learning:</strong> a point.</p><p><strong>Keywords:</strong> a, b.</p>"
        "<p><a href='/r.pdf'>Read the overview report</a></p></main>"
    )
    (entry,) = rolling.parse(html, ROLLING_URL).entries
    assert (entry.date_text, entry.area_text, entry.title) == ("2018", "Anonymous", "Children F, G and H")
    assert entry.heading == "2018 - Anonymous- Children F, G and H"
    assert entry.summary == "Summary."
    assert entry.details == {"learning": "a point."}
    assert entry.keywords == ["a", "b"]
    assert entry.url == "https://learning.nspcc.org.uk/r.pdf"
    assert entry.page_url == ROLLING_URL
