"""Why the linker decided what it did, in words: each feature, its value and its points, and the decision.

Read from a link's stored features (``link.compare`` writes them), so the same words come out of
``reposync links explain``, the ``explanation`` column of the links table and the Datasette review queue.
"""

from __future__ import annotations

from typing import Any

from .. import link

FEATURES = ("area", "date", "names", "title", "type", "summary", "document")


def _signed(points: float) -> str:
    return f"{points:+.2f}"


def feature_rows(features: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(feature, its value in words, its points) for each feature of a local-national pair."""
    points = features.get("points") or {}
    rows: list[tuple[str, str, float]] = []
    area = features.get("area")
    rows.append(("area", {"same": "same area", "different": "different areas",
                          "anonymous": "national record anonymous (area withheld)",
                          "unknown": "national area not in the index"}.get(area, str(area)), points.get("area", 0.0)))
    gap = features.get("date_gap_days")
    date = {"overlap": "dates overlap", "near": f"{gap} days apart", "adjacent-year": f"{gap} days apart (adjacent year)",
            "within-3-years": f"{gap} days apart (within 3 years)", "far": f"{gap} days apart (far)",
            "unknown": "a date unknown"}.get(features.get("date"), str(features.get("date")))
    rows.append(("date", date, points.get("date", 0.0)))
    shared = features.get("names_shared") or []
    only = (features.get("names_local_only") or []) + (features.get("names_national_only") or [])
    if shared:
        names = f"shared {', '.join(shared)} ({features.get('names_bits')} bits)"
        if only:
            names += f"; on one side only {', '.join(only)}"
    elif only:
        names = f"no name in common ({', '.join(only)})" if (features.get("names_local_only")
                                                             and features.get("names_national_only")) else \
            f"named on one side only ({', '.join(only)})"
    else:
        names = "neither names a child"
    rows.append(("names", names, points.get("names", 0.0)))
    rows.append(("title", f"similarity {features.get('title_similarity')}", points.get("title", 0.0)))
    types = features.get("review_types") or [None, None]
    rows.append(("type", f"{types[0] or '?'} / {types[1] or '?'}", points.get("type", 0.0)))
    text = features.get("summary_similarity")
    if text is None:
        summary = "no text beyond boilerplate on one side"
    elif features.get("summary_counted", True):
        summary = f"TF-IDF cosine {text}"
    else:
        summary = f"TF-IDF cosine {text}, set aside: anonymous record of another year or kind"
    rows.append(("summary", summary, points.get("summary", 0.0)))
    if "document" in features:  # links scored before documents were read have no such feature
        rows.append(("document", {"same": "the same report document (same SHA-256)",
                                  "different": "two different report documents"}.get(
                                      features["document"], "a report document not read on one side"),
                     points.get("document", 0.0)))
    return rows


def decision_words(score: float, features: dict[str, Any], decision: str | None) -> str:
    """The decision the points sum to, in words (``decision``: the links row's, or None when none is stored)."""
    anonymous = features.get("anonymous") or features.get("area") == "anonymous"
    if decision == "accepted":
        return "accepted by a person: linked whatever the score"
    if decision == "rejected":
        return "rejected by a person: never proposed again"
    if decision == "auto":
        return (f"linked automatically: {score:.2f} is at least {link.AUTO:g} (the automatic band) and leads the "
                f"next named review by at least {link.MARGIN:g}")
    if decision == "review":
        if anonymous:
            return ("in the review queue: anonymous national records are never linked automatically "
                    f"(score {score:.2f})")
        if score >= link.AUTO:
            return (f"in the review queue: {score:.2f} reaches the automatic band ({link.AUTO:g}) but another "
                    "candidate is too close or this page's entry already holds the review")
        return f"in the review queue: {score:.2f} is between {link.REVIEW:g} and {link.AUTO:g}"
    if score < link.REVIEW:
        return f"not proposed: {score:.2f} is below the review band ({link.REVIEW:g})"
    return (f"not proposed: {score:.2f} would reach the review band, but the entry is linked elsewhere or has "
            "better candidates")


def text(score: float, features: dict[str, Any], decision: str | None) -> str:
    """One line for a table cell: each feature with its points, the total and the decision."""
    parts = [f"{name} {value} {_signed(points)}" for name, value, points in feature_rows(features)]
    return f"{'; '.join(parts)} = {score:.2f}: {decision_words(score, features, decision)}"
