"""Finding entry candidates: a page's text outside the site chrome, as lines in document order.

A block's inline content is one line, split at ``<br>`` and at nested blocks (read on their own).
Each line keeps its links, its block, its heading level, its table cell, and its *item*: the nearest
list item, table row or article around it (one that holds other items, a page heading or many lines
is layout, not an item). What counts as chrome is decided in ``skip``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborNode

from ..base import clean, link_target
from .skip import is_chrome


# Elements that start a new line of text. Anything else is inline.
_BLOCKS = frozenset(
    "address article aside blockquote caption center dd details div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul"
    .split()
)

_MAX_ITEM_LINES = 12  # more lines than this in one list item or table row: it is layout

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}

# Never read: code, styling, controls and embedded things.
_SKIP = frozenset("script style noscript template head title select option button iframe svg object canvas".split())

_ITEMS = frozenset(("li", "tr", "article"))

_OWNERS = frozenset(("article", "section", "li"))

@dataclass
class Line:
    text: str
    links: list[tuple[str, str]]  # (href, link text) of the usable links, in order
    tag: str  # the block holding the line
    block: int  # identity of that block
    item: int | None  # identity of the nearest list item, table row or article (or selector match)
    item_tag: str | None  # its tag
    scope: int  # identity of the entry_selector match, else 0
    heading: int  # 1-6 inside h1-h6, else 0
    path: tuple[int, ...]  # identities of the ancestors, outermost first
    table: int | None = None
    cell: int | None = None  # column of the table cell holding the line
    header_cell: bool = False  # a <th>, or a cell of a <thead> row
    wrapped: bool = False  # a heading alone in a <header> or <hgroup>
    strong: bool = False  # the whole line is bold (<strong>, <b>): a title set apart without a link
    hints: tuple[str, ...] = ()  # text of hint spans on the line ("(report withdrawn)"), kept out of ``text``

# Inline elements whose text is a hint beside a title (class "hint", "govuk-hint"): a note, never the title.
_HINT = re.compile(r"(?:^|[-_])hint$", re.I)


def _is_hint(node: LexborNode) -> bool:
    return any(_HINT.search(token) for token in (node.attributes.get("class") or "").split())


def _usable_href(node: LexborNode, base: str) -> str | None:
    """The href of a link that leads to an http(s) URL off this spot of the page, as written; else None."""
    href = node.attributes.get("href")
    return href if link_target(base, href) else None

@dataclass
class _State:
    item: int | None = None
    item_tag: str | None = None
    scope: int = 0
    heading: int = 0
    owned: bool = False
    table: int | None = None
    cell: int | None = None
    header_cell: bool = False
    in_thead: bool = False
    wrapped: bool = False
    path: tuple[int, ...] = ()

def _is_toggle(node: LexborNode) -> bool:
    """An accordion's button, which holds the title of what it opens ("<h3><button aria-expanded>Child A -
    published 2022</button></h3>"): read as text, unlike other controls."""
    if node.tag != "button":
        return False
    attrs = node.attributes
    parent = node.parent
    return "aria-expanded" in attrs or "aria-controls" in attrs or (parent is not None and parent.tag in _HEADINGS)


