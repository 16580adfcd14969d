"""The dedupe's rules: when two national records are the same review (``same_review_reason``).

**Dedupe national entries** (a yearly-list entry, a rolling-page entry, library records for the overview
report, the executive summary, a briefing) into one group per real review. Two national entries are the
same review only when all three hold:

- *area*: their ONS code sets overlap (or, for an area the index does not know, the same name as written);
- *case*: the same pseudonym set, or one set inside the other (``Child R`` and ``Child R and Family R``);
  for titles that name no one, the same cleaned title;
- *dates*: their publication intervals overlap -- or, between two different listings and only on a
  distinctive case key (two or more names, or names worth ``DISTINCTIVE_BITS``: ``Child BR``, ``BDS12``,
  ``Katie``), they are at most two months apart or in adjacent years with one side known only to the year.
  Why: a list entry is dated by the month it reached the list and a library record by a year, often
  the next one, so "December 2013" and "2014" are routinely one review; but ``Child A`` of Kent in two
  adjacent years is usually two children, so a common pseudonym gets no slack.

Title and date alone are never a key. Anonymous national records group only with each other, only on a
distinctive, identical pseudonym set (``Charlie and Sam``, ``Child AB``), never ``Child C`` alone: a common
pseudonym joins only beside summaries that agree, or with the same fuller title (``Child F and Family``)
in two listings the same year.
An executive summary or briefing with no text, of the same area and children, dated up to two years
before a review, joins it when that review is the only one of the area and children in those two years
(York's Baby A summary of 2011 and its review of 2013); with two candidate reviews it joins neither.
Two thematic reviews of one area and year on two listings, worded apart, join when each is the only
one of the other listing.
A review never holds two records of one listing (summary documents aside) nor, joined across dates
apart or containment, two records whose descriptions tell different stories (cannot-link); pairs whose
dates agree join before pairs a listing's lag apart, so a record with no description of its own cannot
chain two reviews of a popular name into one.
A multi-child entry that contains several entries naming different children (``Child J, Child K, Child V``
against three single records) is ambiguous and groups with none of them.
"""

from __future__ import annotations

from .evidence import date_relation, title_similarity, type_points
from .records import Record
from .weights import Weights, _single_letter

DISTINCTIVE_BITS = 7.5  # shared names worth this much are a case key by themselves (Child AB, Katie)
# Two national records whose texts agree this much tell the same review's particulars. Two writers (the list's
# summary, the library's abstract) paraphrase one review at 0.15-0.5 and two reviews share under 0.1 in the
# same year, up to 0.25 a year apart (the gold set's tune and fresh halves): the more the dates say apart, the
# more the texts must say together.
DEDUPE_TEXT = 0.3  # dates a listing's lag apart, or a summary document up to two years before its review
DEDUPE_TEXT_SAME_YEAR = 0.2  # dates overlap
DEDUPE_TEXT_AGAINST = 0.1  # two described records under this tell different stories: never one review


def _case(a: Record, b: Record, weights: Weights) -> tuple[str, bool] | None:
    """How two national records agree on the case: ('equal'|'contained', distinctive), or None."""
    if a.names and b.names:
        shared = a.names & b.names
        if not shared:
            return None
        # A single-letter role name (Child N, Baby B) is never a case key by itself, however rare a collection
        # makes it look: letters are handed out afresh by every board, and a larger collection only hides that.
        distinctive = len(shared) >= 2 or (weights.shared_bits(shared) >= DISTINCTIVE_BITS
                                           and not all(_single_letter(n) for n in shared))
        if a.names == b.names:
            return "equal", distinctive
        if shared == a.names or shared == b.names:
            return "contained", distinctive
        return None
    if a.names or b.names or not a.title_key:
        return None
    if a.title_key == b.title_key:
        return "equal", len(a.tokens) >= 2
    return None


def _texts_agree(a: Record, b: Record, weights: Weights, relation: str) -> bool:
    found = weights.text_similarity(a.text, b.text)
    # Within one area, a pseudonym recurs far less than across the whole anonymous collection: dates apart
    # ask no more of an area's texts than dates together do of the anonymous.
    same_year = relation == "overlap" or not a.anonymous
    return found is not None and found >= (DEDUPE_TEXT_SAME_YEAR if same_year else DEDUPE_TEXT)


def _texts_differ(a: Record, b: Record, weights: Weights) -> bool:
    """Both records describe their case and the descriptions have next to nothing in common."""
    return a.described and b.described and _stories_differ(a.text, b.text, weights)



def _stories_differ(a: tuple, b: tuple, weights: Weights) -> bool:
    found = weights.text_similarity(a, b)
    return found is not None and found < DEDUPE_TEXT_AGAINST



def _same_review(a: Record, b: Record, weights: Weights) -> str | None:
    """'equal' or 'contained' when two national records are the same review, else None."""
    return same_review_reason(a, b, weights)[0]


