"""From lines to entries: titles, their dates, notes, types and links, in one pass over the lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...models import RawEntry
from ..base import absolute, clean
from .candidates import Line, item_key, section_of
from .dates import Date, find_date
from .skip import (
    NAMES_A_CHILD,
    NOTICE,
    PUBLICATION,
    PUBLISHED_TITLE,
    SECTION_HEADING,
    is_prose,
    not_review,
    not_review_reason,
)
from .titles import (
    BRIEFING,
    LINE_EDGE,
    NOTE_LEAD,
    OWN_DOCUMENT,
    SEPARATOR,
    TITLE_EDGE,
    column_role,
    is_generic,
    only_types,
    remove_generic_links,
    residue,
    section_types_in,
    strip_file_info,
    title_as_written,
    types_in,
    unique,
)


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
    section_types: list[str] = field(default_factory=list)  # the heading over it names them ("Thematic reviews")


@dataclass
class _Pending:
    """A title (a link, a heading, a title cell) waiting for its date."""

    line: Line
    index: int
    title: str
    hrefs: list[str]
    section: int | None  # a heading's or <dt>'s parent: its date may come anywhere inside
    types: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    column_types: list[str] = field(default_factory=list)
    plain: bool = False  # a title without a link (``Reader.plain_title``): nothing said if no date comes


# A sentence that opens with its date: "In June 2021 ...", "On 31st July 2024, ...".
_STORY_LEAD = re.compile(r"\s*(?:in|on|by|since|during|from|until|after|before|between)\s*", re.I)


class Reader:
    def __init__(self, url: str, custom: re.Pattern[str] | None) -> None:
        self.url = url
        self.custom = custom
        self.entries: list[RawEntry] = []
        self.meta: dict[str, str] = {}
        self.current: _Open | None = None
        self.pending: _Pending | None = None
        self.pending_date: tuple[Date, str, Line] | None = None  # a date cell before its title cell
        self.group_date: tuple[str, int] | None = None  # a heading that is only a date, and its level
        self.section_type: tuple[list[str], int] | None = None  # a section heading's types, and its level
        self.section_kinds: set[str] = set()  # the types the page's section headings name, in lower case
        self.section_typed: list[tuple[RawEntry, list[str]]] = []  # entries naming no type, under a typed heading
        self.columns: dict[int, dict[int, str]] = {}  # table -> column -> role
        self.scoped: dict[int, int] = {}  # entry_selector match -> entries found in it
        self.scope_titles: dict[int, Line] = {}  # entry_selector match -> its first title line
        self.scope_types: dict[int, list[str]] = {}  # entry_selector match -> the types it names
        self.rows: dict[int, list[str]] = {}  # table row -> the text of its cells
        self.row_types: dict[int, list[str]] = {}  # table row -> what its type column says
        self.first_rows: dict[int, int | None] = {}  # table -> its first row (a header row without <th>?)
        self.headers: dict[int, dict[int, str]] = {}  # table -> column -> its header as written
        self.row_titles: dict[int | None, str] = {}  # table row -> its title cell, in a table of documents
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
            notes = [n for n in current.notes if n and not only_types(n)]
            entry.note = " ".join(notes) or None
            column = current.column_types or self.row_types.get(current.row, [])
            types = column or current.types or current.doc_types
            if not types and current.section_types:  # typed by the heading over it, if the page's sections differ
                self.section_typed.append((entry, current.section_types))
            entry.type_text = "; ".join(unique(types)) or None
            if current.row is not None and len(self.rows.get(current.row, ())) > 1:
                entry.heading = " | ".join(self.rows[current.row])  # a table row: its cells, as written
            self.current = None

    def emit(
        self, title_raw: str, date_text: str | None, *, line: Line, heading: str, hrefs: list[str],
        types: list[str], notes: list[str], key: tuple[str, int], section: int | None,
        doc_types: Sequence[str] = (), column_types: Sequence[str] = (),
    ) -> bool:
        title = title_as_written(title_raw)
        if not title or is_generic(title):
            return False
        if not_review(title):
            self.skip(title_raw, not_review_reason(title))
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
        self.current = _Open(entry, key, line.scope, section, [n for n in [*notes, *line.hints] if n],
                             [*types_in(title), *types], doc_types=list(doc_types),
                             column_types=list(column_types), row=line.item if line.item_tag == "tr" else None,
                             section_types=list(self.section_type[0]) if self.section_type
                             and not OWN_DOCUMENT.search(title) else [])
        return True

    def flush_pending(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None and pending.plain and self.group_date is None:
            return  # a bold line or a child's name with no date under it: a line of text, not worth a word
        if pending is not None and self.group_date is None:
            named = BRIEFING.search(pending.title) or (types_in(pending.title) and NAMES_A_CHILD.search(pending.title))
            if (pending.line.links or pending.hrefs) and named and not is_prose(pending.title):
                # A review's briefing linked beside it, or a review that names its child and its type ("Child Y
                # SCR" over its report), with no date of its own: an entry all the same, undated.
                self.emit(pending.title, None, line=pending.line, heading=pending.line.text.strip(LINE_EDGE),
                          hrefs=pending.hrefs, types=pending.types, notes=pending.notes, key=item_key(pending.line),
                          section=pending.section, doc_types=pending.doc_types, column_types=pending.column_types)
                return
            self.skip(pending.title, "no publication date with it")
        if pending is not None and self.group_date is not None:
            self.emit(pending.title, self.group_date[0], line=pending.line, heading=pending.line.text.strip(LINE_EDGE),
                      hrefs=pending.hrefs, types=pending.types, notes=pending.notes, key=item_key(pending.line),
                      section=pending.section, doc_types=pending.doc_types, column_types=pending.column_types)

    def accepts(self, pending: _Pending, index: int, line: Line) -> bool:
        """May ``line`` (no heading) hold the date of ``pending``?"""
        if line.heading or line.scope != pending.line.scope:
            return False
        if pending.line.item is not None and line.item == pending.line.item:
            return True
        if pending.section is not None:
            return pending.section in line.path
        return pending.line.item is None and line.item is None and index == pending.index + 1

    def belongs(self, pending: _Pending, line: Line) -> bool:
        """May ``line`` add a note, a type or a link to ``pending`` before its date comes?"""
        if line.heading or line.scope != pending.line.scope:
            return False
        if pending.section is not None:
            return pending.section in line.path
        return item_key(line) == item_key(pending.line)

    def continues(self, line: Line) -> bool:
        current = self.current
        if current is None or line.heading or line.scope != current.scope:
            return False
        if current.section is not None:
            return current.section in line.path
        return item_key(line) == current.key

    def complete(self, pending: _Pending, date: Date, after: str, line: Line) -> None:
        self.pending = None
        note = NOTE_LEAD.sub("", re.sub(r"^\s*\.\s+", "", after)).strip(LINE_EDGE)  # "Published 15 May 2023. Note"
        if pending.section is not None:
            key, section = item_key(pending.line), pending.section
        else:
            key, section = item_key(line), None
        self.emit(pending.title, date.text, line=pending.line, heading=pending.line.text.strip(LINE_EDGE),
                  hrefs=pending.hrefs + [h for h, _ in line.links], types=[*pending.types, *types_in(line.text)],
                  notes=[*pending.notes, strip_file_info(note)], key=key, section=section,
                  doc_types=pending.doc_types, column_types=pending.column_types)

    # -- one line -------------------------------------------------------------------------
    def read(self, index: int, line: Line) -> None:
        text = line.text.strip(LINE_EDGE)
        links = line.links
        if not text and not links:
            return
        if line.item_tag == "tr" and text:
            self.rows.setdefault(line.item, []).append(text)
        role = None
        if line.table is not None and line.cell is not None:
            first = self.first_rows.setdefault(line.table, line.item)
            if (line.header_cell or (line.item == first and self.looks_like_header(line, text))) and not links \
                    and find_date(text, self.custom, alone_ok=True)[0] is None:
                self.columns.setdefault(line.table, {})[line.cell] = column_role(text)
                self.headers.setdefault(line.table, {})[line.cell] = text
                return
            role = self.columns.get(line.table, {}).get(line.cell)
            if role == "title" and "document" in self.columns.get(line.table, {}).values():
                self.row_titles[line.item] = text  # its documents, one a column, are the entries
                return
            if role == "document" and line.item in self.row_titles:
                self.read_document(line, text)
                return
        if line.scope:
            if line.scope not in self.scope_titles and (line.heading or links):
                self.scope_titles[line.scope] = line
            self.scope_types.setdefault(line.scope, []).extend(types_in(text))
        alone_ok = bool(line.heading or line.item is not None or line.tag in ("dd", "dt") or role == "date")
        # "<h4>Vulnerable Adolescents Thematic Review 2019</h4>": a heading may end on its year.
        date, page_meta = find_date(text, self.custom, alone_ok=alone_ok, trailing_ok=bool(line.heading))
        if page_meta:
            self.skip(text, "the page's own date (updated, reviewed), not an entry's publication date")
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

    def looks_like_header(self, line: Line, text: str) -> bool:
        """A first-row cell written as a header without <th> ("<td><strong>Case</strong></td>"): a few words
        that name a column; once one has, the rest of its row are headers too."""
        if line.cell:  # a later cell is a header when the row's first cell was one
            return line.table in self.columns and self.first_rows.get(line.table) == line.item
        return len(text.split()) <= 3 and column_role(text) != "other" and not NAMES_A_CHILD.search(text)

    def read_document(self, line: Line, text: str) -> None:
        """One document cell of a review's row: "Child G | Published 14 June 2017 | Published 15 October 2015"
        under "Case | Overview Report | Learning Brief" is two entries, each typed by its column; a cell
        without a date ("No longer published") is an entry without one, and says so in its note."""
        self.close()
        self.flush_pending()
        self.pending_date = None
        title = self.row_titles[line.item]
        header = self.headers.get(line.table, {}).get(line.cell, "")
        date, _ = find_date(text, self.custom, alone_ok=True)
        note = NOTE_LEAD.sub("", text[date.end:] if date else text).strip(TITLE_EDGE)
        hrefs = [h for h, t in line.links if not not_review(t)]
        if self.emit(title, date.text if date else None, line=line, heading=f"{title} | {text}", hrefs=hrefs,
                     types=types_in(text), notes=[strip_file_info(note)], key=item_key(line), section=None,
                     column_types=[header] if header else []):
            current = self.current
            current.row = None  # the entry is this cell, not its whole row
            self.close()

    def read_heading(self, index: int, line: Line, text: str, date: Date | None) -> None:
        self.close()
        self.flush_pending()
        waiting, self.pending_date = self.pending_date, None
        level = line.heading
        if self.group_date is not None and level <= self.group_date[1]:
            self.group_date = None
        if self.section_type is not None and level <= self.section_type[1]:
            self.section_type = None
        if date is not None:
            before, after = text[: date.start], text[date.end:]
            if not residue(before) and not residue(after):
                self.group_date = (date.text, level)  # "July 2023" over the entries it dates
                return
            if residue(before):
                title = remove_generic_links(before, line.links)
                note = NOTE_LEAD.sub("", after).strip(LINE_EDGE)
                if not is_prose(title) and self.emit(
                        title, date.text, line=line, heading=text, hrefs=[h for h, _ in line.links],
                        types=types_in(text), notes=[strip_file_info(note)], key=item_key(line), section=section_of(line)):
                    return
        bare = re.sub(r"\s*\([^)]*\)\s*$", "", text).rstrip(" :")
        # A heading that links a document inside a card or list item is that item's title, even when it reads
        # like a heading over entries ("<article><h3><a href=...pdf>Messages from reviews</a></h3>").
        carded = line.item is not None and bool(line.links)
        if not_review(text):
            if line.links:
                self.skip(text, not_review_reason(text))
            return
        if (SECTION_HEADING.search(bare) and not carded) or text.endswith("?") or not residue(text) \
                or is_prose(text):
            section_types = section_types_in(bare) if SECTION_HEADING.search(bare) and level > 1 else []
            if section_types:  # "<h2>Thematic reviews</h2>": the type of the entries under it that name none
                self.section_type = (section_types, level)
                self.section_kinds.add(" ".join(section_types).lower().rstrip("s"))
            return  # a heading over entries or over prose, not an entry's title
        if waiting is not None and line.item is not None and waiting[2].item == line.item \
                and waiting[2].scope == line.scope:
            # A card's date above its title heading: "<span>24 April 2025</span><h3><a>Title</a></h3>".
            date, after, _ = waiting
            if self.emit(text, date.text, line=line, heading=text, hrefs=[h for h, _ in line.links],
                         types=types_in(text) + types_in(after), notes=[], key=item_key(line), section=None):
                return
        self.pending = _Pending(line, index, text, [h for h, _ in line.links], section=section_of(line))

    def read_dated(self, index: int, line: Line, text: str, date: Date, role: str | None) -> bool:
        before = remove_generic_links(text[: date.start], line.links)
        after = text[date.end:]
        pending = self.pending
        if pending is not None and residue(before) and PUBLICATION.search(text) and self.accepts(pending, index, line) \
                and not re.fullmatch(r"\s*:\s*", after):  # "... published August 2024:" dates a list (below)
            # "<h3>Serious Case Review - Child G</h3><p>The partnership is today (16/01/2020) publishing the
            # report ...</p>": the sentence dates the heading above it, bracketed date or not (Swindon).
            return self.read_sentence(index, line, text, date, before)
        if role != "date" and not date.marked:
            story = bool(_STORY_LEAD.fullmatch(before))  # "In June 2021 Alsami, a 14 year old boy, died ..."
            if (story or residue(before)) and PUBLICATION.search(text):
                return self.read_sentence(index, line, text, date, before)
            if story:
                return False  # when something happened, not when a report was published: a note
        if role == "date" or not residue(before):
            if pending is not None and self.accepts(pending, index, line):
                self.complete(pending, date, after, line)
                return True
            if not residue(after):
                if line.item is not None:
                    self.pending_date = (date, after, line)
                elif date.marked and not self.continues(line):
                    # "Date of publication: 18th February 2015" over the documents it dates, to the next
                    # date or heading.
                    self.flush_pending()
                    self.group_date = (date.text, 7)
                return True
            # The date first: "Dec 2024 - Child PP - 7 minute briefing".
            titled = [(h, t) for h, t in line.links if t and t in after and not is_generic(t) and not not_review(t)]
            if titled:
                title = titled[0][1]
                note = after.split(title, 1)[1]
            else:
                parts = SEPARATOR.split(NOTE_LEAD.sub("", after).strip(LINE_EDGE), maxsplit=1)
                title, note = parts[0], (parts[1] if len(parts) > 1 else "")
            note = NOTE_LEAD.sub("", note).strip(LINE_EDGE)
            if is_prose(title) or not (line.links or line.item is not None or date.marked):
                return False
            self.flush_pending()
            return self.emit(title, date.text, line=line, heading=text, hrefs=self.hrefs(line),
                             types=types_in(text), notes=[strip_file_info(note)], key=item_key(line), section=None)
        if date.marked and not line.links and re.fullmatch(r"\s*:\s*", after) and is_prose(before):
            # "... Available reports published August 2024:" over the list of a review's documents (Derby and
            # Derbyshire): it dates them, to the next date or heading, as "Date of publication: ..." does.
            self.pending = None  # the review's heading over them: its documents are the entries
            self.group_date = (date.text, 7)
            return True
        # A title and its date in one line: "Child B (published 10/10/13) For legal reasons ...".
        # "<a>Child X</a> LCSPR - 2023": the title as written is "Child X LCSPR"; its types are read from it.
        title = before.strip(TITLE_EDGE)
        if is_prose(title.strip(TITLE_EDGE)):
            return False
        separated = bool(re.search(r"[-\u2013\u2014|:,]\s*$", before))
        if not (date.marked or separated or line.links or line.item is not None):
            return False  # an unmarked date inside a sentence of a paragraph
        if pending is not None and pending.line.item is not None and pending.line.item == line.item:
            self.pending = None  # the title cell was a lead-in; this line names the review
        self.flush_pending()
        note = NOTE_LEAD.sub("", after).strip(LINE_EDGE)
        return self.emit(title, date.text, line=line, heading=text, hrefs=self.hrefs(line),
                         types=types_in(text), notes=[strip_file_info(note)], key=item_key(line), section=None)

    def read_sentence(self, index: int, line: Line, text: str, date: Date, before: str) -> bool:
        """A sentence that says when something was published: it dates the title waiting for a date
        ("<h2>Review - Child E</h2><p>On 31st July 2024, the partnership published ...</p>"), else it
        names the review itself ("The HSCP published CSPR Peer on Peer Abuse on 21 February, 2022."),
        else it is a note."""
        pending = self.pending
        if pending is not None and self.accepts(pending, index, line):
            self.complete(pending, date, "", line)
            return True
        if self.continues(line):
            return False  # a note of the entry being read
        named = PUBLISHED_TITLE.search(before)
        if named is None or is_prose(named["title"].strip(TITLE_EDGE)):
            return False
        self.flush_pending()
        return self.emit(named["title"], date.text, line=line, heading=text, hrefs=self.hrefs(line),
                         types=types_in(text), notes=[], key=item_key(line), section=None)

    def hrefs(self, line: Line) -> list[str]:
        """The line's links, less those to pages that are not reviews ("contact us")."""
        return [h for h, t in line.links if not not_review(t)]

    def read_undated(self, index: int, line: Line, text: str, role: str | None) -> None:
        links = line.links
        for _, link_text in links:
            if link_text and not_review(link_text):
                self.skip(link_text, not_review_reason(link_text))
        title_links = [(h, t) for h, t in links if t and not is_generic(t) and not not_review(t)]
        titled = role == "title" or bool(title_links) or (
            line.tag == "dt" and residue(text) and not not_review(text) and not is_prose(text))
        if titled and not not_review(text if role == "title" else title_links[0][1] if title_links else text):
            title = text if role == "title" or not title_links else title_links[0][1]
            hrefs = [h for h, _ in title_links] + [h for h, t in links if (h, t) not in title_links]
            if self.pending_date is not None and self.pending_date[2].item == line.item \
                    and self.pending_date[2].scope == line.scope:
                date, after, date_line = self.pending_date
                self.pending_date = None
                self.flush_pending()
                self.emit(title, date.text, line=line, heading=text, hrefs=hrefs, types=types_in(text) + types_in(after),
                          notes=[strip_file_info(NOTE_LEAD.sub("", after).strip(LINE_EDGE))], key=item_key(line),
                          section=None)
                return
            if line.tag != "dt" and self.continues(line):  # a <dt> is always a new title
                current = self.current
                if current.entry.url is None and hrefs:
                    current.entry.url = absolute(self.url, hrefs[0])
                current.types.extend(types_in(text))
                return
            if self.pending is not None and self.pending.section is not None and self.belongs(self.pending, line):
                self.pending.hrefs.extend(hrefs)  # a report link under a title heading
                self.pending.types.extend(types_in(text))
                return
            self.flush_pending()
            section = section_of(line) if line.tag == "dt" else None
            self.pending = _Pending(line, index, title, hrefs, section=section, types=types_in(text))
            return
        if not links and role is None and self.plain_title(line, text):
            self.flush_pending()
            self.pending = _Pending(line, index, text, [], section=None, types=types_in(text), plain=True)
            return
        # Types, document links and notes.
        types = types_in(text)
        doc_hrefs = [h for h, t in links if not not_review(t)]
        document = bool(links) and is_generic(text)  # "Read the 7 minute briefing (PDF)"
        plain = bool(text) and not document and not not_review(text)
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
                target.notes.append(strip_file_info(text))
            return
        if "notice" not in self.meta and NOTICE.search(text):
            self.meta["notice"] = text

    def plain_title(self, line: Line, text: str) -> bool:
        """A review given without a link, as a title set apart: a bold line ("<p><strong>Child X - Local Child
        Safeguarding Practice Review</strong><br>Published 15 May 2023. ..."), or a line that names a child and
        nothing else, opening its block or item ("<li>Child AB - executive summary <span class=hint>...")."""
        if self.continues(line) or (self.pending is not None and self.belongs(self.pending, line)):
            return False  # a note of the entry being read
        if not residue(text) or is_prose(text) or not_review(text) or len(text) > 200:
            return False
        named = bool(NAMES_A_CHILD.search(text))
        return (line.strong and (named or bool(types_in(text)))) or bool(NAMES_A_CHILD.match(text))

    def add_types(self, line: Line, types: list[str], *, column: bool = False) -> None:
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
        # Sections of several types ("Serious case reviews", "Thematic reviews"), or a thematic one, say what
        # their entries are; one section of one type over the whole list is the page's subject, and the year
        # says as much.
        if len(self.section_kinds) > 1 or any("thematic" in kind for kind in self.section_kinds):
            for entry, types in self.section_typed:
                entry.type_text = "; ".join(unique(types))
        for scope, line in self.scope_titles.items():
            if scope and not self.scoped.get(scope):
                # The person's selector says this is an entry, dated or not.
                title_links = [(h, t) for h, t in line.links if t and not is_generic(t)]
                title = line.text.strip(LINE_EDGE) if line.heading or not title_links else title_links[0][1]
                hrefs = [h for h, _ in title_links] + [h for h, _ in line.links]
                self.emit(title, None, line=line, heading=line.text.strip(LINE_EDGE), hrefs=hrefs,
                          types=self.scope_types.get(scope, []), notes=[], key=item_key(line), section=None)
                self.close()
