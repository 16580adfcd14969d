"""What every parser needs: a tree, clean text, absolute links, NSPCC headings."""

from __future__ import annotations

import hashlib
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .. import settings
from ..errors import ParseError
from ..urls import as_browser_reads, web_url
from . import nesting

_SPACE = re.compile(r"\s+")


def tree(html: str, url: str) -> LexborHTMLParser:
    if not html or not html.strip():
        raise ParseError(url, "empty page")
    refuse_too_deep(html, url)
    return LexborHTMLParser(html)


def refuse_too_deep(html: str, url: str) -> None:
    """A ParseError (exit 65) for a page lexbor would nest too deeply, found from its tags before it is parsed.

    ``nesting.measure`` bounds the depth lexbor builds and the elements it makes; tree building costs about
    their product, so a page under both limits parses in time linear in its size (bench/parse_depth.py).
    """
    # With few tags nothing nests deep or re-opens much: a record page is under both limits from counts alone.
    bound = nesting.counted(html)
    if bound.depth <= settings.MAX_NESTING and bound.elements <= settings.ELEMENTS_SLACK:
        return
    per = settings.CHARACTERS_PER_ELEMENT
    found = nesting.measure(html, settings.MAX_NESTING, per, settings.ELEMENTS_SLACK)
    if found.depth > settings.MAX_NESTING:
        raise ParseError(url, f"nested too deeply: elements nested more than {settings.MAX_NESTING} deep, "
                              "not a page a person wrote")
    if found.stopped:
        raise ParseError(url, f"nested too deeply: misnested tags re-open elements over and over (more than one "
                              f"element per {per} characters), not a page a person wrote")


def clean(value: str | None) -> str:
    """Collapse runs of white space (including non-breaking) to one space."""
    if not value:
        return ""
    # str.split() splits at exactly what the regex \s+ matches (every character for which
    # str.isspace() holds, \xa0 included), and is several times faster: this runs ~40 times an entry.
    return " ".join(value.split())


def text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return clean(node.text(separator=" "))


def absolute(base: str, href: str | None) -> str | None:
    """The http(s) URL a link leads to from its page (encoding as the site wrote it), or None: a link to
    anything else (``javascript:``, ``data:``, ``file:``) or no URL at all is no link (``urls.web_url``)."""
    return web_url(href, base)


def link_target(base: str, href: str | None) -> str | None:
    """Where a link on the page at ``base`` leads, if it can lead to a report: an http(s) URL (``absolute``),
    not a place on the same page (``#top``)."""
    if not href or as_browser_reads(href).startswith("#"):
        return None
    return absolute(base, href)


# NSPCC headings: "2025 - Cambridgeshire and Peterborough - Gabriel",
# "December 2014 – Blackpool - Child BR", "2018 - Anonymous- Children F, G and H",
# and rendering faults with no separator after the date: "2012Ceredigion – Child J",
# "December 2014NSPCC on behalf of unnamed LSCB - Child C".
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DASH = r"\s*[-\u2013\u2014]\s*"
# Between area and title a hyphen needs a space on at least one side, so an area
# such as "Stockton-on-Tees" stays whole; an en or em dash separates as it is.
_SEP = r"(?:\s+-\s*|\s*-\s+|\s*[\u2013\u2014]\s*)"
_HEADING = re.compile(
    r"^(?P<date>(?:" + _MONTH + r"\s+)?(?:19|20)\d\d)"
    r"(?:" + _DASH + r"|\s*(?=[A-Z]))"
    r"(?P<area>\S.*?)" + _SEP + r"(?P<title>\S.*)$"
)


