"""What every parser needs: a tree, clean text, absolute links, NSPCC headings."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..errors import ParseError

_SPACE = re.compile(r"\s+")


def tree(html: str, url: str) -> LexborHTMLParser:
    if not html or not html.strip():
        raise ParseError(url, "empty page")
    return LexborHTMLParser(html)


def clean(value: str | None) -> str:
    """Collapse runs of white space (including non-breaking) to one space."""
    if not value:
        return ""
    return _SPACE.sub(" ", value.replace("\xa0", " ")).strip()


def text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return clean(node.text(separator=" "))


def absolute(base: str, href: str | None) -> str | None:
    """Resolve a link against its page, keeping the encoding the site used."""
    if not href or not href.strip():
        return None
    return urljoin(base, href.strip())


# NSPCC headings: "2025 - Cambridgeshire and Peterborough - Gabriel",
# "December 2014 – Blackpool - Child BR", "2018 - Anonymous- Children F, G and H",
# and rendering faults with no separator after the date: "2012Ceredigion – Child J".
_DASH = r"\s*[-\u2013\u2014]\s*"
_HEADING = re.compile(
    r"^(?P<date>(?:(?:[A-Z][a-z]{2,8}\.?)\s+)?(?:19|20)\d\d)"
    r"(?:" + _DASH + r"|\s*(?=[A-Z]))"
    r"(?P<area>.+?)" + _DASH + r"(?P<title>\S.*)$"
)


def split_heading(heading: str) -> tuple[str, str, str] | None:
    """``(date, area, title)`` of an NSPCC list heading, or None if it is not one.

    The area is everything up to the first dash after the date, so titles may
    contain dashes; area names in these lists never do.
    """
    match = _HEADING.match(clean(heading))
    if not match:
        return None
    return clean(match["date"]), clean(match["area"]), clean(match["title"])


# Section labels drift between years; map every variant to one name.
_LABELS = {
    "background": "background",
    "learning": "learning",
    "learning includes": "learning",
    "learning themes include": "learning",
    "key issues": "learning",
    "issues identified include": "learning",
    "recommendations": "recommendations",
    "recommendations include": "recommendations",
    "recommendations to the partnership include": "recommendations",
    "model": "model",
    "keywords": "keywords",
}
_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z ]{2,60}?)\s*:\s*(.*)$", re.S)


def split_label(paragraph: str) -> tuple[str, str] | None:
    """``("learning", rest)`` for "Learning includes: ...", else None."""
    match = _LABEL.match(paragraph)
    if not match:
        return None
    name = _LABELS.get(clean(match[1]).lower())
    if name is None:
        return None
    return name, clean(match[2])


def split_keywords(value: str) -> list[str]:
    """"neglect, parenting, domestic abuse." -> ["neglect", "parenting", "domestic abuse"]."""
    words = [clean(part).rstrip(".").strip() for part in value.split(",")]
    return [w for w in words if w]
