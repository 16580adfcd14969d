"""The NSPCC list pages, rolling and yearly: one walk of the page into entries.

Both families print the same thing in different markup: a list heading
("Case reviews published in 2018", "New in the collection"), then per review a
heading ``YYYY - Area - Title`` and a few paragraphs (a summary, labelled
sections, keywords, a link to the report). The markup drifts (labels in
``<strong>`` or not, sections continued in a ``<ul>``, lines split by ``<br>``,
headings at any level), so the page is first flattened into *lines* -- one per
block element, list item or ``<br>`` -- and the entries are read off the lines.

One parse, one walk of the content root; nothing here infers dates, areas or
types: every field is text as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..errors import ParseError
from ..models import ParseResult, RawEntry
from .base import (
    absolute,
    clean,
    describe,
    label_name,
    layout_fingerprint,
    link_target,
    looks_like_keywords,
    node_path,
    split_heading,
    split_keywords,
    split_label,
    tree,
)

# Where the page body lives, most specific first; the whole <body> otherwise.
_ROOTS = (
    "main",
    "[role=main]",
    "#main-content",
    "#maincontent",
    "#mainContent",
    "#content",
    ".main-content",
    "#main",
)
# Subtrees that are never part of a list: chrome, scripts, forms.
_SKIP = frozenset(
    {
        "script", "style", "noscript", "template", "nav", "header", "footer", "aside",
        "form", "button", "select", "svg", "iframe", "object", "head", "title",
    }
)  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Elements that start and end a line of text.
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "ul", "ol", "dl", "dt", "dd", "table", "thead",
        "tbody", "tfoot", "tr", "td", "th", "blockquote", "pre", "address", "figure",
        "figcaption", "details", "summary", "hr", "center", "body", "main", "caption",
    }
)  # fmt: skip
_BOLD = frozenset({"strong", "b"})

# "Case reviews published in 2018", "Serious case reviews 2013", "New in the collection".
_LIST_HEADING = re.compile(
    r"^(?:.*\bcase reviews?\b.*\b(?:19|20)\d\d\b.*|.*\b(?:19|20)\d\d\b.*\bcase reviews?\b.*|new in the collection\b.*)$",
    re.I,
)
_LAST_UPDATED = re.compile(
    r"\bLast updated\s*:?\s*("
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?[A-Z][a-z]{2,8}\.?,?\s+(?:19|20)\d\d"
    r"|\d{1,2}/\d{1,2}/\d{2,4}|(?:19|20)\d\d-\d\d-\d\d)"
)
# Link text of the report: "Read the overview report", "> Read the report",
# "Download the executive summary", "View the learning summary".
_REPORT_LINK = re.compile(
    r"\b(?:read|download|view|see|open)\b.*\b(?:report|summary|review|briefing|document)s?\b"
    r"|\b(?:overview report|executive summary)\b",
    re.I,
)
# Words that name a kind of review, with a model or note in brackets after it:
# "Serious case review", "local child safeguarding practice review",
# "case review (Welsh model)", "Welsh Child Practice Review model", "LCSPR".
_TYPE = re.compile(
    r"\b(?:(?:local|national|serious|significant|thematic|multi-agency|welsh|scottish|extended|concise"
    r"|joint|child|children's|safeguarding|practice|case|management|learning)\s+)*"
    r"(?:case|practice|learning|management|thematic)\s+reviews?\b"
    r"(?:\s+model\b)?(?:\s*\([^()]{1,40}\))?"
    r"|\b(?:LCSPR|CSPR|SCR|CPR)s?\b",
    re.I,
)
# What may surround report links on a line of links only: arrows, bars, brackets.
_LINK_FURNITURE = re.compile(r"[\s>»›|/\-\u2013\u2014()\[\].,:;]*")


@dataclass
class Line:
    """One line of text as a reader sees it: a heading, a paragraph, a list item."""

    text: str
    level: int = 0  # 1-6 for a heading, 0 for any other text
    item: bool = False  # inside a list item
    lead: str = ""  # the bold text the line starts with, if any
    links: list[tuple[str, str | None]] = field(default_factory=list)  # (link text, href) in order
    path: str = ""  # the elements around the line, from the walk's root (for the layout fingerprint)

    @property
    def bold(self) -> bool:
        """The whole line is bold: a heading in paragraph markup."""
        return bool(self.lead) and clean(self.lead) == self.text


class _Flattener:
    """Walks a subtree once and cuts its text into lines at block boundaries."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._text = False  # whether the parts hold more than white space (kept as they come: no re-join)
        self._links: list[tuple[str, str | None]] = []
        self._lead = ""
        self._level = 0
        self._item = 0
        self._path: list[str] = []  # descriptions of the open elements (base.describe)

    def _empty(self) -> bool:
        return not self._text

    def flush(self) -> None:
        text = clean("".join(self._parts))
        if text:
            self.lines.append(Line(text, self._level, self._item > 0, clean(self._lead), self._links,
                                   ">".join(self._path)))
        self._parts = []
        self._text = False
        self._links = []
        self._lead = ""

    def walk(self, node: LexborNode) -> None:
        # An explicit stack of (children still to read, what to do after them), not
        # recursion: a hostile page nested thousands deep cannot overflow Python's stack.
        stack: list[tuple[Iterator[LexborNode], Callable[[], None] | None]] = [(node.iter(include_text=True), None)]
        path = self._path
        while stack:
            children, after = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if after is not None:
                    after()
                if stack:  # an element's children are read (the root's own entry is the last)
                    path.pop()
                continue
            tag = child.tag
            if tag == "-text":
                part = child.text_content or ""
                self._parts.append(part)
                self._text = self._text or bool(part.strip())
                continue
            if tag is None or tag.startswith("-") or tag in _SKIP:
                continue
            attrs = child.attributes
            if "hidden" in attrs or attrs.get("aria-hidden") == "true":
                continue
            if tag == "br":
                self.flush()
                after = None
            elif tag in _HEADINGS:
                self.flush()
                outer, self._level = self._level, _HEADINGS[tag]
                after = partial(self._end_heading, outer)
            elif tag == "li":
                self.flush()
                self._item += 1
                after = self._end_item
            elif tag in _BLOCKS:
                self.flush()
                after = self.flush
            elif tag in _BOLD and self._empty():
                after = partial(self._end_bold, len(self._parts))
            elif tag == "a":
                after = partial(self._end_link, len(self._parts), attrs.get("href"))
            else:
                after = None
            path.append(describe(tag, attrs.get("class")))
            stack.append((child.iter(include_text=True), after))

    def _end_heading(self, outer: int) -> None:
        self.flush()
        self._level = outer

    def _end_item(self) -> None:
        self.flush()
        self._item -= 1

    def _end_bold(self, start: int) -> None:
        if not self._lead:
            self._lead = "".join(self._parts[start:])

    def _end_link(self, start: int, href: str | None) -> None:
        self._links.append((clean("".join(self._parts[start:])), href))


