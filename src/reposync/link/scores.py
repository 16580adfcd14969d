"""Scores: the points of a local-national pair, feature by feature (``compare`` returns them with the total).

Area, the gap between the dates, the pseudonyms weighed by how rare they are, the title's similarity, the
review type and the texts each add points for or against "the same review"; the bands (``AUTO``, ``REVIEW``,
``MARGIN``) say what the linker does with the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from typing import Any

from .evidence import date_relation, title_similarity, type_points
from .records import Record
from .weights import Weights

# --- bands -----------------------------------------------------------------------------------------
# Scores are points (log-odds style: each feature adds what it says for or against "same review").
AUTO = 11.0  # same area + overlapping dates + an agreeing pseudonym and title, with nothing against
REVIEW = 6.0  # enough that a person should look; below this a candidate is not kept
MARGIN = 3.0  # the best named review must lead the next by this much to be linked without a person

# --- points per feature ------------------------------------------------------------------------------
AREA_SAME = 4.0
DATE_POINTS = {"overlap": 3.0, "near": 2.0, "adjacent-year": 0.0, "within-3-years": -2.0, "far": -8.0,
               "unknown": -1.0}
NAME_POINTS_PER_BIT = 0.5
NAME_POINTS_CAP = 10.0
NAME_UNSHARED = -1.0  # per name on one side only (Child A, B and C against Child A)
NAME_UNSHARED_CAP = -4.0
NAME_CONFLICT = -10.0  # both name children, none in common: different cases

# The same report document, byte for byte (its SHA-256): a national list that links the partnership's own PDF.
# Evidence enough on its own for the automatic band; against it, only a person's decision.
DOCUMENT_SAME = AUTO

# --- summaries, abstracts, keywords (local-national; the IDF itself is in ``weights``) -------------------------
SUMMARY_POINTS = 5.0  # per unit of cosine above SUMMARY_NEUTRAL, local-national
SUMMARY_NEUTRAL = 0.2
SUMMARY_CAP = (-2.0, 3.0)


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
    document: float
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
    same_document = local.report_sha256 is not None and local.report_sha256 == national.report_sha256
    document = DOCUMENT_SAME if same_document else 0.0
    total = round(area + when + names + title + kind + summary + document, 2)
    return Points(total, area, when, names, title, kind, summary, document, relation, gap, bits, similarity, text,
                  counted)


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
              "summary": p.summary, "document": p.document}
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
        # the report documents: "same" (the same bytes), "different", or None when either was not read
        "document": (None if not (local.report_sha256 and national.report_sha256)
                     else "same" if local.report_sha256 == national.report_sha256 else "different"),
        "points": {k: round(v, 2) for k, v in points.items()},
    }
    return p.total, features


def score_pair(rows: Iterable[Mapping[str, Any]], local_id: str, national_id: str) -> tuple[float, dict[str, Any]]:
    """The score and features of one pair, weighed against the whole collection (for a person's decision)."""
    shared: dict = {}
    records = {r.id: r for r in (Record.from_row(row, shared) for row in rows)}
    weights = Weights.from_records(r for r in records.values() if r.kind == "national")
    return compare(records[local_id], records[national_id], weights)
