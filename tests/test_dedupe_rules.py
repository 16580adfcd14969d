"""The dedupe's rules (``reposync.link.rules``), each rule's tests under its name, in the order of
``DEDUPE_RULES``; and the list itself: every rule named, with its evidence and the gold case that motivated it,
and switching a rule off changes the review of that case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reposync import link
from reposync.link import explain
from reposync.link.rules import DEDUPE_RULES
from test_linkage import FILLER, anon, bench, groups_of, local, records, row

GOLD = Path(__file__).parent / "fixtures" / "linkage" / "gold.json"
# The rules whose gold case the gold set decides by that rule alone (bench/linkage.py --rules shows each);
# the others' cases hold without them too (another rule or the blocks decide them the same way).
DECIDES_ITS_CASE = {
    "nameless-like-titles", "nameless-summaries-agree", "thematic-one-each", "anonymous-same-names",
    "anonymous-fuller-title", "anonymous-summaries-agree", "dates-overlap", "distinctive-lag", "lag-summaries-agree",
    "document-before-summaries-agree", "document-one-review", "one-listing-once", "stories-cannot-link",
    "containment",
}


# --- the list --------------------------------------------------------------------------------------------------


def test_every_rule_has_a_name_evidence_a_gold_case_a_commit_and_says_why() -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    ids = {e["id"] for e in gold["national"]}
    names = [r.name for r in DEDUPE_RULES]
    assert len(names) == len(set(names)) == 23
    for rule in DEDUPE_RULES:
        assert rule.case in ids, rule.name
        assert rule.evidence and len(rule.commit) == 7 and len(rule.why) > 40, rule.name
        assert rule.acts in ("key", "pair", "pair+after", "join", "after"), rule.name
    assert set(DECIDES_ITS_CASE) <= set(names)


def test_an_unknown_rule_cannot_be_switched_off() -> None:
    with pytest.raises(ValueError, match="no dedupe rule named no-such-rule"):
        link.link_all([row("a:1")], skip_rules=["no-such-rule"])


@pytest.fixture(scope="module")
def gold_rows() -> list[dict]:
    return bench.gold_rows(bench.load_gold())


def _review_of(linkage: link.Linkage, entry: str) -> list[str]:
    return next(g for g in linkage.national_groups if entry in g)


@pytest.mark.parametrize("name", sorted(DECIDES_ITS_CASE))
def test_switching_a_rule_off_changes_the_review_of_its_case(gold_rows: list[dict], name: str) -> None:
    rule = next(r for r in DEDUPE_RULES if r.name == name)
    on = link.link_all(gold_rows)
    off = link.link_all(gold_rows, skip_rules=[name])
    assert _review_of(on, rule.case) != _review_of(off, rule.case)
    assert link.link_all(gold_rows, skip_rules=()).national_groups == on.national_groups


# --- single-letter-no-key ----------------------------------------------------------------------------------------


def test_a_single_letter_pseudonym_is_no_case_key_however_rare_a_large_collection_makes_it() -> None:
    # 6,000 other reviews make "child n" rare by count (the collection's letters are A-H), as a tenfold
    # collection did in bench/splink_linkage.py; two anonymous Child N of one year are still not one review.
    filler = [row(f"nspcc-library:F{i}", names=(f"child {'abcdefgh'[i % 8]}",), codes=(), area=None,
                  start=f"{3000 + i}-01-01") for i in range(6000)]
    rows = [anon("nspcc-2016:child-n", names=("child n",), start="2016-01-01", source="nspcc-2016"),
            anon("nspcc-library:N1", names=("child n",), start="2016-01-01", source="nspcc-library"), *filler]
    linker = link.Linker(rows)
    assert linker.weights.shared_bits({"child n"}) >= link.DISTINCTIVE_BITS
    assert ["nspcc-2016:child-n"] in linker.link().national_groups


# --- same-area ---------------------------------------------------------------------------------------------------


def test_dedupe_needs_the_area() -> None:
    assert len(groups_of(row("a:1"), row("b:1", codes=("E10000030",)))) == 2


# --- same-document -----------------------------------------------------------------------------------------------


def test_same_document_two_listings_linking_one_pdf_are_one_review() -> None:
    pdf = "a" * 64
    # Child A is a common single-letter name, a listing's lag apart: nothing else would join the two.
    rows = [row("nspcc-2014:kent-child-a", start="2014-12-01", end="2014-12-31", precision="month")
            | {"report_sha256": pdf},
            row("nspcc-recent:kent-child-a", start="2015-02-01", end="2015-02-28", precision="month")
            | {"report_sha256": pdf}]
    assert link.link_all(rows).national_groups == [["nspcc-2014:kent-child-a", "nspcc-recent:kent-child-a"]]
    assert len(link.link_all(rows, skip_rules=["same-document"]).national_groups) == 2
    assert link.same_review_reason(*records(*rows).values(), link.Weights.from_records([]))[1].startswith(
        "the same report document")
    other = [rows[0], rows[1] | {"report_sha256": "b" * 64}]  # two documents: the rule says nothing
    assert len(link.link_all(other).national_groups) == 2
    elsewhere = [rows[0], rows[1] | {"la_codes": ["E10000030"], "area": "Surrey"}]  # same-area speaks first
    assert len(link.link_all(elsewhere).national_groups) == 2


def test_same_document_a_local_review_and_the_national_entry_linking_its_pdf_link_automatically() -> None:
    pdf = "c" * 64
    rows = [local("kent:child-a", start="2014-03-10", title="child a overview report") | {"report_sha256": pdf},
            row("nspcc-2016:kent-child-a", start="2016-01-01") | {"report_sha256": pdf}]
    linkage = link.link_all(rows)
    assert [(l.entry_a, l.entry_b, l.decision, l.features["document"]) for l in linkage.links] == [
        ("kent:child-a", "nspcc-2016:kent-child-a", "auto", "same")]
    # `links explain` and the review queue show the document evidence beside the other features.
    assert ("document", "the same report document (same SHA-256)", link.DOCUMENT_SAME) in explain.feature_rows(
        linkage.links[0].features)
    # Without the document, a common name 662 days apart scores below the review band (5.95): it is only put to a
    # person because it names the same child within two years (issue 25's same-children-queued), never linked.
    assert [l.decision for l in link.link_all([rows[0], rows[1] | {"report_sha256": None}]).links] == ["review"]
    assert link.link_all([rows[0], rows[1] | {"report_sha256": None}]).links[0].score < link.REVIEW


# --- anonymous-one-listing ---------------------------------------------------------------------------------------


def test_one_listing_lists_a_review_once_so_like_abstracts_there_are_two_reviews() -> None:
    story = "a toddler who suffered long-term neglect, with parental substance misuse and domestic abuse"
    rows = [anon("nspcc-library:1", start="2015-01-01", source="nspcc-library") | {"summary": f"About {story}."},
            anon("nspcc-library:2", start="2015-01-01", source="nspcc-library") | {"summary": f"About {story}."}]
    groups = link.link_all(rows).national_groups
    assert ["nspcc-library:1"] in groups and ["nspcc-library:2"] in groups


# --- anonymous-fuller-title --------------------------------------------------------------------------------------


def test_anonymous_records_join_on_the_same_fuller_title_in_two_listings_the_same_year() -> None:
    family = dict(names=("child f",), title="child f and family", start="2017-01-01")
    assert len(groups_of(anon("nspcc-2017:f", **family), anon("nspcc-library:f", **family))) == 1
    # the bare pseudonym beside it stays apart, as do the same title two years apart or twice in one listing
    assert len(groups_of(anon("nspcc-2017:f", **family), anon("nspcc-library:f", names=("child f",),
                                                               start="2017-01-01"))) == 2
    assert len(groups_of(anon("nspcc-2015:f", **{**family, "start": "2015-01-01"}),
                         anon("nspcc-library:f", **family))) == 2
    assert len(groups_of(anon("nspcc-library:f1", **family), anon("nspcc-library:f2", **family))) == 2
    verdict, reason = link.same_review_reason(*records(anon("nspcc-2017:f", **family),
                                                       anon("nspcc-library:f", **family)).values(),
                                              link.Weights.from_records([]))
    assert verdict == "equal" and "fuller title" in reason


# --- anonymous-summaries-agree -----------------------------------------------------------------------------------


def test_anonymous_records_of_a_common_pseudonym_join_only_when_their_summaries_agree() -> None:
    story = "a toddler with multiple fractures, parental learning disability and the medical assessment"
    other = "a teenager missing from a children's home and placement stability"
    rows = [anon("nspcc-2015:x", start="2015-01-01", source="nspcc-2015") | {"summary": f"Review into {story}."},
            anon("nspcc-library:1", start="2015-01-01", source="nspcc-library") | {"summary": f"About {story}."},
            anon("nspcc-library:2", start="2015-01-01", source="nspcc-library") | {"summary": f"About {other}."},
            anon("nspcc-library:3", start="2015-01-01", source="nspcc-library")]
    groups = link.link_all(rows).national_groups
    assert ["nspcc-2015:x", "nspcc-library:1"] in groups
    assert ["nspcc-library:2"] in groups and ["nspcc-library:3"] in groups


# --- document-before-summaries-agree -----------------------------------------------------------------------------


def test_an_executive_summary_dated_before_its_review_joins_it_when_the_texts_agree() -> None:
    story = "a six-month-old boy shaken by his father after earlier bruising went unexplained"
    rows = [row("nspcc-library:exec", start="2015-01-01", title="child m") | {
                "title": "Serious case review: Child M: executive summary", "summary": f"Executive summary: {story}."},
            row("nspcc-2016:m", start="2016-01-01", source="nspcc-2016") | {"summary": f"Review into {story}."},
            row("nspcc-library:old", start="2013-01-01") | {"summary": "A girl absent from school for months."}]
    groups = link.link_all(rows).national_groups
    assert ["nspcc-2016:m", "nspcc-library:exec"] in groups and ["nspcc-library:old"] in groups


# --- document-one-review -----------------------------------------------------------------------------------------


def test_a_summary_document_without_text_joins_the_one_review_it_can_be_of() -> None:
    summary = dict(title="child a executive summary", start="2011-01-01")
    titled = {"title": "Serious case review: Child A: executive summary"}
    review = dict(start="2013-10-01", end="2013-10-31", precision="month")
    # York's shape: the summary two years before a review listed twice
    groups = groups_of(row("library:es", **summary) | titled, row("nspcc-2013:a", **review),
                       row("library:a", start="2013-01-01"))
    assert [sorted(g) for g in groups] == [["library:a", "library:es", "nspcc-2013:a"]]
    # two later reviews of the name in the area: it could be either, so neither
    groups = groups_of(row("library:es", **summary) | titled, row("nspcc-2012:a", start="2012-01-01"),
                       row("nspcc-2013:a", start="2013-01-01"))
    assert len(groups) == 3
    # more than two years on, before it, another area, or another child: not its review
    for other in (row("nspcc-2014:a", start="2014-01-01"), row("nspcc-2010:a", start="2010-01-01"),
                  row("nspcc-2012:a", start="2012-01-01", codes=("E10000030",)),
                  row("nspcc-2012:b", start="2012-01-01", names=("child b",))):
        assert len(groups_of(row("library:es", **summary) | titled, other)) == 2, other["id"]
    # a review with no summary document: two records of a common name two years apart stay apart
    assert len(groups_of(row("library:x", start="2011-01-01"), row("nspcc-2013:a", start="2013-01-01"))) == 2


# --- thematic-one-each -------------------------------------------------------------------------------------------


def test_an_areas_one_thematic_review_of_a_year_on_two_listings_is_one_review_however_each_words_it() -> None:
    thematic = dict(names=(), review_type="thematic", start="2019-01-01")
    listed = row("nspcc-monthly:t", title="thematic review children of service families", source="nspcc-monthly",
                 **thematic)
    library = row("nspcc-library:t", title="armed forces families a thematic review", **thematic)
    assert len(groups_of(listed, library)) == 1
    # two thematic reviews of the area that year in the library: which one the list means, nothing says
    other = row("nspcc-library:u", title="drowning of young children a thematic review", **thematic)
    assert len(groups_of(listed, library, other)) == 3
    # another year, another area, or two descriptions telling different stories: not one review
    assert len(groups_of(listed, library | {"published_start": "2020-01-01", "published_end": "2020-12-31"})) == 2
    assert len(groups_of(listed, library | {"la_codes": ["E08000025"]})) == 2
    four = {"summary": "Four children of serving soldiers harmed at home; postings outpaced their records."}
    pools = {"summary": "Toddlers who drowned in garden ponds and paddling pools over the summer months."}
    assert len(groups_of(listed | four, library | pools, *FILLER)) == 2 + len(FILLER)
    assert len(groups_of(listed | four, library, *FILLER)) == 1 + len(FILLER)


# --- stories-cannot-link -----------------------------------------------------------------------------------------


def test_a_review_never_holds_two_records_that_tell_different_stories_whatever_chain_would_join_them() -> None:
    lily = dict(names=("lily", "ava"))  # two names: a distinctive key, which a listing's lag apart may join
    neglected = {"summary": "A girl of seven neglected and missing most of a school year while her mother was in a "
                            "psychiatric hospital and she lived with a relative."}
    exploited = {"summary": "Lily, aged 15, sexually exploited by a group of adults after a placement out of area."}
    stock = {"summary": "Local child safeguarding practice review, published anonymously."}
    rows = [anon("nspcc-library:2021", start="2021-01-01", source="nspcc-library", **lily) | neglected,
            anon("nspcc-recent:2022", start="2022-01-01", source="nspcc-recent", **lily) | stock,
            anon("nspcc-monthly:2023", start="2023-01-01", source="nspcc-monthly", **lily) | exploited]
    groups = groups_of(*rows, *FILLER)
    # each pair a year apart joins on the distinctive name; the two stories never end up in one review
    assert not any("nspcc-library:2021" in g and "nspcc-monthly:2023" in g for g in groups)
    assert ["nspcc-library:2021", "nspcc-recent:2022"] in groups


# --- dates-agree-first -------------------------------------------------------------------------------------------


def test_records_whose_dates_agree_join_first_and_a_listings_lag_only_then() -> None:
    mason = dict(names=("mason", "leo"))  # two names: a distinctive key, which a listing's lag apart may join
    starved = {"summary": "Mason, aged four, admitted to hospital weighing less than a typical two-year-old; no GP "
                          "visit for two years and his nursery place withdrawn."}
    stabbed = {"summary": "Mason, a 13-year-old boy, stabbed after criminal exploitation by older teenagers; "
                          "reported missing eleven times."}
    rows = [anon("nspcc-recent:2018", start="2018-01-01", source="nspcc-recent", **mason) | stabbed,
            anon("nspcc-library:2019", start="2019-01-01", source="nspcc-library", **mason),  # no abstract
            anon("nspcc-monthly:2019", start="2019-06-01", end="2019-06-30", precision="month",
                 source="nspcc-monthly", **mason) | starved]
    # The 2018 entry meets the library record first (a year's slack); the library record's own year is
    # stronger evidence, so it joins the 2019 list entry, and the 2018 story stays apart from that one.
    groups = groups_of(*rows, *FILLER)
    assert ["nspcc-library:2019", "nspcc-monthly:2019"] in groups and ["nspcc-recent:2018"] in groups


# --- containment -------------------------------------------------------------------------------------------------


def test_a_multi_child_title_joins_a_record_of_one_of_its_children_unless_that_is_ambiguous() -> None:
    assert len(groups_of(row("list:r", names=("child r", "family r")), row("library:r", names=("child r",)))) == 1
    groups = groups_of(row("list:jkv", names=("child j", "child k", "child v")),
                       row("library:j", names=("child j",)), row("library:k", names=("child k",)),
                       row("library:v", names=("child v",)))
    assert len(groups) == 4  # one entry naming three children, three records naming one each: join none


# === the linker's own rules (``link.linkrules.LINK_RULES``), each one's tests under its name ===================


def _links(*rows: dict, decisions: tuple = ()) -> dict[str, tuple[str, str, str | None]]:
    """Each link of the rows' linkage: local entry -> (national entry, decision, the entry it follows)."""
    return {l.entry_a: (l.entry_b, l.decision, l.features.get("through"))
            for l in link.link_all(rows, decisions).links}


