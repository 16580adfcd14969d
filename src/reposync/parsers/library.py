"""The NSPCC Library catalogue (Heritage Online OPAC): one full record a page.

Field labels carry the CSS class ``fulllabel`` and the value follows the
label: the next cell when the label is a table or definition-list cell, else
the label's following siblings up to the next label or ``<br>``. Labels are
compared without case, trailing colons or extra white space. The report PDF is
the link under the label containing "Other"; the next record is the link with
class ``navNext``, absent on the last record.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from ..errors import ParseError
from ..models import ParseResult, RawEntry
from .base import absolute, clean, layout_fingerprint, link_target, node_path, split_keywords, tree

# Which label feeds which field. The board's label is not certain: accept the
# names a Heritage install uses for a corporate body.
_TITLE = {"title"}
_COPY = {"copy number", "copy no", "copy no.", "accession number"}
_DATE = {"date of publication", "publication date", "date published", "date", "year"}
_ABSTRACT = {"abstract", "summary"}
_KEYWORDS = {"keywords", "keyword", "subject", "subjects"}
_BOARD_WORDS = ("lscb", "board", "partnership", "corporate author", "safeguarding")
_CELLS = ("td", "th", "dd", "dt")
_INLINE = frozenset("a abbr b cite em font i q small span strong sub sup u".split())

_RECORD = re.compile(r"Record\s*(?:<[^>]*>\s*)*(\d+)\s*(?:<[^>]*>\s*)*of\s*(?:<[^>]*>\s*)*(\d+)", re.I)


def _label_name(node: LexborNode) -> str:
    return clean(node.text(deep=True)).rstrip(":").strip().lower()


def _is_label(node: LexborNode) -> bool:
    return node.tag != "-text" and "fulllabel" in (node.attributes.get("class") or "").lower().split()


def _has_elements(node: LexborNode) -> bool:
    """Whether the node holds any element (most value cells hold text only: no CSS query for them)."""
    return next(node.iter(), None) is not None


def _text(node: LexborNode) -> str:
    """Inline text as written; lines and paragraphs inside become spaces."""
    separator = " " if _has_elements(node) and node.css_first("br, p, div, li, tr, td") is not None else ""
    return clean(node.text(deep=True, separator=separator))


def _hrefs(node: LexborNode) -> list[str]:
    found = []
    if node.tag == "a" and node.attributes.get("href"):
        found.append(node.attributes["href"])
    if _has_elements(node):
        found.extend(a.attributes["href"] for a in node.css("a[href]") if a.attributes.get("href"))
    return found


def _next_element(node: LexborNode) -> LexborNode | None:
    node = node.next
    while node is not None and node.tag in ("-text", "-comment"):
        node = node.next
    return node


def _value(label: LexborNode) -> tuple[str, list[str]]:
    """The text and links that follow a label."""
    if label.tag in _CELLS:
        cell = _next_element(label)
        if cell is None or _is_label(cell):
            return "", []
        return _text(cell), _hrefs(cell)
    parts: list[str] = []
    hrefs: list[str] = []
    sibling = label.next
    while sibling is not None:
        tag = sibling.tag
        if tag == "-text":
            parts.append(sibling.text(deep=False) or "")
        elif tag == "-comment":
            pass
        elif _is_label(sibling) or sibling.css_first(".fulllabel") is not None:
            break
        elif tag == "br":
            if clean("".join(parts)) or hrefs:
                break
        else:
            text = _text(sibling)
            parts.append(text if tag in _INLINE else f" {text} ")
            hrefs.extend(_hrefs(sibling))
        sibling = sibling.next
    value = clean("".join(parts))
    if not value and not hrefs and _next_element(label) is None and label.parent is not None:
        # <div><span class="fulllabel">Title</span></div><div>value</div>
        holder = _next_element(label.parent)
        if holder is not None and not _is_label(holder) and holder.css_first(".fulllabel") is None:
            return _text(holder), _hrefs(holder)
    return value, hrefs


def _pdf(hrefs: list[str], url: str) -> str | None:
    """Where the report link leads (absolute): the first to a PDF or the catalogue's file store, else the first."""
    usable = [(href, target) for href in hrefs if (target := link_target(url, href))]
    for href, target in usable:
        lowered = href.lower()
        if ".pdf" in lowered or "filetransfer" in lowered:
            return target
    return usable[0][1] if usable else None


def parse(html: str, url: str) -> ParseResult:
    doc = tree(html, url)
    labels = doc.css(".fulllabel")
    if not labels:
        raise ParseError(url, "no catalogue fields (class fulllabel): not a library record page")

    title: str | None = None
    copy_number = date_text = summary = area_text = pdf = None
    keywords: list[str] = []
    details: dict[str, str] = {}
    paths: set[str] = set()  # where the record's fields are laid out
    for label in labels:
        name = _label_name(label)
        if not name:
            continue
        paths.add(node_path(label))
        value, hrefs = _value(label)
        if name in _TITLE:
            title = title or value or None
        elif name in _COPY:
            copy_number = copy_number or value or None
        elif name in _DATE:
            date_text = date_text or value or None
        elif name in _ABSTRACT:
            summary = summary or value or None
        elif name in _KEYWORDS:
            keywords = keywords or split_keywords(value)
        elif "other" in name:
            pdf = pdf or _pdf(hrefs, url)
            if value and not hrefs:  # e.g. a note that the report is no longer online
                details.setdefault(name, value)
        elif area_text is None and name != "author" and any(word in name for word in _BOARD_WORDS):
            area_text = value or None
        elif value:
            # Author, Media and any other field, as written. Media ("Case review")
            # is the catalogue's class, not a review type: left to the title.
            details.setdefault(name, value)

    nav = doc.css_first("a.navNext[href]") or doc.css_first(".navNext a[href]")
    href = (nav.attributes.get("href") or "").strip() if nav is not None else ""
    # A next link that is no http(s) URL (javascript:, "http://[::1") is passed on as written, never as a URL to
    # fetch: the walk refuses it as off the site and says so, where "no next link" would hide it.
    next_url = (absolute(url, href) or href) if href else None

    meta: dict[str, str] = {}
    position = _RECORD.search(html)
    if position:
        meta = {"record": position[1], "of": position[2]}

    if title is None:
        # A record page without a title cannot be an entry; the walk goes on.
        meta["skipped"] = "record has no Title field"
        return ParseResult(entries=[], next_url=next_url, meta=meta, layout=layout_fingerprint(paths))

    entry = RawEntry(
        title=title,
        page_url=url,
        date_text=date_text,
        area_text=area_text,
        summary=summary,
        url=pdf,
        copy_number=copy_number,
        keywords=keywords,
        details=details,
    )
    return ParseResult(entries=[entry], next_url=next_url, meta=meta, layout=layout_fingerprint(paths))
