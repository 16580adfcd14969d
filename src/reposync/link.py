"""Which entries are the same review, and which local entries reached the national repository.

Two jobs, both pure functions of the entry rows (and of the decisions people made); ``link_all`` does both
and is what the sync and ``bench/linkage.py`` run.

1. **Dedupe national entries** (a yearly-list entry, a rolling-page entry, library records for the overview
   report, the executive summary, a briefing) into one group per real review. Two national entries are the
   same review only when all three hold:

   - *area*: their ONS code sets overlap (or, for an area the index does not know, the same name as written);
   - *case*: the same pseudonym set, or one set inside the other (``Child R`` and ``Child R and Family R``);
     for titles that name no one, the same cleaned title;
   - *dates*: their publication intervals overlap -- or, between two different listings and only on a
     distinctive case key (two or more names, or names worth ``DISTINCTIVE_BITS``: ``Child BR``, ``BDS12``,
     ``Katie``), they are at most two months apart or in adjacent years with one side known only to the year.
     Why: a list entry is dated by the month it reached the list and a library record by a year, often
     the next one, so "December 2013" and "2014" are routinely one review; but ``Child A`` of Kent in two
     adjacent years is usually two children, so a common pseudonym gets no slack.

   Title and date alone are never a key. Anonymous national records group only with each other, only on a
   distinctive, identical pseudonym set (``Charlie and Sam``, ``Child AB``), never ``Child C`` alone: a common
   pseudonym joins only beside summaries that agree, or with the same fuller title (``Child F and Family``)
   in two listings the same year.
   An executive summary or briefing with no text, of the same area and children, dated up to two years
   before a review, joins it when that review is the only one of the area and children in those two years
   (York's Baby A summary of 2011 and its review of 2013); with two candidate reviews it joins neither.
   Two thematic reviews of one area and year on two listings, worded apart, join when each is the only
   one of the other listing.
   A review never holds two records of one listing (summary documents aside) nor, joined across dates
   apart or containment, two records whose descriptions tell different stories (cannot-link); pairs whose
   dates agree join before pairs a listing's lag apart, so a record with no description of its own cannot
   chain two reviews of a popular name into one.
   A multi-child entry that contains several entries naming different children (``Child J, Child K, Child V``
   against three single records) is ambiguous and groups with none of them.

2. **Link local entries to national reviews.** Candidates come from dict lookups, never all pairs:

   - pass A: national entries sharing an ONS code with the local entry, published within a year of it, that
     share a pseudonym or a content word with it (or, like it, name no one);
   - pass A': same code and the same pseudonym set up to three years apart, or undated (a summary dated 2011
     and published locally in 2013: York's Baby A) -- its date points keep it to the review queue;
   - pass B: anonymous national entries naming the same child(ren), within a year;
   - pass C: anonymous national entries that name no one (thematic reviews), by rare title words.

   Each pair is scored by adding points for its features (``compare`` returns them with the score):
   area (+4 same), the gap between the date intervals (+3 overlap ... -8 far apart), pseudonym agreement
   weighted by how rare each pseudonym is among national cases (IDF smoothed towards a prior from its shape,
   so ``Child A`` agreeing adds about 2.8 and ``Child BR`` 4.3; children named on one side only cost 1 each;
   no child in common costs 10), title similarity (rapidfuzz token set and sort ratios; for titles naming no
   one, of their content words, and then it weighs three times as much), and review type. A national review
   scores as its best entry.

   Assignment is one-to-one: a local entry gets at most one automatic link to a national review, and a
   national review at most one automatic link from each local page (a local briefing about a review may
   link beside it); greedy by score, which for these sparse, well separated candidates gives what an optimal
   assignment would. An automatic link also needs a lead of ``MARGIN`` over the entry's next best named
   review. Three bands: ``auto`` (score >= ``AUTO``), ``review`` (>= ``REVIEW``: the queue a person works
   through, at most ``QUEUE_PER_ENTRY`` named and as many anonymous candidates per entry), and below that
   nothing is stored. Anonymous national records never link automatically. An entry that is linked is
   queued against nothing else but a record of the very same names dated before its publication (perhaps
   the same review catalogued by its document date); an entry left unlinked is queued against its named
   and its anonymous candidates.

**A link points at a review, through one entry.** The links table pairs the local entry with the national
entry of the review that matches it best (the representative: best score, then finest date, then id); the
review's other national entries are in ``features["review_entries"]`` and share the review id. One row per
question keeps the review queue one line per decision, and a person's decision on that row applies to the
whole national review: a rejected pair bars the local entry from every entry of that review (unless the
dedupe later splits it), and an accepted pair puts the local entry in the review whatever the score (two
accepted reviews for one local entry become one review).
"""

from __future__ import annotations

import gc
from array import array
import json
import math
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from rapidfuzz import fuzz

# --- bands -----------------------------------------------------------------------------------------
# Scores are points (log-odds style: each feature adds what it says for or against "same review").
AUTO = 11.0  # same area + overlapping dates + an agreeing pseudonym and title, with nothing against
REVIEW = 6.0  # enough that a person should look; below this a candidate is not kept
MARGIN = 3.0  # the best named review must lead the next by this much to be linked without a person

# --- points per feature ------------------------------------------------------------------------------
AREA_SAME = 4.0
DATE_POINTS = {"overlap": 3.0, "near": 2.0, "adjacent-year": 0.0, "within-3-years": -2.0, "far": -8.0,
               "unknown": -1.0}
NEAR_DAYS = 62  # a local date and the list month or catalogue year it reached, two months either way
ADJACENT_DAYS = 366
WIDE_DAYS = 1096  # pass A': the same names up to three years apart
NAME_POINTS_PER_BIT = 0.5
NAME_POINTS_CAP = 10.0
NAME_UNSHARED = -1.0  # per name on one side only (Child A, B and C against Child A)
NAME_UNSHARED_CAP = -4.0
NAME_CONFLICT = -10.0  # both name children, none in common: different cases
DISTINCTIVE_BITS = 7.5  # shared names worth this much are a case key by themselves (Child AB, Katie)
TYPE_SAME = 1.0
TYPE_OTHER_NATION = -3.0
TYPE_THEMATIC = -1.0
QUEUE_PER_ENTRY = 3  # at most this many queue rows per local entry and kind (named, anonymous)

