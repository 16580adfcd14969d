"""The generic local-page parser: what it takes, what it leaves, its overrides, and York read through it.

The example pages with expected JSON are in ``tests/fixtures/pages/generic/``
(run by ``test_parsers.py``); these are the unit-level checks between them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from conftest import CONFIG, FIXTURES, ROOT, SNAPSHOTS
from reposync import settings
from reposync.config import load_config
from reposync.errors import ParseError
from reposync.archive.snapshots import Archive
from reposync.normalise.entries import normalise, parse_date, title_key
from reposync.parsers import generic, get_parser, parser_for
from reposync.sync import run_sync

URL = "https://partnership.example/reviews"
GENERIC_PAGES = FIXTURES / "pages" / "generic"


def page(body: str, title: str = "Safeguarding practice reviews") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body><main>{body}</main></body></html>"


def titles(html: str, **options: str) -> list[str]:
    return [e.title for e in generic.parse(html, URL, **options).entries]


# --- York read by the generic parser ------------------------------------------------------
#
# York had its own parser (src/reposync/parsers/york.py, retired in favour of this one). Its
# example pages, now tests/fixtures/pages/generic/york-*.html, keep the results the York parser
# gave (their JSON, unchanged), and so does tests/fixtures/snapshots/york/001.json for the
# bundled York page. The generic parser must give those results field by field.


def _york_cases() -> list[tuple[str, str, str, dict]]:
    """(name, html, url, the York parser's result) of every York example page and the York snapshot."""
    cases = []
    for html_path in sorted(GENERIC_PAGES.glob("york-*.html")):
        recorded = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
        cases.append((html_path.stem, html_path.read_text(encoding="utf-8"), recorded["url"], recorded["result"]))
    recorded = json.loads((FIXTURES / "snapshots" / "york" / "001.json").read_text(encoding="utf-8"))
    archive = Archive(SNAPSHOTS)
    row = archive.latest(recorded["url"])
    assert row is not None and row.sha256 == recorded["sha256"]
    cases.append(("snapshot", archive.body(row.sha256).decode("utf-8"), recorded["url"], recorded["result"]))
    return cases


def test_every_york_example_is_compared() -> None:
    assert len(_york_cases()) == 5  # four example pages and the snapshot


@pytest.mark.parametrize("case", _york_cases(), ids=lambda c: c[0])
def test_york_pages_give_the_york_parsers_entries(case: tuple[str, str, str, dict]) -> None:
    _, html, url, expected = case
    actual = generic.parse(html, url)
    assert len(actual.entries) == len(expected["entries"])
    for number, (mine, theirs) in enumerate(zip(actual.entries, expected["entries"])):
        for name, value in theirs.items():
            assert getattr(mine, name) == value, f"entry {number} ({theirs['title']}): {name}"
    assert actual.meta == expected["meta"]
    assert actual.next_url is None


def test_york_is_configured_with_the_generic_parser() -> None:
    york = next(s for s in load_config(CONFIG).sources if s.id == "york")
    assert york.parser == "generic"


def test_an_entry_is_marker_enough_without_a_review_page_title() -> None:
    result = generic.parse("<html><body><p><a href='x.pdf'>Child XZ</a> (published 2/3/14)</p></body></html>", URL)
    assert [(e.title, e.date_text, e.url) for e in result.entries] == [
        ("Child XZ", "published 2/3/14", "https://partnership.example/x.pdf")]


def test_anchor_and_script_links_are_not_report_links() -> None:
    html = page("<ul><li><a href='#top'>Child XW</a> (published 2014)</li>"
                "<li><a href='javascript:void(0)'>Child XY</a> (published 2015)</li></ul>")
    assert [(e.title, e.url) for e in generic.parse(html, URL).entries] == [("Child XW", None), ("Child XY", None)]


def test_a_page_date_is_not_an_entry_but_a_labelled_date_after_a_title_is() -> None:
    # The York parser took only "(published ...)" in brackets; the generic parser also takes
    # "Title - published 2014", and still leaves the page's own date.
    html = page("<p>Page published 12/03/2019</p><p>Child XY - published 2014</p>"
                "<p><a href='/x.pdf'>Child XX</a> (published 2014)</p>", title="Serious Case Reviews")
    assert titles(html) == ["Child XY", "Child XX"]


# --- what is taken ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "title", "date_text", "note"),
    [
        ("<a href='a.pdf'>Child XA</a> (published 31/01/11)", "Child XA", "published 31/01/11", None),
        ("<a href='a.pdf'>Claire/Anne</a> report published 6th January 2020", "Claire/Anne report",
         "published 6th January 2020", None),
        ("<a href='a.pdf'>Baby XB</a> - July 2023 - summary only", "Baby XB", "July 2023", "summary only"),
        ("Dec 2024 &ndash; <a href='a.pdf'>Child XC</a> &ndash; shared with schools", "Child XC", "Dec 2024",
         "shared with schools"),
        ("<a href='a.pdf'>Child XD</a> <span>Sept 2019</span>", "Child XD", "Sept 2019", None),
        ("<a href='a.pdf'>Child XE</a> (2014)", "Child XE", "2014", None),
        ("<a href='a.pdf'>Child XF</a>, publication date: 3 March 2022", "Child XF", "publication date: 3 March 2022",
         None),
    ],
)
def test_a_title_and_its_date_in_one_list_item(line: str, title: str, date_text: str, note: str | None) -> None:
    entry = generic.parse(page(f"<ul><li>{line}</li></ul>"), URL).entries[0]
    assert (entry.title, entry.date_text, entry.note) == (title, date_text, note)
    assert entry.url == "https://partnership.example/a.pdf"


