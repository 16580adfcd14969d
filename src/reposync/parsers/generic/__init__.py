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
3. Each line is looked at for a date: ``31/01/11``, ``24/1/13``, ``11-10-2013``,
   ``2023-05-01``, ``6th January 2020``, ``14-Mar-2014``, ``January 6, 2020``,
   ``July 2023``, ``Dec 2024``, ``March-April 2024``, or a year (or financial
   year, ``2020/21``) when it is labelled (``Published 2014``), bracketed
   (``(2014)``), or alone in a date column or heading, or ending a heading
   ("Thematic Review 2019"). A label written before the date ("published",
   "publication date", ...) stays with it in ``date_text``; ``normalise.parse_date``
   reads it. A date labelled as the page's own ("Page last updated ...") is not
   an entry's (it is listed in ``skipped``), nor one that opens a story ("In June
   2021 Alsami, a 14 year old boy, died ..."); one labelled as an entry's update
   ("Child X (updated 3 March 2021)") is taken, label and all, when the line has
   no other.
4. Entries are assembled from the lines:
   - one line holding a title and a date: ``Title (published DATE) note``,
     ``Title - DATE``, ``Title, published 6th January 2020``, ``DATE - Title``;
   - a title (a link, a heading, a ``<dt>``, a cell of a title column) with a
     date in the same list item or table row, or in a line of its own right
     after it, or anywhere in the heading's section;
   - links under a heading, or a labelled line, that is nothing but a date
     (``<h3>July 2023</h3>``, "Date of publication: 18th February 2015");
   - a card's date above its title (``<span>24 April 2025</span><h3>...``);
   - sentences that say a review was published: a title waiting for its
     date takes the sentence's ("On 31st July 2024, the partnership published
     ..."), else the sentence names it ("The HSCP published CSPR Peer on Peer
     Abuse on 21 February, 2022." -> "CSPR Peer on Peer Abuse").
   - a title with no link, set apart: a bold line naming a child or a review
     type, or a line opening with a child's name, whose date is the next line
     of its paragraph or item ("<strong>Child X - LCSPR</strong><br>Published
     15 May 2023. This report has been removed ...").
   A title with no date is not taken (a selector override aside), except a
   briefing's own link ("Learning Briefing - ...") beside its review. A hint
   span beside a title (``class="hint"``) is the entry's note, never its title. Text after
   the date, and further lines of the same block, item or heading section,
   are the note. Review types in words or abbreviations (serious case review,
   safeguarding practice review, SCR, SPR, CSPR, LCSPR, learning review, 7
   minute briefing, learning summary) go into ``type_text``: what a table's
   "Type" column says first, else types in the entry's own text, else those
   in the words of its document links ("Read the 7 minute briefing"), else a
   page of briefings' own ("7 minute briefings"), else, on a page whose
   section headings name different types or a thematic one, its section
   heading's ("Thematic reviews"). The title stays as written,
   type words included ("SCR: Child X"); only file details ("(PDF, 1MB)") and
   stray separators at its edges go. ``heading`` is the entry's line as
   written (a table row's cells joined by " | ").
5. Links and lines that are not reviews are not taken: titles naming
   policies, procedures, guidance, newsletters, contact pages, training,
   annual reports, media statements, "Top of page" and the like (unless they
   name a child, as in "Child C", or open by saying they are a review, as in
   "Serious Case Review: Neglect Strategy in Practice"); lines that read as prose. What was read
   and not taken is listed, with why, in ``ParseResult.skipped``; where the
   entries were found is fingerprinted in ``ParseResult.layout``.

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

The package, one concern a module, each importing only those before it:
``titles`` (titles and review types as written), ``dates`` (dates on a line),
``skip`` (chrome, things that are not reviews, prose), ``candidates`` (the
tree as lines), ``reader`` (lines into entries), and here ``parse``.
"""

from __future__ import annotations

from selectolax.lexbor import LexborNode, SelectolaxError

from ...errors import ParseError
from ...models import ParseResult
from ..base import clean, describe, layout_fingerprint, tree
from .candidates import read_lines
from .dates import compile_pattern
from .reader import Reader
from .skip import MARKER
from .titles import BRIEFING


def parse(html: str, url: str, *, entry_selector: str | None = None, date_pattern: str | None = None) -> ParseResult:
    """The review entries of a partnership's page; see the module's notes for how they are found."""
    doc = tree(html, url)
    custom = compile_pattern(date_pattern) if date_pattern else None
    scopes: set[int] | None = None
    if entry_selector:
        try:
            scopes = {node.mem_id for node in doc.css(entry_selector)}
        except SelectolaxError:
            raise ParseError(url, f"entry_selector {entry_selector!r} is not a CSS selector") from None
    root = doc.body if doc.body is not None else doc.root
    if root is None:
        raise ParseError(url, "no document body")
    reader = Reader(url, custom)
    title_node = doc.css_first("title")
    recognised = title_node is not None and bool(MARKER.search(title_node.text()))
    for heading in doc.css("h1, h2, h3"):
        text = clean(heading.text(separator=" "))
        if MARKER.search(text):
            recognised = True
            reader.meta["title"] = text
            break
    nodes: dict[int, LexborNode] = {}
    for index, line in enumerate(read_lines(root, scopes, nodes, url)):
        reader.read(index, line)
    reader.finish()
    page_type = BRIEFING.search(reader.meta.get("title", ""))
    if page_type:  # a page of 7 minute briefings: what it lists is a briefing unless it says otherwise
        for entry in reader.entries:
            entry.type_text = entry.type_text or clean(page_type[0])
    layout = layout_fingerprint({
        ">".join(describe(nodes[ident].tag, nodes[ident].attributes.get("class")) for ident in path)
        for path in reader.paths
    })
    if not reader.entries and not recognised:
        raise ParseError(url, "no review entries, and neither its title nor a heading names case reviews: "
                              "not a page of reviews")
    return ParseResult(entries=reader.entries, next_url=None, meta=reader.meta, layout=layout,
                       skipped=list(reader.skipped.items()))