# --- summaries, abstracts, keywords ----------------------------------------------------------------------
# TF-IDF cosine over word unigrams and bigrams (binary term frequency: the texts are a sentence or two). IDF
# comes from the national records; a term in more than BOILERPLATE_SHARE of them (and in at least
# BOILERPLATE_MIN) is boilerplate ("serious case review", "published anonymously") and weighs nothing, so two
# texts that share only the listing's stock phrases are no evidence at all.
BOILERPLATE_SHARE = 0.05
BOILERPLATE_MIN = 3
SUMMARY_POINTS = 5.0  # per unit of cosine above SUMMARY_NEUTRAL, local-national
SUMMARY_NEUTRAL = 0.2
SUMMARY_CAP = (-2.0, 3.0)
# Two national records whose texts agree this much tell the same review's particulars. Two writers (the list's
# summary, the library's abstract) paraphrase one review at 0.15-0.5 and two reviews share under 0.1 in the
# same year, up to 0.25 a year apart (the gold set's tune and fresh halves): the more the dates say apart, the
# more the texts must say together.
DEDUPE_TEXT = 0.3  # dates a listing's lag apart, or a summary document up to two years before its review
DEDUPE_TEXT_SAME_YEAR = 0.2  # dates overlap
DEDUPE_TEXT_AGAINST = 0.1  # two described records under this tell different stories: never one review
# A description tells a case's particulars when it has this many words of its own (beyond stop words and the
# listings' stock vocabulary): "The overview report sets out how agencies worked with the child and family"
# has one, "A 14-year-old girl groomed online by a man she met through a gaming site" seven.
DESCRIBED_WORDS = 5

# Pseudonym commonness: the share of national records naming it, smoothed towards a prior from its shape
# with this many pseudo-records, so a small collection does not make "Child A" look rare.
PRIOR_WEIGHT = 1000
_ROLE_NAME = re.compile(r"^(?:child|baby|young person|family|sibling|adult) (?P<id>\S+)$")

_STOP = frozenset(
    "a an and the of in into for from on to with by at as is was review reviews case serious child children "
    "baby babies young person family learning report summary overview executive safeguarding practice local "
    "thematic scr lcspr cspr spr".split()
)


# --- records -------------------------------------------------------------------------------------------


