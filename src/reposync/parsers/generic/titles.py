"""Titles and types: review types in words or abbreviations, file details, document words
("Read the full report (PDF)"), the punctuation at a title's edges, and table column roles.

A title is kept as the page writes it, type words included ("Child D Local Child Safeguarding Practice
Review", "7 Minute Briefing: Learning from Rapid Reviews"); only file details ("(PDF, 1.2MB)") and
stray separators at its edges go. The types it names are read from it, not cut out of it.
"""

from __future__ import annotations

import re

from ..base import clean

# Review types in words or abbreviations (abbreviations in capitals only).
_TYPE = re.compile(
    r"\b(?:local\s+)?(?:(?:child|safeguarding)\s+){1,2}practice\s+reviews?\b"  # the Welsh child practice review too
    r"|\bserious\s+case\s+reviews?\b"
    r"|\blearning\s+reviews?\b"
    r"|\b(?:7|seven)[\s-]+minute\s+briefings?\b"
    r"|\blearning\s+(?:summary|summaries|briefs?|briefings?)\b"
    r"|(?-i:\b(?:L?CSPR|SCR|SPR))\s+briefings?\b"  # "the Patricia LCSPR briefing": a briefing
    r"|(?-i:\b(?:L?CSPR|SCR|SPR)s?\b)",
    re.I,
)

# "(PDF, 1.2MB)", "[Word 200KB]", "PDF 350 KB": the file, not the review.
_FILE_INFO = re.compile(
    r"[(\[]\s*(?:pdf|docx?|word|odt|rtf|xlsx?|pptx?)\b[^)\]]*[)\]]"
    r"|[(\[]\s*\d+(?:\.\d+)?\s*[kmg]b\s*[)\]]"
    r"|\b(?:pdf|docx?)\s*,?\s*\d+(?:\.\d+)?\s*[kmg]b\b"
    r"|[(\[]\s*opens\s+in\s+a\s+new\s+(?:window|tab)\s*[)\]]",
    re.I,
)

# Words of a link that names a document, not a review: "Read the full report (PDF)".
_GENERIC_WORDS = frozenset(
    "read download downloads view open see the full final report reports overview executive summary document "
    "documents here click this pdf word docx doc version accessible link file new window tab opens in a an of "
    "and more information details findings recommendations published publication date".split()
)

# Stray separators of old layouts and bullets typed as text, at a line's edges;
# a title also loses dashes left over from a separator.
LINE_EDGE = "|\u2022\u00b7\u00bb* "

TITLE_EDGE = LINE_EDGE + "-\u2013\u2014:,;"

NOTE_LEAD = re.compile(r"^\s*[-\u2013\u2014:|;,]+\s*")

SEPARATOR = re.compile(r"\s+[-\u2013\u2014|]\s+|\s*[:|]\s+|\s*[\u2013\u2014]\s*")

PUNCT = re.compile(r"[\s\-\u2013\u2014:;,.|()\[\]/\\\u2022\u00b7\u00bb*]+")

# Roles of table columns, by their header's words.
_COLUMN_ROLES = [
    ("type", re.compile(r"\btype\b|\bkind\b|\bcategory\b|\bmodel\b", re.I)),
    ("date", re.compile(r"\bdate\b|\bpublished\b|\bpublication\b|\bmonth\b|\byear\b|\bwhen\b", re.I)),
    ("title", re.compile(r"\btitle\b|\bname\b|\breview\b|\bcase\b|\bchild\b|\bsubject\b", re.I)),
    # A column per document of a review ("Overview Report", "Learning Brief"): each dated cell is an entry.
    ("document", re.compile(r"\breports?\b|\bbriefs?\b|\bbriefings?\b|\bsummar(?:y|ies)\b", re.I)),
]

def strip_file_info(text: str) -> str:
    return clean(_FILE_INFO.sub(" ", text))

def types_in(text: str) -> list[str]:
    return [clean(m.group(0)) for m in _TYPE.finditer(text)]

def residue(text: str) -> str:
    """What is left of ``text`` without types, file details, document words and punctuation."""
    text = _TYPE.sub(" ", _FILE_INFO.sub(" ", text))
    words = [w for w in PUNCT.split(text.lower()) if w]
    return " ".join(w for w in words if w not in _GENERIC_WORDS and not w.isdigit())

def is_generic(text: str) -> bool:
    return not residue(text)

# A briefing names itself: "Learning Briefing - Peer on Peer Abuse", "7 minute briefing: Child X".
BRIEFING = re.compile(r"\b(?:(?:7|seven)[\s-]+minute\s+briefings?|learning\s+(?:summary|summaries|briefs?|briefings?))\b",
                      re.I)


def title_as_written(raw: str) -> str:
    """The title as the page writes it, type words included; only file details and stray edges go."""
    return strip_file_info(raw).strip(TITLE_EDGE)


def remove_generic_links(text: str, links: list[tuple[str, str]]) -> str:
    """``text`` without the words of its document links ("Baby M - Read the report")."""
    for _, link_text in links:
        if link_text and is_generic(link_text) and link_text in text and link_text != text.strip(TITLE_EDGE):
            text = text.replace(link_text, " ")
    return clean(text)

def only_types(text: str) -> bool:
    """True when ``text`` says nothing but review types (and file details)."""
    return not PUNCT.sub("", _TYPE.sub(" ", _FILE_INFO.sub(" ", text)))

def unique(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower(), value)
    return list(seen.values())

def column_role(header: str) -> str:
    for role, rule in _COLUMN_ROLES:
        if rule.search(header):
            return role
    return "other"


# What a section heading says of the entries under it: review types, thematic reviews among them.
_THEMATIC = re.compile(r"\bthematic\s+(?:reviews?|learning\s+reviews?)\b", re.I)


# A partnership's own document about reviews, not a review: the section's type is not its type.
OWN_DOCUMENT = re.compile(r"\bmessages\s+from\b|\breview\s+of\s+reviews\b|\bannual\s+report\b"
                          r"|\bimprovement\s+report\b", re.I)


def section_types_in(heading: str) -> list[str]:
    """The review types a section heading names ("Thematic reviews", "Serious case reviews")."""
    return [match[0] for match in _THEMATIC.finditer(heading)] or types_in(heading)