def same_review_reason(a: Record, b: Record, weights: Weights) -> tuple[str | None, str]:
    """The dedupe's verdict on two national records ('equal', 'contained' or None) and why, in words."""
    if a.codes or b.codes:
        if not (a.codes & b.codes):
            return None, "different areas"
    elif a.area or b.area:
        if (a.area or "").lower() != (b.area or "").lower():
            return None, "different areas"  # an area the index does not know: the same name as written
    relation, _ = date_relation(a, b)
    slack = relation == "near" or (relation == "adjacent-year" and "year" in (a.precision, b.precision))
    types_agree = type_points(a.review_type, b.review_type) >= 0
    case = _case(a, b, weights)
    if case is None:
        # Thematic reviews name no one and each listing words the title its own way: the same area, the same
        # year (give or take a listing's lag), a like kind, and the title's words or the texts agreeing. An
        # anonymous one has no area to share: only its texts, between two listings, can say it is the same.
        if a.names or b.names or not types_agree:
            return None, "different children" if a.names and b.names else "no case in common"
        if not (relation == "overlap" or (slack and a.source != b.source)):
            return None, "nameless, dates too far apart"
        if relation != "overlap" and _texts_differ(a, b, weights):
            return None, "nameless, a listing's lag apart, summaries tell different stories"
        # Like titles are the listings' own words for one topic; a year apart, two descriptions must say it too.
        if (not a.anonymous and a.content and b.content and title_similarity(a.content, b.content) >= 0.8
                and (relation == "overlap" or not (a.described and b.described))):
            return "equal", "nameless, same area and year, like titles"
        if _texts_agree(a, b, weights, relation) and (a.source != b.source or a.document or b.document):
            return "equal", ("anonymous, nameless, same year, summaries agree" if a.anonymous
                             else "nameless, same area and year, summaries agree")
        if _thematic_pair(a, b, weights):
            return None, ("thematic reviews of one area and year in two listings, worded apart: joined only when "
                          "each is the other's one thematic review of that area and year")
        return None, "nameless, titles and summaries differ"
    kind, distinctive = case
    if a.anonymous:
        if kind != "equal":
            return None, "anonymous, names only overlap"
        if not distinctive:
            # A common pseudonym of an anonymous record is no key; the summaries may be, beside the year
            # and the kind of review -- between two listings: one listing lists a review once (unless one of
            # the two is a summary document of it), and like abstracts of two of its records are two reviews.
            if a.source == b.source and not (a.document or b.document):
                return None, "anonymous, common pseudonym, both in one listing"
            if _fuller_title(a, b) and relation == "overlap" and types_agree:
                # "Child F and Family" in a yearly list and in the library the same year: the title is the
                # board's own wording, more than a letter handed out afresh.
                return "equal", "anonymous, common pseudonym, the same fuller title in two listings, same year"
            if not (types_agree and _texts_agree(a, b, weights, relation)):
                return None, "anonymous, common pseudonym, summaries do not agree"
            distinctive = True
    if relation == "overlap":
        return kind, "same case, dates overlap"
    # Slack only between two listings, and only on a distinctive case key (see the module docstring) or on
    # summaries that tell the same particulars.
    if slack and a.source != b.source:
        if _texts_differ(a, b, weights):
            return None, "same case, dates a listing's lag apart, but the summaries tell different stories"
        if distinctive:
            return kind, "distinctive case, dates a listing's lag apart"
        if types_agree and _texts_agree(a, b, weights, relation):
            return kind, "same case, dates a listing's lag apart, summaries agree"
    # An executive summary or a briefing catalogued by its own date, before the review was published.
    if (kind == "equal" and a.codes and (a.document or b.document) and relation != "far"
            and _texts_agree(a, b, weights, relation)):
        first, then = (a, b) if (a.start or 0) <= (b.start or 0) else (b, a)
        if first.document:
            return kind, "summary document dated before the review, summaries agree"
    if _document_before(a, b, weights) is not None:
        return None, ("summary document without text dated before the review: joined only when this is the "
                      "one review of the area it can be of")
    return None, "same case, dates apart"


def _thematic_pair(a: Record, b: Record, weights: Weights) -> bool:
    """Two thematic reviews of one area, the same year, on two listings, their titles and texts not agreeing
    enough to join them by themselves (each listing words a topic its own way: "children of service families",
    "armed forces families") and their descriptions not telling different stories. ``dedupe`` joins such a
    pair when each is the only one of the other listing: one listing lists a review once, and an area
    publishes few thematic reviews a year."""
    if a.names or b.names or a.source == b.source or a.document or b.document:
        return False
    if not (a.codes & b.codes) or a.review_type != "thematic" or b.review_type != "thematic":
        return False
    return date_relation(a, b)[0] == "overlap" and not _texts_differ(a, b, weights)


def _fuller_title(a: Record, b: Record) -> bool:
    """Two titles worded alike that say more than the pseudonyms they carry."""
    if a.title_key != b.title_key:
        return False
    return len(a.title_key.split()) > sum(len(name.split()) for name in a.names)


def _document_before(a: Record, b: Record, weights: Weights) -> Record | None:
    """The summary document of the pair when one is an executive summary or briefing with no text to compare,
    of the same area and children, dated up to two years before the other, a review; else None.

    Such a pair is not the same review on its own evidence (a common pseudonym two years apart is no key), but
    when that review is the only one of the area and children in the window, the summary can be of no other:
    ``dedupe`` then joins them. A description that disagrees is evidence against, so this is only where one of
    the two has none (keywords alone describe no case).
    """
    if a.document == b.document or not (a.names and a.names == b.names and a.codes & b.codes):
        return None
    document, review = (a, b) if a.document else (b, a)
    if document.start is None or review.start is None or review.start < document.start:
        return None
    if review.first_year > document.last_year + 2 or type_points(a.review_type, b.review_type) < 0:
        return None
    if a.described and b.described:
        return None  # two descriptions: they agree (a rule above) or they do not
    return document
