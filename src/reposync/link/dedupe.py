"""The dedupe: national records grouped into reviews, one area at a time.

Records meet in blocks (an area, a year or the next, a case word; records that name no one meet only those a
rule can act on with them, ``nameless``); each pair is judged by the rules
(``rules.same_review_reason``), joined in a union-find unless the review would then hold two records that
cannot be one (cannot-link: one listing twice, or two descriptions of different stories), and the pairs that
need the whole collection seen first (containment, a summary document's one review, an area's one thematic
review of a year) are decided once every area is done.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .nameless import Distinctive, meetings
from .records import Record
from .rules import (
    Plan, _document_before, _thematic_pair, containment, dates_agree_first, one_listing_once, plan,
    stories_cannot_link, verdict,
)
from .weights import Weights


def _story(record: Record) -> tuple[tuple | None, str | None] | None:
    """What a record says of its review, for the dedupe's cannot-link check: its text when it describes its
    case, and its listing unless it is a summary document (one listing lists a review once); None: nothing."""
    text = record.text if record.described else None
    listing = None if record.document else record.source
    return (text, listing) if text is not None or listing is not None else None


def _conflict(x: tuple[tuple | None, str | None], y: tuple[tuple | None, str | None], weights: Weights,
              texts: bool = True, listings: bool = True) -> bool:
    """Two records that cannot be one review: the same listing twice (``one-listing-once``), or two descriptions
    of different stories (``stories-cannot-link``; ``texts``: whether descriptions count against here)."""
    if listings and one_listing_once(x, y):
        return True
    return texts and stories_cannot_link(x, y, weights)


_NAMELESS = ("nameless",)  # the case word of the block of records that name no one


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


def _area_order(area: Any) -> tuple[int, str]:
    """A dedupe area's place in a fixed order: ONS codes, then areas as written, then the anonymous."""
    if isinstance(area, str):
        return 0, area
    return (1, area[1]) if area is not None else (2, "")


def _dedupe_blocks(national: Mapping[int, Record] | list[Record], members: Iterable[int]) -> dict[tuple, list[int]]:
    """The dedupe blocks of one area: (year, one case word) -> indexes, in order."""
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for i in members:
        record = national[i]
        # Nameless records (thematic reviews) of an area and year share one block: listings word titles apart.
        cases: Iterable[Any] = sorted(record.names) or (_NAMELESS,)  # sorted: blocks in a fixed order
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

    def __init__(self, size: int, weights: Weights, skip: Iterable[str] = (), ids: Sequence[str] = ()) -> None:
        self.size = size
        self.ids = ids  # each index's record id: the order the passes after the areas take records in
        self.weights = weights
        self.rules: Plan = plan(skip)  # the rules switched on (``rules.DEDUPE_RULES`` less ``skip``)
        on = self.rules.on
        self.first = "dates-agree-first" in on
        self.listings = "one-listing-once" in on
        self.texts = "stories-cannot-link" in on
        self.containment = "containment" in on
        self.documents_one = "document-one-review" in on
        self.thematic_one = "thematic-one-each" in on
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
        maybe_of, rules = self.maybe_of, self.rules
        find = union.find
        later: list[tuple[int, int]] = []
        distinctive = Distinctive(weights)
        blocks = _dedupe_blocks(national, members)
        for (year, case), block in blocks.items():
            # within the block, and with the next year's block (the one year of slack)
            nxt = blocks.get((year + 1, case))
            both = block + nxt if nxt else block
            # Nameless records meet only those a rule can act on with them (``nameless.meetings``), in order.
            met, judged = (meetings([national[i] for i in both], len(block), distinctive) if case == _NAMELESS
                           else (None, None))
            for x, i in enumerate(block):
                root = find(i)  # i's review, found again only when i joins another
                if met is None:
                    pairs: Iterable[tuple[int, bool]] = ((j, True) for j in both[x + 1:])
                else:
                    judge = judged[x]  # type: ignore[index]
                    pairs = ((both[y], y in judge) for y in met[x])
                for j, full in pairs:
                    # Already one review: nothing to learn (a review is one name set until the containment
                    # pass below, so two of its records are never a containment pair).
                    if i == j or find(j) == root:
                        continue
                    a, b = national[i], national[j]
                    # Not ``full``: two thematic reviews no pair rule can join, for ``thematic-one-each`` below.
                    kind = verdict(a, b, weights, rules)[0] if full else None
                    if kind == "equal":
                        # The dates agreeing is the strongest evidence: those pairs join first, and the pairs
                        # a listing's lag or a summary's date apart only then, into what they made.
                        if dates_agree_first(a, b):
                            self._join_records(i, j, a, b, texts=False)
                            root = find(i)
                        elif self.first:
                            later.append((i, j))
                        else:
                            self._join_records(i, j, a, b)
                            root = find(i)
                    elif kind == "contained" and self.containment:
                        big, small = (i, j) if len(a.names) > len(b.names) else (j, i)
                        contained[big].add(small)
                        self.names[small] = national[small].names
                        self.documents.update(k for k in (big, small) if national[k].document)
                        self._keep_own(national, big, small)
                    elif (kind is None and a.document != b.document and self.documents_one
                          and _document_before(a, b, weights)):
                        document, review = (i, j) if a.document else (j, i)
                        maybe_of[document].add(review)
                        self._keep_own(national, document, review)
                    elif kind is None and not a.names and self.thematic_one and _thematic_pair(a, b, weights):
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
        weights, listings = self.weights, self.listings
        texts = texts and self.texts
        if any(_conflict(x, y, weights, texts, listings) for x in told_i for y in told_j):
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
            if containment(name_sets):
                for small in sorted(smalls, key=self.ids.__getitem__):
                    if self._join(big, small, self.own[big], self.own[small]):
                        placed_documents.update(k for k in (big, small) if k in self.documents)
        for document, reviews in self.maybe_of.items():
            # The one review (however many records it has) of the area and children in the two years after.
            if document not in placed_documents and len({find(r) for r in reviews}) == 1:
                review = min(reviews, key=self.ids.__getitem__)
                self._join(document, review, self.own[document], self.own[review])
        for one, others in self.thematic.items():
            # Each the other's one thematic review of the area and year (however many records it has).
            found = {find(k) for k in others}
            if len(found) == 1:
                other = min(others, key=self.ids.__getitem__)
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


def dedupe(national: list[Record], weights: Weights, skip: Iterable[str] = ()) -> list[tuple[int, ...]]:
    """Indexes into ``national`` grouped by review (every record in exactly one group); ``skip``: names of
    rules (``rules.DEDUPE_RULES``) switched off.

    Two records are compared only when they share a block: an area (or 'anonymous'), a year (or the next
    one), and a case word (a pseudonym; records naming no one share one block, where two meet only when a
    rule can act on them, found through indexes: ``nameless.meetings``). The blocks are built and
    compared one area at a time; a record's area only matters for which records it meets, so the areas may
    be taken in any order, and each area's records may be read when its turn comes (``Linker``).
    """
    by_area: dict[Any, list[int]] = defaultdict(list)
    for i, record in enumerate(national):
        if _deduped(record):
            for area in _dedupe_areas(record):
                by_area[area].append(i)
    ids = [record.id for record in national]
    state = _Dedupe(len(national), weights, skip, ids)
    for area in sorted(by_area, key=_area_order):
        state.area(national, sorted(by_area.pop(area), key=ids.__getitem__))
    return state.groups()