@pytest.mark.parametrize(
    ("text", "type_text"),
    [
        ("SCR: Child XG", "SCR"),
        ("Child XG - LCSPR", "LCSPR"),
        ("Child XG (CSPR)", "CSPR"),
        ("Child XG SPR", "SPR"),
        ("7 minute briefing: Child XG", "7 minute briefing"),
        ("Child XG learning review", "learning review"),
        ("Learning summary - Child XG", "Learning summary"),
        ("Child XG: serious case review", "serious case review"),
        ("Child XG", None),
    ],
)
def test_review_types_are_read_from_the_title_as_written(text: str, type_text: str | None) -> None:
    """The title keeps its type words (issue 12); the type is read from them, the matching key drops them."""
    entry = generic.parse(page(f"<p><a href='x.pdf'>{text}</a> (published 2/3/21)</p>"), URL).entries[0]
    assert (entry.title, entry.type_text) == (text, type_text)
    assert title_key(entry.title) == "child xg"


def test_abbreviations_are_types_only_in_capitals() -> None:
    entry = generic.parse(page("<p><a href='x.pdf'>Child XH scr notes</a> (published 2/3/21)</p>"), URL).entries[0]
    assert entry.type_text is None


def test_every_date_text_is_read_by_normalise() -> None:
    for json_path in sorted(GENERIC_PAGES.glob("*.json")):
        data = json.loads(json_path.read_text(encoding="utf-8"))
        for entry in data["result"]["entries"]:
            if entry["date_text"] is None:
                continue
            published = parse_date(entry["date_text"], pattern=data.get("date_pattern"))
            assert published is not None, f"{json_path.name}: {entry['date_text']!r} is not read as a date"


# --- issue 25: every date form, review titles with skip words, Welsh reviews, names -----------------------

FORMS = GENERIC_PAGES / "date-forms-and-review-titles.html"


def _forms_rows() -> dict[str, dict]:
    """The fixture page's entries as the sync would store them (a local source of Essex), by title."""
    config = load_config(CONFIG)
    source = next(s for s in config.sources if s.id == "essex")
    recorded = json.loads(FORMS.with_suffix(".json").read_text(encoding="utf-8"))
    result = generic.parse(FORMS.read_text(encoding="utf-8"), recorded["url"])
    return {row["title"]: row for row in (normalise(raw, source, config.areas) for raw in result.entries)}


