"""What linking gives out (links, the linkage, review ids) and what people put in (their decisions)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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



# --- review ids ------------------------------------------------------------------------------------------


_ASKED = 500  # groups whose entries' current ids are asked for at once


def assign_review_ids(groups: list[list[str]], current: Callable[[list[str]], Mapping[str, int]],
                      next_id: int) -> dict[str, int]:
    """Give each group a review id, keeping ids stable: when reviews merge the oldest id stays. ``current``:
    the review ids of those of some entries that have one (``catalogue.ReviewIds`` asks the catalogue)."""
    assigned: dict[str, int] = {}
    used: set[int] = set()
    # Each group's current ids, each entry's looked up once, a few hundred groups at a time; None for a
    # group with none (every group, the first night).
    held: list[tuple[int, ...] | None] = []
    for start in range(0, len(groups), _ASKED):
        asked = groups[start:start + _ASKED]
        found = current([entry_id for group in asked for entry_id in group])
        for group in asked:
            ids = tuple(sorted({found[entry_id] for entry_id in group if entry_id in found}))
            held.append(ids or None)

    # Groups holding the oldest ids choose first, so a split keeps the id on its older part.
    def oldest(n: int) -> tuple[int, list[str]]:
        ids = held[n]
        return (ids[0] if ids else 1 << 62), groups[n]

    for n in sorted(range(len(groups)), key=oldest):
        group = groups[n]
        candidates = [i for i in held[n] or () if i not in used]
        if candidates:
            review_id = candidates[0]
        else:
            review_id = next_id
            next_id += 1
        used.add(review_id)
        for entry_id in group:
            assigned[entry_id] = review_id
    return assigned
