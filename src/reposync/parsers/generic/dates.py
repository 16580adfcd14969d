"""Reading dates off a line: ``31/01/11``, ``24/1/13``, ``11-10-2013``, ``2023-05-01``, ``6th January 2020``,
``14-Mar-2014``, ``January 6, 2020``, ``July 2023``, ``Dec 2024``, ``March-April 2024``, or a year (or a
financial year, ``2020/21``) when it is labelled (``Published 2014``), bracketed (``(2014)``) or alone in a date
column or heading. A label written before the date stays with it in ``date_text``; a date labelled as the
page's own ("Page last updated ...") is not an entry's, and one labelled as an entry's update ("Child X
(updated 3 March 2021)") is taken, label and all, only when the line has no other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..base import clean
from .titles import PUNCT

_MONTH_NAMES = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()

_MONTH = r"(?:" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"

_YEAR = r"(?:19|20)\d\d"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_TO = r"\s*(?:[-\u2013\u2014]|\bto\b)\s*"

# Tried left to right at each place in a line, so the fuller form of a date comes first.
_DATE = re.compile(
    r"(?P<dmy>\b" + _DAY + r"(?:\s+|-)(?:of\s+)?" + _MONTH + r",?(?:\s+|-)" + _YEAR + r"\b)"  # 14-Mar-2014
    r"|(?P<mdy>\b" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b)"  # January 6, 2020
    r"|(?P<num>(?<![\d/.-])\d{1,2}(?P<sep>[/.-])\d{1,2}(?P=sep)(?:\d{4}|\d{2})(?!\d|[/.-]\d))"  # 11-10-2013
    r"|(?P<iso>\b" + _YEAR + r"-\d\d-\d\d\b)"  # 2023-05-01
    # March-April 2024, December 2023 to January 2024
    r"|(?P<months>\b" + _MONTH + r"(?:\s+" + _YEAR + r")?" + _TO + _MONTH + r",?\s+" + _YEAR + r"\b)"
    r"|(?P<my>\b" + _MONTH + r",?\s+" + _YEAR + r"\b)"
    r"|(?P<year>\b" + _YEAR + r"(?:[/\-\u2013]\d\d(?:\d\d)?(?![\d/-]))?\b)",  # 2014; a financial year 2020/21
    re.I,
)

# A label written just before a date: it stays with the date in date_text.
_LABEL_TAIL = re.compile(
    r"\b(?:(?:date\s+(?:of\s+)?)?publi(?:shed|cation)(?:\s+date)?(?:\s+on)?|first\s+published(?:\s+on)?"
    r"|date|posted(?:\s+on)?|added(?:\s+on)?|issued(?:\s+on)?|released(?:\s+on)?)\s*[:\-\u2013]?\s*$",
    re.I,
)

# A date labelled as an update, not a publication: "Page last updated 12/03/2019", "Reviewed: July 2023",
# "Child X (updated 3 March 2021)".
_PAGE_META = re.compile(
    r"(?:\b(?:page|site|content|this\s+page\s+was)\s+(?:last\s+)?(?:updated|modified|reviewed|amended|edited|published)"
    r"|\b(?:last\s+)?(?:updated|modified|reviewed|amended|edited|revised)|\breview\s+date)"
    r"(?:\s+on)?\s*[:\-\u2013]?\s*$",
    re.I,
)
# Of those, the page's own ("last updated", and a review date: when the page is next due for one): never an
# entry's.
_PAGE_OWN = re.compile(r"\b(?:page|site|content)\s+(?:last\s+)?\w+|\blast\s+\w+|\breview\s+date", re.I)

@dataclass
class Date:
    start: int  # span of the label, the date and any brackets around them
    end: int
    text: str  # label and date as written: "published 31/01/11", "Dec 2024"
    marked: bool  # labelled ("published ...") or bracketed: set apart from the text around it
    update: bool = False  # labelled as an update ("updated 3 March 2021"): the entry's only date, not its publication

@lru_cache(maxsize=32)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)

def find_date(text: str, custom: re.Pattern[str] | None, *, alone_ok: bool,
              trailing_ok: bool = False) -> tuple[Date | None, bool]:
    """The entry date in ``text`` (labelled first), and whether the line is the page's own date.

    A date labelled as an update is the page's own when nothing but the label comes before it ("Updated: 12 May
    2020") or the label names the page or says "last"; after a title ("Child X (updated 3 March 2021)") it is
    the entry's, marked ``update``, taken only when the line gives no other date.
    """
    candidates: list[tuple[int, int, bool, bool]] = []  # start, end, custom, year only
    if custom is not None:
        for match in custom.finditer(text):
            if match.end() > match.start():
                candidates.append((match.start(), match.end(), True, False))
    for match in _DATE.finditer(text):
        candidates.append((match.start(), match.end(), False, match["year"] is not None))
    labelled: list[Date] = []
    plain: list[Date] = []
    updates: list[Date] = []
    page_meta = False
    words: tuple[int, int] | None = None  # first and last character that is not punctuation, when asked
    # Each candidate looks only near itself (the label window, the spaces around it), so a
    # line of thousands of dates costs linear time, not the square of its length.
    for start, end, is_custom, year_only in candidates:
        label = None
        update = False
        if _may_be_labelled(text, start):
            offset = max(0, start - _LABEL_WINDOW)
            before = text[offset:start]
            label = _PAGE_META.search(before)
            if label:
                if _PAGE_OWN.search(label[0]) or not PUNCT.sub("", text[:offset + label.start()]):
                    page_meta = True
                    continue
                update = True  # after a title: the entry's, if the line has no other date
            else:
                label = _LABEL_TAIL.search(before)
        label_start = offset + label.start() if label else start
        span_start = label_start
        left = span_start  # just past the last non-space before the date (and its label)
        while left > 0 and text[left - 1].isspace():
            left -= 1
        right = end  # the first non-space after it
        while right < len(text) and text[right].isspace():
            right += 1
        bracketed = left > 0 and text[left - 1] in "([" and right < len(text) and text[right] in ")]"
        if bracketed:
            span_start, span_end = left - 1, right + 1
        else:
            span_end = end
        if year_only and not is_custom and not label and _LAW.search(text[:left - 1 if bracketed else left]):
            continue  # the year of a law, bracketed or not: "the Children and Social Work Act (2017)"
        if year_only and not is_custom and not label and not bracketed:
            if not alone_ok:
                continue  # a bare year in text is not a publication date ("Working Together 2018")
            if words is None:
                words = _word_bounds(text)
            if words[0] <= words[1] and words[1] >= end:
                continue  # words after the year
            if words[0] <= words[1] and words[0] < start and not trailing_ok:
                continue  # words before the year (a heading's last word may be its year: trailing_ok)
        as_written = clean(text[label_start:end])
        found = Date(span_start, span_end, as_written, marked=bool(label) or bracketed, update=update)
        if update:
            updates.append(found)
            continue
        (labelled if label else plain).append(found)
        if is_custom or label:
            break  # the person's pattern wins over the built-in forms; the first labelled date wins
    chosen = (labelled or plain or updates or [None])[0]
    return chosen, page_meta and chosen is None

# The name of a law or statutory guidance just before a year: that year is the law's ("Children Act 2004",
# "Children and Social Work Act (2017)", "Working Together 2018"), never a publication date.
_LAW = re.compile(r"\b(?:Act|Regulations|Working\s+Together(?:\s+to\s+Safeguard\s+Children)?)\s*$")

# A label sits right before its date, and a line's text is clean (one space at most between
# words): a label is sought only in this many characters before a date.
_LABEL_WINDOW = 80

def _may_be_labelled(text: str, start: int) -> bool:
    """Whether a label (or a page date's words) can end right before ``start``: both patterns end in a
    word, then spaces, at most one of ``:-–``, spaces. A cheap test before the regular expressions."""
    at = start
    while at > 0 and text[at - 1].isspace():
        at -= 1
    if at > 0 and text[at - 1] in ":-\u2013":
        at -= 1
        while at > 0 and text[at - 1].isspace():
            at -= 1
    return at > 0 and text[at - 1].isalpha()

_PUNCT_CHAR = re.compile(PUNCT.pattern.removesuffix("+"))  # one character of PUNCT

def _word_bounds(text: str) -> tuple[int, int]:
    """The first and the last index of a character that is not punctuation (first > last: none)."""
    lead = PUNCT.match(text)
    first = lead.end() if lead else 0
    last = len(text) - 1
    while last >= first and _PUNCT_CHAR.match(text, last):
        last -= 1
    return first, last
