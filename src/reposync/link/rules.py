"""The dedupe's rules: when two national records are the same review (``same_review_reason``).

Each rule is one function in ``DEDUPE_RULES``, in the order the rules act, with its name, the evidence it
reads and the gold entry (tests/fixtures/linkage/gold.json) whose review motivated it; tests/test_dedupe_rules.py
holds each rule's tests under its name, and ``bench/linkage.py --rules`` switches each off in turn and prints
what every gold half loses without it. What they add up to:

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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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


def _case(a: Record, b: Record, weights: Weights, letters: bool = True) -> tuple[str, bool] | None:
    """How two national records agree on the case: ('equal'|'contained', distinctive), or None (``letters``:
    whether ``single-letter-no-key`` is on)."""
    if a.names and b.names:
        shared = a.names & b.names
        if not shared:
            return None
        distinctive = len(shared) >= 2 or (weights.shared_bits(shared) >= DISTINCTIVE_BITS
                                           and not (letters and single_letter_no_key(shared)))
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



# --- the rules ---------------------------------------------------------------------------------------------


Verdict = tuple  # (``"equal"`` | ``"contained"`` | None, the reason in words): what a pair rule says


class Pair:
    """Two national records and what the pair rules read of them: how their dates relate, whether there is a
    listing's lag of slack between them, whether their review types agree, and the case they share (``kind``:
    ``"equal"``, ``"contained"`` or None; ``distinctive``: whether it is a case key by itself)."""

    __slots__ = ("a", "b", "weights", "relation", "slack", "types_agree", "kind", "distinctive")

    def __init__(self, a: Record, b: Record, weights: Weights, letters: bool = True) -> None:
        self.a, self.b, self.weights = a, b, weights
        relation, _ = date_relation(a, b)
        self.relation = relation
        self.slack = relation == "near" or (relation == "adjacent-year" and "year" in (a.precision, b.precision))
        self.types_agree = type_points(a.review_type, b.review_type) >= 0
        case = _case(a, b, weights, letters)
        self.kind, self.distinctive = case if case is not None else (None, False)

    def texts_agree(self) -> bool:
        return _texts_agree(self.a, self.b, self.weights, self.relation)

    def texts_differ(self) -> bool:
        return _texts_differ(self.a, self.b, self.weights)

    def lag(self) -> bool:
        """Dates a listing's lag apart, between two listings: where slack is given at all."""
        return self.slack and self.a.source != self.b.source

    def key(self) -> bool:
        """A case key: distinctive names, or an anonymous record's common pseudonym whose summaries agree
        (``anonymous-summaries-agree``: they stand in for the key the names are not)."""
        return self.distinctive or (self.a.anonymous and self.kind == "equal" and self.types_agree
                                    and self.texts_agree())


@dataclass(frozen=True)
class Rule:
    """One of the dedupe's rules: its name, where it acts, the evidence it reads, the gold entry whose review
    motivated it (tests/fixtures/linkage/gold.json), the commit that brought it, and what it says (``why``).

    ``acts``: ``pair`` (a verdict on two records: the first pair rule that speaks decides), ``key`` (what
    makes a case key), ``join`` (checked at every join: cannot-link, and the order pairs join in) or
    ``after`` (decided once every area is done); a rule may act in two places (``pair+after``: its reason
    for the pair, its join after the areas). ``branch``: which pairs a pair rule reads: ``any``, ``nameless``
    (no case in common) or ``named`` (a case in common)."""

    name: str
    acts: str
    evidence: str
    case: str
    commit: str
    function: Callable[..., Any]
    branch: str = "any"

    @property
    def why(self) -> str:
        return " ".join((self.function.__doc__ or "").split())


DEDUPE_RULES: list[Rule] = []  # in the order they act; ``skip`` (their names) switches some off


def _rule(name: str, *, acts: str, evidence: str, case: str, commit: str, branch: str = "any") -> Callable:
    def add(function: Callable) -> Callable:
        DEDUPE_RULES.append(Rule(name, acts, evidence, case, commit, function, branch))
        return function
    return add


@_rule("single-letter-no-key", acts="key", commit="bcdc27d",
       evidence="pseudonyms",
       case="nspcc-library:BLK0002")
def single_letter_no_key(shared: frozenset[str]) -> bool:
    """A single-letter role name (Child N, Baby B) is never a case key by itself, however rare a collection
    makes it look: letters are handed out afresh by every board, and a larger collection only hides that."""
    return all(_single_letter(n) for n in shared)


@_rule("same-area", acts="pair", commit="2a4217b",
       evidence="ONS codes; the area as written",
       case="nspcc-library:SYN022")