def content_root(doc: LexborHTMLParser) -> LexborNode | None:
    for selector in _ROOTS:
        node = doc.css_first(selector)
        if node is not None:
            return node
    return doc.body


def flatten(node: LexborNode) -> list[Line]:
    flattener = _Flattener()
    flattener.walk(node)
    flattener.flush()
    return flattener.lines


def _label(line: Line) -> tuple[str, str] | None:
    """The section a line opens, and the text after the label."""
    found = split_label(line.text)
    if found:
        return found
    if line.lead:  # "<strong>Learning includes</strong> the voice of the child"
        name = label_name(line.lead)
        if name and line.text.startswith(line.lead):
            return name, clean(line.text[len(line.lead) :].lstrip(":"))
    if line.level and (name := label_name(line.text)):  # "<h4>Learning</h4>"
        return name, ""
    return None


def _link_only(line: Line) -> bool:
    rest = line.text
    for link_text, _ in line.links:
        rest = rest.replace(link_text, "", 1)
    return bool(line.links) and not _LINK_FURNITURE.sub("", rest)


def _report_link(line: Line, url: str) -> str | None:
    for link_text, href in line.links:
        target = link_target(url, href)
        if target and (_REPORT_LINK.search(link_text) or target.lower().split("?")[0].endswith(".pdf")):
            return target
    return None


