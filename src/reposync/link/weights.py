"""Weights: how much a shared pseudonym and a shared word of two texts are worth, counted from the collection.

A pseudonym's bits are -log2 of how common it is among national cases (smoothed towards a prior from its
shape, ``prior``); a text term's weight is its IDF among the national records' texts, boilerplate weighing
nothing. ``WeightCounts`` counts them one record at a time; ``SpilledCounts`` keeps the counts in a temporary
SQLite database, for a national collection too large to count in sets.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .records import Record

# TF-IDF cosine over word unigrams and bigrams (binary term frequency: the texts are a sentence or two). IDF
# comes from the national records; a term in more than BOILERPLATE_SHARE of them (and in at least
# BOILERPLATE_MIN) is boilerplate ("serious case review", "published anonymously") and weighs nothing, so two
# texts that share only the listing's stock phrases are no evidence at all.
BOILERPLATE_SHARE = 0.05
BOILERPLATE_MIN = 3

# Pseudonym commonness: the share of national records naming it, smoothed towards a prior from its shape
# with this many pseudo-records, so a small collection does not make "Child A" look rare.
PRIOR_WEIGHT = 1000
_ROLE_NAME = re.compile(r"^(?:child|baby|young person|family|sibling|adult) (?P<id>\S+)$")


def _single_letter(name: str) -> bool:
    match = _ROLE_NAME.match(name)
    return bool(match) and len(match["id"]) == 1


def prior(name: str) -> float:
    """How common a pseudonym of this shape is, before looking at the collection."""
    match = _ROLE_NAME.match(name)
    if match:
        ident = match["id"]
        return 1 / 50 if len(ident) == 1 else 1 / 400 if len(ident) == 2 else 1 / 2000
    if any(ch.isdigit() for ch in name) or " " in name:
        return 1 / 20000  # BDS12, CE001, Keanu Williams
    return 1 / 300  # a given name: Gabriel, Katie, Jack


@dataclass
class Weights:
    """Bits of evidence in a shared pseudonym: -log2 of how common it is among national cases.

    Counted by case, not by record: a review listed three times (a list entry and two library records,
    same area and year) counts once, so being well catalogued does not make a pseudonym look common.
    """

    df: Counter
    total: int
    term_df: Counter = field(default_factory=Counter)  # national records whose texts hold each term
    texts: int = 0  # national records with a text
    # The same counts for numbered terms (``Record.text`` read through ``shared``), by number: a list of small
    # ints takes a tenth of what a Counter of hundreds of thousands of terms does.
    numbered_df: list[int] = field(default_factory=list)
    # The count of a term ``term_df`` does not hold: 0, or 1 when ``term_df`` holds only the terms of two or more
    # national records, and every local entry's term (the Linker's counts): a national record's term is in one.
    unseen_df: int = 0
    _cache: dict[str, float] = field(default_factory=dict)
    _norms: dict[tuple[str, ...], float] = field(default_factory=dict)
    _squares: dict[str | int, float] = field(default_factory=dict)  # idf(term) ** 2, as the sums take it
    _boilerplate: frozenset | None = None

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> Weights:
        counts = WeightCounts()
        for record in records:
            counts.add(record)
        return counts.weights()

    def idf(self, term: str | int) -> float:
        """A term's weight: 0 for boilerplate, else log((N + 1) / (df + 1)) + 1."""
        n = self.texts
        if type(term) is int:
            numbered = self.numbered_df
            found = numbered[term] if term < len(numbered) else 0
        else:
            found = self.term_df.get(term, self.unseen_df)
        if found > max(BOILERPLATE_MIN, BOILERPLATE_SHARE * n):
            return 0.0
        return math.log((n + 1) / (found + 1)) + 1.0

    def boilerplate(self) -> frozenset:
        """The terms that weigh nothing (``idf`` 0), found once: any other term weighs something (a term the
        counts do not hold is in one record at most)."""
        if self._boilerplate is None:
            limit = max(BOILERPLATE_MIN, BOILERPLATE_SHARE * self.texts)
            self._boilerplate = frozenset([t for t, n in self.term_df.items() if n > limit]
                                          + [i for i, n in enumerate(self.numbered_df) if n > limit])
        return self._boilerplate

    def _norm(self, terms: tuple[str, ...]) -> float:
        norm = self._norms.get(terms)
        if norm is None:
            norm = self._norms[terms] = math.sqrt(sum(self.idf(t) ** 2 for t in terms))
        return norm

    def text_similarity(self, a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
        """TF-IDF cosine of two records' texts, 0-1; None when either has no text beyond boilerplate."""
        if not a or not b:
            return None
        norm_a, norm_b = self._norm(a), self._norm(b)
        if not norm_a or not norm_b:
            return None
        small, large = (a, b) if len(a) <= len(b) else (b, a)
        other = frozenset(large)
        if other.isdisjoint(small):
            return 0 / (norm_a * norm_b)  # what the sum of no terms gives, without going through them
        squares = self._squares
        idf = self.idf
        dot = sum([squares[t] if t in squares else squares.setdefault(t, idf(t) ** 2) for t in small if t in other])
        return dot / (norm_a * norm_b)

    def forget(self) -> None:
        """Let go of the cached norms and term weights (recomputed, the same, when asked for again)."""
        self._norms.clear()
        self._squares.clear()

    def bits(self, name: str) -> float:
        cached = self._cache.get(name)
        if cached is None:
            share = (self.df.get(name, 0) + PRIOR_WEIGHT * prior(name)) / (self.total + PRIOR_WEIGHT)
            cached = self._cache[name] = max(0.0, -math.log2(min(1.0, share)))
        return cached

    def shared_bits(self, names: Iterable[str]) -> float:
        total = 0.0
        cache = self._cache
        for name in names:
            bits = cache.get(name)
            total += bits if bits is not None else self.bits(name)
        return total


def _case_key(record: Record) -> tuple[Any, int | None, Any]:
    """The review a national record is counted under in ``Weights``: (area, year, names or title)."""
    area = record.codes or record.area or None
    year = record.first_year if record.start is not None else None
    return area, year, record.names or record.title_key


def _key_text(value: Any) -> str:
    """One text per value of ``_case_key``'s parts, equal exactly when the values are equal (a set as its
    sorted list, which no string or number reads as; a tuple of two or three as its ``repr``)."""
    if isinstance(value, tuple):
        return f"({', '.join(map(_key_text, value))})"
    if isinstance(value, frozenset):
        found = _SET_TEXTS.get(value)
        if found is None:
            if len(_SET_TEXTS) > 10_000:
                _SET_TEXTS.clear()
            found = _SET_TEXTS[value] = repr(sorted(value))
        return found
    return repr(value)


_SET_TEXTS: dict[frozenset, str] = {}  # area codes and pseudonym sets repeat


class SpilledCounts:
    """``WeightCounts``' counts kept in a temporary SQLite database (on disk, beyond a small cache), not in
    sets: a national collection's distinct cases and text terms are most of what a linker would otherwise
    hold while counting. The same numbers; ``weights`` keeps in memory only the terms of two or more records
    and those of the local entries it is given."""

    BATCH = 5000  # records counted in memory before they are written

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "": a private temporary database, deleted when closed
        self.db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE cases (key TEXT PRIMARY KEY) WITHOUT ROWID;"
            "CREATE TABLE seen (name TEXT, key TEXT, PRIMARY KEY (name, key)) WITHOUT ROWID;"
            "CREATE TABLE terms (term TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;")
        self.texts = 0
        self.pending = 0
        self.cases: list[tuple[str]] = []
        self.seen: list[tuple[str, str]] = []
        self.terms: Counter = Counter()

    def add(self, record: Record) -> None:
        text = record.text
        if text:
            self.texts += 1
            self.terms.update(text)
        area, year, case = _case_key(record)
        self.cases.append((_key_text((area, year, case)),))
        if record.names:
            where = _key_text((area, year))
            self.seen.extend((name, where) for name in record.names)
        self.pending += 1
        if self.pending >= self.BATCH:
            self._write()

    def _write(self) -> None:
        db = self.db
        db.executemany("INSERT OR IGNORE INTO cases VALUES (?)", self.cases)
        db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", self.seen)
        db.executemany("INSERT INTO terms VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET n = n + excluded.n",
                       self.terms.items())
        self.cases, self.seen, self.terms, self.pending = [], [], Counter(), 0

    def weights(self, local_terms: Iterable[str] = ()) -> Weights:
        self._write()
        db = self.db
        total = db.execute("SELECT count(*) FROM cases").fetchone()[0]
        df = Counter(dict(db.execute("SELECT name, count(*) FROM seen GROUP BY name")))
        term_df = Counter(dict(db.execute("SELECT term, n FROM terms WHERE n >= 2")))
        for term in local_terms:
            if term not in term_df:
                found = db.execute("SELECT n FROM terms WHERE term = ?", (term,)).fetchone()
                term_df[term] = found[0] if found else 0
        db.close()
        return Weights(df=df, total=total, term_df=term_df, texts=self.texts, unseen_df=1)


class WeightCounts:
    """``Weights`` counted one national record at a time, so the records need not be held together."""

    def __init__(self) -> None:
        self.cases: set[tuple] = set()
        self.seen: set[tuple] = set()
        self.df: Counter = Counter()
        self.term_df: Counter = Counter()
        self.numbered: list[int] = []
        self.texts = 0

    def add(self, record: Record) -> None:
        text = record.text
        if text:
            self.texts += 1
            if type(text[0]) is int:
                numbered = self.numbered
                top = max(text)  # type: ignore[type-var]
                if top >= len(numbered):
                    numbered.extend([0] * (top + 1 - len(numbered)))  # type: ignore[operator]
                for term in text:
                    numbered[term] += 1  # type: ignore[index]
            else:
                self.term_df.update(text)
        area, year, case = _case_key(record)
        self.cases.add((area, year, case))
        seen = self.seen
        for name in record.names:
            key = (name, area, year)
            if key not in seen:
                seen.add(key)
                self.df[name] += 1

    def weights(self) -> Weights:
        return Weights(df=self.df, total=len(self.cases), term_df=self.term_df, texts=self.texts,
                       numbered_df=self.numbered)