def _json_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return json.loads(value) if value else []
    return list(value)


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
        names = one(frozenset([one(n) for n in _json_list(row.get("pseudonyms"))]))
        description = text_terms(row.get("summary"), row.get("note"), (), names)
        keywords = _json_list(row.get("keywords"))
        text: tuple = tuple(sorted({*description, *text_terms(None, None, keywords, names)})) if keywords else description
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
    terms: set[str] = set()
    for text in (summary, note, *keywords):
        if not text:
            continue
        words = [w for w in _WORD.findall(text.lower())
                 if len(w) > 1 and w not in _TEXT_STOP and w not in name_words]
        terms.update(words)
        terms.update(f"{a} {b}" for a, b in zip(words, words[1:]))
    return tuple(sorted(terms))


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
    sorted list, which no string or number reads as)."""
    if isinstance(value, tuple):
        return repr(tuple(sorted(v) if isinstance(v, frozenset) else v for v in value))
    return repr(sorted(value) if isinstance(value, frozenset) else value)


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


# --- features ------------------------------------------------------------------------------------------


def date_relation(a: Record, b: Record) -> tuple[str, int | None]:
    """How two publication intervals relate, and the days between them (0 when they overlap)."""
    start_a, start_b = a.start, b.start
    if start_a is None or start_b is None:
        return "unknown", None
    end_a, end_b = a.end, b.end
    # max(starts) - min(ends), without the calls: this runs for every pair the dedupe compares
    gap = (start_a if start_a > start_b else start_b) - (end_a if end_a < end_b else end_b)  # type: ignore[operator]
    if gap <= 0:
        return "overlap", 0
    # Two whole years side by side are always one day apart: that says nothing about how near they are.
    if gap <= NEAR_DAYS and not (a.precision == "year" and b.precision == "year"):
        return "near", gap
    if gap <= ADJACENT_DAYS:
        return "adjacent-year", gap
    if gap <= WIDE_DAYS:
        return "within-3-years", gap
    return "far", gap


def title_similarity(a: str, b: str) -> float:
    """0-1: token set ratio (one title inside the other) tempered by token sort ratio (their lengths)."""
    if not a or not b:
        return 0.0
    return (fuzz.token_set_ratio(a, b, processor=None) + fuzz.token_sort_ratio(a, b, processor=None)) / 200


_NATIONS = frozenset({"welsh-cpr", "scottish-scr", "ni-cmr"})
_ABOUT_A_REVIEW = frozenset({"briefing", "other"})


def type_points(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return TYPE_SAME
    if a in _ABOUT_A_REVIEW or b in _ABOUT_A_REVIEW:
        return 0.0  # a briefing or a summary is about some review: no evidence either way
    if (a in _NATIONS) != (b in _NATIONS) or (a in _NATIONS and b in _NATIONS):
        return TYPE_OTHER_NATION
    if "thematic" in (a, b):
        return TYPE_THEMATIC
    return 0.0  # scr, cspr, lcspr: the same reviews under the 2018 names


@dataclass(slots=True)
class Points:
    """The points of each feature of a local-national pair, their total, and what they came from."""

    total: float
    area: float
    date: float
    names: float
    title: float
    type: float
    summary: float
    relation: str
    gap: int | None
    bits: float
    similarity: float
    text: float | None  # the texts' cosine, None when one side has none
    summary_counted: bool  # False when an anonymous record's text was set aside (year or type disagree)


def _points(local: Record, national: Record, weights: Weights) -> Points:
    if national.codes and local.codes & national.codes:
        area = AREA_SAME
    elif national.codes and local.codes:
        area = -AREA_SAME  # only a person's decision brings two areas together
    else:
        area = 0.0  # anonymous, or an area the index does not know: no evidence either way
    relation, gap = date_relation(local, national)
    when = DATE_POINTS[relation]
    shared = local.names & national.names
    bits = weights.shared_bits(shared) if shared else 0.0
    if local.names and national.names:
        similarity = title_similarity(local.title_key, national.title_key)
        if shared:
            names = min(NAME_POINTS_CAP, NAME_POINTS_PER_BIT * bits) + max(
                NAME_UNSHARED_CAP, NAME_UNSHARED * len(local.names ^ national.names))
        else:
            names = NAME_CONFLICT
        title = (similarity - 0.7) * 5
    else:
        # A title that names no one (a thematic review): the title is all there is. Compare content words,
        # so "thematic review of" does not make neglect look like domestic abuse.
        if local.content and national.content:
            similarity = title_similarity(local.content, national.content)
        else:
            similarity = title_similarity(local.title_key, national.title_key)
        names = 0.0
        title = (similarity - 0.7) * 15
    kind = type_points(local.review_type, national.review_type)
    text = weights.text_similarity(local.text, national.text)
    summary = 0.0
    counted = text is not None
    if text is not None:
        # For an anonymous record the text is all that places it: it counts only beside a year and a type
        # that agree, so a like summary of another year's or another kind of review moves nothing.
        if national.anonymous and (relation not in ("overlap", "near", "adjacent-year") or kind < 0):
            counted = False
        else:
            low, high = SUMMARY_CAP
            summary = min(high, max(low, (text - SUMMARY_NEUTRAL) * SUMMARY_POINTS))
    total = round(area + when + names + title + kind + summary, 2)
    return Points(total, area, when, names, title, kind, summary, relation, gap, bits, similarity, text, counted)


def score(local: Record, national: Record, weights: Weights) -> float:
    """The total points of a pair: what blocking candidates are ranked by."""
    return _points(local, national, weights).total


def compare(local: Record, national: Record, weights: Weights) -> tuple[float, dict[str, Any]]:
    """Points for "the same review", and the features behind them (stored with the link)."""
    p = _points(local, national, weights)
    if national.codes and local.codes & national.codes:
        area = "same"
    else:
        area = "anonymous" if national.anonymous else "unknown" if not national.codes else "different"
    points = {"area": p.area, "date": p.date, "names": p.names, "title": p.title, "type": p.type,
              "summary": p.summary}
    shared = local.names & national.names
    features = {
        "area": area,
        "date": p.relation,
        "date_gap_days": p.gap,
        "names_shared": sorted(shared),
        "names_local_only": sorted(local.names - national.names),
        "names_national_only": sorted(national.names - local.names),
        "names_bits": round(p.bits, 2),
        "title_similarity": round(p.similarity, 3),
        "summary_similarity": None if p.text is None else round(p.text, 3),
        "summary_counted": p.summary_counted,
        "review_types": [local.review_type, national.review_type],
        "anonymous": national.anonymous,
        "points": {k: round(v, 2) for k, v in points.items()},
    }
    return p.total, features


# --- national dedupe -----------------------------------------------------------------------------------


def _case(a: Record, b: Record, weights: Weights) -> tuple[str, bool] | None:
    """How two national records agree on the case: ('equal'|'contained', distinctive), or None."""
    if a.names and b.names:
        shared = a.names & b.names
        if not shared:
            return None
        # A single-letter role name (Child N, Baby B) is never a case key by itself, however rare a collection
        # makes it look: letters are handed out afresh by every board, and a larger collection only hides that.
        distinctive = len(shared) >= 2 or (weights.shared_bits(shared) >= DISTINCTIVE_BITS
                                           and not all(_single_letter(n) for n in shared))
        if a.names == b.names:
            return "equal", distinctive
        if shared == a.names or shared == b.names:
            return "contained", distinctive
        return None
    if a.names or b.names or not a.title_key:
        return None
    if a.title_key == b.title_key:
        return "equal", len(a.tokens) >= 2
    return None


def _texts_agree(a: Record, b: Record, weights: Weights, relation: str) -> bool:
    found = weights.text_similarity(a.text, b.text)
    # Within one area, a pseudonym recurs far less than across the whole anonymous collection: dates apart
    # ask no more of an area's texts than dates together do of the anonymous.
    same_year = relation == "overlap" or not a.anonymous
    return found is not None and found >= (DEDUPE_TEXT_SAME_YEAR if same_year else DEDUPE_TEXT)


def _texts_differ(a: Record, b: Record, weights: Weights) -> bool:
    """Both records describe their case and the descriptions have next to nothing in common."""
    return a.described and b.described and _stories_differ(a.text, b.text, weights)


def _stories_differ(a: tuple, b: tuple, weights: Weights) -> bool:
    found = weights.text_similarity(a, b)
    return found is not None and found < DEDUPE_TEXT_AGAINST


def _story(record: Record) -> tuple[tuple | None, str | None] | None:
    """What a record says of its review, for the dedupe's cannot-link check: its text when it describes its
    case, and its listing unless it is a summary document (one listing lists a review once); None: nothing."""
    text = record.text if record.described else None
    listing = None if record.document else record.source
    return (text, listing) if text is not None or listing is not None else None


def _conflict(x: tuple[tuple | None, str | None], y: tuple[tuple | None, str | None], weights: Weights,
              texts: bool = True) -> bool:
    """Two records that cannot be one review: the same listing twice, or two descriptions of different stories."""
    if x[1] is not None and x[1] == y[1]:
        return True
    return texts and x[0] is not None and y[0] is not None and _stories_differ(x[0], y[0], weights)


def _same_review(a: Record, b: Record, weights: Weights) -> str | None:
    """'equal' or 'contained' when two national records are the same review, else None."""
    return same_review_reason(a, b, weights)[0]


def same_review_reason(a: Record, b: Record, weights: Weights) -> tuple[str | None, str]:
    """The dedupe's verdict on two national records ('equal', 'contained' or None) and why, in words."""
    if a.codes or b.codes:
        if not (a.codes & b.codes):
            return None, "different areas"
    elif a.area or b.area:
        if (a.area or "").lower() != (b.area or "").lower():
            return None, "different areas"  # an area the index does not know: the same name as written
    relation, _ = date_relation(a, b)
    slack = relation == "near" or (relation == "adjacent-year" and "year" in (a.precision, b.precision))
    types_agree = type_points(a.review_type, b.review_type) >= 0
    case = _case(a, b, weights)
    if case is None:
        # Thematic reviews name no one and each listing words the title its own way: the same area, the same
        # year (give or take a listing's lag), a like kind, and the title's words or the texts agreeing. An
        # anonymous one has no area to share: only its texts, between two listings, can say it is the same.
        if a.names or b.names or not types_agree:
            return None, "different children" if a.names and b.names else "no case in common"
        if not (relation == "overlap" or (slack and a.source != b.source)):
            return None, "nameless, dates too far apart"
        if relation != "overlap" and _texts_differ(a, b, weights):
            return None, "nameless, a listing's lag apart, summaries tell different stories"
        # Like titles are the listings' own words for one topic; a year apart, two descriptions must say it too.
        if (not a.anonymous and a.content and b.content and title_similarity(a.content, b.content) >= 0.8
                and (relation == "overlap" or not (a.described and b.described))):
            return "equal", "nameless, same area and year, like titles"
        if _texts_agree(a, b, weights, relation) and (a.source != b.source or a.document or b.document):
            return "equal", ("anonymous, nameless, same year, summaries agree" if a.anonymous
                             else "nameless, same area and year, summaries agree")
        if _thematic_pair(a, b, weights):
            return None, ("thematic reviews of one area and year in two listings, worded apart: joined only when "
                          "each is the other's one thematic review of that area and year")
        return None, "nameless, titles and summaries differ"
    kind, distinctive = case
    if a.anonymous:
        if kind != "equal":
            return None, "anonymous, names only overlap"
        if not distinctive:
            # A common pseudonym of an anonymous record is no key; the summaries may be, beside the year
            # and the kind of review -- between two listings: one listing lists a review once (unless one of
            # the two is a summary document of it), and like abstracts of two of its records are two reviews.
            if a.source == b.source and not (a.document or b.document):
                return None, "anonymous, common pseudonym, both in one listing"
            if _fuller_title(a, b) and relation == "overlap" and types_agree:
                # "Child F and Family" in a yearly list and in the library the same year: the title is the
                # board's own wording, more than a letter handed out afresh.
                return "equal", "anonymous, common pseudonym, the same fuller title in two listings, same year"
            if not (types_agree and _texts_agree(a, b, weights, relation)):
                return None, "anonymous, common pseudonym, summaries do not agree"
            distinctive = True
    if relation == "overlap":
        return kind, "same case, dates overlap"
    # Slack only between two listings, and only on a distinctive case key (see the module docstring) or on
    # summaries that tell the same particulars.
    if slack and a.source != b.source:
        if _texts_differ(a, b, weights):
            return None, "same case, dates a listing's lag apart, but the summaries tell different stories"
        if distinctive:
            return kind, "distinctive case, dates a listing's lag apart"
        if types_agree and _texts_agree(a, b, weights, relation):
            return kind, "same case, dates a listing's lag apart, summaries agree"
    # An executive summary or a briefing catalogued by its own date, before the review was published.
    if (kind == "equal" and a.codes and (a.document or b.document) and relation != "far"
            and _texts_agree(a, b, weights, relation)):
        first, then = (a, b) if (a.start or 0) <= (b.start or 0) else (b, a)
        if first.document:
            return kind, "summary document dated before the review, summaries agree"
    if _document_before(a, b, weights) is not None:
        return None, ("summary document without text dated before the review: joined only when this is the "
                      "one review of the area it can be of")
    return None, "same case, dates apart"


