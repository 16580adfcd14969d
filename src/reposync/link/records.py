"""Records: what linking needs of one entry row, and the rows a linker reads them from.

An entry row (a mapping shaped like the catalogue's ``entries`` table) becomes a ``Record``: its area codes,
pseudonyms, title words, publication interval as day numbers, review type, and the terms of its summary, note
and keywords (``text_terms``). A linker reads its rows once (``Rows``; ``catalogue.LinkRows`` reads them from
SQL) and keeps the national records in ``SpilledRecords``, a temporary file it reads one area at a time.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import tempfile
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter
from typing import Any

from ..normalise.documents import document_kind

# A description tells a case's particulars when it has this many words of its own (beyond stop words and the
# listings' stock vocabulary): "The overview report sets out how agencies worked with the child and family"
# has one, "A 14-year-old girl groomed online by a man she met through a gaming site" seven.
DESCRIBED_WORDS = 5

_STOP = frozenset(
    "a an and the of in into for from on to with by at as is was review reviews case serious child children "
    "baby babies young person family learning report summary overview executive safeguarding practice local "
    "thematic scr lcspr cspr spr".split()
)



# --- records -------------------------------------------------------------------------------------------

_AGE_WORD = re.compile(r"^(?:baby|young person) (?=\S+$)")


def _children(names: frozenset[str]) -> frozenset[str]:
    """The pseudonym set as linking compares it: of two or more children, the letters together are the case and
    the age word is not ("Baby A and Baby B" is "Twins A and B", "Babies X and Y" is "Twins X and Y"); one child
    keeps it (a partnership's Baby H and its Child H of the next year are two reviews: the gold's Bolton)."""
    if len(names) < 2:
        return names
    folded = frozenset(_AGE_WORD.sub("child ", n) for n in names)
    return folded if len(folded) == len(names) else names



_LISTS: dict[str, tuple] = {}  # a JSON list as stored -> its items: codes, pseudonyms and keywords repeat a lot


def _json_list(value: Any) -> tuple | list:
    if value is None:
        return ()
    if isinstance(value, str):
        found = _LISTS.get(value)
        if found is None:
            found = tuple(json.loads(value)) if value else ()
            if len(_LISTS) > _CACHED:
                _LISTS.clear()
            _LISTS[value] = found
        return found
    return list(value)


_CACHED = 20_000  # values a cache of this module holds before it starts again
_ORDINALS: dict[str, tuple[int, int]] = {}
_VOCABULARY = object()  # the key of the term -> number dict in ``Record.from_row``'s ``shared``
_CONTENTS = object()  # and of the title words -> their joined string dict
_TERM_STRINGS = object()  # a key of ``shared`` that keeps text terms as strings (``Linker``: one area at a time)


def _ordinal(text: str | None) -> tuple[int, int] | None:
    """(day ordinal, year) of an ISO date; dates repeat a lot in a collection, so they are cached."""
    if not text:
        return None
    found = _ORDINALS.get(text)
    if found is None:
        day = date.fromisoformat(text)
        found = _ORDINALS[text] = (day.toordinal(), day.year)
        if len(_ORDINALS) > 100_000:
            _ORDINALS.clear()
    return found


@dataclass(slots=True, eq=False)
class Record:
    """What linking needs of one entry row, in a compact form."""

    id: str
    kind: str
    source: str
    codes: frozenset[str]
    area: str | None
    names: frozenset[str]
    title_key: str
    tokens: tuple[str, ...]  # the content words of the title, sorted, each once
    content: str  # the same words joined: what titles that name no one are compared on
    start: int | None
    end: int | None
    first_year: int
    last_year: int
    precision: str | None
    review_type: str | None
    # The terms of the summary, note and keywords (``text_terms``), sorted; read through a ``shared`` dict, each
    # term is a number of that collection's vocabulary instead (the same order), so the term strings -- hundreds
    # of thousands in a national collection -- are held once (the ``Linker``, which holds one area's records at
    # a time, keeps strings). Only ``Weights`` reads them.
    text: tuple[str, ...] | tuple[int, ...] = ()
    described: bool = False  # a summary, abstract or note telling particulars (``DESCRIBED_WORDS``; keywords never)
    document: bool = False  # an executive summary or a briefing: often catalogued by its own, earlier date
    group: int = -1  # a national record's review in the dedupe (``Linker.group_of``)
    # Which document of its review (normalise.documents: report, summary, briefing, action-plan, statement,
    # other): a local review listed as several documents is linked through its report first (``linkrules``).
    document_kind: str = "report"
    report_sha256: str | None = None  # the SHA-256 of its report document, when one was read (issue 21)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], shared: dict | None = None) -> Record:
        """``shared``: a dict kept across the rows of one collection, through which equal values (area codes,
        pseudonym sets, title words, sources, types) become one object rather than one for every record."""
        # Text terms become numbers only within one collection's ``shared`` (unless it says to keep strings).
        numbered = shared is not None and _TERM_STRINGS not in shared
        if shared is None:
            shared = {}
        keep = shared.setdefault

        def one(value: Any) -> Any:
            return keep(value, value)

        title_key = row.get("title_key") or ""
        start = _ordinal(row.get("published_start"))
        end = _ordinal(row.get("published_end")) or start
        tokens = one(tuple(sorted({one(t) for t in title_key.split() if len(t) > 1 and t not in _STOP})))
        contents = shared.get(_CONTENTS)
        if contents is None:
            contents = shared[_CONTENTS] = {}
        content = contents.get(tokens)
        if content is None:
            content = contents[tokens] = " ".join(tokens)
        area = row.get("area")
        precision = row.get("published_precision")
        review_type = row.get("review_type")
        written = frozenset([one(n) for n in _json_list(row.get("pseudonyms"))])
        names = one(_children(written))
        name_words = {w for name in written for w in name.split()}  # the names as written, as ``text_terms``
        description = _gathered((row.get("summary"), row.get("note")), name_words)
        keywords = _json_list(row.get("keywords"))
        terms = description | _gathered(keywords, name_words) if keywords else description
        text: tuple = tuple(sorted(terms))  # what ``text_terms`` gives of the summary, note and keywords
        if text and numbered:
            vocabulary = shared.get(_VOCABULARY)
            if vocabulary is None:
                vocabulary = shared[_VOCABULARY] = {}
            text = tuple([vocabulary.setdefault(t, len(vocabulary)) for t in text])
        document = bool(_DOCUMENT.search(" ".join(filter(None, (row.get("title"), row.get("note"))))))
        return cls(
            id=row["id"],
            kind=one(row.get("kind") or "national"),
            source=one(row.get("source") or ""),
            codes=one(frozenset([one(c) for c in _json_list(row.get("la_codes"))])),
            area=one(area),
            names=names,
            title_key=title_key,
            tokens=tokens,
            content=content,
            start=start[0] if start else None,
            end=end[0] if end else None,
            first_year=start[1] if start else 0,
            last_year=end[1] if end else -1,
            precision=one(precision),
            review_type=one(review_type),
            text=one(text) if text else (),
            described=sum(1 for term in description if " " not in term) >= DESCRIBED_WORDS,
            document=document or review_type == "briefing",
            document_kind=one(row.get("document_kind") or document_kind(row.get("title") or title_key, review_type)),
            report_sha256=row.get("report_sha256"),
        )

    @property
    def anonymous(self) -> bool:
        """A national record whose area is withheld (no codes, no name)."""
        return not self.codes and not self.area

    @property
    def placed(self) -> bool:
        """Linkable by area: it has ONS codes."""
        return bool(self.codes)

    def years(self, slack: int = 0) -> range:
        if self.start is None:
            return range(0)
        return range(self.first_year - slack, self.last_year + slack + 1)


_WORD = re.compile(r"[a-z0-9]+")
_TEXT_STOP = frozenset(
    "a an and the of in into for from on to with by at as is was were are be been being it its this that these "
    "those their them they he she his her him who whom which what when where how than then there also after "
    "before over under about between during while not no or but had has have known".split()
    # The listings' stock vocabulary: in a small catalogue IDF cannot tell it is boilerplate, so it is named.
    + "review reviews serious case published publication anonymously anonymous nspcc behalf unnamed named local "
      "safeguarding children child board boards lscb partnership partnerships agencies agency learning practice "
      "report overview summary executive multi working professionals services involved family families findings "
      "recommendations lessons considers considering looks looking examines examining sets set out identifies "
      "arising baby young person people".split()
)
# Words that say a record is a summary or a briefing of a review, not the review (12a keeps them in titles).
_DOCUMENT = re.compile(r"\bexecutive\s+summary\b|\bbriefing\b|\blearning\s+summary\b|\b7\s+minute\b", re.I)


def text_terms(summary: str | None, note: str | None, keywords: Iterable[str], names: Iterable[str] = ()) -> tuple[
        str, ...]:
    """The terms a record's texts are compared on: words and word pairs of the summary (or abstract), the note
    and the keywords, without stop words and without the pseudonyms' words (names are weighed on their own)."""
    name_words = {w for name in names for w in name.split()}
    return tuple(sorted(_gathered((summary, note, *keywords), name_words)))