def test_every_linker_rule_has_a_name_evidence_a_case_and_says_why() -> None:
    from reposync.link.linkrules import LINK_RULES

    assert [r.name for r in LINK_RULES] == ["one-review-many-documents", "report-first", "same-children-queued",
                                            "several-children-letters"]
    for rule in LINK_RULES:
        assert rule.evidence and rule.case and len(rule.why) > 40, rule.name


# Issue 25's Child K: one page, one date, four documents (SYNTHETIC rows).
def _document(slug: str, title: str, key: str, **kw) -> dict:
    kw.setdefault("start", "2015-02-18")
    return local(f"kent:{slug}", names=("child k",), title=key, **kw) | {"title": title}


CHILD_K = [_document("child-k-executive-summary", "Child K Executive Summary", "child k"),
           _document("media-statement-child-k", "Media Statement – Child K", "media statement child k"),
           _document("child-k-scr-action-plan", "Child K SCR Action Plan", "child k action plan"),
           _document("child-k-overview-report", "Child K Overview Report", "child k")]
K_LIST = row("n:k", names=("child k",), start="2015-02-01", end="2015-02-28", precision="month")


# --- one-review-many-documents -----------------------------------------------------------------------------------


def test_one_pages_documents_of_the_same_children_and_date_are_one_review() -> None:
    linkage = link.link_all(CHILD_K)  # nothing national: one review still, not four
    assert sorted(r["id"] for r in CHILD_K) in linkage.groups
    # Another date, a year-only date, other children: not one review's documents.
    apart = [_document("a", "Child K", "child k", start="2016-03-01"),
             _document("b", "Child K Executive Summary", "child k", start="2015-01-01", precision="year"),
             _document("c", "Child K", "child k", start="2015-01-01", precision="year"),
             local("kent:d", names=("child l",), start="2015-02-18")]
    assert sorted(link.link_all([*CHILD_K, *apart]).groups) == sorted(
        [sorted(r["id"] for r in CHILD_K), ["kent:a"], ["kent:b"], ["kent:c"], ["kent:d"]])


