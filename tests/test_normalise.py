from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reposync.config import Source
from reposync.models import RawEntry
from reposync.normalise import entries as normalise_module
from reposync.normalise.areas import load_areas
from reposync.normalise.entries import normalise, parse_date, pseudonyms, review_type, title_key

AREAS = load_areas(Path(__file__).resolve().parent.parent / "config" / "areas.toml")


@pytest.mark.parametrize(
    "text, value, precision",
    [
        ("published 31/01/11", "2011-01-31", "day"),
        ("published 10/10/13", "2013-10-10", "day"),
        ("published 11/10/13", "2013-10-11", "day"),  # 11 October, never 10 November
        ("published 24/1/13", "2013-01-24", "day"),
        ("Published 2014", "2014", "year"),
        ("3rd March 2021", "2021-03-03", "day"),
        ("published 6th January 2020", "2020-01-06", "day"),
        ("March 2022", "2022-03", "month"),
        ("Sept 2025", "2025-09", "month"),
        ("Dec 2024", "2024-12", "month"),
        ("December 2014", "2014-12", "month"),
        ("July 2023", "2023-07", "month"),
        ("2016", "2016", "year"),
        ("31/12/1999", "1999-12-31", "day"),
        ("1/2/98", "1998-02-01", "day"),  # a two-digit year from 70 is last century
        # Issue 25: every common form.
        ("11-10-2013", "2013-10-11", "day"),  # day first with dashes too
        ("14-Mar-2014", "2014-03-14", "day"),
        ("January 6, 2020", "2020-01-06", "day"),
        ("2023-05-01", "2023-05-01", "day"),  # ISO
        ("published 2019-07-04", "2019-07-04", "day"),
        ("Published: 2020-2021 annual", "2020-04/2021-03", "month"),
        ("1/2/30", "2030-02-01", "day"),  # below 70 this century, whatever year it is today
    ],
)
def test_dates_are_read_day_first_at_their_precision(text: str, value: str, precision: str) -> None:
    published = parse_date(text)
    assert published is not None
    assert (published.value, published.precision) == (value, precision)


def test_a_year_is_the_whole_year_not_a_day() -> None:
    published = parse_date("Published 2014")
    assert published is not None
    assert (published.start, published.end) == (date(2014, 1, 1), date(2014, 12, 31))
    month = parse_date("February 2024")
    assert month is not None and month.end == date(2024, 2, 29)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2020/21", date(2020, 4, 1), date(2021, 3, 31)),  # a financial year, April to March
        ("2020-21", date(2020, 4, 1), date(2021, 3, 31)),
        ("published 2019/2020", date(2019, 4, 1), date(2020, 3, 31)),
        ("March\u2013April 2024", date(2024, 3, 1), date(2024, 4, 30)),
        ("March to April 2024", date(2024, 3, 1), date(2024, 4, 30)),
        ("December 2023 - January 2024", date(2023, 12, 1), date(2024, 1, 31)),
    ],
)
def test_a_span_of_months_is_read_as_that_interval(text: str, start: date, end: date) -> None:
    published = parse_date(text)
    assert published is not None
    assert (published.start, published.end, published.precision) == (start, end, "month")
    assert published.value == f"{start:%Y-%m}/{end:%Y-%m}"  # an ISO interval


@pytest.mark.parametrize("text", ["2019-2021", "2020/19", "2020/22"])
def test_years_that_are_not_one_financial_year_are_the_first_year(text: str) -> None:
    published = parse_date(text)
    assert published is not None and (published.value, published.precision) == (text[:4], "year")


def test_a_two_digit_year_takes_the_century_of_the_years_its_entry_writes_out() -> None:
    assert parse_date("published 4/5/72").value == "1972-05-04"  # type: ignore[union-attr]
    assert parse_date("published 4/5/72", evidence=(2071,)).value == "2072-05-04"  # type: ignore[union-attr]
    assert parse_date("published 4/5/12", evidence=(1915,)).value == "1912-05-04"  # type: ignore[union-attr]


