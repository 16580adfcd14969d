"""What document of its review an entry is (``document_kind``), read off the title's own words.

A page often lists one review as several documents: "Child K Overview Report", "Child K Executive Summary",
"Media Statement – Child K", "Child K SCR Action Plan". Each stays an entry; its kind says which document it is,
so the review can be counted once and linked through its report first (``link.linkrules``). The kinds, in the
order a review is linked through them (``DOCUMENT_KINDS``):

- ``report``: the review itself (an overview or full report, or a review entry whose title names no other kind);
- ``summary``: an executive summary, a summary report;
- ``briefing``: a learning briefing, 7 minute briefing, learning summary or leaflet;
- ``action-plan``: an action plan, improvement plan or report, progress report, the board's response;
- ``statement``: a media statement or press release;
- ``other``: a document that is no review and names none of these (an annual report, messages from reviews).
"""

from __future__ import annotations

import re

DOCUMENT_KINDS = ("report", "summary", "briefing", "action-plan", "statement", "other")
DOCUMENT_RANK = {kind: rank for rank, kind in enumerate(DOCUMENT_KINDS)}

# First rule that matches: a "media statement on the executive summary" is a statement.
_KIND_RULES = (
    ("statement", re.compile(r"\b(?:media|press)\s+(?:statement|release)\b|\bstatement\b", re.I)),
    ("action-plan", re.compile(
        r"\baction\s+plan\b|\bimprovement\s+(?:plan|report)\b|\bprogress\s+report\b"
        r"|\b(?:partnership|board|lscb|lscp|agency|management)(?:['’]s)?\s+response\b", re.I)),
    ("briefing", re.compile(r"\b(?:7|seven)[\s-]minute\b|\bbriefing\b|\blearning\s+(?:summary|brief|leaflet)\b", re.I)),
    ("summary", re.compile(r"\bexecutive\s+summary\b|\bsummary\b", re.I)),
)
_NOT_A_REVIEW = ("other", None, "")


def document_kind(title: str | None, review_type: str | None) -> str:
    """The kind of document ``title`` is (one of ``DOCUMENT_KINDS``); ``review_type`` decides when the title
    names no kind: a review's entry is its report, a briefing a briefing, anything else ``other``."""
    for kind, rule in _KIND_RULES:
        if title and rule.search(title):
            return kind
    if review_type == "briefing":
        return "briefing"
    return "other" if review_type in _NOT_A_REVIEW else "report"
