"""City of York's local page of safeguarding practice reviews (formerly SCRs).

Each entry is a line ``Title (published DATE)``, optionally followed by a note,
either free text or `` - description``. The page is an old table-based CMS:
whether a line sits in an ``<li>``, a ``<p>``, a table cell or between ``<br>``
tags is not known, so every block element is read the same way: its direct
inline content, split at ``<br>`` and at nested blocks (read on their own),
gives the lines. A line is an entry when it holds ``(published ...)``; a line
without one that follows an entry in the same block continues that entry's
note. Everything else (navigation, the NSPCC repository link, footer) is
ignored. One pass over the blocks; no re-parsing.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from ..errors import ParseError
from ..models import ParseResult, RawEntry
from .base import absolute, clean, tree

# Elements that start a new line of text. Anything else is inline.
_BLOCKS = frozenset(
    "address article aside blockquote center dd div dl dt fieldset figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_SELECTOR = "body, " + ", ".join(sorted(_BLOCKS - {"hr"}))
_SKIP = ("script", "style", "noscript", "template")

# "Child B (published 10/10/13) For legal reasons ..." -> title, date, rest.
_ENTRY = re.compile(
    r"^(?P<title>.*?\S)\s*[|,:\-\u2013\u2014]?\s*"
    r"[(\[]\s*(?P<date>published\b[^)\]]*?)\s*[)\]]"
    r"(?P<rest>.*)$",
    re.I | re.S,
)
# A page of reviews says so in its title or headings.
_MARKER = re.compile(r"serious\s+case\s+reviews?|practice\s+reviews?", re.I)
_NOTICE = re.compile(r"currently\s+under\s+review", re.I)
# Stray separators of the old layout and bullets typed as text, at a line's
# edges; a title also loses dashes left over from a separator.
_LINE_EDGE = "|\u2022\u00b7\u00bb* "
_TITLE_EDGE = _LINE_EDGE + "-\u2013\u2014:,"
_NOTE_LEAD = re.compile(r"^\s*[-\u2013\u2014:|;,]+\s*")


def _usable_href(node: LexborNode) -> str | None:
    href = node.attributes.get("href")
    if not href:
        return None
    lowered = href.strip().lower()
    if not lowered or lowered.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    return href


def _lines(block: LexborNode) -> list[tuple[str, list[str]]]:
    """The lines of a block's own inline content: (text, hrefs in order)."""
    lines: list[tuple[str, list[str]]] = []
    parts: list[str] = []
    hrefs: list[str] = []

    def flush() -> None:
        line = clean("".join(parts))
        if line or hrefs:
            lines.append((line, list(hrefs)))
        parts.clear()
        hrefs.clear()

    for child in block.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            parts.append(child.text(deep=False) or "")
        elif tag == "br" or tag in _BLOCKS:
            flush()  # a nested block is read on its own
        elif tag in ("-comment",) or tag in _SKIP:
            continue
        else:
            parts.append(child.text(deep=True) or "")
            if tag == "a":
                href = _usable_href(child)
                if href:
                    hrefs.append(href)
            else:
                for link in child.css("a[href]"):
                    href = _usable_href(link)
                    if href:
                        hrefs.append(href)
    flush()
    return lines


def parse(html: str, url: str) -> ParseResult:
    doc = tree(html, url)
    entries: list[RawEntry] = []
    meta: dict[str, str] = {}
    recognised = False

    title_node = doc.css_first("title")
    if title_node is not None and _MARKER.search(title_node.text()):
        recognised = True

    for block in doc.css(_SELECTOR):
        tag = block.tag
        if tag in ("h1", "h2", "h3") and "title" not in meta:
            heading = clean(block.text(separator=" "))
            if _MARKER.search(heading):
                recognised = True
                meta["title"] = heading
        last: RawEntry | None = None  # continuation lines join this entry's note
        for line, hrefs in _lines(block):
            line = line.strip(_LINE_EDGE)
            match = _ENTRY.match(line) if "published" in line.lower() else None
            if match is None:
                if not line:
                    continue
                if last is not None:
                    last.note = f"{last.note} {line}" if last.note else line
                elif "notice" not in meta and _NOTICE.search(line):
                    meta["notice"] = line
                continue
            title = match["title"].strip(_TITLE_EDGE)
            if not title:
                continue
            note = _NOTE_LEAD.sub("", match["rest"]).strip(_LINE_EDGE) or None
            last = RawEntry(
                title=title,
                page_url=url,
                date_text=clean(match["date"]),
                heading=line,
                url=absolute(url, hrefs[0]) if hrefs else None,
                note=note,
            )
            entries.append(last)

    if not entries and not recognised:
        raise ParseError(url, "no York review entries and no review-page title: not the York reviews page")
    return ParseResult(entries=entries, next_url=None, meta=meta)
