"""Fellegi-Sunter weights for local-national pairs, estimated from the catalogue itself (no labels).

Each candidate pair is reduced to one level per feature (``levels``). For each level, m is how often it occurs
among pairs that are the same review and u among pairs that are not; its weight is log2(m / u). As Splink does,
u comes from random local-national pairs (nearly all of them non-matches), and m with the share of matches
(lambda) from expectation maximisation over the blocked candidate pairs, u held fixed. Features are taken to be
independent given the match status, which is the model's usual simplification.

``bench/linkage.py --em`` ranks the same candidates by these weights, through the same assignment, and prints
both halves of the gold set beside the hand-set points of ``scores`` (which the sync keeps using).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .evidence import date_relation, title_similarity, type_points
from .linker import Linker
from .records import Record
from .rules import DEDUPE_TEXT, DISTINCTIVE_BITS
from .weights import Weights

FEATURES = ("area", "date", "names", "title", "type", "summary")
LEVELS: dict[str, tuple[str, ...]] = {
    "area": ("same", "different", "none"),
    "date": ("overlap", "near", "adjacent-year", "within-3-years", "far", "unknown"),
    "names": ("rare", "mid", "common", "extra", "one-side", "nameless", "conflict"),
    "title": ("exact", "high", "mid", "low"),
    "type": ("same", "neutral", "against", "unknown"),
    "summary": ("agree", "some", "differ", "none"),
}
SMOOTH = 0.5  # pseudo-counts per level: a level never seen among matches is rare, not impossible


def levels(local: Record, national: Record, weights: Weights) -> tuple[str, ...]:
    """The pair's level of each feature (``FEATURES`` order)."""
    if national.codes and local.codes:
        area = "same" if local.codes & national.codes else "different"
    else:
        area = "none"
    date, _ = date_relation(local, national)
    shared = local.names & national.names
    if local.names and national.names:
        if not shared:
            names = "conflict"
        elif local.names != national.names:
            names = "extra"
        else:
            bits = weights.shared_bits(shared)
            names = "rare" if bits >= DISTINCTIVE_BITS else "mid" if bits >= 5 else "common"
        similarity = title_similarity(local.title_key, national.title_key)
    elif local.names or national.names:
        names = "one-side"
        similarity = title_similarity(local.title_key, national.title_key)
    else:
        names = "nameless"
        similarity = title_similarity(local.content or local.title_key, national.content or national.title_key)
    title = "exact" if similarity >= 0.98 else "high" if similarity >= 0.85 else "mid" if similarity >= 0.6 else "low"
    kind = type_points(local.review_type, national.review_type)
    if not local.review_type or not national.review_type:
        type_ = "unknown"
    else:
        type_ = "same" if kind > 0 else "against" if kind < 0 else "neutral"
    text = weights.text_similarity(local.text, national.text)
    summary = "none" if text is None else "agree" if text >= DEDUPE_TEXT else "some" if text >= 0.2 else "differ"
    return area, date, names, title, type_, summary


@dataclass
class Model:
    """m and u of every level, and lambda: the share of candidate pairs that are matches."""

    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    lam: float
    iterations: int = 0
    pairs: int = 0
    history: list[float] = field(default_factory=list)  # lambda after each iteration
    unseen: dict[str, set[str]] = field(default_factory=dict)  # levels no training pair has

    def weight(self, feature: str, level: str) -> float:
        if level in self.unseen.get(feature, ()):
            return 0.0  # no pair of the catalogue has it: no evidence either way
        return math.log2(self.m[feature][level] / self.u[feature][level])

    def log2_odds(self, pair_levels: Sequence[str]) -> float:
        """The match weight of a pair: prior log-odds plus the weight of each of its levels."""
        total = math.log2(self.lam / (1 - self.lam))
        for feature, level in zip(FEATURES, pair_levels):
            total += self.weight(feature, level)
        return total

    def table(self) -> str:
        lines = [f"{'feature':8} {'level':15} {'m':>7} {'u':>7} {'weight':>7}"]
        for feature in FEATURES:
            for level in LEVELS[feature]:
                lines.append(f"{feature:8} {level:15} {self.m[feature][level]:>7.4f} {self.u[feature][level]:>7.4f} "
                             f"{self.weight(feature, level):>+7.2f}")
        lines.append(f"lambda {self.lam:.4f} after {self.iterations} iterations over {self.pairs} candidate pairs")
        return "\n".join(lines)


def _distribution(rows: Iterable[Sequence[str]], weights_of_rows: Iterable[float] | None = None) -> dict[
        str, dict[str, float]]:
    counts = {f: {level: SMOOTH for level in LEVELS[f]} for f in FEATURES}
    for row, w in zip(rows, weights_of_rows or iter(lambda: 1.0, None)):
        for feature, level in zip(FEATURES, row):
            counts[feature][level] += w
    return {f: {level: c / sum(counts[f].values()) for level, c in counts[f].items()} for f in FEATURES}


