"""The link stage: which entries are the same review, and which local entries reached the national repository.

Takes in the catalogue's entry rows (``Rows``: read once, each national record kept in a temporary file) and the decisions
people made (``Decision``); gives out a ``Linkage``: the entries grouped by review, the national dedupe alone,
and the proposed links (automatic, or for a person to review) with the features that scored them.
``link_all`` is what the sync and ``bench/linkage.py`` run.

The rooms, from the ground up: ``records`` (a row as the linker needs it), ``weights`` (pseudonyms' and text
terms' worth, counted from the collection), ``evidence`` (dates, titles, review types of a pair), ``scores``
(a local-national pair's points), ``rules`` (the dedupe's rules, a named list), ``dedupe`` (records grouped
into reviews), ``results`` (links, the linkage, decisions, review ids), ``blocking`` (a local entry's candidates
by dict lookups), ``linkrules`` (the linker's own named rules: one review's documents, its report first, the
same children queued), ``linker`` (local entries linked to reviews), and ``fellegi_sunter`` (the same pairs
weighed by EM, for the bench).
"""

from .dedupe import dedupe
from .evidence import (
    ADJACENT_DAYS, NEAR_DAYS, TYPE_OTHER_NATION, TYPE_SAME, TYPE_THEMATIC, WIDE_DAYS, date_relation, title_similarity,
    type_points,
)
from .linker import QUEUE_PER_ENTRY, Linker, link_all
from .linkrules import LINK_RULES, LinkRule
from .records import DESCRIBED_WORDS, Record, Rows, text_terms
from .results import PERSON_DECISIONS, Decision, Link, Linkage, assign_review_ids, merge_decisions
from .rules import (
    DEDUPE_RULES, DEDUPE_TEXT, DEDUPE_TEXT_AGAINST, DEDUPE_TEXT_SAME_YEAR, DISTINCTIVE_BITS, Rule, same_review_reason,
)
from .scores import (
    AREA_SAME, AUTO, DATE_POINTS, DOCUMENT_SAME, MARGIN, NAME_CONFLICT, NAME_POINTS_CAP, NAME_POINTS_PER_BIT,
    NAME_UNSHARED, NAME_UNSHARED_CAP, REVIEW, SUMMARY_CAP, SUMMARY_NEUTRAL, SUMMARY_POINTS, Points, compare, score,
    score_pair,
)
from .weights import BOILERPLATE_MIN, BOILERPLATE_SHARE, PRIOR_WEIGHT, SpilledCounts, WeightCounts, Weights, prior

__all__ = [
    "ADJACENT_DAYS", "AREA_SAME", "AUTO", "BOILERPLATE_MIN", "BOILERPLATE_SHARE", "DATE_POINTS", "DEDUPE_RULES",
    "DEDUPE_TEXT", "DEDUPE_TEXT_AGAINST", "DEDUPE_TEXT_SAME_YEAR", "DESCRIBED_WORDS", "DISTINCTIVE_BITS",
    "DOCUMENT_SAME",
    "Decision", "LINK_RULES", "Link", "LinkRule", "Linkage", "Linker", "MARGIN", "NAME_CONFLICT", "NAME_POINTS_CAP",
    "NAME_POINTS_PER_BIT", "NAME_UNSHARED", "NAME_UNSHARED_CAP", "NEAR_DAYS", "PERSON_DECISIONS", "PRIOR_WEIGHT",
    "Points", "QUEUE_PER_ENTRY", "REVIEW", "Record", "Rows", "Rule", "SUMMARY_CAP", "SUMMARY_NEUTRAL",
    "SUMMARY_POINTS", "SpilledCounts", "TYPE_OTHER_NATION", "TYPE_SAME", "TYPE_THEMATIC", "WIDE_DAYS",
    "WeightCounts", "Weights", "assign_review_ids", "compare", "date_relation", "dedupe", "link_all",
    "merge_decisions", "prior", "same_review_reason", "score", "score_pair", "text_terms", "title_similarity",
    "type_points",
]