@pytest.mark.parametrize(
    "title, published, start, end",
    [
        ("Child XBA", "2013-10-11", "2013-10-11", "2013-10-11"),  # 11-10-2013: day first
        ("Child XBB", "2014-03-14", "2014-03-14", "2014-03-14"),  # 14-Mar-2014
        ("Child XBC", "2020-01-06", "2020-01-06", "2020-01-06"),  # January 6, 2020
        ("Child XBD", "2023-05-01", "2023-05-01", "2023-05-01"),  # ISO in a line
        ("Child XBT", "2023-05-01", "2023-05-01", "2023-05-01"),  # ISO in a date column
        ("Child XBE", "2019-07-04", "2019-07-04", "2019-07-04"),  # (published 2019-07-04): the title intact
        ("Thematic review of adolescents at risk", "2020-04/2021-03", "2020-04-01", "2021-03-31"),  # 2020/21
        ("Children A\u2013C", "2024-03/2024-04", "2024-03-01", "2024-04-30"),  # March-April 2024
    ],
)
def test_every_common_date_form_is_read_beside_its_title(title: str, published: str, start: str, end: str) -> None:
    row = _forms_rows()[title]
    assert (row["published"], row["published_start"], row["published_end"]) == (published, start, end)


@pytest.mark.parametrize(
    "title, date_text",
    [("Child XBH", "updated 3 March 2021"), ("Child XBI", "amended 5 May 2022"), ("Child XBJ", "reviewed July 2023")],
)
def test_an_entry_whose_only_date_is_an_update_is_kept_and_says_so(title: str, date_text: str) -> None:
    row = _forms_rows()[title]
    assert row["date_text"] == date_text  # the mark: the label stays with the date
    assert row["published"] is None  # and no publication date is claimed from it


def test_the_pages_own_update_date_is_listed_as_skipped() -> None:
    result = generic.parse(FORMS.read_text(encoding="utf-8"), URL)
    assert ("Last updated: 12 May 2024",
            "the page's own date (updated, reviewed), not an entry's publication date") in result.skipped


@pytest.mark.parametrize(
    "title, review_type",
    [
        ("Thematic Review of Child Protection Conferences", "thematic"),
        ("Serious Case Review: Neglect Strategy in Practice", "scr"),
        ("Safeguarding Practice Review: Babies and Safer Sleep Guidance", "lcspr"),
        ("CHILD PRACTICE REVIEW: Child XBN", "welsh-cpr"),  # typed whatever its case, in an English area's list
    ],
)
def test_a_review_title_beats_its_skip_words_and_keeps_its_type(title: str, review_type: str) -> None:
    assert _forms_rows()[title]["review_type"] == review_type


def test_a_skip_word_without_a_reviews_own_type_words_is_still_skipped() -> None:
    result = generic.parse(FORMS.read_text(encoding="utf-8"), URL)
    assert ("Serious case review procedures", "not a review: names 'procedures'") in result.skipped


@pytest.mark.parametrize(
    "title, names",
    [
        ("Children A\u2013C", ["child a", "child b", "child c"]),
        ("Twins XA and XB", ["child xa", "child xb"]),
        ("Siblings A and B", ["child a", "child b"]),
        ("Child Sexual Exploitation", []),
        ("County Lines", []),
        ("Children 0-5", []),
        ("Chlo\u00e9", ["chlo\u00e9"]),
        ("Child O\u2019Brien", ["o'brien"]),
        ("Zo\u00eb and Am\u00e9lie", ["zo\u00eb", "am\u00e9lie"]),
    ],
)
def test_the_pages_names_give_the_pseudonym_sets(title: str, names: list[str]) -> None:
    assert _forms_rows()[title]["pseudonyms"] == names


def test_day_first_dates_stay_as_written() -> None:
    entry = generic.parse(page("<p><a href='x.pdf'>Child XJ</a> (published 11/10/13)</p>"), URL).entries[0]
    assert entry.date_text == "published 11/10/13"
    published = parse_date(entry.date_text)
    assert published is not None and published.value == "2013-10-11"


def test_a_link_and_the_date_in_the_next_paragraph() -> None:
    html = page("<p><a href='x.pdf'>Child XK</a></p><p>Published: July 2023</p><p>Reports stay up for a year.</p>")
    entries = generic.parse(html, URL).entries
    assert [(e.title, e.date_text) for e in entries] == [("Child XK", "Published: July 2023")]


def test_a_title_without_a_date_is_not_taken() -> None:
    assert titles(page("<ul><li><a href='x.pdf'>Child XL overview report</a></li></ul>")) == []