def same_area(p: Pair) -> Verdict | None:
    """Two records of different areas are never one review (for an area the index does not know: the same
    name as written)."""
    a, b = p.a, p.b
    if a.codes or b.codes:
        if not (a.codes & b.codes):
            return None, "different areas"
    elif a.area or b.area:
        if (a.area or "").lower() != (b.area or "").lower():
            return None, "different areas"  # an area the index does not know: the same name as written
    return None


@_rule("same-document", acts="pair", commit="03d0c32",
       evidence="report documents' SHA-256 (the documents table)",
       case="nspcc-2013:city-of-york-baby-a")
def same_document(p: Pair) -> Verdict | None:
    """Two records of one area whose report documents are the same bytes are one review, whatever their names
    and dates say: a listing that links the partnership's own PDF points at the very report. (The gold set
    carries no documents: its case stands for a yearly-list entry of a partnership's report; the rule's own
    tests are synthetic.)"""
    a, b = p.a, p.b
    if a.report_sha256 is not None and a.report_sha256 == b.report_sha256:
        return "equal", f"the same report document (SHA-256 {a.report_sha256[:12]}...)"
    return None


@_rule("nameless-like-kind", acts="pair", branch="nameless", commit="2a4217b",
       evidence="pseudonyms; review types",
       case="nspcc-2012:ceredigion-child-k")
def nameless_like_kind(p: Pair) -> Verdict | None:
    """With no case in common, only two records that name no one, of a like kind, can be one review (thematic
    reviews name no one, and each listing words the title its own way)."""
    a, b = p.a, p.b
    if a.names or b.names or not p.types_agree:
        return None, "different children" if a.names and b.names else "no case in common"
    return None


@_rule("nameless-dates", acts="pair", branch="nameless", commit="e527819",
       evidence="dates; listings",
       case="nspcc-library:NC64053")
def nameless_dates(p: Pair) -> Verdict | None:
    """Nameless records join the same year, or a listing's lag apart between two listings."""
    if not (p.relation == "overlap" or p.lag()):
        return None, "nameless, dates too far apart"
    return None


@_rule("nameless-stories-differ", acts="pair", branch="nameless", commit="2a824e7",
       evidence="descriptions; dates",
       case="nspcc-library:NC61112")
def nameless_stories_differ(p: Pair) -> Verdict | None:
    """Nameless records a listing's lag apart whose descriptions tell different stories are two reviews."""
    if p.relation != "overlap" and p.texts_differ():
        return None, "nameless, a listing's lag apart, summaries tell different stories"
    return None


@_rule("nameless-like-titles", acts="pair", branch="nameless", commit="e527819",
       evidence="title words; dates; descriptions",
       case="nspcc-2015:nottinghamshire-thematic-review-neglect-of-disabled-children")
def nameless_like_titles(p: Pair) -> Verdict | None:
    """Like titles are the listings' own words for one topic: nameless records of an area join on them the
    same year, and a year apart when the two do not both describe their case."""
    a, b = p.a, p.b
    if (not a.anonymous and a.content and b.content and title_similarity(a.content, b.content) >= 0.8
            and (p.relation == "overlap" or not (a.described and b.described))):
        return "equal", "nameless, same area and year, like titles"
    return None


@_rule("nameless-summaries-agree", acts="pair", branch="nameless", commit="102ebab",
       evidence="summaries; listings",
       case="nspcc-recent:anonymous-serious-youth-violence-thematic-review")
def nameless_summaries_agree(p: Pair) -> Verdict | None:
    """Nameless records (an anonymous one has no area to share) join on summaries that agree, between two
    listings or beside a summary document: one listing lists a review once."""
    a, b = p.a, p.b
    if p.texts_agree() and (a.source != b.source or a.document or b.document):
        return "equal", ("anonymous, nameless, same year, summaries agree" if a.anonymous
                         else "nameless, same area and year, summaries agree")
    return None


@_rule("thematic-one-each", acts="pair+after", branch="nameless", commit="4d1f32c",
       evidence="review types; listings; dates",
       case="nspcc-monthly:wiltshire-thematic-review-children-of-service-families")
def thematic_one_each(p: Pair) -> Verdict | None:
    """Two thematic reviews of one area and year on two listings, worded apart, join when each is the other
    listing's one thematic review of that area and year (``_thematic_pair``; joined after the areas)."""
    if _thematic_pair(p.a, p.b, p.weights):
        return None, ("thematic reviews of one area and year in two listings, worded apart: joined only when "
                      "each is the other's one thematic review of that area and year")
    return None


@_rule("anonymous-same-names", acts="pair", branch="named", commit="2a4217b",
       evidence="pseudonyms",
       case="nspcc-2017:anonymous-isla-and-freya")
