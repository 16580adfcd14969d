"""What a report's first pages say about it: the review's type, the child's pseudonym, the partnership and
the month it was published. Read from text alone, so a PDF and a Word file are read the same way.

Dates use the project's own readers (``find_date`` for a labelled date on a line, ``parse_date`` for its
precision), so "Published: March 2023" means here what it means on a partnership's page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..normalise.entries import Published, named_type, parse_date
from ..parsers.generic.dates import find_date

# The kinds of review a title page names, the longer names first ("Local Child Safeguarding Practice
# Review" before "Child Safeguarding Practice Review"). A line break inside the name is a space here.
_REVIEW = re.compile(
    r"\b(?:local\s+child\s+safeguarding\s+practice\s+review|local\s+safeguarding\s+(?:children\s+|child\s+)?"
    r"practice\s+review|national\s+(?:child\s+)?safeguarding\s+practice\s+review"
    r"|child\s+safeguarding\s+practice\s+review|safeguarding\s+practice\s+review|serious\s+case\s+review"
    r"|safeguarding\s+adults?\s+review|child\s+practice\s+review|significant\s+case\s+review"
    r"|case\s+management\s+review|thematic\s+(?:review|report)|learning\s+review|rapid\s+review"
    r"|domestic\s+homicide\s+review)\b",
    re.I,
)
_SMALL_WORDS = {"of", "into", "and"}

# "Child K", "Baby T", "Children A and B", "Family LR", "Child 'Jack'", "‘Arthur’": a role and a code, or a
# quoted name. The code is upper case, so "Child Safeguarding" is no pseudonym.
_CODE = r"(?:[A-Z]{1,3}\d{0,3}|\d{1,3})\b"
_QUOTED = r"['\u2018\u201c\"][A-Z][a-z]+(?:[ -][A-Z][a-z]+)?['\u2019\u201d\"]"
_PSEUDONYM = re.compile(
    r"\b(?i:young\s+(?:person|people)|child(?:ren)?|bab(?:y|ies)|infant|famil(?:y|ies)|siblings?|adult)"
    r"\s+(?:" + _CODE + r"(?:\s*(?:,|&|\band\b)\s*" + _CODE + r")*|" + _QUOTED + r")"
    r"|" + _QUOTED,
)
# The partnership: a run of capitalised words ending in its body's name, on one line.
_PARTNERSHIP = re.compile(
    r"(?:[A-Z][\w'\u2019&.-]*\s+(?:(?:and|&|of|the)\s+)?){1,6}?"
    r"(?:(?:Local\s+)?Safeguarding\s+(?:Children(?:['\u2019]s)?\s+|Adults\s+)?(?:Partnership|Board)"
    r"|Children(?:['\u2019]s)?\s+Safeguarding\s+Partnership|LSCB)\b"
)
_SPACES = re.compile(r"\s+")
_TITLE_LINES = 60  # a title page says what it is near the top; a body page's words are no title
_NEAR_TYPE = 200  # characters after the type's name where its pseudonym is looked for


@dataclass(frozen=True)
class TitlePage:
    title: str | None  # "Child Safeguarding Practice Review — Child K"
    review_type: str | None  # normalise.named_type of the type's name: scr, lcspr, thematic, ...
    pseudonym: str | None
    partnership: str | None
    published: Published | None


def _lines(text: str) -> list[str]:
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return [line for line in lines if line][:_TITLE_LINES]


def _as_name(words: str) -> str:
    """"LOCAL CHILD safeguarding practice review" -> "Local Child Safeguarding Practice Review"."""
    return " ".join(w.lower() if w.lower() in _SMALL_WORDS else w[:1].upper() + w[1:].lower()
                    for w in words.split())


def read_title_page(pages: list[str]) -> TitlePage:
    """Read the first pages' text (one string a page). A cover that is a picture leaves page one with
    almost no words, so the second page is read with it."""
    lines = _lines(pages[0]) if pages else []
    if len(lines) < 3 and len(pages) > 1:
        lines += _lines(pages[1])
    joined = " ".join(lines)

    kind = _REVIEW.search(joined)
    type_name = _as_name(kind.group(0)) if kind else None
    near = joined[kind.end(): kind.end() + _NEAR_TYPE] if kind else " ".join(lines[:15])
    child = _PSEUDONYM.search(near)
    pseudonym = _SPACES.sub(" ", child.group(0)).strip() if child else None
    if type_name and pseudonym:
        title = f"{type_name} \u2014 {pseudonym}"
    elif type_name:
        title = type_name + _subject(lines, kind.group(0))
    else:
        title = pseudonym

    partnership = None
    for line in lines:
        found = _PARTNERSHIP.search(line)
        if found:
            partnership = found.group(0)
            break
    return TitlePage(title, named_type(type_name) if type_name else None, pseudonym, partnership,
                     read_published(lines))


def _subject(lines: list[str], type_words: str) -> str:
    """What a review without a pseudonym is about, when its line says: "Thematic Review: Neglect"."""
    words = _SPACES.sub(" ", type_words)
    for line in lines:
        at = line.lower().find(words.lower())
        if at >= 0:
            rest = line[at + len(words):].strip(" :\u2013\u2014-")
            return f" \u2014 {rest}" if 3 <= len(rest) <= 120 else ""
    return ""


def read_published(lines: list[str]) -> Published | None:
    """The publication date: the first labelled one ("Published: March 2023", "Date of publication ...");
    else the first line that is a date and nothing else ("October 2013", "2019"). A date inside a sentence
    ("Working Together 2018", "Child K died in May 2019") is no publication date."""
    alone: Published | None = None
    for line in lines:
        found, _page_meta = find_date(line, None, alone_ok=True)
        if found is None:
            continue
        date = parse_date(found.text)
        if date is None:
            continue
        if found.marked:
            return date
        if alone is None and _only_date(line, found.start, found.end):
            alone = date
    return alone


def _only_date(line: str, start: int, end: int) -> bool:
    return not line[:start].strip(" ,.:;()[]\u2013\u2014-") and not line[end:].strip(" ,.:;()[]\u2013\u2014-")