# --- what is left --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<p>The review was published on 6 January 2020 and is below.</p>",
        "<p>Since 29 September 2019 reviews have a new name.</p>",
        "<p>In July 2023 the partnership agreed a new approach.</p>",
        "<p>Working Together 2018 sets out the rules.</p>",
        "<p>Page last updated: 12 March 2024</p>",
        "<ul><li>Last reviewed 03/01/2025</li></ul>",
        "<ul><li><a href='/policy.pdf'>Safeguarding policy</a> (published 3 March 2022)</li></ul>",
        "<ul><li><a href='/p.pdf'>Child protection procedures</a> - July 2023</li></ul>",
        "<ul><li><a href='/news'>Newsletter - December 2024</a></li></ul>",
        "<ul><li><a href='/contact'>Contact us</a> (updated 2 May 2024)</li></ul>",
        "<ul><li><a href='#top'>Top of page</a> 2024</li></ul>",
        "<ul><li><a href='/ar.pdf'>Annual report 2023-24</a> (published November 2024)</li></ul>",
        "<nav><ul><li><a href='/c.pdf'>Child XM</a> (published 1/2/13)</li></ul></nav>",
        "<aside><ul><li><a href='/c.pdf'>Child XM</a> (published 1/2/13)</li></ul></aside>",
        "<div class='site-footer-links'><a href='/c.pdf'>Child XM</a> (published 1/2/13)</div>",
        "<div role='navigation'><a href='/c.pdf'>Child XM</a> (published 1/2/13)</div>",
        "<div class='breadcrumbs'><a href='/c.pdf'>Child XM</a> (published 1/2/13)</div>",
    ],
)
def test_not_reviews_are_not_taken(body: str) -> None:
    assert titles(page(f"<h1>Safeguarding practice reviews</h1>{body}")) == []


def test_a_review_named_with_a_child_is_kept_whatever_words_it_holds() -> None:
    assert titles(page("<ul><li><a href='x.pdf'>Child XN: procedures</a> (published 1/2/13)</li></ul>")) == [
        "Child XN: procedures"]


def test_a_page_of_reviews_with_none_listed_gives_an_empty_list() -> None:
    result = generic.parse(page("<h1>Serious case reviews</h1><p>No reviews are published at present.</p>"), URL)
    assert result.entries == [] and result.meta == {"title": "Serious case reviews"}


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   \n",
        "<html><body><h1>Page not found</h1><p>Sorry.</p></body></html>",
        "<html><head><title>Opening hours</title></head><body><h1>Opening hours</h1>"
        "<ul><li><a href='/contact'>Contact us</a></li></ul></body></html>",
    ],
    ids=["empty", "blank", "not-found", "unrelated"],
)
def test_a_page_that_is_not_a_page_of_reviews_raises(html: str) -> None:
    with pytest.raises(ParseError) as caught:
        generic.parse(html, URL)
    assert caught.value.url == URL


def test_a_deeply_nested_page_does_not_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    # Deeper than Python's recursion limit (1000): the walk keeps its own stack. (Such a page is refused as
    # nested too deeply before it is parsed; with the cap raised, the walk still copes.)
    monkeypatch.setattr(settings, "MAX_NESTING", 2000)
    html = page("<div>" * 1500 + "<p><a href='x.pdf'>Child XP</a> (published 1/2/13)</p>" + "</div>" * 1500)
    assert titles(html) == ["Child XP"]


# --- overrides ----------------------------------------------------------------------------

SLASHED = r"\b(?P<year>20\d\d)/(?P<month>\d\d)/(?P<day>\d\d)\b"  # year first: not a built-in form


def test_date_pattern_reads_dates_the_built_in_forms_do_not() -> None:
    html = page("<ul><li><a href='x.pdf'>Child XQ</a> &middot; 2023/07/14</li></ul>")
    assert titles(html) == []
    entry = generic.parse(html, URL, date_pattern=SLASHED).entries[0]
    assert entry.date_text == "2023/07/14"
    published = parse_date(entry.date_text, pattern=SLASHED)
    assert published is not None and (published.value, published.precision) == ("2023-07-14", "day")


def test_entry_selector_keeps_out_what_lies_outside_its_matches() -> None:
    html = page("<div class='r'><a href='a.pdf'>Child XR</a> - July 2023</div>"
                "<ul><li><a href='/n'>New chair appointed</a> - 3 March 2025</li></ul>")
    assert titles(html) == ["Child XR", "New chair appointed"]
    assert titles(html, entry_selector="div.r") == ["Child XR"]


