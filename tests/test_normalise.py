from __future__ import annotations

from datetime import date

import pytest

from reposync.normalise.entries import parse_date, pseudonyms, review_type, title_key

TODAY = date(2026, 11, 26)


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
        ("1/2/98", "1998-02-01", "day"),  # a two-digit year past next year is last century
    ],
)
def test_dates_are_read_day_first_at_their_precision(text: str, value: str, precision: str) -> None:
    published = parse_date(text, today=TODAY)
    assert published is not None
    assert (published.value, published.precision) == (value, precision)


def test_a_year_is_the_whole_year_not_a_day() -> None:
    published = parse_date("Published 2014", today=TODAY)
    assert published is not None
    assert (published.start, published.end) == (date(2014, 1, 1), date(2014, 12, 31))
    month = parse_date("February 2024", today=TODAY)
    assert month is not None and month.end == date(2024, 2, 29)


@pytest.mark.parametrize("text", [None, "", "no date here", "published soon"])
def test_no_date_gives_none(text: str | None) -> None:
    assert parse_date(text, today=TODAY) is None


def test_an_impossible_day_is_not_a_date() -> None:
    assert parse_date("31/02/13", today=TODAY) is None


def test_a_configured_pattern_comes_first() -> None:
    published = parse_date("ref 2019/07 added 2020", today=TODAY, pattern=r"(?P<year>\d{4})/(?P<month>\d{2})")
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
        ("Thematic review of child neglect", []),
        ("Messages from reviews", []),
        ("Babies with injuries", []),
    ],
)
def test_pseudonym_sets(title: str, expected: list[str]) -> None:
    assert pseudonyms(title) == expected


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
    ],
)
def test_review_type(texts: list[str], nation: str | None, year: int | None, expected: str) -> None:
    assert review_type(*texts, nation=nation, year=year) == expected
