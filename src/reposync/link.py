"""Which entries are the same review, and which local entries reached the national repository.

This is the simple, exact version: entries share a review when they share an
area (ONS codes), the same case (pseudonym set, or cleaned title when a title
names no one) and the same publication year. A later, scored linker replaces
``group_entries``; the rest of the pipeline only sees groups and links.

Anonymous national records (no ONS codes) are grouped only with each other,
only on a distinctive case key, and never linked to a local entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_ROLE_PREFIXES = ("child ", "baby ", "young person ", "family ", "sibling ", "adult ")


def _distinctive(pseudonyms: list[str]) -> bool:
    """"Child C" alone names a case in too many areas; a set or a given name does not."""
    return len(pseudonyms) >= 2 or (len(pseudonyms) == 1 and not pseudonyms[0].startswith(_ROLE_PREFIXES))


def case_key(entry: Mapping[str, Any]) -> tuple | None:
    """The exact key an entry is grouped on, or None when it stands alone."""
    year = entry.get("published_year")
    if year is None:
        return None
    names = list(entry.get("pseudonyms") or [])
    case = ("names", tuple(sorted(names))) if names else ("title", entry.get("title_key") or "")
    if not case[1]:
        return None
    codes = tuple(sorted(entry.get("la_codes") or []))
    if codes:
        return ("area", codes, case, year)
    if entry.get("kind") == "national" and names and _distinctive(names):
        return ("anonymous", case, year)
    return None


def group_entries(entries: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Entry ids grouped by review, each group sorted, groups in a stable order."""
    by_key: dict[tuple, list[str]] = defaultdict(list)
    alone: list[list[str]] = []
    for entry in entries:
        key = case_key(entry)
        if key is None:
            alone.append([entry["id"]])
        else:
            by_key[key].append(entry["id"])
    groups = [sorted(ids) for ids in by_key.values()] + alone
    return sorted(groups)


def assign_review_ids(groups: list[list[str]], current: Mapping[str, int | None], next_id: int) -> dict[str, int]:
    """Give each group a review id, keeping ids stable: when reviews merge the oldest id stays."""
    assigned: dict[str, int] = {}
    used: set[int] = set()
    # Groups holding the oldest ids choose first, so a split keeps the id on its older part.
    def oldest(group: list[str]) -> int:
        ids = [current[e] for e in group if current.get(e) is not None]
        return min(ids) if ids else 1 << 62

    for group in sorted(groups, key=lambda g: (oldest(g), g)):
        candidates = sorted({current[e] for e in group if current.get(e) is not None} - used)
        if candidates:
            review_id = candidates[0]
        else:
            review_id = next_id
            next_id += 1
        used.add(review_id)
        for entry_id in group:
            assigned[entry_id] = review_id
    return assigned


@dataclass
class Link:
    entry_a: str  # the local entry
    entry_b: str  # the national entry
    score: float
    features: dict[str, Any] = field(default_factory=dict)


def local_links(groups: list[list[str]], entries: Mapping[str, Mapping[str, Any]]) -> list[Link]:
    """Every local-national pair that shares a review by area, case and year."""
    links = []
    for group in groups:
        local = [e for e in group if entries[e]["kind"] == "local"]
        national = [e for e in group if entries[e]["kind"] == "national" and entries[e].get("la_codes")]
        for a in local:
            for b in national:
                key = case_key(entries[a])
                links.append(Link(a, b, 1.0, {"method": "exact", "key": repr(key)}))
    return links