def test_entry_selector_takes_an_undated_match_as_one_entry() -> None:
    html = page("<div class='r'><h3><a href='a.pdf'>Child XS</a></h3><p>Serious case review</p></div>")
    entry = generic.parse(html, URL, entry_selector="div.r").entries[0]
    assert (entry.title, entry.date_text, entry.type_text) == ("Child XS", None, "Serious case review")


def test_entry_selector_matching_a_whole_list_finds_the_entries_inside() -> None:
    html = page("<ul id='reviews'><li><a href='a.pdf'>Child XT</a> - July 2023</li>"
                "<li><a href='b.pdf'>Child XU</a> - May 2022</li></ul>")
    assert titles(html, entry_selector="#reviews") == ["Child XT", "Child XU"]


def test_a_bad_entry_selector_is_a_parse_error_naming_it() -> None:
    with pytest.raises(ParseError, match="entry_selector"):
        generic.parse(page("<p>x</p>"), URL, entry_selector="[[")


def test_sources_get_their_overrides_bound_and_other_parsers_are_untouched() -> None:
    config = load_config(CONFIG)
    for source in config.sources:
        assert callable(parser_for(source))
    bound = get_parser("generic", entry_selector="div.r", date_pattern=SLASHED)
    assert bound.keywords == {"entry_selector": "div.r", "date_pattern": SLASHED}
    assert get_parser("nspcc-library", entry_selector="div.r", date_pattern=SLASHED) is get_parser("nspcc-library")
    assert get_parser("generic", entry_selector=None) is generic.parse


# --- a partnership is a [[source]] entry ---------------------------------------------------

LEEDS_PAGE = """<!DOCTYPE html>
<!-- synthetic: an invented page and invented pseudonyms, in a throwaway archive only -->
<html><head><title>Safeguarding practice reviews | Synthetic</title></head><body>
<nav><a href="/">Home</a> | <a href="/contact">Contact</a></nav>
<main><h1>Safeguarding practice reviews</h1>
<ul><li><a href="/docs/child-xv.pdf">Child XV</a> (published 14/03/2022)</li>
<li><a href="/docs/baby-xw.pdf">Baby XW</a> - Dec 2024 - 7 minute briefing</li>
<li><a href="/docs/procedures.pdf">Procedures</a> (published 1/1/2021)</li></ul></main></body></html>"""


def test_adding_a_partnership_takes_only_a_source_entry(tmp_path: Path) -> None:
    url = "https://www.leeds-partnership.example/reviews/safeguarding-practice-reviews"
    archive = Archive(tmp_path / "snapshots")
    archive.add(url, LEEDS_PAGE.encode("utf-8"))
    config_path = tmp_path / "sources.toml"
    config_path.write_text(
        f"""[paths]
db = "catalogue.db"
snapshots = "snapshots"
reports = "reports"
areas = "{(ROOT / 'config' / 'areas.toml').as_posix()}"

[[source]]
id = "leeds"
kind = "local"
parser = "generic"
area = "Leeds"
url = "{url}"
""",
        encoding="utf-8",
    )
    result = run_sync(load_config(config_path), offline=True)
    assert result.exit_code == 0
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    rows = {r["title"]: r for r in db.query("SELECT * FROM entries WHERE source = 'leeds'")}
    assert set(rows) == {"Child XV", "Baby XW"}
    for row in rows.values():
        assert (row["area"], json.loads(row["la_codes"])) == ("Leeds", ["E08000035"])
    assert (rows["Child XV"]["published"], rows["Child XV"]["published_precision"]) == ("2022-03-14", "day")
    assert (rows["Baby XW"]["published"], rows["Baby XW"]["review_type"]) == ("2024-12", "briefing")


# --- the bundled partnerships ---------------------------------------------------------------

PARTNERSHIPS = {
    "north-tyneside": ("Claire/Anne", "2020-01-06", "day", ["E08000022"], ["claire", "anne"]),
    "south-gloucestershire": ("Baby M", "2023-07", "month", ["E06000025"], ["baby m"]),
    "essex": ("Child PP", "2024-12", "month", ["E10000012"], ["child pp"]),
}