def test_one_reviews_documents_are_queued_once_and_a_rejection_bars_them_all() -> None:
    year_only = row("n:k", names=("child k",), start="2014-01-01")  # a common pseudonym a year apart: a question
    found = link.link_all([*CHILD_K, year_only]).links
    assert [(l.entry_a, l.entry_b, l.decision) for l in found] == [("kent:child-k-overview-report", "n:k", "review")]
    assert sorted(found[0].features["documents"]) == sorted(r["id"] for r in CHILD_K[:3])
    no = link.Decision("kent:child-k-overview-report", "n:k", "rejected", "2026-01-01T00:00:00+00:00")
    assert [l.decision for l in link.link_all([*CHILD_K, year_only], [no]).links] == ["rejected"]


# --- report-first ------------------------------------------------------------------------------------------------


def test_a_review_is_linked_through_its_report_and_its_other_documents_follow() -> None:
    report = "kent:child-k-overview-report"
    assert _links(*CHILD_K, K_LIST) == {report: ("n:k", "auto", None)} | {
        r["id"]: ("n:k", "auto", report) for r in CHILD_K[:3]}
    # Whatever the order of the rows or of the ids: the report, never the summary by id order.
    assert _links(*reversed(CHILD_K), K_LIST)[report] == ("n:k", "auto", None)