def _thematic_pair(a: Record, b: Record, weights: Weights) -> bool:
    """Two thematic reviews of one area, the same year, on two listings, their titles and texts not agreeing
    enough to join them by themselves (each listing words a topic its own way: "children of service families",
    "armed forces families") and their descriptions not telling different stories. ``dedupe`` joins such a
    pair when each is the only one of the other listing: one listing lists a review once, and an area
    publishes few thematic reviews a year."""
    if a.names or b.names or a.source == b.source or a.document or b.document:
        return False
    if not (a.codes & b.codes) or a.review_type != "thematic" or b.review_type != "thematic":
        return False
    return date_relation(a, b)[0] == "overlap" and not _texts_differ(a, b, weights)


def _fuller_title(a: Record, b: Record) -> bool:
    """Two titles worded alike that say more than the pseudonyms they carry."""
    if a.title_key != b.title_key:
        return False
    return len(a.title_key.split()) > sum(len(name.split()) for name in a.names)


def _document_before(a: Record, b: Record, weights: Weights) -> Record | None:
    """The summary document of the pair when one is an executive summary or briefing with no text to compare,
    of the same area and children, dated up to two years before the other, a review; else None.

    Such a pair is not the same review on its own evidence (a common pseudonym two years apart is no key), but
    when that review is the only one of the area and children in the window, the summary can be of no other:
    ``dedupe`` then joins them. A description that disagrees is evidence against, so this is only where one of
    the two has none (keywords alone describe no case).
    """
    if a.document == b.document or not (a.names and a.names == b.names and a.codes & b.codes):
        return None
    document, review = (a, b) if a.document else (b, a)
    if document.start is None or review.start is None or review.start < document.start:
        return None
    if review.first_year > document.last_year + 2 or type_points(a.review_type, b.review_type) < 0:
        return None
    if a.described and b.described:
        return None  # two descriptions: they agree (a rule above) or they do not
    return document


