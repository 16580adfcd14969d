"""Any partnership's page of case reviews, read by heuristics; per-source overrides for the rest.

Partnership pages differ in everything but the facts they carry: a title
(usually a link to a report), a publication date inside or beside it, and
sometimes a review type or a note. This parser reads a page it has never seen
in one selectolax (lexbor) parse and one walk of the tree:

1. Site chrome is skipped: ``nav``, ``aside``, ``header``/``footer`` (unless
   they belong to an article, section or list item), search forms, scripts,
   and elements whose role, id or class names navigation, menus, breadcrumbs,
   the masthead, the footer, cookie banners or sharing buttons.
2. The rest is read as *lines*, in document order: a block's inline content,
   split at ``<br>`` and at nested blocks (read on their own). Each line keeps
   its links, its block, its heading level, its table cell, and its *item*:
   the nearest list item, table row or article around it (one that holds
   other items, a page heading or many lines is layout, not an item).
3. Each line is looked at for a date: ``31/01/11``, ``24/1/13``, ``6th January
   2020``, ``July 2023``, ``Dec 2024``, or a year when it is labelled
   (``Published 2014``), bracketed (``(2014)``), or alone in a date column or
   heading. A label written before the date ("published", "publication
   date", ...) stays with it in ``date_text``; ``normalise.parse_date`` reads
   it. A date labelled as the page's own ("Page last updated ...") is not an
   entry's.
4. Entries are assembled from the lines:
   - one line holding a title and a date: ``Title (published DATE) note``,
     ``Title - DATE``, ``Title, published 6th January 2020``, ``DATE - Title``;
   - a title (a link, a heading, a ``<dt>``, a cell of a title column) with a
     date in the same list item or table row, or in a line of its own right
     after it, or anywhere in the heading's section;
   - links under a heading that is nothing but a date (``<h3>July 2023</h3>``).
   A title with no date is not taken (a selector override aside). Text after
   the date, and further lines of the same block, item or heading section,
   are the note. Review types in words or abbreviations (serious case review,
   safeguarding practice review, SCR, SPR, CSPR, LCSPR, learning review, 7
   minute briefing, learning summary) go into ``type_text``: what a table's
   "Type" column says first, else types in the entry's own text, else those
   in the words of its document links ("Read the 7 minute briefing"). A type
   written before or after the title with a separator ("SCR: Child X") leaves
   the title. ``heading`` is the entry's line as written (a table row's cells
   joined by " | ").
5. Links and lines that are not reviews are not taken: titles naming
   policies, procedures, guidance, newsletters, contact pages, training,
   annual reports, "Top of page" and the like (unless they name a child, as
   in "Child C"); lines that read as prose ("The review was published on ...").

Per-source overrides, from ``config/sources.toml``:
- ``entry_selector``: a CSS selector; entries are looked for only inside the
  elements it matches, and no entry spans two matches. A match in which no
  dated entry is found is taken as one entry itself (its first heading or
  link is the title), so a selector that matches each entry also reads
  undated lists.
- ``date_pattern``: a regular expression with named groups ``year``, and
  ``month`` and ``day`` as written; searched before the built-in forms. The
  same pattern is given to ``normalise.parse_date``.

A page with no entries gives an empty list, as long as it says it is a page of
reviews (its title or a heading names case reviews, practice reviews, SCRs,
learning reviews or briefings); any other page raises ``ParseError``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from selectolax.lexbor import LexborNode, SelectolaxError

from ..errors import ParseError
from ..models import ParseResult, RawEntry
from .base import absolute, clean, describe, layout_fingerprint, tree

# --- the tree ----------------------------------------------------------------------

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
_CHROME_TAGS = frozenset(("nav", "aside", "form"))
_CHROME_UNLESS_OWNED = frozenset(("header", "footer"))  # a page's own, unless an article's or an item's
_OWNERS = frozenset(("article", "section", "li"))
_CHROME_ROLES = frozenset("navigation banner contentinfo search complementary menu menubar".split())
# An id or class token that names chrome: "nav", "sidenav", "site-nav", "breadcrumb",
# "govuk-footer", "masthead", "cookie-banner", "toplinks", "skip-link", ... (but not "links" alone:
# a list of report links may well be called that).
_CHROME_TOKEN = re.compile(
    r"(?:^|[-_])(?:(?:side|top|main|sub|site|primary|secondary|global|mega|mobile|utility|quick|local|section)?"
    r"(?:nav|navbar|navigation|menu|menubar)|(?:top|quick|skip|footer|social|utility)[-_]?links|breadcrumbs?"
    r"|masthead|cookies?|skip(?:link)?|social|share|sharing|sitemap)(?:$|[-_])",
    re.I,
)
_FOOTER_TOKEN = re.compile(r"(?:^|[-_])footer(?:$|[-_])", re.I)


@dataclass
class _Line:
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


def _usable_href(node: LexborNode) -> str | None:
    href = node.attributes.get("href")
    if not href:
        return None
    lowered = href.strip().lower()
    if not lowered or lowered.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    return href


def _is_chrome(node: LexborNode, owned: bool) -> bool:
    tag = node.tag
    if tag in _CHROME_TAGS:
        return True
    if tag in _CHROME_UNLESS_OWNED and not owned:
        return True
    attrs = node.attributes
    role = (attrs.get("role") or "").strip().lower()
    if role in _CHROME_ROLES:
        return True
    for name in ("id", "class"):
        value = attrs.get(name)
        if not value:
            continue
        for token in value.split():
            if _CHROME_TOKEN.search(token):
                return True
            if not owned and _FOOTER_TOKEN.search(token):
                return True
    return False


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


def _lines(root: LexborNode, scopes: set[int] | None, nodes: dict[int, LexborNode]) -> list[_Line]:
    """Every line of text under ``root`` outside the chrome, in document order.

    With ``scopes`` (the ids of the entry_selector's matches) only lines
    inside a match are kept, each bounded by its innermost match. ``nodes``
    gets each element read, by identity (for the layout fingerprint).
    """
    lines: list[_Line] = []
    parts: list[str] = []
    links: list[tuple[str, str]] = []
    open_links: list[list] = []  # [href, index into parts where its text starts]
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
        text = clean("".join(parts))
        state, tag, block = where
        if (text or links) and (scopes is None or state.scope):
            lines.append(_Line(
                text=text, links=list(links), tag=tag, block=block, item=state.item, item_tag=state.item_tag,
                scope=state.scope,
                heading=state.heading, path=state.path, table=state.table, cell=state.cell,
                header_cell=state.header_cell or state.in_thead, wrapped=state.wrapped,
            ))
        parts.clear()
        links.clear()

    # An explicit stack, so a page nested thousands deep cannot overflow Python's.
    stack: list[tuple[str, LexborNode, object]] = [("enter", root, _State())]
    while stack:
        action, node, payload = stack.pop()
        if action == "close-link":
            if open_links:
                href, start = open_links.pop()
                links.append((href, clean("".join(parts[start:]))))
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
        if not tag or tag.startswith("-") or tag in _SKIP:
            continue  # comments, doctype, code
        if tag in ("br", "hr"):
            flush()
            continue
        if _is_chrome(node, state.owned):
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
            href = _usable_href(node)
            if href:  # a link without a usable href is plain text
                open_links.append([href, len(parts)])
                stack.append(("close-link", node, None))
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


# --- what a line says ------------------------------------------------------------------

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
# Review types in words or abbreviations (abbreviations in capitals only).
_TYPE = re.compile(
    r"\b(?:local\s+)?(?:child\s+)?safeguarding\s+practice\s+reviews?\b"
    r"|\bserious\s+case\s+reviews?\b"
    r"|\blearning\s+reviews?\b"
    r"|\b(?:7|seven)[\s-]+minute\s+briefings?\b"
    r"|\blearning\s+(?:summary|summaries|briefs?|briefings?)\b"
    r"|(?-i:\b(?:L?CSPR|SCR|SPR)s?\b)",
    re.I,
)
# A title that is a type and a separator away from the case: "SCR: Child X", "Child X - LCSPR".
_TYPE_GROUP = r"(?:" + _TYPE.pattern + r")(?:\s*\(\s*(?-i:[A-Z]{2,6})\s*\))?"
_TYPE_PREFIX = re.compile(r"^\s*(?P<type>" + _TYPE_GROUP + r")\s*[:|\-\u2013\u2014]\s*(?P<rest>\S.*)$", re.I)
_TYPE_SUFFIX = re.compile(
    r"^(?P<rest>.*?\S)\s*(?:[:|,\-\u2013\u2014]\s*(?P<type>" + _TYPE_GROUP + r")|\(\s*(?P<ptype>"
    + _TYPE.pattern + r")\s*\))\s*$",
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
# Titles of things that are not reviews.
_NOT_REVIEW = re.compile(
    r"\b(?:top\s+of\s+(?:the\s+)?page|back\s+to\s+(?:the\s+)?top|skip\s+to|return\s+to"
    r"|polic(?:y|ies)|procedures?|protocols?|guidance|guidelines?|strateg(?:y|ies)|terms\s+of\s+reference"
    r"|contact(?:\s+us)?|privacy|cookies?|accessibility|site\s*map|disclaimer|copyright"
    r"|newsletters?|bulletins?|e-?news|annual\s+reports?|business\s+plans?|working\s+together"
    r"|training|courses?|conferences?|webinars?|vacanc(?:y|ies)|jobs?|careers?"
    r"|sign\s+up|subscribe|log\s*in|feedback|complaints?|minutes|agendas?|meeting\s+dates?"
    r"|threshold\s+document|report\s+a\s+concern|concerned\s+about\s+a\s+child|leaflets?|posters?|toolkits?"
    r"|templates?|glossary|faqs?|frequently\s+asked|frameworks?|safeguarding\s+arrangements)\b",
    re.I,
)
# A title that names a child is a review whatever else it says ("Child C: procedures").
_NAMES_A_CHILD = re.compile(
    r"\b(?:Child(?:ren)?|Baby|Babies|Young\s+(?:Person|People)|Family|Infant|Siblings?)"
    r"\s+(?:[A-Z]{1,3}\d{0,3}|\d{1,3})\b"
)
# Section headings over entries, not entries: "Published reviews", "7 minute briefings", "Documents".
_SECTION_HEADING = re.compile(
    r"(?:\b(?:reviews|reports|briefings|summaries|documents|downloads|publications|resources|links|contents"
    r"|information|publications|learning)|\bon\s+this\s+page|\bsee\s+also|\bin\s+this\s+section)\s*$",
    re.I,
)
# Prose, not a title: a title ends on a word a sentence would go on from (in lower case:
# "Child A" ends on a name).
_PROSE_END = re.compile(
    r"\b(?:was|were|is|are|be|been|being|has|have|had|in|on|since|until|from|by|of|the|a|an|and|or|to|at|for"
    r"|during|before|after|between|which|that|this|these|its|their|our|we|it|will|would|can|could|not)$"
)
_SENTENCE = re.compile(r"[.!?]\s+[A-Za-z]")
_MAX_TITLE_WORDS = 25
# A page of reviews says so in its title or headings.
_MARKER = re.compile(
    r"serious\s+case\s+reviews?|practice\s+reviews?|case\s+reviews?|learning\s+(?:from\s+)?reviews?"
    r"|safeguarding\s+reviews?|minute\s+briefings?|learning\s+(?:summaries|briefs?|briefings)|\breviews\b"
    r"|(?-i:\bL?CSPRs?\b|\bSCRs?\b)",
    re.I,
)
_NOTICE = re.compile(r"currently\s+under\s+review", re.I)
# Stray separators of old layouts and bullets typed as text, at a line's edges;
# a title also loses dashes left over from a separator.
_LINE_EDGE = "|\u2022\u00b7\u00bb* "
_TITLE_EDGE = _LINE_EDGE + "-\u2013\u2014:,;"
_NOTE_LEAD = re.compile(r"^\s*[-\u2013\u2014:|;,]+\s*")
_SEPARATOR = re.compile(r"\s+[-\u2013\u2014|]\s+|\s*[:|]\s+|\s*[\u2013\u2014]\s*")
_PUNCT = re.compile(r"[\s\-\u2013\u2014:;,.|()\[\]/\\\u2022\u00b7\u00bb*]+")

# Roles of table columns, by their header's words.
_COLUMN_ROLES = [
    ("type", re.compile(r"\btype\b|\bkind\b|\bcategory\b|\bmodel\b", re.I)),
    ("date", re.compile(r"\bdate\b|\bpublished\b|\bpublication\b|\bmonth\b|\byear\b|\bwhen\b", re.I)),
    ("title", re.compile(r"\btitle\b|\bname\b|\breview\b|\bcase\b|\bchild\b|\bsubject\b", re.I)),
]


@dataclass
class _Date:
    start: int  # span of the label, the date and any brackets around them
    end: int
    text: str  # label and date as written: "published 31/01/11", "Dec 2024"
    marked: bool  # labelled ("published ...") or bracketed: set apart from the text around it


@lru_cache(maxsize=32)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


def _find_date(text: str, custom: re.Pattern[str] | None, *, alone_ok: bool) -> tuple[_Date | None, bool]:
    """The entry date in ``text`` (labelled first), and whether the line is the page's own date."""
    candidates: list[tuple[int, int, bool, bool]] = []  # start, end, custom, year only
    if custom is not None:
        for match in custom.finditer(text):
            if match.end() > match.start():
                candidates.append((match.start(), match.end(), True, False))
    for match in _DATE.finditer(text):
        candidates.append((match.start(), match.end(), False, match.lastgroup == "year"))
    labelled: list[_Date] = []
    plain: list[_Date] = []
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
            if words[0] <= words[1] and (words[0] < start or words[1] >= end):
                continue  # more than punctuation beside the year
        as_written = clean(text[label_start:end])
        found = _Date(span_start, span_end, as_written, marked=bool(label) or bracketed)
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


_PUNCT_CHAR = re.compile(_PUNCT.pattern.removesuffix("+"))  # one character of _PUNCT


def _word_bounds(text: str) -> tuple[int, int]:
    """The first and the last index of a character that is not punctuation (first > last: none)."""
    lead = _PUNCT.match(text)
    first = lead.end() if lead else 0
    last = len(text) - 1
    while last >= first and _PUNCT_CHAR.match(text, last):
        last -= 1
    return first, last


def _strip_file_info(text: str) -> str:
    return clean(_FILE_INFO.sub(" ", text))


def _types(text: str) -> list[str]:
    return [clean(m.group(0)) for m in _TYPE.finditer(text)]


def _residue(text: str) -> str:
    """What is left of ``text`` without types, file details, document words and punctuation."""
    text = _TYPE.sub(" ", _FILE_INFO.sub(" ", text))
    words = [w for w in _PUNCT.split(text.lower()) if w]
    return " ".join(w for w in words if w not in _GENERIC_WORDS and not w.isdigit())


def _is_generic(text: str) -> bool:
    return not _residue(text)


def _not_review(title: str) -> bool:
    return bool(_NOT_REVIEW.search(title)) and not _NAMES_A_CHILD.search(title)


def _not_review_reason(title: str) -> str:
    match = _NOT_REVIEW.search(title)
    return f"not a review: names {clean(match[0]).lower()!r}" if match else "not a review"


def _prose(title: str) -> bool:
    return (
        len(title.split()) > _MAX_TITLE_WORDS
        or bool(_SENTENCE.search(title))
        or bool(_PROSE_END.search(title.rstrip(" (,:;-\u2013\u2014")))
    )


def _split_title(raw: str) -> tuple[str, list[str]]:
    """A title without file details, edges and a type written before or after it; and that type."""
    title = _strip_file_info(raw).strip(_TITLE_EDGE)
    types: list[str] = []
    match = _TYPE_PREFIX.match(title)
    if match:
        types.append(clean(match["type"]))
        title = match["rest"].strip(_TITLE_EDGE)
    match = _TYPE_SUFFIX.match(title)
    if match:
        types.append(clean(match["type"] or match["ptype"]))
        title = match["rest"].strip(_TITLE_EDGE)
    return title, types


def _remove_generic_links(text: str, links: list[tuple[str, str]]) -> str:
    """``text`` without the words of its document links ("Baby M - Read the report")."""
    for _, link_text in links:
        if link_text and _is_generic(link_text) and link_text in text and link_text != text.strip(_TITLE_EDGE):
            text = text.replace(link_text, " ")
    return clean(text)


def _only_types(text: str) -> bool:
    """True when ``text`` says nothing but review types (and file details)."""
    return not _PUNCT.sub("", _TYPE.sub(" ", _FILE_INFO.sub(" ", text)))


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower(), value)
    return list(seen.values())