def test_a_person_accepting_one_document_brings_the_others() -> None:
    yes = link.Decision("kent:media-statement-child-k", "n:k", "accepted", "2026-01-01T00:00:00+00:00")
    year_only = row("n:k", names=("child k",), start="2014-01-01")
    found = _links(*CHILD_K, year_only, decisions=(yes,))
    assert found["kent:media-statement-child-k"] == ("n:k", "accepted", None)
    assert {found[r["id"]] for r in CHILD_K if r["id"] != "kent:media-statement-child-k"} == {
        ("n:k", "auto", "kent:media-statement-child-k")}


def test_two_entries_of_a_page_tying_for_one_review_go_to_a_person_not_to_the_smaller_id() -> None:
    # Two reviews' entries (different dates) that score alike against one national review.
    rows = [local("kent:a1", start="2014-05-05"), local("kent:a2", start="2014-05-05", title="child a ")
            | {"published_start": "2014-05-06", "published_end": "2014-05-06"},
            row("n:a", start="2014-05-01", end="2014-05-31", precision="month")]
    found = _links(*rows)
    assert found == {"kent:a1": ("n:a", "review", None), "kent:a2": ("n:a", "review", None)}


# --- same-children-queued ----------------------------------------------------------------------------------------


def test_a_local_entry_naming_the_same_children_as_a_record_of_its_area_within_two_years_is_queued() -> None:
    # Issue 25: "Siblings A and B" and "Children A and B" (one pseudonym set since issue 25's normalise), a
    # year and a bit apart, described differently: under the queue band, and queued all the same.
    namesakes = [row(f"n:other{i}", codes=(f"E0600{i:04d}",), names=(("child a",) if i % 2 else ("child b",)))
                 for i in range(60)]  # a common pair of pseudonyms across the country
    siblings = local("kent:siblings", names=("child a", "child b"), title="siblings a and b", start="2018-02-01",
                     review_type="lcspr") | {"note": "Two brothers neglected at home; school attendance, housing and "
                                                     "health visiting"}
    children = row("n:children", names=("child a", "child b"), title="children a and b", start="2016-01-01") | {
        "summary": "Two siblings exposed to domestic abuse; police callouts, refuge and probation"}
    found = link.link_all([siblings, children, *namesakes]).links
    assert [(l.entry_b, l.decision) for l in found] == [("n:children", "review")] and found[0].score < link.REVIEW
    # Not another area's, nor more than two years apart.
    elsewhere = children | {"id": "n:elsewhere", "la_codes": ["E06000001"]}
    later = children | {"id": "n:later", "published_start": "2015-01-01", "published_end": "2015-12-31"}
    assert link.link_all([siblings, elsewhere, later, *namesakes]).links == []


# --- several-children-letters ----------------------------------------------------------------------------------


def test_several_childrens_letters_are_the_case_whatever_their_age_word() -> None:
    # Issue 25's blind half (Sunderland, SYNTHETIC): a local "Baby A and Baby B", the national "Twins A and B"
    # and "Baby A and Baby B" of the same area and year: one review, linked.
    babies = local("syn-sunderland:babies", names=("baby a", "baby b"), title="baby a and baby b",
                   start="2021-04-21", review_type="lcspr")
    twins = row("nspcc-recent:twins", names=("child a", "child b"), title="twins a and b", start="2021-01-01",
                review_type="lcspr")
    library = row("nspcc-library:babies", names=("baby a", "baby b"), title="baby a and baby b", start="2021-01-01",
                  review_type="lcspr")
    linkage = link.link_all([babies, twins, library])
    assert ["nspcc-library:babies", "nspcc-recent:twins"] in linkage.national_groups
    assert {(l.entry_a, l.decision) for l in linkage.links} == {("syn-sunderland:babies", "auto")}
    # One child keeps the age word: a page's Baby H and the next year's Child H are two reviews.
    assert len(groups_of(row("list:h", names=("baby h",)), row("library:h", names=("child h",)))) == 2

