"""Evidence both jobs read off a pair of records: how their dates relate, how alike their titles are, and
whether their review types agree."""

from __future__ import annotations

from rapidfuzz import fuzz

from .records import Record

NEAR_DAYS = 62  # a local date and the list month or catalogue year it reached, two months either way
ADJACENT_DAYS = 366
WIDE_DAYS = 1096  # pass A': the same names up to three years apart
TYPE_SAME = 1.0
TYPE_OTHER_NATION = -3.0
TYPE_THEMATIC = -1.0


def date_relation(a: Record, b: Record) -> tuple[str, int | None]:
    """How two publication intervals relate, and the days between them (0 when they overlap)."""
    start_a, start_b = a.start, b.start
    if start_a is None or start_b is None:
        return "unknown", None
    end_a, end_b = a.end, b.end
    # max(starts) - min(ends), without the calls: this runs for every pair the dedupe compares
    gap = (start_a if start_a > start_b else start_b) - (end_a if end_a < end_b else end_b)  # type: ignore[operator]
    if gap <= 0:
        return "overlap", 0
    # A year-only date is the whole year: its nearest day says nothing about how near the other date is
    # (10 December 2015 and "2016" may be a year apart), so beside a year-only date the dates are at best
    # adjacent years; two whole years side by side are always one day apart.
    if gap <= NEAR_DAYS and a.precision != "year" and b.precision != "year":
        return "near", gap
    if gap <= ADJACENT_DAYS:
        return "adjacent-year", gap
    if gap <= WIDE_DAYS:
        return "within-3-years", gap
    return "far", gap


def title_similarity(a: str, b: str) -> float:
    """0-1: token set ratio (one title inside the other) tempered by token sort ratio (their lengths)."""
    if not a or not b:
        return 0.0
    return (fuzz.token_set_ratio(a, b, processor=None) + fuzz.token_sort_ratio(a, b, processor=None)) / 200


_NATIONS = frozenset({"welsh-cpr", "scottish-scr", "ni-cmr"})
_ABOUT_A_REVIEW = frozenset({"briefing", "other"})


def type_points(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return TYPE_SAME
    if a in _ABOUT_A_REVIEW or b in _ABOUT_A_REVIEW:
        return 0.0  # a briefing or a summary is about some review: no evidence either way
    if (a in _NATIONS) != (b in _NATIONS) or (a in _NATIONS and b in _NATIONS):
        return TYPE_OTHER_NATION
    if "thematic" in (a, b):
        return TYPE_THEMATIC
    return 0.0  # scr, cspr, lcspr: the same reviews under the 2018 names