def test_the_bundled_partnerships_sync_with_their_area_codes(tmp_path: Path) -> None:
    config = load_config(CONFIG)
    result = run_sync(config, offline=True, source_ids=tuple(PARTNERSHIPS), db_path=tmp_path / "catalogue.db",
                      snapshots_path=SNAPSHOTS)
    assert result.exit_code == 0
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    for source, (title, published, precision, codes, names) in PARTNERSHIPS.items():
        rows = list(db.query("SELECT * FROM entries WHERE source = ?", [source]))
        assert [r["title"] for r in rows] == [title], source
        row = rows[0]
        assert (row["published"], row["published_precision"]) == (published, precision), source
        assert json.loads(row["la_codes"]) == codes and row["area"] is not None, source
        assert json.loads(row["pseudonyms"]) == names, source


def test_an_accordion_of_buttons_is_read() -> None:
    """Accordion toggles are <button>s that hold the review's title (issue 12); other buttons stay unread."""
    html = page(
        '<div class="accordion"><h3 class="accordion-header"><button class="accordion-button" aria-expanded="false"'
        ' aria-controls="a1">Child XT \u2013 SPR published 17th March 2022</button></h3>'
        '<div id="a1" class="accordion-collapse collapse"><p><a href="/xt.pdf">Read the report</a></p></div>'
        '<button type="button">Print this page (published 1 May 2024)</button></div>'
    )
    (entry,) = generic.parse(html, URL).entries
    assert (entry.title, entry.date_text) == ("Child XT \u2013 SPR", "published 17th March 2022")
    assert entry.url == "https://partnership.example/xt.pdf"


def test_a_card_titled_like_a_section_heading_is_an_entry() -> None:
    """From 12b: a card whose linked title ends in "reviews" was dropped without a word."""
    html = page(
        '<div class="card-grid">'
        '<article class="review-card"><h3><a href="/xa.pdf">Child XA</a></h3><p>Published 31/01/11</p></article>'
        '<article class="review-card"><h3><a href="/messages.pdf">Messages from reviews</a></h3>'
        '<p class="review-card__date">Published March 2014</p><p>Learning from all reviews 2007-2014</p></article>'
        '</div><h2>Other reviews</h2>'
    )
    assert titles(html) == ["Child XA", "Messages from reviews"]


def test_a_page_wrapped_in_one_web_forms_form_is_read_but_a_search_form_is_not() -> None:
    # ASP.NET Web Forms (Lancashire's old .aspx LSCB site among them) wraps every page in <form>.
    rows = '<ul><li><a href="/scr-g.pdf">Child G overview report</a> (published 14 June 2017)</li></ul>'
    wrapped = (f'<!DOCTYPE html><html><head><title>SCRs</title></head><body><form method="post" id="aspnetForm">'
               f'<h1>Serious Case Reviews</h1>{rows}</form></body></html>')
    assert titles(wrapped) == ["Child G overview report"]
    search = ('<form role="search" action="/search"><a href="/scr-x.pdf">Child X overview report</a> '
              '(published 1 May 2017)</form>')
    assert titles(page(search + rows)) == ["Child G overview report"]


def test_a_sentence_ending_published_month_colon_dates_the_documents_listed_under_it() -> None:
    # Derby and Derbyshire: a review's heading, then "... Available reports published August 2024:" over its list.
    html = page('<h3>Child Safeguarding Practice Review: Zac (ZDS22)</h3>'
                '<p>The partnership have published the review that concerns a child known as Zac.</p>'
                '<p>A summary of progress is published along with the report. Available reports published August 2024:</p>'
                '<ul><li><a href="/zac.pdf">Child Safeguarding Practice Review Concerning Zac (ZDS22)</a></li>'
                '<li><a href="/zac-progress.pdf">Summary of Progress concerning Zac (ZDS22)</a></li></ul>'
                '<h3>Other reviews</h3><ul><li><a href="/policy.pdf">Child X review, no date</a></li></ul>')
    entries = generic.parse(html, URL).entries
    assert [(e.title, e.date_text) for e in entries] == [
        ("Child Safeguarding Practice Review Concerning Zac (ZDS22)", "published August 2024"),
        ("Summary of Progress concerning Zac (ZDS22)", "published August 2024"),
    ]  # the date stops at the next heading


@pytest.mark.parametrize("sentence", [
    "Under the new Stockport Safeguarding Children Partnership (SSCP) arrangements and in line with the Children "
    "and Social Work Act (2017), the process for reviewing cases has changed.",
    "Reviews are carried out under the Children Act 2004 and Working Together to Safeguard Children (2018).",
])
def test_the_year_of_a_law_is_never_a_publication_date(sentence: str) -> None:
    # Stockport's real page says this above its list of reviews: it is not an entry dated 2017.
    html = page(f'<p>{sentence}</p><p><a href="/a.pdf">Child A local child safeguarding practice review</a></p>')
    assert titles(html) == ["Child A local child safeguarding practice review"]