def split_heading(heading: str) -> tuple[str, str, str] | None:
    """``(date, area, title)`` of an NSPCC list heading, or None if it is not one.

    The date is a year, or a month and year, as written. The area is everything
    up to the first separating dash after the date, so titles may contain
    dashes; area names in these lists never hold a spaced dash. Page headings
    ("Case reviews published in 2018", "Last updated: 04 Sep 2018") are not
    entry headings and give None.
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
    "learning themes": "learning",
    "learning points": "learning",
    "key learning": "learning",
    "key issues": "learning",
    "issues identified include": "learning",
    "issues identified": "learning",
    "recommendations": "recommendations",
    "recommendation": "recommendations",
    "recommendations include": "recommendations",
    "recommendations to the partnership include": "recommendations",
    "model": "model",
    "review model": "model",
    "keywords": "keywords",
    "keyword": "keywords",
    "key words": "keywords",
    "type": "type",
    "review type": "type",
}
_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z ]{2,60}?)\s*:\s*(.*)$", re.S)
# "Key issues: include: ..." and "Recommendations: include: ..." (2017 lists):
# the second word belongs to the label, not to the text.
_INCLUDE = re.compile(r"^includes?\s*:\s*", re.I)


def label_name(label: str) -> str | None:
    """The section a label names ("Learning themes include" -> "learning"), else None."""
    key = clean(label).rstrip(":").strip().lower()
    name = _LABELS.get(key)
    if name is None and key.endswith((" include", " includes")):
        name = _LABELS.get(key.rsplit(" ", 1)[0])
    return name


def split_label(paragraph: str) -> tuple[str, str] | None:
    """``("learning", rest)`` for "Learning includes: ...", else None."""
    match = _LABEL.match(paragraph)
    if not match:
        return None
    name = label_name(match[1])
    if name is None:
        return None
    return name, _INCLUDE.sub("", clean(match[2]), count=1)


def split_keywords(value: str) -> list[str]:
    """"neglect, parenting, domestic abuse." -> ["neglect", "parenting", "domestic abuse"]."""
    words = [clean(part).rstrip(".").strip() for part in value.split(",")]
    return [w for w in words if w]


def looks_like_keywords(value: str) -> bool:
    """True for an unlabelled keyword line: "Suicide, self-harm." or "neglect, parenting".

    At least two comma-separated items of at most five words, no sentence
    punctuation inside, an optional final full stop, and no capitalised word
    but the first (acronyms such as "ADHD" aside).
    """
    body = clean(value)
    if body.endswith("."):
        body = body[:-1]
    if not body or len(body) > 300 or any(mark in body for mark in ".;:!?"):
        return False
    items = [clean(part) for part in body.split(",")]
    if len(items) < 2 or not all(items):
        return False
    for number, item in enumerate(items):
        words = item.split(" ")
        if len(words) > 5:
            return False
        for position, word in enumerate(words):
            if number == 0 and position == 0:
                continue
            if word[:1].isupper() and not word.isupper():
                return False
    return True


# --- layout fingerprints ----------------------------------------------------------------
# How a page lays out its entries, never what they say: the elements an entry was found
# in (tag and sorted class names, from <body> down), as a sorted set, hashed. The same
# entries in new markup give a new fingerprint; a text edit, a new entry in the same
# markup or a changed link does not.


def describe(tag: str, classes: str | None) -> str:
    """``div.card.grid`` for ``<div class="grid card">``."""
    names = sorted(set(classes.split())) if classes else ()
    return ".".join((tag, *names))


def node_path(node: LexborNode) -> str:
    """The structural path of ``node``: its and its ancestors' descriptions, below <body>."""
    parts: list[str] = []
    while node is not None and node.tag not in ("body", "html", None) and not node.tag.startswith("-"):
        parts.append(describe(node.tag, node.attributes.get("class")))
        node = node.parent
    return ">".join(reversed(parts))


def layout_fingerprint(paths: set[str] | list[str]) -> str | None:
    """16 hex characters of the sorted set of paths; None when no entry was found (nothing to compare)."""
    unique = sorted(set(paths))
    if not unique:
        return None
    return hashlib.sha256("\n".join(unique).encode("utf-8")).hexdigest()[:16]