def anonymous_same_names(p: Pair) -> Verdict | None:
    """Anonymous records (no area) join only on the very same pseudonym set, never one inside another."""
    if p.a.anonymous and p.kind != "equal":
        return None, "anonymous, names only overlap"
    return None


@_rule("anonymous-one-listing", acts="pair", branch="named", commit="102ebab",
       evidence="pseudonyms; listings",
       case="nspcc-library:NC67058")
def anonymous_one_listing(p: Pair) -> Verdict | None:
    """Two anonymous records of a common pseudonym in one listing are two reviews (one listing lists a review
    once), unless one of them is a summary document of it."""
    a, b = p.a, p.b
    if (a.anonymous and p.kind == "equal" and not p.distinctive and a.source == b.source
            and not (a.document or b.document)):
        return None, "anonymous, common pseudonym, both in one listing"
    return None


@_rule("anonymous-fuller-title", acts="pair", branch="named", commit="70c77e1",
       evidence="titles; dates; review types",
       case="nspcc-2017:anonymous-child-f-and-family")
def anonymous_fuller_title(p: Pair) -> Verdict | None:
    """Anonymous records of a common pseudonym join on the same fuller title in two listings the same year
    ("Child F and Family": the board's own wording, more than a letter handed out afresh)."""
    a, b = p.a, p.b
    if (a.anonymous and p.kind == "equal" and not p.distinctive and _fuller_title(a, b)
            and p.relation == "overlap" and p.types_agree):
        return "equal", "anonymous, common pseudonym, the same fuller title in two listings, same year"
    return None


@_rule("anonymous-summaries-agree", acts="pair", branch="named", commit="e527819",
       evidence="summaries; review types",
       case="nspcc-2015:nspcc-on-behalf-of-unnamed-lscb-child-c")
def anonymous_summaries_agree(p: Pair) -> Verdict | None:
    """A common pseudonym of an anonymous record is no key; summaries that agree, beside a like kind of review,
    may be one (and then count as the key for the rules below)."""
    a = p.a
    if a.anonymous and p.kind == "equal" and not p.distinctive and not (p.types_agree and p.texts_agree()):
        return None, "anonymous, common pseudonym, summaries do not agree"
    return None


@_rule("dates-overlap", acts="pair", branch="named", commit="2a4217b",
       evidence="pseudonyms; dates",
       case="nspcc-2013:birmingham-keanu-williams")
def dates_overlap(p: Pair) -> Verdict | None:
    """The same case (names equal, or one set inside the other) with publication intervals that overlap."""
    if p.relation == "overlap":
        return p.kind, "same case, dates overlap"
    return None


@_rule("lag-stories-differ", acts="pair", branch="named", commit="2a824e7",
       evidence="descriptions; dates; listings",
       case="nspcc-library:NC61112")
def lag_stories_differ(p: Pair) -> Verdict | None:
    """A listing's lag apart, two descriptions that tell different stories are two reviews, whatever the names."""
    if p.lag() and p.texts_differ():
        return None, "same case, dates a listing's lag apart, but the summaries tell different stories"
    return None


@_rule("distinctive-lag", acts="pair", branch="named", commit="2a4217b",
       evidence="pseudonyms' rarity; dates; listings",
       case="nspcc-2013:wirral-child-pb")
def distinctive_lag(p: Pair) -> Verdict | None:
    """A distinctive case key (two or more names, or names worth ``DISTINCTIVE_BITS``) joins a listing's lag
    apart between two listings: a list entry is dated by the month it reached the list and a library record by
    a year, often the next one; but Child A of Kent in two adjacent years is usually two children."""
    if p.lag() and p.key():
        return p.kind, "distinctive case, dates a listing's lag apart"
    return None


@_rule("lag-summaries-agree", acts="pair", branch="named", commit="e527819",
       evidence="summaries; dates; listings",
       case="nspcc-2014:tameside-child-l")
def lag_summaries_agree(p: Pair) -> Verdict | None:
    """A common case key joins a listing's lag apart when the summaries tell the same particulars."""
    if p.lag() and p.types_agree and p.texts_agree():
        return p.kind, "same case, dates a listing's lag apart, summaries agree"
    return None


@_rule("document-before-summaries-agree", acts="pair", branch="named", commit="e527819",
       evidence="document kind; dates; summaries",
       case="nspcc-2013:middlesbrough-baby-l")
def document_before_summaries_agree(p: Pair) -> Verdict | None:
    """An executive summary or a briefing catalogued by its own date, before the review was published, joins
    it when their summaries agree."""
    a, b = p.a, p.b
    if (p.kind == "equal" and a.codes and (a.document or b.document) and p.relation != "far"
            and p.texts_agree()):
        first, then = (a, b) if (a.start or 0) <= (b.start or 0) else (b, a)
        if first.document:
            return p.kind, "summary document dated before the review, summaries agree"
    return None


