"""The linker: local entries linked to national reviews, over the dedupe's reviews; ``link_all`` does both.


**Link local entries to national reviews.** Candidates come from dict lookups, never all pairs:

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
reviews and, apart, its anonymous candidates (``QUEUE_PER_ENTRY`` of each), and against every record of its
area naming the same children within two years (``linkrules``: ``same-children-queued``). One review's
documents on a page are linked once, through its report first, and the others follow (``report-first``); two
entries of a page tying for one review go to a person, never to the smaller id.

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
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .dedupe import _Dedupe, _UnionFind, _area_order, _dedupe_areas, _deduped
from .blocking import _Index
from .evidence import date_relation
from .linkrules import follow, one_review_documents, report_first, same_children_queued
from .records import _TERM_STRINGS, Record, Rows, SpilledRecords
from .results import Decision, Link, Linkage
from .scores import AUTO, MARGIN, REVIEW, compare, score
from .weights import SpilledCounts, Weights

QUEUE_PER_ENTRY = 3  # at most this many queue rows per local entry and kind (named, anonymous)


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


def _rank(score: float, record: Record) -> tuple[float, int, str]:
    return -score, _PRECISION_RANK.get(record.precision or "", 3), record.id



_SHARED_ROWS = 10_000  # the first pass lets its shared values go every so many rows


class Linker:
    """The indexes of one collection; ``link_all`` is the one-call entry point.

    The rows are read once, one record at a time, each built once: that pass counts what the weights need,
    keeps the local entries and writes the national records to a temporary file (``SpilledRecords``). The
    dedupe then reads one area's national records at a time from there, joining records into reviews in a
    union-find over every national record's index (the order of the rows), so the reviews, and the order of
    their numbers that breaks ties, are those of a dedupe of all records at once; last, only when there are
    local entries, the national records they can meet are read once more, one ONS code at a time and then
    those without codes, and each entry keeps the best record of each review it meets.
    """

    def __init__(self, rows: Rows, scorer: Callable[[Record, Record, Weights], float] | None = None,
                 bands: tuple[float, float, float] = (AUTO, REVIEW, MARGIN), skip_rules: Iterable[str] = ()) -> None:
        """``scorer`` and ``bands`` (auto, review, margin) replace the hand-set points: bench/linkage.py --em
        ranks and bands candidates by Fellegi-Sunter weights (``fellegi_sunter``) through the same assignment.
        ``skip_rules``: names of dedupe rules switched off (``rules.DEDUPE_RULES``; bench/linkage.py --rules)."""
        self.scorer = scorer or score
        self.bands = bands
        self.ids: list[str] = []  # the national records' ids, by index
        self.spilled = SpilledRecords()  # the national records, by index
        self.local: list[Record] = []
        counts = SpilledCounts()
        areas: dict[Any, array] = {}  # dedupe area -> indexes of the national records compared there
        self._by_code: dict[str, array] = {}  # ONS code -> indexes of every national record with it
        self._unplaced = array("q")  # indexes of the national records without codes
        shared = self._shared()
        for position, row in enumerate(rows):
            if position % _SHARED_ROWS == 0:
                shared = self._shared()
            record = Record.from_row(row, shared)
            if record.kind == "local":
                self.local.append(record)
            if record.kind != "national":
                continue
            i = len(self.ids)
            self.ids.append(record.id)
            self.spilled.append(record)
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
        state = _Dedupe(len(self.ids), self.weights, skip_rules, self.ids)
        # Areas in a fixed order and each area's records by id: which pairs meet and join first, and so what a
        # cannot-link keeps apart, depends on the records, never on the order of the rows (an incremental
        # catalogue and a rebuild from snapshots group alike).
        ids = self.ids
        for area in sorted(areas, key=_area_order):
            members = areas.pop(area)
            state.area(dict(zip(members, self._read(members))), sorted(members, key=ids.__getitem__))
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
        """The national records at these indexes (ascending), read again from the temporary file, with their
        reviews."""
        records = self.spilled.read(indexes)
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
        # One review's documents on a page (``one-review-many-documents``) are one question: a review a person
        # rejected for one of them is barred for all.
        documents = one_review_documents(self.local)
        for members in documents:
            barred = set().union(*(rejected_groups.get(m.id, ()) for m in members))
            if barred:
                for m in members:
                    rejected_groups[m.id] = barred

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
                for group in [g for g, (points, r) in best.items()
                              if points < floor and not same_children_queued(local, r)]:
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
        qualified: dict[str, tuple[float, int]] = {}
        for local_id, best in scored.items():
            named = sorted(((s, g) for g, (s, r) in best.items() if r.placed), reverse=True)
            if not named or named[0][0] < auto_band:
                continue
            if len(named) > 1 and named[1][0] >= review_band and named[0][0] - named[1][0] < margin:
                continue
            qualified[local_id] = named[0]
        # One review's documents take one place: through its report first (``report-first``); the others
        # follow whatever it is linked to.
        aside = {m.id for members in documents for m in members} - {
            min(ready, key=lambda m: report_first(m, qualified[m.id][0])).id
            for ready in ([m for m in members if m.id in qualified] for members in documents) if ready}
        pool = sorted((-points, local_id, group) for local_id, (points, group) in qualified.items()
                      if local_id not in aside)
        # Two entries of one page (not one review's documents) with the same best score for one review: a tie
        # is never settled by id order; the review is held for a person.
        ties = Counter((by_id[i].source, g, p) for p, i, g in pool if by_id[i].review_type != "briefing")
        auto: dict[str, int] = {}
        for points, local_id, group in pool:
            local = by_id[local_id]
            key = (local.source, group)
            # A local briefing is about a review its page may also list: it does not take the review.
            if local.review_type != "briefing":
                if key in taken:
                    continue
                taken.add(key)
                if ties[(*key, points)] > 1:
                    continue
            auto[local_id] = group
            assigned[local_id].add(group)
        through = follow(documents, assigned, accepted, rejected_groups, qualified)

        links: list[Link] = []
        # A review's documents left unlinked are queued once, through the first of them with a question.
        queued_through = {min(asking, key=lambda m: report_first(m, max(p for p, _ in scored[m.id].values()))).id:
                          members for members in documents
                          if (asking := [m for m in members if m.id not in assigned and scored.get(m.id)])}
        for local_id, best in scored.items():
            local = by_id[local_id]
            if local_id in through:  # a document following its review's link (``report-first``)
                lead = through[local_id]
                for group in sorted(assigned[local_id]):
                    record = best[group][1] if group in best else self._representative(lead, group, scored, by_id)
                    links.append(self._link(local, group, record, "auto", through=lead))
                continue
            if local_id in aside and local_id not in assigned and local_id not in queued_through:
                continue  # its review is queued through another of its documents
            chosen = auto.get(local_id)
            named, anonymous = [], []
            for group, (points, record) in sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1].id)):
                if group == chosen:
                    links.append(self._link(local, group, record, "auto"))
                    continue
                kept = same_children_queued(local, record) and chosen is None
                if points < review_band and not kept:
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
                    elif (local.source, group) in taken and points < auto_band and not kept:
                        continue  # another entry of this page holds that review
                    named.append((group, record, kept))
                elif chosen is None:
                    anonymous.append((group, record, kept))
            # At most QUEUE_PER_ENTRY of each, and every record of the same children (``same-children-queued``).
            queue = [q for found in (named, anonymous) for n, q in enumerate(found) if n < QUEUE_PER_ENTRY or q[2]]
            others = [m.id for m in queued_through.get(local_id, ()) if m.id != local_id]
            for group, record, _ in queue:
                links.append(self._link(local, group, record, "review", documents=others))

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
        # A review's documents left unlinked are one review still.
        alone = {local.id for local in self.local if local.id not in assigned}
        for members in documents:
            ids = sorted(m.id for m in members if m.id in alone)
            if ids:
                reviews.append(ids)
                alone.difference_update(ids)
        reviews.extend([local_id] for local_id in sorted(alone))
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

    def _link(self, local: Record, group: int, record: Record, decision: str, through: str | None = None,
              documents: Sequence[str] = ()) -> Link:
        points, features = compare(local, record, self.weights)
        features["review_entries"] = self._group_ids(group)
        if through is not None:
            features["through"] = through  # linked as a document of the review that entry is linked through
        if documents:
            features["documents"] = list(documents)  # the review's other documents, which follow this link
        return Link(local.id, record.id, points, features, decision)

    def _representative(self, lead: str, group: int, scored: Mapping[str, dict[int, tuple[float, Record]]],
                        by_id: Mapping[str, Record]) -> Record:
        """The national record a document follows its review's link to: the one its lead is linked to."""
        found = scored.get(lead, {}).get(group)
        if found is not None:
            return found[1]
        return next(r for r in by_id.values() if r.kind == "national" and r.group == group)


def link_all(rows: Rows, decisions: Iterable[Decision] = (),
             skip_rules: Iterable[str] = ()) -> Linkage:
    """Dedupe the national entries, link the local ones, apply people's decisions: one call for the sync
    (``skip_rules``: dedupe rules switched off, for the bench)."""
    # Hundreds of thousands of small, acyclic objects: the cycle collector would only rescan them (it
    # doubles the time at 500k records). It is switched back on, as it was, before returning.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return Linker(rows, skip_rules=skip_rules).link(decisions)
    finally:
        if enabled:
            gc.enable()