def _gathered(texts: Iterable[str | None], name_words: set[str]) -> set[str]:
    """The terms of these texts (``text_terms``), as a set."""
    terms: set[str] = set()
    for text in texts:
        if not text:
            continue
        words, found = _terms_of(text)
        if name_words and not name_words.isdisjoint(words):
            words = tuple(w for w in words if w not in name_words)  # the pairs close up over a name's words
            found = frozenset([*words, *(f"{a} {b}" for a, b in zip(words, words[1:]))])
        terms.update(found)
    return terms


_TERMS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}  # keywords and stock summaries repeat
_CACHED_TEXTS = 4096  # fewer: a text's terms take a kilobyte or two


def _terms_of(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """One text's words (less stop words) and its terms: those words and each word pair."""
    found = _TERMS.get(text)
    if found is None:
        words = tuple([w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in _TEXT_STOP])
        found = words, frozenset([*words, *(f"{a} {b}" for a, b in zip(words, words[1:]))])
        if len(_TERMS) > _CACHED_TEXTS:
            _TERMS.clear()
        _TERMS[text] = found
    return found


# Entry rows, read once, in an order that never changes (``catalogue.LinkRows`` reads them from SQL).
Rows = Iterable[Mapping[str, Any]]

_STATE = attrgetter(*[f.name for f in fields(Record)])  # a record's fields in order: ``Record(*state)``
_TEXT = [f.name for f in fields(Record)].index("text")


class SpilledRecords:
    """Records built once and written to a temporary file, read back by their order of writing: a linker reads
    each dedupe area's records again from here, so it never holds every record, nor builds one twice (a
    record's text terms are most of what building it costs)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.offsets = array("q", [0])  # where each record starts, and where the last one ends

    def append(self, record: Record) -> None:
        """Write a record whose text terms are strings (a linker's, ``_TERM_STRINGS``)."""
        state = _STATE(record)
        # The text terms as one string (a term is words and a space): unmarshalling a string for each term
        # would be most of reading a record back.
        data = marshal.dumps((*state[:_TEXT], "\n".join(state[_TEXT]), *state[_TEXT + 1:]))
        self.file.write(data)
        self.offsets.append(self.offsets[-1] + len(data))

    def read(self, indexes: Iterable[int]) -> list[Record]:
        """The records written at these places (ascending reads the file in order)."""
        self.file.flush()
        fd, offsets, loads = self.file.fileno(), self.offsets, marshal.loads
        records = []
        for i in indexes:
            record = Record(*loads(os.pread(fd, offsets[i + 1] - offsets[i], offsets[i])))
            text = record.text
            record.text = tuple(text.split("\n")) if text else ()  # type: ignore[union-attr]
            records.append(record)
        return records

    def __del__(self) -> None:
        self.file.close()  # the file goes with the linker that wrote it