@_rule("document-one-review", acts="pair+after", branch="named", commit="70c77e1",
       evidence="document kind; dates; pseudonyms",
       case="nspcc-2013:city-of-york-baby-a")
def document_one_review(p: Pair) -> Verdict | None:
    """A summary document with no text, of the same area and children, up to two years before a review, joins
    it when that is the one review of the area and children in those years (York's Baby A summary of 2011
    and its review of 2013; ``_document_before``; joined after the areas); with two it joins neither."""
    if _document_before(p.a, p.b, p.weights) is not None:
        return None, ("summary document without text dated before the review: joined only when this is the "
                      "one review of the area it can be of")
    return None


@_rule("one-listing-once", acts="join", commit="a5c3786",
       evidence="listings",
       case="nspcc-2017:torfaen-sewscb-03-2017")
def one_listing_once(x: tuple, y: tuple) -> bool:
    """Cannot-link: a review never holds two records of one listing, summary documents aside (one listing lists
    a review once), whatever chain of pairs would join them."""
    return x[1] is not None and x[1] == y[1]


@_rule("stories-cannot-link", acts="join", commit="a75e913",
       evidence="descriptions",
       case="nspcc-recent:anonymous-lily")
def stories_cannot_link(x: tuple, y: tuple, weights: Weights) -> bool:
    """Cannot-link: a review never holds two records whose descriptions tell different stories, joined across
    a listing's lag, a summary's date or containment (where names, area and dates all agree, two writers can
    share no word, so there descriptions do not stand in the way)."""
    return x[0] is not None and y[0] is not None and _stories_differ(x[0], y[0], weights)


@_rule("dates-agree-first", acts="join", commit="a75e913",
       evidence="dates",
       case="nspcc-monthly:anonymous-lily")
def dates_agree_first(a: Record, b: Record) -> bool:
    """Pairs whose dates agree join first, and pairs a listing's lag or a summary's date apart only then, into
    what they made: a record with no description of its own cannot chain two reviews of a popular name."""
    return a.start <= b.end and b.start <= a.end  # type: ignore[operator]


@_rule("containment", acts="after", commit="2a4217b",
       evidence="pseudonyms",
       case="nspcc-recent:hartlepool-and-stockton-on-tees-children-l-m-and-n")
def containment(name_sets: list[frozenset[str]]) -> bool:
    """A record whose names are inside another's (Child R in Child R and Family R) joins it, after the areas;
    a multi-child record containing records of different children (Child J, Child K, Child V against three
    single records) is ambiguous and joins none of them."""
    return all(x & y for n, x in enumerate(name_sets) for y in name_sets[n + 1:])


@dataclass(frozen=True)
class Plan:
    """The rules switched on, ready for the pair loop: the pair rules of each branch in order, and the names."""

    first: tuple[Callable, ...]
    nameless: tuple[Callable, ...]
    named: tuple[Callable, ...]
    on: frozenset[str]


_PLANS: dict[frozenset[str], Plan] = {}


def plan(skip: Iterable[str] = ()) -> Plan:
    """The rules less those named in ``skip`` (an unknown name is an error, not a rule silently kept)."""
    skip = frozenset(skip)
    found = _PLANS.get(skip)
    if found is None:
        unknown = skip - {r.name for r in DEDUPE_RULES}
        if unknown:
            raise ValueError(f"no dedupe rule named {', '.join(sorted(unknown))}")
        on = [r for r in DEDUPE_RULES if r.name not in skip]
        pair = [r for r in on if r.acts.startswith("pair")]
        found = _PLANS[skip] = Plan(
            tuple(r.function for r in pair if r.branch == "any"),
            tuple(r.function for r in pair if r.branch == "nameless"),
            tuple(r.function for r in pair if r.branch == "named"),
            frozenset(r.name for r in on))
    return found


def verdict(a: Record, b: Record, weights: Weights, rules: Plan) -> Verdict:
    """The first word the rules have on a pair, or why none joined it."""
    p = Pair(a, b, weights, "single-letter-no-key" in rules.on)
    for judge in rules.first:
        found = judge(p)
        if found is not None:
            return found
    for judge in rules.nameless if p.kind is None else rules.named:
        found = judge(p)
        if found is not None:
            return found
    return (None, "nameless, titles and summaries differ") if p.kind is None else (None, "same case, dates apart")


def same_review_reason(a: Record, b: Record, weights: Weights, skip: Iterable[str] = ()) -> tuple[str | None, str]:
    """The dedupe's verdict on two national records ('equal', 'contained' or None) and why, in words."""
    return verdict(a, b, weights, plan(skip))


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