class _UnionFind:
    def __init__(self, size: int) -> None:
        # An array, not a list: a list of a national collection's indexes holds an int object for each.
        self.parent = array("q", range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _dedupe_areas(record: Record) -> Iterable[Any]:
    """The areas a national record is blocked under for dedupe: its codes, its area as written, or None."""
    if record.codes:
        return sorted(record.codes)  # sorted: the order areas are met in, and so which pairs join first, is fixed
    if record.area:
        return [("text", record.area.lower())]
    return [None]


def _dedupe_blocks(national: Mapping[int, Record] | list[Record], members: Iterable[int]) -> dict[tuple, list[int]]:
    """The dedupe blocks of one area: (year, one case word) -> indexes, in order."""
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for i in members:
        record = national[i]
        # Nameless records (thematic reviews) of an area and year share one block: listings word titles apart.
        cases: Iterable[Any] = sorted(record.names) or (("nameless",),)  # sorted: blocks in a fixed order
        # A summary document may be catalogued up to two years before its review: it waits in later blocks.
        for year in (record.years() if not record.document else range(record.first_year, record.last_year + 3)):
            for case in cases:
                blocks[(year, case)].append(i)
    return blocks


def _deduped(record: Record) -> bool:
    """Whether the dedupe compares this national record at all: it needs a date and a case."""
    return record.start is not None and bool(record.names or record.title_key)


class _Dedupe:
    """The dedupe's state across areas: which records are one review so far (a union-find over the national
    records' indexes), the containment pairs and the summary documents' possible reviews, decided once every
    area is done."""

    def __init__(self, size: int, weights: Weights) -> None:
        self.size = size
        self.weights = weights
        self.union = _UnionFind(size)
        self.contained: dict[int, set[int]] = defaultdict(set)
        self.names: dict[int, frozenset[str]] = {}  # of the records a containment pair names
        self.documents: set[int] = set()  # the summary documents among them
        # A summary document without text -> the reviews it may be of; and the documents already joined to a review.
        self.maybe_of: dict[int, set[int]] = defaultdict(set)
        self.thematic: dict[int, set[int]] = defaultdict(set)  # each thematic review -> its ``_thematic_pair``s
        self.placed_documents: set[int] = set()
        # Cannot-link: a review never holds two records whose descriptions tell different stories, nor two
        # records of one listing (but for summary documents), whatever chain of pairs would join them (anonymous
        # "Lily" of 2021, 2022 and 2023 on three listings). Kept for each review of two or more records: what
        # its records say (``_story``); and, for the records the passes after the areas join, their own.
        self.stories: dict[int, list[tuple]] = {}
        self.own: dict[int, tuple | None] = {}

    def area(self, national: Mapping[int, Record] | list[Record], members: Iterable[int]) -> None:
        """Compare the records of one area (``national[i]`` for each index in ``members``, in index order)."""
        weights, union, contained = self.weights, self.union, self.contained
        maybe_of = self.maybe_of
        find = union.find
        later: list[tuple[int, int]] = []
        blocks = _dedupe_blocks(national, members)
        for (year, case), block in blocks.items():
            # within the block, and with the next year's block (the one year of slack)
            nxt = blocks.get((year + 1, case))
            for x, i in enumerate(block):
                root = find(i)  # i's review, found again only when i joins another
                for j in (block[x + 1:] + nxt) if nxt else block[x + 1:]:
                    # Already one review: nothing to learn (a review is one name set until the containment
                    # pass below, so two of its records are never a containment pair).
                    if i == j or find(j) == root:
                        continue
                    a, b = national[i], national[j]
                    kind = _same_review(a, b, weights)
                    if kind == "equal":
                        # The dates agreeing is the strongest evidence: those pairs join first, and the pairs
                        # a listing's lag or a summary's date apart only then, into what they made.
                        if a.start <= b.end and b.start <= a.end:  # type: ignore[operator]
                            self._join_records(i, j, a, b, texts=False)
                            root = find(i)
                        else:
                            later.append((i, j))
                    elif kind == "contained":
                        big, small = (i, j) if len(a.names) > len(b.names) else (j, i)
                        contained[big].add(small)
                        self.names[small] = national[small].names
                        self.documents.update(k for k in (big, small) if national[k].document)
                        self._keep_own(national, big, small)
                    elif kind is None and a.document != b.document and _document_before(a, b, weights):
                        document, review = (i, j) if a.document else (j, i)
                        maybe_of[document].add(review)
                        self._keep_own(national, document, review)
                    elif kind is None and not a.names and _thematic_pair(a, b, weights):
                        self.thematic[i].add(j)
                        self.thematic[j].add(i)
                        self._keep_own(national, i, j)
        for i, j in later:
            self._join_records(i, j, national[i], national[j])

    def _keep_own(self, national: Mapping[int, Record] | list[Record], *indexes: int) -> None:
        for k in indexes:
            self.own[k] = _story(national[k])

    def _join_records(self, i: int, j: int, a: Record, b: Record, texts: bool = True) -> None:
        if self._join(i, j, _story(a), _story(b), texts) and a.document != b.document:
            self.placed_documents.add(i if a.document else j)

    def _join(self, i: int, j: int, story_i: tuple | None, story_j: tuple | None, texts: bool = True) -> bool:
        """Join the reviews of records ``i`` and ``j`` unless they cannot be one (``_conflict``); whether they are.

        ``texts``: whether descriptions count against. Two writers can tell one review in words that share
        nothing, so where names, area and dates all agree the descriptions do not stand in the way (one
        listing twice still does); they stop the weaker joins: a listing's lag, a summary's date, containment.
        """
        find = self.union.find
        ri, rj = find(i), find(j)
        if ri == rj:
            return True
        stories = self.stories
        # A review not in ``stories`` is a record alone: its own story is all it tells.
        told_i = stories[ri] if ri in stories else [story_i] if story_i else []
        told_j = stories[rj] if rj in stories else [story_j] if story_j else []
        weights = self.weights
        if any(_conflict(x, y, weights, texts) for x in told_i for y in told_j):
            return False
        self.union.union(ri, rj)
        stories.pop(ri, None)
        stories.pop(rj, None)
        stories[find(ri)] = told_i + told_j
        return True

    def _finish(self) -> None:
        union, names, placed_documents = self.union, self.names, self.placed_documents
        find = union.find
        for big, smalls in self.contained.items():
            # Child J, Child K, Child V against three single records: ambiguous, join none.
            name_sets = list({names[s] for s in smalls})
            if all(x & y for n, x in enumerate(name_sets) for y in name_sets[n + 1:]):
                for small in sorted(smalls):
                    if self._join(big, small, self.own[big], self.own[small]):
                        placed_documents.update(k for k in (big, small) if k in self.documents)
        for document, reviews in self.maybe_of.items():
            # The one review (however many records it has) of the area and children in the two years after.
            if document not in placed_documents and len({find(r) for r in reviews}) == 1:
                review = next(iter(reviews))
                self._join(document, review, self.own[document], self.own[review])
        for one, others in self.thematic.items():
            # Each the other's one thematic review of the area and year (however many records it has).
            found = {find(k) for k in others}
            if len(found) == 1:
                other = next(iter(others))
                if {find(k) for k in self.thematic[other]} == {find(one)}:
                    self._join(one, other, self.own[one], self.own[other])
        self.contained.clear()
        self.maybe_of.clear()
        self.thematic.clear()
        self.own.clear()

    def numbers(self) -> array:
        """Each index's review, once every area is done: reviews numbered in the order of their first record."""
        self._finish()
        find = self.union.find
        group_of = array("q", bytes(8 * self.size))
        count = 0
        for i in range(self.size):
            root = find(i)
            if root == i:
                group_of[i] = count
                count += 1
            else:
                group_of[i] = group_of[root]  # the root, the group's smallest index, came first
        return group_of

    def groups(self) -> list[tuple[int, ...]]:
        """Indexes grouped by review, once every area is done."""
        self._finish()
        find = self.union.find
        # A group's root is its smallest index: groups in the order of their first record, each in index order.
        # Most records are a review alone, so only the other members are gathered in lists.
        others: dict[int, list[int]] = defaultdict(list)
        for i in range(self.size):
            root = find(i)
            if root != i:
                others[root].append(i)
        return [(i, *others.pop(i)) if i in others else (i,) for i in range(self.size) if find(i) == i]


def dedupe(national: list[Record], weights: Weights) -> list[tuple[int, ...]]:
    """Indexes into ``national`` grouped by review (every record in exactly one group).

    Two records are compared only when they share a block: an area (or 'anonymous'), a year (or the next
    one), and a case word (a pseudonym, or the title of a record naming no one). The blocks are built and
    compared one area at a time; a record's area only matters for which records it meets, so the areas may
    be taken in any order, and each area's records may be read when its turn comes (``Linker``).
    """
    by_area: dict[Any, list[int]] = defaultdict(list)
    for i, record in enumerate(national):
        if _deduped(record):
            for area in _dedupe_areas(record):
                by_area[area].append(i)
    state = _Dedupe(len(national), weights)
    for area in list(by_area):
        state.area(national, by_area.pop(area))
    return state.groups()


# --- decisions -----------------------------------------------------------------------------------------

PERSON_DECISIONS = ("accepted", "rejected")


@dataclass(frozen=True)
class Decision:
    """A person's word on a local-national pair; the newest ``decided_at`` (ISO UTC) wins."""

    entry_a: str  # local
    entry_b: str  # national
    decision: str  # accepted | rejected
    decided_at: str

    @property
    def pair(self) -> tuple[str, str]:
        return self.entry_a, self.entry_b


def merge_decisions(*sources: Iterable[Decision]) -> dict[tuple[str, str], Decision]:
    """One decision per pair: the newest wins; on a tie, the source given first."""
    merged: dict[tuple[str, str], Decision] = {}
    for decisions in sources:
        for decision in decisions:
            kept = merged.get(decision.pair)
            if kept is None or decision.decided_at > kept.decided_at:
                merged[decision.pair] = decision
    return merged


# --- linking ---------------------------------------------------------------------------------------------


@dataclass
class Link:
    entry_a: str  # the local entry
    entry_b: str  # the national entry (the review's representative, or the one a person decided on)
    score: float
    features: dict[str, Any] = field(default_factory=dict)
    decision: str = "auto"  # auto | review | accepted | rejected
    decided_at: str | None = None


@dataclass
class Linkage:
    groups: list[list[str]]  # entry ids by review: national groups with their linked local entries, lone locals
    links: list[Link]
    national_groups: list[list[str]]  # the national dedupe alone


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


def _rank(score: float, record: Record) -> tuple[float, int, str]:
    return -score, _PRECISION_RANK.get(record.precision or "", 3), record.id


class Rows(Protocol):
    """Entry rows a linker can read more than once (``catalogue.LinkRows`` reads them from SQL): every row, in
    an order that never changes, and the rows at some positions of that order. The linker reads each national
    area's rows when it dedupes that area, so it never holds every record at once."""

    def __iter__(self) -> Iterator[Mapping[str, Any]]: ...

    def at(self, positions: Sequence[int]) -> Iterable[Mapping[str, Any]]:
        """The rows at these positions (ascending), in that order."""
        ...


class HeldRows:
    """``Rows`` over rows given in a list (or any iterable, read once): for collections that fit in memory."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.rows = rows if isinstance(rows, list) else list(rows)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self.rows)

    def at(self, positions: Sequence[int]) -> Iterable[Mapping[str, Any]]:
        rows = self.rows
        return (rows[p] for p in positions)


class _Index:
    """National records by area, name and title word: where a local entry's candidates are looked up."""

    def __init__(self, records: Iterable[Record], national_count: int) -> None:
        records = records if isinstance(records, list) else list(records)
        self.by_code_year: dict[tuple[str, int], list[Record]] = defaultdict(list)
        self.by_code_name: dict[tuple[str, str], list[Record]] = defaultdict(list)
        self.by_code_undated: dict[str, list[Record]] = defaultdict(list)
        self.anon_by_name_year: dict[tuple[str, int], list[Record]] = defaultdict(list)
        self.anon_by_token_year: dict[tuple[str, int], list[Record]] = defaultdict(list)
        token_df: Counter = Counter()
        for record in records:
            if not record.codes and not record.names:
                token_df.update(record.tokens)
        # A title word is rare when few anonymous nameless records use it (of the whole national collection).
        rare_limit = max(3, national_count // 200)
        for record in records:
            if record.codes:
                for code in record.codes:
                    if record.start is None:
                        self.by_code_undated[code].append(record)
                    for year in record.years():
                        self.by_code_year[(code, year)].append(record)
                    for name in record.names:
                        self.by_code_name[(code, name)].append(record)
            elif record.names:
                for name in record.names:
                    for year in record.years():
                        self.anon_by_name_year[(name, year)].append(record)
            else:
                for token in record.tokens:
                    if token_df[token] <= rare_limit:
                        for year in record.years():
                            self.anon_by_token_year[(token, year)].append(record)


_SHARED_ROWS = 10_000  # the first pass lets its shared values go every so many rows


class Linker:
    """The indexes of one collection; ``link_all`` is the one-call entry point.

    The rows are read in passes, one record at a time: the first counts what the weights need (and keeps the
    local entries); the dedupe then reads one area's national rows at a time, joining records into reviews in
    a union-find over every national record's index (the order of the rows), so the reviews, and the order
    of their numbers that breaks ties, are those of a dedupe of all records at once; last, only when there
    are local entries, the national records they can meet are read once more, one ONS code at a time and then
    those without codes, and each entry keeps the best record of each review it meets.
    """

    def __init__(self, rows: Rows | Iterable[Mapping[str, Any]], scorer: Callable[[Record, Record, Weights], float] | None = None,
                 bands: tuple[float, float, float] = (AUTO, REVIEW, MARGIN)) -> None:
        """``scorer`` and ``bands`` (auto, review, margin) replace the hand-set points: bench/linkage.py --em
        ranks and bands candidates by Fellegi-Sunter weights (``fellegi_sunter``) through the same assignment."""
        self.scorer = scorer or score
        self.bands = bands
        self.source: Rows = rows if hasattr(rows, "at") else HeldRows(rows)  # type: ignore[assignment]
        self.ids: list[str] = []  # the national records' ids, by index
        self.positions = array("q")  # a national record's position among the rows, by index
        self.local: list[Record] = []
        counts = SpilledCounts()
        areas: dict[Any, array] = {}  # dedupe area -> indexes of the national records compared there
        self._by_code: dict[str, array] = {}  # ONS code -> indexes of every national record with it
        self._unplaced = array("q")  # indexes of the national records without codes
        shared = self._shared()
        for position, row in enumerate(self.source):
            if position % _SHARED_ROWS == 0:
                shared = self._shared()
            record = Record.from_row(row, shared)
            if record.kind == "local":
                self.local.append(record)
            if record.kind != "national":
                continue
            i = len(self.ids)
            self.ids.append(record.id)
            self.positions.append(position)
            counts.add(record)
            if _deduped(record):
                for area in _dedupe_areas(record):
                    found = areas.get(area)
                    if found is None:
                        found = areas[area] = array("q")
                    found.append(i)
            for code in record.codes:
                found = self._by_code.get(code)
                if found is None:
                    found = self._by_code[code] = array("q")
                found.append(i)
            if not record.codes:
                self._unplaced.append(i)
        self.weights = counts.weights({term for local in self.local for term in local.text})  # type: ignore[misc]
        del counts
        state = _Dedupe(len(self.ids), self.weights)
        for area in list(areas):
            members = areas.pop(area)
            state.area(dict(zip(members, self._read(members))), members)
            # The dedupe's text norms are not kept (recomputed, the same, when a local entry needs one).
            self.weights.forget()
        self.group_of = state.numbers()  # a national record's review, by index
        del state
        self._national: list[Record] | None = None
        self._by_review: list[list[str]] | None = None
        self._kept: _Index | None = None
        self._by_id: dict[str, Record] | None = None

    @property
    def group_index(self) -> list[tuple[int, ...]]:
        """The national records' indexes by review, in review order."""
        groups: list[list[int]] = []
        for i, g in enumerate(self.group_of):
            if g == len(groups):
                groups.append([i])
            else:
                groups[g].append(i)
        return [tuple(members) for members in groups]

    def _review_ids(self) -> list[list[str]]:
        """The national records' ids by review, in review order, each review's sorted."""
        ids = self.ids
        groups: list[list[str]] = []
        for i, g in enumerate(self.group_of):
            if g == len(groups):
                groups.append([ids[i]])  # a review's first record: reviews are numbered in that order
            else:
                groups[g].append(ids[i])
        for members in groups:
            if len(members) > 1:
                members.sort()
        return groups

    def _shared(self) -> dict:
        # Text terms stay strings: the weights count them by string, and only one area's records are held.
        return {_TERM_STRINGS: True}

    def _read(self, indexes: Sequence[int]) -> list[Record]:
        """The national records at these indexes (ascending), read again from the rows, with their reviews."""
        shared = self._shared()
        positions = self.positions
        records = [Record.from_row(row, shared) for row in self.source.at([positions[i] for i in indexes])]
        group_of = getattr(self, "group_of", None)
        if group_of is not None:
            for i, record in zip(indexes, records):
                record.group = group_of[i]
        return records

    @property
    def national(self) -> list[Record]:
        """Every national record, read when asked for (linking reads only those a local entry can meet)."""
        if self._national is None:
            self._national = self._read(range(len(self.ids)))
        return self._national

    @property
    def records(self) -> list[Record]:
        return [*self.local, *self.national]

    @property
    def by_id(self) -> dict[str, Record]:
        """Every record by id, made when asked for: linking needs only the local ones and the decided ones."""
        if self._by_id is None:
            self._by_id = {r.id: r for r in self.records}
        return self._by_id

    def _full_index(self) -> _Index:
        """The national records any local entry can meet (those of the local entries' areas and those without
        an area), indexed: read and built on first use, for ``candidates`` asked of one entry at a time."""
        if self._kept is None:
            wanted: set[int] = set(self._unplaced)
            for code in {code for local in self.local for code in local.codes}:
                wanted.update(self._by_code.get(code, ()))
            self._kept = _Index(self._read(sorted(wanted)), len(self.ids))
        return self._kept

    def candidates(self, local: Record, index: _Index | None = None) -> dict[str, Record]:
        """National records worth scoring against one local entry (dict lookups only), in ``index`` (by
        default, every record a local entry can meet)."""
        if index is None:
            index = self._full_index()
        found: dict[str, Record] = {}
        years = local.years(1)
        tokens = frozenset(local.tokens)
        for code in sorted(local.codes):
            for year in years:  # pass A: the area, within a year
                for record in index.by_code_year.get((code, year), ()):
                    # worth scoring: a child in common, a content word in common, or two titles naming no one
                    if record.id not in found and (
                            local.names & record.names or not tokens.isdisjoint(record.tokens)
                            or not (local.names or record.names)):
                        found[record.id] = record
            for record in index.by_code_undated.get(code, ()):
                found.setdefault(record.id, record)
            if local.names:  # pass A': the same names, up to three years apart (or either undated)
                name = min(local.names)
                for record in index.by_code_name.get((code, name), ()):
                    if record.names == local.names and record.id not in found:
                        relation, _ = date_relation(local, record)
                        if relation != "far":
                            found[record.id] = record
        for name in sorted(local.names):  # pass B: anonymous records naming the same child
            for year in years:
                for record in index.anon_by_name_year.get((name, year), ()):
                    shared = local.names & record.names
                    if shared in (local.names, record.names):
                        found.setdefault(record.id, record)
        if not local.names:  # pass C: anonymous thematic reviews, by rare title words
            for token in local.tokens:
                for year in years:
                    for record in index.anon_by_token_year.get((token, year), ()):
                        found.setdefault(record.id, record)
        return found

    def link(self, decisions: Iterable[Decision] = ()) -> Linkage:
        # A decision counts when both entries are here, a local one and a national one (a hand-edited file
        # may say otherwise: such a decision is left in the file and ignored here).
        decisions = list(decisions)
        named = {d.entry_b for d in decisions}
        by_id = {r.id: r for r in self.local}  # the local entries and the national ones people decided on
        by_id.update((r.id, r) for r in self._read([i for i, id_ in enumerate(self.ids) if id_ in named]))
        decided = {d.pair: d for d in decisions if d.entry_a in by_id and d.entry_b in by_id
                   and by_id[d.entry_a].kind == "local" and by_id[d.entry_b].kind == "national"}
        rejected_groups: dict[str, set[int]] = defaultdict(set)
        accepted: dict[str, list[str]] = defaultdict(list)
        # Each national review's ids (sorted), by review number: what a link names as the review's entries.
        national_groups = self._by_review = self._review_ids()
        for (a, b), d in decided.items():
            if d.decision == "rejected":
                rejected_groups[a].add(by_id[b].group)
            elif d.decision == "accepted":
                accepted[a].append(b)

        # Score every candidate; a national review scores as its best entry. The candidates are read one area
        # at a time (the national records of one ONS code, then those without codes), so only one area's
        # records and each entry's best record of each review are held; a record of two areas the entry shares
        # is scored twice, the same.
        scored: dict[str, dict[int, tuple[float, Record]]] = {
            local.id: {} for local in self.local if local.id not in accepted}
        by_code: dict[str, list[Record]] = defaultdict(list)
        for local in self.local:
            if local.id in scored:
                for code in sorted(local.codes):
                    by_code[code].append(local)
        areas: list[tuple[Iterable[int], list[Record]]] = [
            (self._by_code.get(code, ()), members) for code, members in by_code.items()]
        areas.append((self._unplaced, [local for local in self.local if local.id in scored]))
        # A review scoring below both bands is never linked nor queued, nor can it stop a link (the margin is
        # over a review in the queue band): it is let go with its area's records.
        floor = min(self.bands[0], self.bands[1])
        for indexes, members in areas:
            if not members:
                continue  # no local entries: nothing to read
            index = _Index(self._read(indexes), len(self.ids))
            for local in members:
                best = scored[local.id]
                self._score(local, self.candidates(local, index), best, rejected_groups.get(local.id, ()))
                for group in [g for g, (points, _) in best.items() if points < floor]:
                    del best[group]
            del index
            self.weights.forget()

        # Person-accepted pairs first: they hold whatever the score.
        taken: set[tuple[str, int]] = set()
        assigned: dict[str, set[int]] = defaultdict(set)
        for local_id, national_ids in accepted.items():
            for national_id in national_ids:
                group = by_id[national_id].group
                assigned[local_id].add(group)
                taken.add((by_id[local_id].source, group))

        # Automatic links: one-to-one, greedy by score, only with a clear lead over the next named review.
        auto_band, review_band, margin = self.bands
        pool = []
        for local_id, best in scored.items():
            named = sorted(((s, g) for g, (s, r) in best.items() if r.placed), reverse=True)
            if not named or named[0][0] < auto_band:
                continue
            if len(named) > 1 and named[1][0] >= review_band and named[0][0] - named[1][0] < margin:
                continue
            pool.append((-named[0][0], local_id, named[0][1]))
        auto: dict[str, int] = {}
        for _, local_id, group in sorted(pool):
            local = by_id[local_id]
            key = (local.source, group)
            # A local briefing is about a review its page may also list: it does not take the review.
            if local.review_type != "briefing":
                if key in taken:
                    continue
                taken.add(key)
            auto[local_id] = group
            assigned[local_id].add(group)

        links: list[Link] = []
        for local_id, best in scored.items():
            local = by_id[local_id]
            chosen = auto.get(local_id)
            named, anonymous = [], []
            for group, (points, record) in sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1].id)):
                if group == chosen:
                    links.append(self._link(local, group, record, "auto"))
                    continue
                if points < review_band:
                    continue
                if record.placed:
                    if chosen is not None:
                        # Already linked: only a record of the very same names dated before the local
                        # publication is worth a person's look -- the same review catalogued by its document
                        # date (York's Baby A: summary dated 2011, published 2013). One dated later, when
                        # this review is already found, is a later review of the same area.
                        if (record.names != local.names or not local.names or (local.source, group) in taken
                                or record.end is None or local.start is None or record.end >= local.start):
                            continue
                    elif (local.source, group) in taken and points < auto_band:
                        continue  # another entry of this page holds that review
                    named.append((group, record))
                elif chosen is None:
                    anonymous.append((group, record))
            for group, record in named[:QUEUE_PER_ENTRY] + anonymous[:QUEUE_PER_ENTRY]:
                links.append(self._link(local, group, record, "review"))

        # The pairs people decided on, rescored, with their decisions.
        for (a, b), d in sorted(decided.items()):
            local, national = by_id[a], by_id[b]
            points, features = compare(local, national, self.weights)
            features["decided_by"] = "person"
            features["review_entries"] = self._group_ids(by_id[b].group)
            links.append(Link(a, b, points, features, d.decision, d.decided_at))

        # Reviews: each national group with the local entries linked to it; a local entry a person linked to
        # two national reviews merges them. Other local entries are reviews of their own.
        union = _UnionFind(len(national_groups))
        for groups in assigned.values():
            first, *rest = sorted(groups)
            for group in rest:
                union.union(first, group)
        # What joins a review beyond its own national group: other groups merged into it, local entries.
        joined: dict[int, list[str]] = defaultdict(list)
        for group, ids in enumerate(national_groups):
            root = union.find(group)
            if root != group:
                joined[root].extend(ids)
        for local_id, groups in assigned.items():
            joined[union.find(min(groups))].append(local_id)
        reviews = []
        for group, ids in enumerate(national_groups):
            if union.find(group) == group:
                more = joined.get(group)
                # A review that is its national group alone is that same (sorted, never changed) list.
                reviews.append(sorted(ids + more) if more else ids)
        del joined
        reviews.extend([local.id] for local in self.local if local.id not in assigned)
        reviews.sort()
        self._by_review = None
        national_groups.sort()
        return Linkage(groups=reviews, links=links, national_groups=national_groups)

    def _score(self, local: Record, candidates: dict[str, Record], best: dict[int, tuple[float, Record]],
               barred: Iterable[int]) -> None:
        for record in candidates.values():
            group = record.group
            if group in barred:
                continue
            points = self.scorer(local, record, self.weights)
            kept = best.get(group)
            # The representative: the best score, then the finest date, then the smallest id.
            if kept is None or _rank(points, record) < _rank(kept[0], kept[1]):
                best[group] = (points, record)

    def _group_ids(self, group: int | None) -> list[str]:
        if group is None:
            return []
        return list(self._by_review[group])  # type: ignore[index]

    def _link(self, local: Record, group: int, record: Record, decision: str) -> Link:
        points, features = compare(local, record, self.weights)
        features["review_entries"] = self._group_ids(group)
        return Link(local.id, record.id, points, features, decision)