def test_a_sentence_publishing_today_with_a_bracketed_date_dates_the_heading_above() -> None:
    # Swindon's real page: a heading a review, "... is today (16/01/2020) publishing the report ...", the link.
    html = page('<h3>Serious Case Review - Child G</h3>'
                '<p>The Swindon Safeguarding Partnership is today (16/01/2020) publishing the report arising from a '
                'Serious Case Review.</p><p><a href="/scr-g.pdf">SCR G - Final Report</a></p>'
                '<h3>Serious Case Review - Child Q</h3>'
                '<p>The Swindon Safeguarding Partnership is today (27th November 2019) publishing the report.</p>'
                '<p><a href="/scr-q.pdf">SCR Q - Final Report</a></p>')
    entries = generic.parse(html, URL).entries
    assert [(e.title, e.date_text, e.url) for e in entries] == [
        ("Serious Case Review - Child G", "16/01/2020", URL.rsplit("/", 1)[0] + "/scr-g.pdf"),
        ("Serious Case Review - Child Q", "27th November 2019", URL.rsplit("/", 1)[0] + "/scr-q.pdf"),
    ]


# --- what unseen pages hold (issue 20, point 5; tests/fixtures/pages/generic/unseen-layouts.html) ---------------
UNSEEN = GENERIC_PAGES / "unseen-layouts.html"


def _unseen() -> dict[str, dict]:
    from reposync.config import Source
    from reposync.normalise.areas import load_areas
    from reposync.normalise.entries import normalise

    areas = load_areas(ROOT / "config" / "areas.toml")
    source = Source(id="synthmoor", kind="local", parser="generic", url=URL, area=areas.lookup("Leeds"))
    result = generic.parse(UNSEEN.read_text(encoding="utf-8"), URL)
    return {e.title: {**vars(e), "review_type": normalise(e, source, areas)["review_type"]} for e in result.entries}


def test_a_review_given_as_a_paragraph_with_no_link_is_an_entry() -> None:
    child_x = _unseen()["Child X – Local Child Safeguarding Practice Review"]
    assert (child_x["date_text"], child_x["url"], child_x["review_type"]) == ("Published 15 May 2023", None, "lcspr")
    assert child_x["note"] == "This report has been removed at the family's request."


def test_a_hint_beside_a_linkless_title_is_its_note_not_its_title() -> None:
    entries = _unseen()
    assert "Child AB – executive summary" in entries
    assert entries["Child AB – executive summary"]["note"] == "(report withdrawn, available on request)"
    assert entries["Child AB – executive summary"]["date_text"] == "Published March 2022"


def test_a_section_headings_type_is_the_type_of_the_entries_under_it() -> None:
    entries = _unseen()
    types = {title: entry["review_type"] for title, entry in entries.items()}
    assert types["Neglect in adolescence"] == types["Safer sleeping"] == "thematic"  # by year: lcspr
    assert types["Family E"] == "scr" and types["Baby C"] == "lcspr"
    assert types["Child D – 7 minute briefing"] == "briefing"  # its own type first
    assert types["Improvement Report – Family E"] == "other"  # the partnership's own document, not the review


def test_a_bold_line_is_an_entry_only_when_it_names_a_review_and_a_date_follows() -> None:
    html = page("<p><strong>This page was updated in June 2024</strong></p>"
                "<p><strong>Child Q – Serious Case Review</strong></p><p>The review is under way.</p>"
                "<p><strong>Learning from our reviews</strong><br>Published 2 May 2021.</p>")
    result = generic.parse(html, URL)
    assert result.entries == [] and result.skipped == []


def test_one_section_type_over_the_whole_page_types_nothing() -> None:
    """One "Serious Case Reviews" heading over every entry is the page's subject (the York pages keep their
    types by year); sections of several types, or a thematic one, type their entries."""
    html = page("<h2>Serious Case Reviews</h2><p><a href='a.pdf'>Child XR</a> (published 2/3/14)</p>")
    assert [e.type_text for e in generic.parse(html, URL).entries] == [None]