class _NextYear(date):
    """date, with today some years on: what a rebuild in another year sees."""

    @classmethod
    def today(cls) -> date:
        return date(2049, 6, 1)


def test_a_rebuild_in_another_year_reads_two_digit_years_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    source = Source(id="york", kind="local", parser="generic", url="https://partnership.example/")
    raw = RawEntry(title="Child B", page_url=source.url, date_text="published 10/10/48",
                   heading="Child B (published 10/10/48)")
    now = normalise(raw, source, AREAS)
    monkeypatch.setattr(normalise_module, "date", _NextYear)
    later = normalise(raw, source, AREAS)
    assert (now["published"], later["published"]) == ("2048-10-10", "2048-10-10")


def test_a_two_digit_year_is_settled_by_the_report_address_the_entry_gives() -> None:
    source = Source(id="york", kind="local", parser="generic", url="https://partnership.example/")
    raw = RawEntry(title="Child B", page_url=source.url, date_text="published 10/10/72",
                   url="https://partnership.example/uploads/2073/01/child-b.pdf")
    assert normalise(raw, source, AREAS)["published"] == "2072-10-10"


@pytest.mark.parametrize("text", [None, "", "no date here", "published soon"])
def test_no_date_gives_none(text: str | None) -> None:
    assert parse_date(text) is None


def test_an_impossible_day_is_not_a_date() -> None:
    assert parse_date("31/02/13") is None


def test_a_configured_pattern_comes_first() -> None:
    published = parse_date("ref 2019/07 added 2020", pattern=r"(?P<year>\d{4})/(?P<month>\d{2})")
    assert published is not None and published.value == "2019-07"


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Child A, B and C", ["child a", "child b", "child c"]),
        ("Children F, G and H", ["child f", "child g", "child h"]),
        ("Charlie and Sam", ["charlie", "sam"]),
        ("BDS12", ["bds12"]),
        ("CE001 Child B, Child C, Child D", ["ce001", "child b", "child c", "child d"]),
        ("Baby E, Baby O, Baby W", ["baby e", "baby o", "baby w"]),
        ("Child F and Family", ["child f"]),
        ("Child R and Family R", ["child r", "family r"]),
        ("Young Person 7", ["young person 7"]),
        ("Keanu Williams", ["keanu williams"]),
        ("Serious case review: Family U.", ["family u"]),
        ("Serious case review: overview report: Child 'Elias'", ["elias"]),
        ("Local child safeguarding practice review: Gabriel", ["gabriel"]),
        ("Children A, B, C, D, E and F", ["child a", "child b", "child c", "child d", "child e", "child f"]),
        ("Child H1", ["child h1"]),
        ("Claire/Anne", ["claire", "anne"]),
        # Issue 25: ranges are every member; every word for a child is "child".
        ("Children A-C", ["child a", "child b", "child c"]),
        ("Children A\u2013C", ["child a", "child b", "child c"]),
        ("Children A to C", ["child a", "child b", "child c"]),
        ("Child A-C", ["child a", "child b", "child c"]),
        ("Children 1-3", ["child 1", "child 2", "child 3"]),
        ("Learning from the experiences of Children D-F", ["child d", "child e", "child f"]),
        ("Siblings A and B", ["child a", "child b"]),
        ("Twins A and B", ["child a", "child b"]),
        ("Brothers A and B", ["child a", "child b"]),
        ("Sisters A, B and C", ["child a", "child b", "child c"]),
        ("Baby A and Baby B", ["baby a", "baby b"]),
        ("Children A and B", ["child a", "child b"]),
        ("Brothers", []),
        ("Sisters", []),
        ("Children", []),
        # Topics name no child.
        ("Child Sexual Exploitation", []),
        ("Child Protection Medicals", []),
        ("County Lines", []),
        ("Domestic Abuse", []),
        ("Baby Loss", []),
        ("Children 0-5", []),
        ("Young People 16 and 17 Year Olds", []),
        # Accented and apostrophised names are kept whole.
        ("Chlo\u00e9", ["chlo\u00e9"]),
        ("Child O'Brien", ["o'brien"]),
        ("Child O\u2019Brien", ["o'brien"]),
        ("Zo\u00eb and Am\u00e9lie", ["zo\u00eb", "am\u00e9lie"]),
        ("Thematic review of child neglect", []),
        ("Messages from reviews", []),
        ("Babies with injuries", []),
    ],
)
def test_pseudonym_sets(title: str, expected: list[str]) -> None:
    assert pseudonyms(title) == expected


