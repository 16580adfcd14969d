"""Nameless records of an area and year: which of their pairs the dedupe's rules can act on.

Records that name no one (thematic reviews, and titles whose pseudonyms are not read as such) share one
dedupe block per area and year, so comparing them all against all grows with the square of a collection.
``meetings`` finds, through indexes, every pair that some rule can act on, and no pair is left out. Before
any case is read, ``same-document`` joins two records whose report documents are the same bytes: records of
one report SHA-256 meet. With no case in common (``rules.Pair.kind`` None), the rules join two nameless
records only on

- like titles (``nameless-like-titles``): ``title_similarity`` of their content words >= 0.8, which needs a
  content word in common, or else (no word in common: rapidfuzz's token set and token sort ratios are then
  both the plain ratio of the two joined word lists) a plain ratio >= 80, found in C by
  ``rapidfuzz.process.extract`` (a margin below 80 takes in any rounding);
- summaries that agree (``nameless-summaries-agree``): a TF-IDF cosine >= ``rules.DEDUPE_TEXT_SAME_YEAR``,
  which needs a text term in common that is not boilerplate (boilerplate weighs 0, adding nothing);

two records of the same cleaned title share a case (``kind`` "equal") and go through the named rules, so any
two with one title meet; and ``thematic-one-each`` notes two thematic reviews of an area (neither a summary
document) on two listings, whatever their words, so those meet each other too (only to be noted, when
nothing above brings them together: no rule can join them). Every other pair the rules answer with None and
nothing noted: skipping it changes nothing, and the pairs that meet are met in the order the whole block
would meet them (tests/test_nameless.py checks both against all pairs).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from .records import Record
from .weights import Weights

# Below the 80 of ``nameless-like-titles`` (0.8 of the average of two ratios that are then equal): a margin
# for how rapidfuzz rounds each ratio, so no pair at 0.8 is missed. The rule itself then decides.
_RATIO_CUTOFF = 79.0


class Distinctive:
    """Each record's text terms that weigh something (are not boilerplate) in the collection's ``Weights``,
    remembered for the records of one area (a record meets in the blocks of each of its years, and of the
    year before)."""

    def __init__(self, weights: Weights) -> None:
        self.boilerplate = weights.boilerplate()
        self.weighing: dict[Record, list[str | int]] = {}  # records hash by identity

    def terms(self, record: Record) -> list[str | int]:
        found = self.weighing.get(record)
        if found is None:
            boilerplate = self.boilerplate
            found = self.weighing[record] = [t for t in record.text if t not in boilerplate]
        return found


def _thematic(record: Record) -> bool:
    """A record ``thematic-one-each`` may pair (``rules._thematic_pair``): a thematic review of an area (it has
    codes) that is not a summary document."""
    return record.review_type == "thematic" and not record.document and bool(record.codes)


def meetings(records: Sequence[Record], first: int, distinctive: Distinctive) -> tuple[list[list[int]], list[set[int]]]:
    """For each of the first ``first`` records (a year's nameless block; the rest are the next year's), the
    positions after it, ascending, of the records it must be compared with: those a rule can act on with it
    (the module's docstring says which); and, of those, the positions the pair rules must judge. The others
    are two thematic reviews of two listings and no more: no rule can join them, and only
    ``thematic-one-each`` notes them. A record may sit in both years: its positions are kept apart."""
    by_title: dict[str, list[int]] = defaultdict(list)
    by_word: dict[str, list[int]] = defaultdict(list)
    by_term: dict[str | int, list[int]] = defaultdict(list)
    by_document: dict[str, list[int]] = defaultdict(list)
    thematic: dict[str, list[int]] = defaultdict(list)  # by listing
    contents: list[str | None] = []
    terms: list[list[str | int]] = []  # each record's terms that weigh something
    weighing_terms = distinctive.terms
    for y, record in enumerate(records):
        by_title[record.title_key].append(y)
        for token in record.tokens:
            by_word[token].append(y)
        if record.report_sha256 is not None:
            by_document[record.report_sha256].append(y)
        weighing = weighing_terms(record)
        for term in weighing:
            by_term[term].append(y)
        terms.append(weighing)
        if _thematic(record):
            thematic[record.source].append(y)
        contents.append(record.content or None)  # None: rapidfuzz leaves it out (no title words to compare)
    met: list[list[int]] = []
    judged: list[set[int]] = []
    for x in range(first):
        record = records[x]
        judge: set[int] = set()
        keys = [by_title[record.title_key], *[by_word[t] for t in record.tokens], *[by_term[t] for t in terms[x]]]
        if record.report_sha256 is not None:
            keys.append(by_document[record.report_sha256])
        for positions in keys:
            if positions[-1] > x:  # most lists hold only this record
                judge.update(positions[bisect_right(positions, x):])
        if record.content and not record.anonymous:
            judge.update([x + 1 + k for _, _, k in process.extract(
                record.content, contents[x + 1:], scorer=fuzz.ratio, processor=None, limit=None,
                score_cutoff=_RATIO_CUTOFF)])
        found = judge
        if _thematic(record):
            found = set(judge)
            for source, positions in thematic.items():
                if source != record.source and positions[-1] > x:
                    found.update(positions[bisect_right(positions, x):])
        met.append(sorted(found))
        judged.append(judge)
    return met, judged