def read_lines(root: LexborNode, scopes: set[int] | None, nodes: dict[int, LexborNode], base: str) -> list[Line]:
    """Every line of text under ``root`` (of the page at ``base``) outside the chrome, in document order.

    With ``scopes`` (the ids of the entry_selector's matches) only lines
    inside a match are kept, each bounded by its innermost match. ``nodes``
    gets each element read, by identity (for the layout fingerprint).
    """
    lines: list[Line] = []
    parts: list[str] = []
    links: list[tuple[str, str]] = []
    open_links: list[list] = []  # [href, index into parts where its text starts]
    open_bold: list[list] = []  # [index into parts where a <strong>'s text starts]
    bold: list[str] = []  # the line's bold text so far
    hints: list[str] = []  # the line's hint spans
    cells: dict[int, int] = {}  # row identity -> cells seen so far
    containers: set[int] = set()  # items that hold other items or a page heading: layout, not entries
    # The block the pending parts belong to: (its state, tag, identity).
    where: tuple[_State, str, int] = (_State(), root.tag or "", root.mem_id)

    def flush() -> None:
        for link in open_links:  # a link broken by <br> or a block: its text so far
            text = clean("".join(parts[link[1]:]))
            if text:
                links.append((link[0], text))
            link[1] = 0
        for span in open_bold:
            bold.append("".join(parts[span[0]:]))
            span[0] = 0
        text = clean("".join(parts))
        state, tag, block = where
        if (text or links) and (scopes is None or state.scope):
            lines.append(Line(
                text=text, links=list(links), tag=tag, block=block, item=state.item, item_tag=state.item_tag,
                scope=state.scope,
                heading=state.heading, path=state.path, table=state.table, cell=state.cell,
                header_cell=state.header_cell or state.in_thead, wrapped=state.wrapped,
                strong=bool(text) and clean(" ".join(bold)) == text, hints=tuple(h for h in hints if h),
            ))
        parts.clear()
        links.clear()
        bold.clear()
        hints.clear()

    # An explicit stack, so a page nested thousands deep cannot overflow Python's.
    stack: list[tuple[str, LexborNode, object]] = [("enter", root, _State())]
    while stack:
        action, node, payload = stack.pop()
        if action == "close-link":
            if open_links:
                href, start = open_links.pop()
                links.append((href, clean("".join(parts[start:]))))
            continue
        if action == "close-bold":
            if open_bold:
                bold.append("".join(parts[open_bold.pop()[0]:]))
            continue
        if action == "close-hint":  # its text leaves the line's, and is the line's hint
            start = min(payload, len(parts))
            hints.append(clean("".join(parts[start:])))
            del parts[start:]
            continue
        if action == "close-block":
            flush()
            where = payload  # back in the enclosing block
            continue
        state = payload
        tag = node.tag
        if tag == "-text":
            parts.append(node.text_content or "")
            continue
        if not tag or tag.startswith("-") or (tag in _SKIP and not _is_toggle(node)):
            continue  # comments, doctype, code
        if tag in ("br", "hr"):
            flush()
            continue
        if is_chrome(node, state.owned):
            continue
        ident = node.mem_id
        nodes[ident] = node
        child = _State(**vars(state))
        child.path = (*state.path, ident)
        is_scope = scopes is not None and ident in scopes
        if is_scope:
            child.scope = child.item = ident
            child.item_tag = tag
        elif tag in _ITEMS:
            if state.item is not None:
                containers.add(state.item)
            child.item, child.item_tag = ident, tag
        elif tag in ("h1", "h2") and state.item is not None:
            containers.add(state.item)
        if tag in _OWNERS:
            child.owned = True
        if tag in _HEADINGS:
            child.heading = _HEADINGS[tag]
            parent = node.parent
            child.wrapped = parent is not None and parent.tag in ("header", "hgroup")
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
        if tag in _BLOCKS or is_scope:
            flush()
            stack.append(("close-block", node, where))
            where = (child, tag, ident)
        elif tag == "a":
            href = _usable_href(node, base)
            if href:  # a link without a usable href is plain text
                open_links.append([href, len(parts)])
                stack.append(("close-link", node, None))
        elif tag in ("strong", "b"):
            open_bold.append([len(parts)])
            stack.append(("close-bold", node, None))
        elif tag == "span" and _is_hint(node):
            stack.append(("close-hint", node, len(parts)))
        for sub in reversed(list(node.iter(include_text=True))):
            stack.append(("enter", sub, child))
    flush()
    # An item with many lines is a layout row, not an entry (an old CMS's page table).
    sizes: dict[int, int] = {}
    for line in lines:
        if line.item is not None:
            sizes[line.item] = sizes.get(line.item, 0) + 1
    containers.update(item for item, size in sizes.items() if size > _MAX_ITEM_LINES)
    containers.difference_update(scopes or ())  # a selector's match is an entry by fiat
    for line in lines:
        if line.item in containers:
            line.item, line.item_tag, line.table, line.cell, line.header_cell = None, None, None, None, False
    return lines

def item_key(line: Line) -> tuple[str, int]:
    return ("item", line.item) if line.item is not None else ("block", line.block)

def section_of(line: Line) -> int | None:
    """The element a heading's (or a <dt>'s) entry may spread through: the heading's parent,
    or the parent of the ``<header>`` or ``<hgroup>`` holding it."""
    path = line.path
    if len(path) < 2:
        return None
    if line.wrapped and len(path) >= 3:
        return path[-3]
    return path[-2]
