"""Reading dates off a line: ``31/01/11``, ``24/1/13``, ``6th January 2020``, ``July 2023``, ``Dec 2024``,
or a year when it is labelled (``Published 2014``), bracketed (``(2014)``) or alone in a date column or
heading. A label written before the date stays with it in ``date_text``; a date labelled as the page's
own ("Page last updated ...") is not an entry's.
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

_DATE = re.compile(
    r"(?P<dmy>\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?:19|20)\d\d\b)"
    r"|(?P<num>(?<![\d/.])\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})(?!\d|[/.]\d))"
    r"|(?P<my>\b" + _MONTH + r",?\s+(?:19|20)\d\d\b)"
    r"|(?P<year>\b(?:19|20)\d\d\b)",
    re.I,
)

# A label written just before a date: it stays with the date in date_text.
_LABEL_TAIL = re.compile(
    r"\b(?:(?:date\s+(?:of\s+)?)?publi(?:shed|cation)(?:\s+date)?(?:\s+on)?|first\s+published(?:\s+on)?"
    r"|date|posted(?:\s+on)?|added(?:\s+on)?|issued(?:\s+on)?|released(?:\s+on)?)\s*[:\-\u2013]?\s*$",
    re.I,
)

# The page's own date, not an entry's: "Page last updated 12/03/2019", "Reviewed: July 2023".
_PAGE_META = re.compile(
    r"(?:\b(?:page|site|content|this\s+page\s+was)\s+(?:last\s+)?(?:updated|modified|reviewed|amended|edited|published)"
    r"|\b(?:last\s+)?(?:updated|modified|reviewed|amended|edited)|\breview\s+date)(?:\s+on)?\s*[:\-\u2013]?\s*$",
    re.I,
)

@dataclass
class Date:
    start: int  # span of the label, the date and any brackets around them
    end: int
    text: str  # label and date as written: "published 31/01/11", "Dec 2024"
    marked: bool  # labelled ("published ...") or bracketed: set apart from the text around it

@lru_cache(maxsize=32)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)

def find_date(text: str, custom: re.Pattern[str] | None, *, alone_ok: bool,
              trailing_ok: bool = False) -> tuple[Date | None, bool]:
    """The entry date in ``text`` (labelled first), and whether the line is the page's own date."""
    candidates: list[tuple[int, int, bool, bool]] = []  # start, end, custom, year only
    if custom is not None:
        for match in custom.finditer(text):
            if match.end() > match.start():
                candidates.append((match.start(), match.end(), True, False))
    for match in _DATE.finditer(text):
        candidates.append((match.start(), match.end(), False, match.lastgroup == "year"))
    labelled: list[Date] = []
    plain: list[Date] = []
    page_meta = False
    words: tuple[int, int] | None = None  # first and last character that is not punctuation, when asked
    # Each candidate looks only near itself (the label window, the spaces around it), so a
    # line of thousands of dates costs linear time, not the square of its length.
    for start, end, is_custom, year_only in candidates:
        label = None
        if _may_be_labelled(text, start):
            offset = max(0, start - _LABEL_WINDOW)
            before = text[offset:start]
            if _PAGE_META.search(before):
                page_meta = True
                continue
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
        found = Date(span_start, span_end, as_written, marked=bool(label) or bracketed)
        (labelled if label else plain).append(found)
        if is_custom or label:
            break  # the person's pattern wins over the built-in forms; the first labelled date wins
    chosen = (labelled or plain or [None])[0]
    return chosen, page_meta and chosen is None

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
