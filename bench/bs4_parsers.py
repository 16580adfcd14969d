"""reposync's parsers written with BeautifulSoup (html.parser): the baseline of the parse benchmark.

What most scrapers would write: the same extraction, tree work done by BeautifulSoup instead of selectolax.
Each port walks the tree as the reposync parser does (the library's labelled cells, the NSPCC lists'
flattening into lines, the generic parser's lines with their blocks, items, cells and chrome), and hands the
result to the same text-level code (``reposync.parsers.base`` helpers, the NSPCC list ``_entry``, the generic
parser's ``_Reader``), which is pure Python on strings. So the two differ in the tree only, and
``bench/parse.py`` checks that they give the same entries. Not shipped: a benchmark baseline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction, Tag

from reposync.errors import ParseError
from reposync.models import ParseResult, RawEntry
from reposync.parsers.generic import candidates as gc, dates as gd, reader as gr, skip as gs
from reposync.parsers import library as lib
from reposync.parsers import nspcc_list as nl
from reposync.parsers.base import absolute, clean, split_keywords

_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)


def soup(html: str, url: str) -> BeautifulSoup:
    if not html or not html.strip():
        raise ParseError(url, "empty page")
    return BeautifulSoup(html, "html.parser")


def kind(node) -> str:
    """The tag name, '-text' for text, '-comment' for anything else that is not an element."""
    if isinstance(node, Tag):
        return node.name
    if isinstance(node, _NOT_TEXT):
        return "-comment"
    return "-text"


def attr(node: Tag, name: str) -> str | None:
    value = node.get(name)
    if isinstance(value, list):  # class and other multi-valued attributes
        return " ".join(value)
    return value


# --- the library (one record a page) ----------------------------------------------------------------


def _is_label(node) -> bool:
    return isinstance(node, Tag) and "fulllabel" in (attr(node, "class") or "").lower().split()


def _lib_text(node: Tag) -> str:
    separator = " " if node.select_one("br, p, div, li, tr, td") is not None else ""
    return clean(node.get_text(separator=separator))


def _lib_hrefs(node: Tag) -> list[str]:
    found = []
    if node.name == "a" and node.get("href"):
        found.append(node["href"])
    found.extend(a["href"] for a in node.select("a[href]") if a.get("href"))
    return found


def _next_element(node):
    node = node.next_sibling
    while node is not None and not isinstance(node, Tag):
        node = node.next_sibling
    return node


def _lib_value(label: Tag) -> tuple[str, list[str]]:
    if label.name in lib._CELLS:
        cell = _next_element(label)
        if cell is None or _is_label(cell):
            return "", []
        return _lib_text(cell), _lib_hrefs(cell)
    parts: list[str] = []
    hrefs: list[str] = []
    sibling = label.next_sibling
    while sibling is not None:
        tag = kind(sibling)
        if tag == "-text":
            parts.append(str(sibling))
        elif tag == "-comment":
            pass
        elif _is_label(sibling) or sibling.select_one(".fulllabel") is not None:
            break
        elif tag == "br":
            if clean("".join(parts)) or hrefs:
                break
        else:
            text = _lib_text(sibling)
            parts.append(text if tag in lib._INLINE else f" {text} ")
            hrefs.extend(_lib_hrefs(sibling))
        sibling = sibling.next_sibling
    value = clean("".join(parts))
    if not value and not hrefs and _next_element(label) is None and label.parent is not None:
        holder = _next_element(label.parent)
        if holder is not None and not _is_label(holder) and holder.select_one(".fulllabel") is None:
            return _lib_text(holder), _lib_hrefs(holder)
    return value, hrefs


def parse_library(html: str, url: str) -> ParseResult:
    doc = soup(html, url)
    labels = doc.select(".fulllabel")
    if not labels:
        raise ParseError(url, "no catalogue fields (class fulllabel): not a library record page")
    title = copy_number = date_text = summary = area_text = pdf = None
    keywords: list[str] = []
    details: dict[str, str] = {}
    for label in labels:
        name = clean(label.get_text()).rstrip(":").strip().lower()
        if not name:
            continue
        value, hrefs = _lib_value(label)
        if name in lib._TITLE:
            title = title or value or None
        elif name in lib._COPY:
            copy_number = copy_number or value or None
        elif name in lib._DATE:
            date_text = date_text or value or None
        elif name in lib._ABSTRACT:
            summary = summary or value or None
        elif name in lib._KEYWORDS:
            keywords = keywords or split_keywords(value)
        elif "other" in name:
            pdf = pdf or lib._pdf(hrefs)
            if value and not hrefs:
                details.setdefault(name, value)
        elif area_text is None and name != "author" and any(word in name for word in lib._BOARD_WORDS):
            area_text = value or None
        elif value:
            details.setdefault(name, value)
    nav = doc.select_one("a.navNext[href]") or doc.select_one(".navNext a[href]")
    next_url = absolute(url, nav.get("href")) if nav is not None else None
    meta: dict[str, str] = {}
    position = lib._RECORD.search(html)
    if position:
        meta = {"record": position[1], "of": position[2]}
    if title is None:
        meta["skipped"] = "record has no Title field"
        return ParseResult(entries=[], next_url=next_url, meta=meta)
    entry = RawEntry(title=title, page_url=url, date_text=date_text, area_text=area_text, summary=summary,
                     url=absolute(url, pdf), copy_number=copy_number, keywords=keywords, details=details)
    return ParseResult(entries=[entry], next_url=next_url, meta=meta)


# --- the NSPCC lists (rolling and yearly) ------------------------------------------------------------


class _Flattener(nl._Flattener):
    def walk(self, node: Tag) -> None:  # the same walk as reposync's, over BeautifulSoup nodes
        for child in node.children:
            tag = kind(child)
            if tag == "-text":
                self._parts.append(str(child))
                self._text = getattr(self, "_text", False) or bool(str(child).strip())
                continue
            if tag.startswith("-") or tag in nl._SKIP:
                continue
            if "hidden" in child.attrs or child.get("aria-hidden") == "true":
                continue
            if tag == "br":
                self.flush()
            elif tag in nl._HEADINGS:
                self.flush()
                outer, self._level = self._level, nl._HEADINGS[tag]
                self.walk(child)
                self.flush()
                self._level = outer
            elif tag == "li":
                self.flush()
                self._item += 1
                self.walk(child)
                self.flush()
                self._item -= 1
            elif tag in nl._BLOCKS:
                self.flush()
                self.walk(child)
                self.flush()
            elif tag in nl._BOLD and self._empty():
                start = len(self._parts)
                self.walk(child)
                if not self._lead:
                    self._lead = "".join(self._parts[start:])
            elif tag == "a":
                start = len(self._parts)
                self.walk(child)
                self._links.append((clean("".join(self._parts[start:])), child.get("href")))
            else:
                self.walk(child)

    def _empty(self) -> bool:
        return not "".join(self._parts).strip()


def parse_list(html: str, url: str) -> ParseResult:
    doc = soup(html, url)
    root = None
    for selector in nl._ROOTS:
        root = doc.select_one(selector)
        if root is not None:
            break
    root = root or doc.body
    if root is None:
        raise ParseError(url, "no page body")
    flattener = _Flattener()
    flattener.walk(root)
    flattener.flush()
    lines = flattener.lines
    # From here on, reposync's own reading of the lines (nspcc_list.read_list after flatten).
    meta: dict[str, str] = {}
    found: list = []
    current = None
    for line in lines:
        if "last_updated" not in meta and (updated := nl._LAST_UPDATED.search(line.text)):
            meta["last_updated"] = updated[1]
        if line.level or line.bold:
            parts = nl.split_heading(line.text)
            if parts is not None:
                if current is not None and current[0].text == line.text and not current[2]:
                    found.pop()
                current = (line, parts, [])
                found.append(current)
                continue
            if current is not None and line.level and nl._label(line):
                current[2].append(line)
                continue
            if line.level:
                current = None
                if "list_heading" not in meta and nl._LIST_HEADING.match(line.text):
                    meta["list_heading"] = line.text
                continue
        if current is not None:
            current[2].append(line)
    if not found and "list_heading" not in meta:
        raise ParseError(url, "not an NSPCC case review list: no list heading and no entry headings")
    entries = [nl._entry(heading, parts, body, url) for heading, parts, body in found]
    return ParseResult(entries=entries, next_url=None, meta=meta)


# --- the generic local-page parser --------------------------------------------------------------------


@dataclass
class _Attrs:
    """What generic.skip.is_chrome reads of a node: tag and attributes (class as one string)."""

    tag: str
    attributes: dict


def _chrome(node: Tag, owned: bool) -> bool:
    attrs = {k: (" ".join(v) if isinstance(v, list) else v) for k, v in node.attrs.items()}
    return gs.is_chrome(_Attrs(node.name, attrs), owned)  # type: ignore[arg-type]


def _usable(node: Tag) -> str | None:
    href = node.get("href")
    if not href:
        return None
    lowered = href.strip().lower()
    if not lowered or lowered.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    return href


def _generic_lines(root: Tag, scopes: set[int] | None) -> list:
    """generic.candidates.read_lines over BeautifulSoup nodes (identity: id(node))."""
    lines: list = []
    parts: list[str] = []
    links: list[tuple[str, str]] = []
    open_links: list[list] = []
    cells: dict[int, int] = {}
    containers: set[int] = set()
    where = (gc._State(), root.name or "", id(root))

    def flush() -> None:
        for link in open_links:
            text = clean("".join(parts[link[1]:]))
            if text:
                links.append((link[0], text))
            link[1] = 0
        text = clean("".join(parts))
        state, tag, block = where
        if (text or links) and (scopes is None or state.scope):
            lines.append(gc.Line(
                text=text, links=list(links), tag=tag, block=block, item=state.item, item_tag=state.item_tag,
                scope=state.scope, heading=state.heading, path=state.path, table=state.table, cell=state.cell,
                header_cell=state.header_cell or state.in_thead, wrapped=state.wrapped,
            ))
        parts.clear()
        links.clear()

    stack: list = [("enter", root, gc._State())]
    while stack:
        action, node, payload = stack.pop()
        if action == "close-link":
            if open_links:
                href, start = open_links.pop()
                links.append((href, clean("".join(parts[start:]))))
            continue
        if action == "close-block":
            flush()
            where = payload
            continue
        state = payload
        tag = kind(node)
        if tag == "-text":
            parts.append(str(node))
            continue
        if tag.startswith("-") or tag in gc._SKIP:
            continue
        if tag in ("br", "hr"):
            flush()
            continue
        if _chrome(node, state.owned):
            continue
        ident = id(node)
        child = gc._State(**vars(state))
        child.path = (*state.path, ident)
        is_scope = scopes is not None and ident in scopes
        if is_scope:
            child.scope = child.item = ident
            child.item_tag = tag
        elif tag in gc._ITEMS:
            if state.item is not None:
                containers.add(state.item)
            child.item, child.item_tag = ident, tag
        elif tag in ("h1", "h2") and state.item is not None:
            containers.add(state.item)
        if tag in gc._OWNERS:
            child.owned = True
        if tag in gc._HEADINGS:
            child.heading = gc._HEADINGS[tag]
            parent = node.parent
            child.wrapped = parent is not None and parent.name in ("header", "hgroup")
        if tag == "table":
            child.table, child.cell, child.header_cell, child.in_thead = ident, None, False, False
        elif tag == "thead":
            child.in_thead = True
        elif tag in ("tbody", "tfoot"):
            child.in_thead = False
        elif tag in ("td", "th") and state.item is not None:
            row = state.item
            child.cell = cells.get(row, 0)
            cells[row] = child.cell + 1
            child.header_cell = tag == "th"
        if tag in gc._BLOCKS or is_scope:
            flush()
            stack.append(("close-block", node, where))
            where = (child, tag, ident)
        elif tag == "a":
            href = _usable(node)
            if href:
                open_links.append([href, len(parts)])
                stack.append(("close-link", node, None))
        for sub in reversed(list(node.children)):
            stack.append(("enter", sub, child))
    flush()
    sizes: dict[int, int] = {}
    for line in lines:
        if line.item is not None:
            sizes[line.item] = sizes.get(line.item, 0) + 1
    containers.update(item for item, size in sizes.items() if size > gc._MAX_ITEM_LINES)
    containers.difference_update(scopes or ())
    for line in lines:
        if line.item in containers:
            line.item, line.item_tag, line.table, line.cell, line.header_cell = None, None, None, None, False
    return lines


def parse_generic(html: str, url: str, *, entry_selector: str | None = None,
                  date_pattern: str | None = None) -> ParseResult:
    doc = soup(html, url)
    custom = gd.compile_pattern(date_pattern) if date_pattern else None
    scopes = {id(node) for node in doc.select(entry_selector)} if entry_selector else None
    root = doc.body if doc.body is not None else doc
    reader = gr.Reader(url, custom)
    title_node = doc.find("title")
    recognised = title_node is not None and bool(gs.MARKER.search(title_node.get_text()))
    for heading in doc.find_all(re.compile(r"^h[123]$")):
        text = clean(heading.get_text(separator=" "))
        if gs.MARKER.search(text):
            recognised = True
            reader.meta["title"] = text
            break
    for index, line in enumerate(_generic_lines(root, scopes)):
        reader.read(index, line)
    reader.finish()
    if not reader.entries and not recognised:
        raise ParseError(url, "no review entries, and neither its title nor a heading names case reviews: "
                              "not a page of reviews")
    return ParseResult(entries=reader.entries, next_url=None, meta=reader.meta)


PORTS = {
    "generic": parse_generic,
    "york": parse_generic,
    "nspcc-rolling": parse_list,
    "nspcc-yearly": parse_list,
    "nspcc-library": parse_library,
}
