"""The linker's own rules (``LINK_RULES``): what it does with local entries beyond scoring pairs.

The dedupe's rules (``rules.DEDUPE_RULES``) say when two national records are one review; these say how a local
page's entries meet them. Each rule has its name, the evidence it reads and the case that motivated it, and
tests/test_dedupe_rules.py holds its tests under its name:

- ``one-review-many-documents``: entries of one page naming the same children (or, naming no one, the same
  content words) under one date are one review's documents (overview report, executive summary, action plan,
  media statement, briefing): one review in completeness and the pack, linked once;
- ``report-first``: such a review is linked through its report first, then its summary, briefing, action plan,
  statement (``normalise.documents.DOCUMENT_KINDS``); between two documents of one kind the better score, then
  the finer date, then the title, never the id; its other documents follow the link;
- ``same-children-queued``: a local entry left unlinked that names the same children as a national record of
  its area within two years is at least queued, whatever the score;
- ``several-children-letters``: of two or more children, the letters are the case and the age word is not
  ("Baby A and Baby B" is "Twins A and B"), in the dedupe and the linker alike (``records._children``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..normalise.documents import DOCUMENT_RANK
from .evidence import date_relation
from .records import Record, _children

SAME_CHILDREN_DAYS = 731  # two years between the nearest days of the two dates
_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


@dataclass(frozen=True)
class LinkRule:
    """One of the linker's rules: its name, the evidence it reads, the case that motivated it, and what it says
    (``why``: the function's docstring)."""

    name: str
    evidence: str
    case: str
    function: Callable[..., Any]

    @property
    def why(self) -> str:
        return " ".join((self.function.__doc__ or "").split())


LINK_RULES: list[LinkRule] = []


def _rule(name: str, *, evidence: str, case: str) -> Callable:
    def add(function: Callable) -> Callable:
        LINK_RULES.append(LinkRule(name, evidence, case, function))
        return function
    return add


def _document_key(record: Record) -> tuple | None:
    """What one review's documents on one page share: the children and the date (or, naming no one, the
    content words and the date). A year-only date is no shared date: a page's two Child A of one year may be
    two reviews."""
    if record.start is None or record.precision not in ("day", "month"):
        return None
    if record.names:
        return record.source, record.names, record.start, record.end
    if record.content:
        return record.source, record.content, record.start, record.end
    return None


@_rule("one-review-many-documents", evidence="local page; pseudonyms or content words; dates",
       case='issue 25: "Child K Overview Report", "Child K Executive Summary", "Media Statement – Child K" and '
            '"Child K SCR Action Plan" under "Date of publication: 18th February 2015"')
def one_review_documents(local: Iterable[Record]) -> list[list[Record]]:
    """Entries of one page that name the same children and share a date (day or month) are one review's
    documents: each stays an entry, the review is counted once. The groups of two or more, each in the order
    its documents are linked through (``report_first``, before scores are known)."""
    by_key: dict[tuple, list[Record]] = defaultdict(list)
    for record in local:
        key = _document_key(record)
        if key is not None:
            by_key[key].append(record)
    return [sorted(members, key=report_first) for members in by_key.values() if len(members) > 1]


@_rule("report-first", evidence="document kind; scores; dates; titles",
       case="issue 25: Child K's executive summary linked ahead of its overview report by id order")
def report_first(record: Record, score: float = 0.0) -> tuple:
    """The order a review's documents are linked through: an overview report outranks an executive summary,
    which outranks a briefing, an action plan, a statement; between two of one kind the better score, then the
    finer date, then the title as keyed. Never the id: which document links must not hang on how ids sort."""
    return (DOCUMENT_RANK.get(record.document_kind, len(DOCUMENT_RANK)), -score,
            _PRECISION_RANK.get(record.precision or "", 3), record.title_key)


@_rule("same-children-queued", evidence="pseudonyms; ONS codes; dates",
       case='issue 25: a local "Siblings A and B" and the national "Children A and B" of its area and year')
def same_children_queued(local: Record, record: Record) -> bool:
    """A national record of the local entry's area naming the very same children, dated within two years of
    it, is at least queued for an entry left unlinked, whatever its points: never lost between the bands."""
    if not local.names or record.names != local.names or not (local.codes & record.codes):
        return False
    _, gap = date_relation(local, record)
    return gap is not None and gap <= SAME_CHILDREN_DAYS


def follow(documents: Iterable[list[Record]], assigned: dict[str, set[int]], accepted: Iterable[str],
           rejected: dict[str, set[int]], qualified: dict[str, tuple[float, int]]) -> dict[str, str]:
    """``report-first``, once the links are made: each document of a linked review (by the machine or a person)
    follows the document it is linked through into the same national review, unless a person decided on the
    document itself. Adds the followers to ``assigned``; gives each follower's lead."""
    decided = set(accepted)
    through: dict[str, str] = {}
    for members in documents:
        linked = [m for m in members if assigned.get(m.id)]
        if not linked:
            continue
        lead = min(linked, key=lambda m: report_first(m, qualified[m.id][0] if m.id in qualified else 0.0))
        for member in members:
            if member.id in assigned or member.id in decided:
                continue
            groups = assigned[lead.id] - rejected.get(member.id, set())
            if groups:
                assigned[member.id] = set(groups)
                through[member.id] = lead.id
    return through


_rule("several-children-letters", evidence="pseudonyms",
      case="issue 25's blind gold half: Sunderland's local \"Baby A and Baby B\" and national \"Twins A and B\"; "
           "Telford and Wrekin's \"Twins A and B\" and \"Babies A and B\"")(_children)