def _column_role(header: str) -> str:
    for role, rule in _COLUMN_ROLES:
        if rule.search(header):
            return role
    return "other"


def _key(line: _Line) -> tuple[str, int]:
    return ("item", line.item) if line.item is not None else ("block", line.block)


def _section(line: _Line) -> int | None:
    """The element a heading's (or a <dt>'s) entry may spread through: the heading's parent,
    or the parent of the ``<header>`` or ``<hgroup>`` holding it."""
    path = line.path
    if len(path) < 2:
        return None
    if line.wrapped and len(path) >= 3:
        return path[-3]
    return path[-2]


# --- from lines to entries ---------------------------------------------------------------


@dataclass
class _Open:
    """An entry being read: later lines of its block, item or heading's section add to it."""

    entry: RawEntry
    key: tuple[str, int]
    scope: int
    section: int | None  # the heading's parent element, when the entry began at a heading
    notes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # named in the entry's own text
    doc_types: list[str] = field(default_factory=list)  # named only by a document link ("7 minute briefing (PDF)")
    column_types: list[str] = field(default_factory=list)  # a table's type column: says it outright
    row: int | None = None  # the table row the entry was read from


@dataclass
class _Pending:
    """A title (a link, a heading, a title cell) waiting for its date."""

    line: _Line
    index: int
    title: str
    hrefs: list[str]
    section: int | None  # a heading's or <dt>'s parent: its date may come anywhere inside
    types: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    column_types: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, url: str, custom: re.Pattern[str] | None) -> None:
        self.url = url
        self.custom = custom
        self.entries: list[RawEntry] = []
        self.meta: dict[str, str] = {}
        self.current: _Open | None = None
        self.pending: _Pending | None = None
        self.pending_date: tuple[_Date, str, _Line] | None = None  # a date cell before its title cell
        self.group_date: tuple[str, int] | None = None  # a heading that is only a date, and its level
        self.columns: dict[int, dict[int, str]] = {}  # table -> column -> role
        self.scoped: dict[int, int] = {}  # entry_selector match -> entries found in it
        self.scope_titles: dict[int, _Line] = {}  # entry_selector match -> its first title line
        self.scope_types: dict[int, list[str]] = {}  # entry_selector match -> the types it names
        self.rows: dict[int, list[str]] = {}  # table row -> the text of its cells
        self.row_types: dict[int, list[str]] = {}  # table row -> what its type column says
        self.paths: set[tuple[int, ...]] = set()  # the elements each entry's title was found in
        self.skipped: dict[str, str] = {}  # text as written -> why it is not an entry (first reason kept)

    def skip(self, text: str, why: str) -> None:
        text = clean(text)
        if text:
            self.skipped.setdefault(text, why)

    # -- bookkeeping ----------------------------------------------------------------------
    def close(self) -> None:
        if self.current is not None:
            entry = self.current.entry
            current = self.current
            notes = [n for n in current.notes if n and not _only_types(n)]
            entry.note = " ".join(notes) or None
            column = current.column_types or self.row_types.get(current.row, [])
            types = column or current.types or current.doc_types
            entry.type_text = "; ".join(_unique(types)) or None
            if current.row is not None and len(self.rows.get(current.row, ())) > 1:
                entry.heading = " | ".join(self.rows[current.row])  # a table row: its cells, as written
            self.current = None

    def emit(
        self, title_raw: str, date_text: str | None, *, line: _Line, heading: str, hrefs: list[str],
        types: list[str], notes: list[str], key: tuple[str, int], section: int | None,
        doc_types: Sequence[str] = (), column_types: Sequence[str] = (),
    ) -> bool:
        title, title_types = _split_title(title_raw)
        if not title or _is_generic(title):
            return False
        if _not_review(title):
            self.skip(title_raw, _not_review_reason(title))
            return False
        self.close()
        self.paths.add(line.path)
        entry = RawEntry(
            title=title,
            page_url=self.url,
            date_text=date_text,
            heading=heading,
            url=absolute(self.url, hrefs[0]) if hrefs else None,
        )
        self.entries.append(entry)
        self.scoped[line.scope] = self.scoped.get(line.scope, 0) + 1
        self.current = _Open(entry, key, line.scope, section, [n for n in notes if n],
                             [*title_types, *_types(title_raw), *types], doc_types=list(doc_types),
                             column_types=list(column_types), row=line.item if line.item_tag == "tr" else None)
        return True

    def flush_pending(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None and self.group_date is None:
            self.skip(pending.title, "no publication date with it")
        if pending is not None and self.group_date is not None:
            self.emit(pending.title, self.group_date[0], line=pending.line, heading=pending.line.text.strip(_LINE_EDGE),
                      hrefs=pending.hrefs, types=pending.types, notes=pending.notes, key=_key(pending.line),
                      section=pending.section, doc_types=pending.doc_types, column_types=pending.column_types)

    def accepts(self, pending: _Pending, index: int, line: _Line) -> bool:
        """May ``line`` (no heading) hold the date of ``pending``?"""
        if line.heading or line.scope != pending.line.scope:
            return False
        if pending.line.item is not None and line.item == pending.line.item:
            return True
        if pending.section is not None:
            return pending.section in line.path
        return pending.line.item is None and line.item is None and index == pending.index + 1

    def belongs(self, pending: _Pending, line: _Line) -> bool:
        """May ``line`` add a note, a type or a link to ``pending`` before its date comes?"""
        if line.heading or line.scope != pending.line.scope:
            return False
        if pending.section is not None:
            return pending.section in line.path
        return _key(line) == _key(pending.line)

    def continues(self, line: _Line) -> bool:
        current = self.current
        if current is None or line.heading or line.scope != current.scope:
            return False
        if current.section is not None:
            return current.section in line.path
        return _key(line) == current.key

    def complete(self, pending: _Pending, date: _Date, after: str, line: _Line) -> None:
        self.pending = None
        note = _NOTE_LEAD.sub("", after).strip(_LINE_EDGE)
        if pending.section is not None:
            key, section = _key(pending.line), pending.section
        else:
            key, section = _key(line), None
        self.emit(pending.title, date.text, line=pending.line, heading=pending.line.text.strip(_LINE_EDGE),
                  hrefs=pending.hrefs + [h for h, _ in line.links], types=[*pending.types, *_types(line.text)],
                  notes=[*pending.notes, _strip_file_info(note)], key=key, section=section,
                  doc_types=pending.doc_types, column_types=pending.column_types)

    # -- one line -------------------------------------------------------------------------
    def read(self, index: int, line: _Line) -> None:
        text = line.text.strip(_LINE_EDGE)
        links = line.links
        if not text and not links:
            return
        if line.item_tag == "tr" and text:
            self.rows.setdefault(line.item, []).append(text)
        role = None
        if line.table is not None and line.cell is not None:
            if line.header_cell and not links and _find_date(text, self.custom, alone_ok=True)[0] is None:
                self.columns.setdefault(line.table, {})[line.cell] = _column_role(text)
                return
            role = self.columns.get(line.table, {}).get(line.cell)
        if line.scope:
            if line.scope not in self.scope_titles and (line.heading or links):
                self.scope_titles[line.scope] = line
            self.scope_types.setdefault(line.scope, []).extend(_types(text))
        alone_ok = bool(line.heading or line.item is not None or line.tag in ("dd", "dt") or role == "date")
        date, page_meta = _find_date(text, self.custom, alone_ok=alone_ok)
        if page_meta:
            return
        if role == "type" and date is None:
            self.add_types(line, [text], column=True)
            return
        if line.heading:
            self.read_heading(index, line, text, date)
            return
        if date is not None and self.read_dated(index, line, text, date, role):
            return
        self.read_undated(index, line, text, role)

    def read_heading(self, index: int, line: _Line, text: str, date: _Date | None) -> None:
        self.close()
        self.flush_pending()
        self.pending_date = None
        level = line.heading
        if self.group_date is not None and level <= self.group_date[1]:
            self.group_date = None
        if date is not None:
            before, after = text[: date.start], text[date.end:]
            if not _residue(before) and not _residue(after):
                self.group_date = (date.text, level)  # "July 2023" over the entries it dates
                return
            if _residue(before):
                title = _remove_generic_links(before, line.links)
                note = _NOTE_LEAD.sub("", after).strip(_LINE_EDGE)
                if not _prose(title) and self.emit(
                        title, date.text, line=line, heading=text, hrefs=[h for h, _ in line.links],
                        types=_types(text), notes=[_strip_file_info(note)], key=_key(line), section=_section(line)):
                    return
        bare = re.sub(r"\s*\([^)]*\)\s*$", "", text)
        if (_SECTION_HEADING.search(bare) or text.endswith("?") or _not_review(text) or not _residue(text)
                or _prose(text)):
            return  # a heading over entries or over prose, not an entry's title
        self.pending = _Pending(line, index, text, [h for h, _ in line.links], section=_section(line))

    def read_dated(self, index: int, line: _Line, text: str, date: _Date, role: str | None) -> bool:
        before = _remove_generic_links(text[: date.start], line.links)
        after = text[date.end:]
        pending = self.pending
        if role == "date" or not _residue(before):
            if pending is not None and self.accepts(pending, index, line):
                self.complete(pending, date, after, line)
                return True
            if not _residue(after):
                if line.item is not None:
                    self.pending_date = (date, after, line)
                return True
            # The date first: "Dec 2024 - Child PP - 7 minute briefing".
            titled = [(h, t) for h, t in line.links if t and t in after and not _is_generic(t) and not _not_review(t)]
            if titled:
                title = titled[0][1]
                note = after.split(title, 1)[1]
            else:
                parts = _SEPARATOR.split(_NOTE_LEAD.sub("", after).strip(_LINE_EDGE), maxsplit=1)
                title, note = parts[0], (parts[1] if len(parts) > 1 else "")
            note = _NOTE_LEAD.sub("", note).strip(_LINE_EDGE)
            if _prose(title) or not (line.links or line.item is not None or date.marked):
                return False
            self.flush_pending()
            return self.emit(title, date.text, line=line, heading=text, hrefs=self.hrefs(line),
                             types=_types(text), notes=[_strip_file_info(note)], key=_key(line), section=None)
        # A title and its date in one line: "Child B (published 10/10/13) For legal reasons ...".
        title = before.strip(_TITLE_EDGE)
        for _, link_text in line.links:
            # "<a>Child X</a> LCSPR - 2023": the link names the case; the rest is its type.
            if link_text and title.startswith(link_text) and title != link_text \
                    and _only_types(title[len(link_text):]) and _residue(link_text):
                title = link_text  # the types are read from the whole line below
                break
        if _prose(title.strip(_TITLE_EDGE)):
            return False
        separated = bool(re.search(r"[-\u2013\u2014|:,]\s*$", before))
        if not (date.marked or separated or line.links or line.item is not None):
            return False  # an unmarked date inside a sentence of a paragraph
        if pending is not None and pending.line.item is not None and pending.line.item == line.item:
            self.pending = None  # the title cell was a lead-in; this line names the review
        self.flush_pending()
        note = _NOTE_LEAD.sub("", after).strip(_LINE_EDGE)
        return self.emit(title, date.text, line=line, heading=text, hrefs=self.hrefs(line),
                         types=_types(text), notes=[_strip_file_info(note)], key=_key(line), section=None)

    def hrefs(self, line: _Line) -> list[str]:
        """The line's links, less those to pages that are not reviews ("contact us")."""
        return [h for h, t in line.links if not _not_review(t)]

    def read_undated(self, index: int, line: _Line, text: str, role: str | None) -> None:
        links = line.links
        for _, link_text in links:
            if link_text and _not_review(link_text):
                self.skip(link_text, _not_review_reason(link_text))
        title_links = [(h, t) for h, t in links if t and not _is_generic(t) and not _not_review(t)]
        titled = role == "title" or bool(title_links) or (
            line.tag == "dt" and _residue(text) and not _not_review(text) and not _prose(text))
        if titled and not _not_review(text if role == "title" else title_links[0][1] if title_links else text):
            title = text if role == "title" or not title_links else title_links[0][1]
            hrefs = [h for h, _ in title_links] + [h for h, t in links if (h, t) not in title_links]
            if self.pending_date is not None and self.pending_date[2].item == line.item \
                    and self.pending_date[2].scope == line.scope:
                date, after, date_line = self.pending_date
                self.pending_date = None
                self.flush_pending()
                self.emit(title, date.text, line=line, heading=text, hrefs=hrefs, types=_types(text) + _types(after),
                          notes=[_strip_file_info(_NOTE_LEAD.sub("", after).strip(_LINE_EDGE))], key=_key(line),
                          section=None)
                return
            if line.tag != "dt" and self.continues(line):  # a <dt> is always a new title
                current = self.current
                if current.entry.url is None and hrefs:
                    current.entry.url = absolute(self.url, hrefs[0])
                current.types.extend(_types(text))
                return
            if self.pending is not None and self.pending.section is not None and self.belongs(self.pending, line):
                self.pending.hrefs.extend(hrefs)  # a report link under a title heading
                self.pending.types.extend(_types(text))
                return
            self.flush_pending()
            section = _section(line) if line.tag == "dt" else None
            self.pending = _Pending(line, index, title, hrefs, section=section, types=_types(text))
            return
        # Types, document links and notes.
        types = _types(text)
        doc_hrefs = [h for h, t in links if not _not_review(t)]
        document = bool(links) and _is_generic(text)  # "Read the 7 minute briefing (PDF)"
        plain = bool(text) and not document and not _not_review(text)
        target = self.current if self.continues(line) else (
            self.pending if self.pending is not None and self.belongs(self.pending, line) else None)
        if target is not None:
            if isinstance(target, _Open):
                if target.entry.url is None and doc_hrefs:
                    target.entry.url = absolute(self.url, doc_hrefs[0])
            else:
                target.hrefs.extend(doc_hrefs)
            (target.doc_types if document else target.types).extend(types)
            if plain:
                target.notes.append(_strip_file_info(text))
            return
        if "notice" not in self.meta and _NOTICE.search(text):
            self.meta["notice"] = text

    def add_types(self, line: _Line, types: list[str], *, column: bool = False) -> None:
        if column and line.item_tag == "tr":
            self.row_types.setdefault(line.item, []).extend(types)  # wherever the cell is in its row
            return
        target = self.current if self.continues(line) else (
            self.pending if self.pending is not None and self.belongs(self.pending, line) else None)
        if target is not None:
            (target.column_types if column else target.types).extend(types)

    def finish(self) -> None:
        self.close()
        self.flush_pending()
        self.close()
        for scope, line in self.scope_titles.items():
            if scope and not self.scoped.get(scope):
                # The person's selector says this is an entry, dated or not.
                title_links = [(h, t) for h, t in line.links if t and not _is_generic(t)]
                title = line.text.strip(_LINE_EDGE) if line.heading or not title_links else title_links[0][1]
                hrefs = [h for h, _ in title_links] + [h for h, _ in line.links]
                self.emit(title, None, line=line, heading=line.text.strip(_LINE_EDGE), hrefs=hrefs,
                          types=self.scope_types.get(scope, []), notes=[], key=_key(line), section=None)
                self.close()


def parse(html: str, url: str, *, entry_selector: str | None = None, date_pattern: str | None = None) -> ParseResult:
    """The review entries of a partnership's page; see the module's notes for how they are found."""
    doc = tree(html, url)
    custom = _compile(date_pattern) if date_pattern else None
    scopes: set[int] | None = None
    if entry_selector:
        try:
            scopes = {node.mem_id for node in doc.css(entry_selector)}
        except SelectolaxError:
            raise ParseError(url, f"entry_selector {entry_selector!r} is not a CSS selector") from None
    root = doc.body if doc.body is not None else doc.root
    if root is None:
        raise ParseError(url, "no document body")
    reader = _Reader(url, custom)
    title_node = doc.css_first("title")
    recognised = title_node is not None and bool(_MARKER.search(title_node.text()))
    for heading in doc.css("h1, h2, h3"):
        text = clean(heading.text(separator=" "))
        if _MARKER.search(text):
            recognised = True
            reader.meta["title"] = text
            break
    nodes: dict[int, LexborNode] = {}
    for index, line in enumerate(_lines(root, scopes, nodes)):
        reader.read(index, line)
    reader.finish()
    layout = layout_fingerprint({
        ">".join(describe(nodes[ident].tag, nodes[ident].attributes.get("class")) for ident in path)
        for path in reader.paths
    })
    if not reader.entries and not recognised:
        raise ParseError(url, "no review entries, and neither its title nor a heading names case reviews: "
                              "not a page of reviews")
    return ParseResult(entries=reader.entries, next_url=None, meta=reader.meta, layout=layout,
                       skipped=list(reader.skipped.items()))