def link_all(rows: Rows | Iterable[Mapping[str, Any]], decisions: Iterable[Decision] = ()) -> Linkage:
    """Dedupe the national entries, link the local ones, apply people's decisions: one call for the sync."""
    # Hundreds of thousands of small, acyclic objects: the cycle collector would only rescan them (it
    # doubles the time at 500k records). It is switched back on, as it was, before returning.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return Linker(rows).link(decisions)
    finally:
        if enabled:
            gc.enable()


def score_pair(rows: Iterable[Mapping[str, Any]], local_id: str, national_id: str) -> tuple[float, dict[str, Any]]:
    """The score and features of one pair, weighed against the whole collection (for a person's decision)."""
    shared: dict = {}
    records = {r.id: r for r in (Record.from_row(row, shared) for row in rows)}
    weights = Weights.from_records(r for r in records.values() if r.kind == "national")
    return compare(records[local_id], records[national_id], weights)


# --- review ids ------------------------------------------------------------------------------------------


def assign_review_ids(groups: list[list[str]], current: Mapping[str, int | None], next_id: int) -> dict[str, int]:
    """Give each group a review id, keeping ids stable: when reviews merge the oldest id stays."""
    assigned: dict[str, int] = {}
    used: set[int] = set()

    # Groups holding the oldest ids choose first, so a split keeps the id on its older part.
    def oldest(group: list[str]) -> int:
        ids = [current[e] for e in group if current.get(e) is not None]
        return min(ids) if ids else 1 << 62

    for group in sorted(groups, key=lambda g: (oldest(g), g)):
        candidates = sorted({current[e] for e in group if current.get(e) is not None} - used)  # type: ignore[misc]
        if candidates:
            review_id = candidates[0]
        else:
            review_id = next_id
            next_id += 1
        used.add(review_id)
        for entry_id in group:
            assigned[entry_id] = review_id
    return assigned