def random_pairs(linker: Linker, count: int = 20000, seed: int = 14) -> list[tuple[str, ...]]:
    """Levels of random local-national pairs: what agreement looks like by chance (u)."""
    rng = random.Random(seed)
    if not linker.local or not linker.national:
        return []
    return [levels(rng.choice(linker.local), rng.choice(linker.national), linker.weights) for _ in range(count)]


def area_block_pairs(linker: Linker) -> list[tuple[str, ...]]:
    """Session 1: every blocked candidate, and every national record of the local entry's area whatever its
    date -- non-matches are there to tell matches from (a blocking rule on area, as in Splink)."""
    by_code: dict[str, list[Record]] = {}
    for record in linker.national:
        for code in record.codes:
            by_code.setdefault(code, []).append(record)
    out = []
    for local in linker.local:
        pairs = dict(linker.candidates(local))
        for code in local.codes:
            for record in by_code.get(code, ()):
                pairs.setdefault(record.id, record)
        for national_id in sorted(pairs):
            out.append(levels(local, pairs[national_id], linker.weights))
    return out


def name_block_pairs(linker: Linker) -> list[tuple[str, ...]]:
    """Session 2: pairs naming the same children, any area and any year (a blocking rule on names)."""
    by_names: dict[frozenset[str], list[Record]] = {}
    for record in linker.national:
        if record.names:
            by_names.setdefault(record.names, []).append(record)
    out = []
    for local in linker.local:
        for record in sorted(by_names.get(local.names, ()) if local.names else (), key=lambda r: r.id):
            out.append(levels(local, record, linker.weights))
    return out


def _em(model: Model, pairs: list[tuple[str, ...]], fixed: str, update: Sequence[str], max_iterations: int,
        tolerance: float) -> float:
    """EM over ``pairs`` for m of the ``update`` features, and for lambda among these pairs, which it returns.
    ``fixed`` is the blocking rule's feature: every pair agrees on it, so it is left out of the E step."""
    lam = 0.1
    free = [i for i, f in enumerate(FEATURES) if f != fixed]
    for _ in range(max_iterations):
        posteriors = []
        prior = math.log2(lam / (1 - lam))
        for row in pairs:
            odds = prior + sum(model.weight(FEATURES[i], row[i]) for i in free)
            posteriors.append(1 / (1 + 2 ** -odds) if odds > -60 else 0.0)
        new = min(max(sum(posteriors) / len(posteriors), 1e-6), 1 - 1e-6) if pairs else lam
        learned = _distribution(pairs, posteriors)
        for feature in update:
            model.m[feature] = learned[feature]
        model.iterations += 1
        model.history.append(new)
        done = abs(new - lam) < tolerance
        lam = new
        if done:
            break
    return lam


def estimate(linker: Linker, *, max_iterations: int = 100, tolerance: float = 1e-6,
             random_count: int = 20000) -> Model:
    """u from random pairs; m by EM in two sessions as Splink trains them (blocked on area: m of all but area;
    blocked on names: m of area); lambda among all pairs: session 1's share of matches among area-blocked pairs
    times the chance that a random pair shares an area. Deterministic."""
    u = _distribution(random_pairs(linker, random_count))
    by_area = area_block_pairs(linker)
    by_names = name_block_pairs(linker)
    start = {"area": "same", "date": "overlap", "names": "mid", "title": "exact", "type": "same", "summary": "agree"}
    m = {f: {level: (0.6 if level == start[f] else 0.4 / (len(LEVELS[f]) - 1)) for level in LEVELS[f]}
         for f in FEATURES}
    model = Model(m=m, u=u, lam=0.1, pairs=len(by_area) + len(by_names))
    everything = by_area + by_names
    model.unseen = {f: set(LEVELS[f]) - {row[i] for row in everything} for i, f in enumerate(FEATURES)}
    in_area = _em(model, by_area, "area", [f for f in FEATURES if f != "area"], max_iterations, tolerance)
    # m of area: pairs naming the same distinctive children with dates close together are nearly all the same
    # review, and their areas agree as matches' do (a deterministic rule, as Splink estimates lambda with).
    sure = [row for row in by_names if row[2] in ("rare", "mid") and row[1] in ("overlap", "near")]
    if sure:
        model.m["area"] = _distribution(sure)["area"]
    model.lam = min(max(in_area * u["area"]["same"], 1e-9), 0.5)
    return model


def scorer(model: Model):
    """A ``Linker`` scorer: a pair's match weight (log2 odds) under ``model``."""
    cache: dict[tuple[str, ...], float] = {}

    def score(local: Record, national: Record, weights: Weights) -> float:
        row = levels(local, national, weights)
        found = cache.get(row)
        if found is None:
            found = cache[row] = model.log2_odds(row)
        return found

    return score