def _entry(heading: Line, parts: tuple[str, str, str], body: list[Line], url: str) -> RawEntry:
    date_text, area_text, title = parts
    report: str | None = None
    report_at: int | None = None
    lines: list[Line] = []  # the text lines, links-only lines left out
    for line in body:
        if report is None and (href := _report_link(line, url)):
            report, report_at = href, len(lines)
        if not _link_only(line):
            lines.append(line)
    if report is None:  # the older lists link the heading itself
        report = next((target for _, href in heading.links if (target := link_target(url, href))), None)

    labels = [_label(line) for line in lines]
    # 2012-13 lists print the keywords with no label: the last short line before
    # the report link that reads as a comma-separated list (never the first line).
    unlabelled = None
    if not any(found and found[0] == "keywords" for found in labels):
        before = lines[:report_at] if report_at is not None else lines
        if len(before) > 1 and labels[len(before) - 1] is None and looks_like_keywords(before[-1].text):
            unlabelled = len(before) - 1

    summary: list[str] = []
    sections: dict[str, list[str]] = {}
    keywords: list[str] = []
    notes: list[str] = []
    type_text: str | None = None
    section: str | None = None  # None: still in the summary
    for number, (line, found) in enumerate(zip(lines, labels)):
        if number == unlabelled:
            keywords.extend(split_keywords(line.text))
            continue
        if found:
            section, rest = found
            if section == "keywords":
                keywords.extend(split_keywords(rest))
            elif section == "type":
                type_text = type_text or rest or None
            elif rest:
                sections.setdefault(section, []).append(rest)
            continue
        if section is None:
            summary.append(line.text)
        elif section == "keywords" and line.item:
            keywords.extend(split_keywords(line.text))
        elif section in ("keywords", "type"):
            notes.append(line.text)
        else:
            sections.setdefault(section, []).append(line.text)

    details = {name: "\n".join(texts) for name, texts in sections.items() if texts}
    if type_text is None:
        for place in ("\n".join(summary), details.get("model", ""), title):
            if match := _TYPE.search(place):
                type_text = clean(match[0])
                break
    return RawEntry(
        title=title,
        page_url=url,
        date_text=date_text,
        area_text=area_text,
        heading=heading.text,
        summary="\n".join(summary) or None,
        url=absolute(url, report),
        type_text=type_text,
        keywords=keywords,
        note="\n".join(notes) or None,
        details=details,
    )


def read_list(html: str, url: str) -> ParseResult:
    """Entries and page facts of an NSPCC list page (either family)."""
    doc = tree(html, url)
    root = content_root(doc)
    if root is None:
        raise ParseError(url, "no page body")
    lines = flatten(root)

    meta: dict[str, str] = {}
    found: list[tuple[Line, tuple[str, str, str], list[Line]]] = []
    current: tuple[Line, tuple[str, str, str], list[Line]] | None = None
    for line in lines:
        if "last_updated" not in meta and (updated := _LAST_UPDATED.search(line.text)):
            meta["last_updated"] = updated[1]
        if line.level or line.bold:
            parts = split_heading(line.text)
            if parts is not None:
                if current is not None and current[0].text == line.text and not current[2]:
                    found.pop()  # the same heading twice (a tab and its panel): keep one
                current = (line, parts, [])
                found.append(current)
                continue
            if current is not None and line.level and _label(line):
                current[2].append(line)  # a section heading inside an entry
                continue
            if line.level:
                current = None  # any other heading ends the entry
                if "list_heading" not in meta and _LIST_HEADING.match(line.text):
                    meta["list_heading"] = line.text
                continue
        if current is not None:
            current[2].append(line)

    if not found and "list_heading" not in meta:
        raise ParseError(url, "not an NSPCC case review list: no list heading and no entry headings")
    entries = [_entry(heading, parts, body, url) for heading, parts, body in found]
    above = node_path(root)
    layout = layout_fingerprint({f"{above}>{heading.path}" if above else heading.path for heading, _, _ in found})
    return ParseResult(entries=entries, next_url=None, meta=meta, layout=layout)