@pytest.mark.parametrize(
    "first, second",
    [
        ("Siblings A and B", "Children A and B"),
        ("Twins A and B", "Children A and B"),
        ("Brothers A and B", "Siblings A and B"),
        ("Baby A and Baby B", "Babies A and B"),
        ("Baby A and Baby B", "Babies A-B"),
        ("Children A-C", "Children A, B and C"),
        ("Child A to C", "Child A, Child B and Child C"),
    ],
)
def test_the_same_children_give_the_same_set_whatever_the_role_word(first: str, second: str) -> None:
    assert pseudonyms(first) == pseudonyms(second)


def test_title_key_keeps_accented_letters() -> None:
    assert title_key("Zo\u00eb and Am\u00e9lie") == "zoe and amelie"


def test_title_key_drops_type_words_quotes_and_punctuation() -> None:
    assert title_key("Serious case review: overview report: Child 'Elias'") == "child elias"
    assert title_key("Serious case review: Family U.") == "family u"
    assert title_key("Child A, B and C") == "child a b and c"


@pytest.mark.parametrize(
    "title, key, names",
    [
        # Leicester writes LCSPR's words in the other order; Herefordshire joins two type phrases with "of".
        ("Local Safeguarding Child Practice Review - Patricia", "patricia", ["patricia"]),
        ("Local Safeguarding Child Practice Review - Child C & D", "child c d", ["child c", "child d"]),
        ("Executive Summary of Serious Case Review Louise", "louise", ["louise"]),
        ("Serious case review into child sexual exploitation in Oxfordshire",
         "child sexual exploitation in oxfordshire", []),
        ("Thematic review of child neglect", "thematic review of child neglect", []),  # the theme is the case
    ],
)
def test_title_key_leaves_no_type_words_or_their_joins(title: str, key: str, names: list[str]) -> None:
    assert title_key(title) == key
    assert pseudonyms(title) == names


@pytest.mark.parametrize(
    "texts, nation, year, expected",
    [
        (["Serious case review: Family U."], "england", 2018, "scr"),
        (["Local child safeguarding practice review: Gabriel"], "england", 2025, "lcspr"),
        (["LCSPR"], None, None, "lcspr"),
        (["Thematic review of child neglect"], "england", 2013, "thematic"),
        (["7 minute briefing: Child X"], "england", 2023, "briefing"),
        (["Child practice review: Child J"], "wales", 2012, "welsh-cpr"),
        (["Child J"], "wales", 2012, "welsh-cpr"),
        (["Significant case review: Child Y"], "scotland", 2019, "scottish-scr"),
        (["Case management review"], "northern-ireland", 2015, "ni-cmr"),
        (["Messages from reviews"], "england", 2014, "other"),
        (["Child B"], "england", 2013, "scr"),  # before September 2019 a review was an SCR
        (["Babies with injuries"], None, 2022, "lcspr"),
        (["Child Q"], None, None, "other"),
        # Issue 25: the Welsh review is typed whatever its case; Leicester's reversed words stay English.
        (["Child Practice Review: Child J"], None, 2014, "welsh-cpr"),
        (["CHILD PRACTICE REVIEW - Child J"], "england", 2014, "welsh-cpr"),
        (["Local Safeguarding Child Practice Review - Patricia"], "england", 2021, "lcspr"),
    ],
)
def test_review_type(texts: list[str], nation: str | None, year: int | None, expected: str) -> None:
    assert review_type(*texts, nation=nation, year=year) == expected
