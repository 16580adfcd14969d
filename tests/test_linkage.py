"""Dedupe and linking: the gold-set targets, then blocking, scoring, assignment and decisions one by one."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT
from reposync.link import explain
from reposync import link
from reposync.catalogue import SourceOutcome, apply_run, open_db, start_run

GOLD_DIR = FIXTURES / "linkage"
HARD_STRATA = ("same-pseudonym-other-area", "same-area-adjacent-year", "anonymous-common-pseudonym", "multi-child",
               "thematic", "document-date")
# Issue 14's strata: national records only (decoys) or local and national.
NEW_STRATA = ("anonymous-same-review", "anonymous-same-pseudonym", "thematic-across-listings", "thematic-decoy",
              "document-date-decoy", "bulk-decoy")
# The held-out half before issue 14 (this gold set scored by bench/linkage.py with the linker of 2b7c6b5): the
# review queue held 34 rows for 65 local entries, 15 of them against named national records.
BASELINE_QUEUE_SHARE = 34 / 65
BASELINE_NAMED_SHARE = 15 / 65


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load("bench_linkage", ROOT / "bench" / "linkage.py")
builder = _load("build_gold", GOLD_DIR / "build_gold.py")


@pytest.fixture(scope="module")
def full_gold() -> dict:
    return bench.load_gold()


@pytest.fixture(scope="module")
def gold(full_gold: dict) -> dict:
    # The targets below are the tune and holdout halves': the fresh half (fresh_cases.py) is measured by
    # bench/linkage.py and has no target here yet; the blind, final, last, check and issue25 halves (blind_cases.py,
    # final_cases.py, last_cases.py, check_cases.py, issue25_cases.py) only once, at the end.
    return bench.without_fresh(full_gold)


@pytest.fixture(scope="module")
def linkage(gold: dict) -> link.Linkage:
    return link.link_all(bench.gold_rows(gold))


@pytest.fixture(scope="module")
def result(gold: dict, linkage: link.Linkage) -> dict:
    return bench.evaluate(gold, linkage)


@pytest.fixture(scope="module")
def holdout(gold: dict, linkage: link.Linkage) -> dict:
    return bench.evaluate(gold, linkage, "holdout")


# --- the gold set --------------------------------------------------------------------------------------


def test_gold_set_is_big_enough_and_labelled(full_gold: dict) -> None:
    gold = full_gold
    assert len(gold["local"]) >= 40
    assert len(gold["pairs"]) >= 25
    for entry in gold["local"] + gold["national"]:
        assert isinstance(entry["synthetic"], bool) and entry["stratum"], entry["id"]
    strata = Counter(entry["stratum"] for entry in gold["local"])
    for stratum in HARD_STRATA:
        assert strata[stratum] >= 5, stratum
    # York's Baby A: real locally and in the 2013 list; synthetic national records dated 2011 and 2013.
    baby_a = [n for n in gold["national"] if n["case"] == "york-baby-a"]
    assert {(n["synthetic"], n["date_text"]) for n in baby_a} >= {(False, "October 2013"), (True, "2011"),
                                                                  (True, "2013")}


def test_gold_has_the_hard_cases_of_issue_14_in_both_halves(full_gold: dict) -> None:
    gold = full_gold
    national = Counter(n["stratum"] for n in gold["national"])
    for stratum in NEW_STRATA:
        assert national[stratum] >= 5, stratum
    assert national["bulk-decoy"] == 1500
    bulk = [n for n in gold["national"] if n["stratum"] == "bulk-decoy"]
    assert len({n["area_text"] for n in bulk}) > 100 and len({n["date_text"] for n in bulk}) == 15
    assert all(n["synthetic"] for n in bulk)
    # At least 40 new hard pairs and non-pairs: the national records of the new strata (bulk aside) and the
    # local entries that go with them.
    new = [n for n in gold["national"] if n["stratum"] in NEW_STRATA and n["stratum"] != "bulk-decoy"]
    new += [l for l in gold["local"] if l["stratum"] in NEW_STRATA]
    assert len(new) >= 40 and all(e["synthetic"] for e in new)
    for entries in (gold["local"], gold["national"]):
        assert {e["half"] for e in entries} == {"tune", "holdout", "fresh", "blind", "final", "last",
                                                  "check", "issue25"}
    # A case is wholly in one half: its pairs are never split.
    half_of_case: dict = {}
    for entry in gold["local"] + gold["national"]:
        if entry["case"]:
            assert half_of_case.setdefault(entry["case"], entry["half"]) == entry["half"], entry["id"]


def test_gold_pairs_are_the_pairs_of_shared_cases(full_gold: dict) -> None:
    gold = full_gold
    national_case = {n["id"]: n["case"] for n in gold["national"]}
    derived = sorted([l["id"], n] for l in gold["local"] if l["case"] for n, c in national_case.items()
                     if c == l["case"])
    assert gold["pairs"] == derived


def test_real_gold_entries_are_in_the_snapshot_fixtures(full_gold: dict) -> None:
    gold = full_gold
    """Real entries must stay real: each is an entry of the parsers' expected JSON for the bundled snapshots."""
    seen: dict[str, set] = {}
    for path in (FIXTURES / "snapshots").glob("*/*.json"):
        for raw in json.loads(path.read_text(encoding="utf-8"))["result"]["entries"]:
            seen.setdefault(path.parent.name, set()).add((raw["title"], raw.get("date_text")))
    for entry in gold["local"] + gold["national"]:
        if entry["synthetic"] or entry["source"] not in seen:
            continue  # a source whose fixtures are not in this checkout
        assert (entry["title"], entry["date_text"]) in seen[entry["source"]], (
            f"{entry['id']} is no longer in the snapshot fixtures: rerun tests/fixtures/linkage/build_gold.py")


def test_the_fresh_cases_are_wholly_in_the_fresh_half_and_the_older_gold_unchanged(full_gold: dict) -> None:
    fresh_local, fresh_national = builder.cases_of(builder.fresh_cases)
    ids = {n["id"] for n in fresh_national} | {builder._id(source, "local", builder.RawEntry(title=t, page_url=builder.URL))
                                               for source, (_, items) in fresh_local.items() for t, *_ in items}
    entries = full_gold["local"] + full_gold["national"]
    assert {e["id"] for e in entries if e["half"] == "fresh"} == ids
    assert all(e["synthetic"] for e in entries if e["half"] == "fresh")
    # No case spans the fresh half and another, and the older halves keep their number of entries.
    fresh_cases = {e["case"] for e in entries if e["half"] == "fresh" and e["case"]}
    assert not fresh_cases & {e["case"] for e in entries if e["half"] != "fresh"}
    assert Counter(e["half"] in ("tune", "holdout") for e in full_gold["local"])[True] == 132
    assert Counter(e["half"] in ("tune", "holdout") for e in full_gold["national"])[True] == 1706
    # At least 40 true same-review pairs (local-national, and national records of one review) and as many
    # hard non-pairs (a fresh record of another review with the same pseudonym or topic).
    by_case = Counter(n["case"] for n in fresh_national)
    pairs = sum(1 for p in full_gold["pairs"] if p[0] in ids) + sum(k * (k - 1) // 2 for k in by_case.values())
    decoys = [n for n in fresh_national if n["stratum"].endswith(("-decoy", "-same-pseudonym", "-other-area"))
              and not any(l[2] == n["case"] for _, items in fresh_local.values() for l in items)]
    assert pairs >= 40 and len(decoys) >= 20


# Entries of each half (local, national) as gold.json holds them: a half added later never changes these.
HALF_SIZES = {("tune", "holdout"): (132, 1706), ("fresh",): (38, 97), ("blind",): (45, 110), ("final",): (37, 112),
              ("last",): (33, 107), ("check",): (36, 112), ("issue25",): (36, 67)}


# issue25_cases.py is smaller (about 30 local entries, 60 national records, issue 25's inputs only): fewer national
# records of one review.
@pytest.mark.parametrize("name, decoys_at_least, same_at_least", [("blind", 20, 35), ("final", 35, 35),
                                                                   ("last", 35, 35), ("check", 35, 35),
                                                                   ("issue25", 20, 25)])
def test_a_half_measured_once_is_wholly_its_own_after_the_older_gold_and_left_out_unless_asked(
        full_gold: dict, gold: dict, name: str, decoys_at_least: int, same_at_least: int) -> None:
    half_local, half_national = builder.cases_of(dict(builder.BLIND_HALVES)[name])
    local_ids = {builder._id(source, "local", builder.RawEntry(title=t, page_url=builder.URL))
                 for source, (_, items) in half_local.items() for t, *_ in items}
    ids = {n["id"] for n in half_national} | local_ids
    entries = full_gold["local"] + full_gold["national"]
    assert {e["id"] for e in entries if e["half"] == name} == ids
    assert all(e["synthetic"] for e in entries if e["half"] == name)
    # No case or local page spans this half and another; every half keeps its number of entries, and this one's
    # come after every older half's (so the older lines of gold.json stay as they were).
    assert not {e["case"] for e in entries if e["half"] == name and e["case"]} & {
        e["case"] for e in entries if e["half"] != name}
    assert not set(half_local) & {e["source"] for e in full_gold["local"] if e["half"] != name}
    counts = [Counter(e["half"] for e in full_gold[kind]) for kind in ("local", "national")]
    for halves, sizes in HALF_SIZES.items():
        assert tuple(sum(c[h] for h in halves) for c in counts) == sizes, halves
    order = ["tune", "holdout", *(h for h, _ in builder.BLIND_HALVES)]
    older = set(order[:order.index(name)])
    for kind in ("local", "national"):
        at = [n for n, e in enumerate(full_gold[kind]) if e["half"] == name]
        assert all(e["half"] not in older for e in full_gold[kind][at[0]:])
    # The targets' gold set and bench/linkage.py's default leave it out; its flag (alone or with others) adds it.
    assert not {e["id"] for e in gold["local"] + gold["national"]} & ids
    assert not {p[0] for p in gold["pairs"]} & ids
    assert not {e["id"] for e in bench.without_blind(full_gold)["national"]} & ids
    assert {e["half"] for e in bench.without_blind(full_gold, keep=(name,))["national"]} == {
        "tune", "holdout", "fresh", name}
    # At least 40 true local-national pairs, 35 national same-review pairs, decoy records of another review with
    # the same pseudonym or topic, and local entries with no national review.
    by_case = Counter(n["case"] for n in half_national)
    links = sum(1 for p in full_gold["pairs"] if p[0] in local_ids)
    same = sum(k * (k - 1) // 2 for k in by_case.values())
    linked = {l[2] for _, items in half_local.values() for l in items}
    decoys = [n for n in half_national if n["stratum"].endswith(("-decoy", "-same-pseudonym", "-other-area"))
              and n["case"] not in linked]
    assert links >= 40 and same >= same_at_least and len(decoys) >= decoys_at_least
    assert sum(1 for _, items in half_local.values() for l in items if l[2] is None) >= 5


def test_gold_json_is_what_the_builder_writes() -> None:
    built = builder.build()  # a labelled page whose entries changed, unlabelled, fails here (SystemExit)
    assert builder.dumps(built) == (GOLD_DIR / "gold.json").read_text(encoding="utf-8"), (
        "gold.json is stale: rerun tests/fixtures/linkage/build_gold.py and review the diff")


def test_targets_on_the_held_out_half(holdout: dict) -> None:
    overall = holdout["overall"]
    assert overall["wrong_auto"] == [] and overall["precision"] == 1.0
    assert overall["recall"] >= 0.95, overall["missed"]
    assert overall["queue"] / overall["local"] <= BASELINE_QUEUE_SHARE
    assert overall["queue_named"] / overall["local"] <= BASELINE_NAMED_SHARE
    dedupe = holdout["dedupe"]
    assert dedupe["wrong"] == []
    assert dedupe["f1"] >= 0.98, dedupe["missed"]


def test_anonymous_national_records_are_never_linked_automatically(gold: dict, linkage: link.Linkage) -> None:
    anonymous = {n["id"] for n in gold["national"]
                 if (n.get("area_text") or "").lower() in ("anonymous", "nspcc on behalf of unnamed lscb")}
    assert anonymous
    for item in linkage.links:
        if item.decision == "auto":
            assert not set(item.features["review_entries"]) & anonymous, item


def test_targets_on_the_gold_set(result: dict) -> None:
    overall = result["overall"]
    assert overall["wrong_auto"] == [] and overall["precision"] == 1.0
    assert overall["recall"] >= 0.95, overall["missed"]
    # The queue a person works through, not counting candidates against anonymous national records.
    assert overall["queue_named"] <= 0.10 * overall["local"]


@pytest.mark.parametrize("stratum", HARD_STRATA)
def test_no_wrong_automatic_link_in_any_hard_stratum(result: dict, stratum: str) -> None:
    figures = result["strata"][stratum]
    assert figures["wrong_auto"] == []
    assert figures["recall"] is None or figures["recall"] >= 0.95 or len(figures["missed"]) <= 1


def test_dedupe_never_merges_two_reviews(result: dict) -> None:
    assert result["dedupe"]["wrong"] == []
    assert result["dedupe"]["recall"] >= 0.8


def test_the_blind_halves_keep_what_they_measured() -> None:
    """The halves written blind (bench/README.md, "Blind halves"), linked together with the rest of the gold set:
    no wrong automatic link anywhere; no wrong merge but final's three (anonymous given names the same year,
    each with a description the other does not share); the dedupe's F1 no lower than measured."""
    # Every half now measured (check_cases.py, the last written, once: F1 1.000 on its first run).
    whole = bench.load_gold()
    linkage = link.link_all(bench.gold_rows(whole))
    # issue25 (issue25_cases.py): measured once at 0.951 recall (the queue counted) and F1 0.980 (bench/README);
    # the development half since: recall 1.000, F1 1.000, which it keeps.
    floors = {"fresh": 0.98, "blind": 0.97, "final": 0.94, "last": 0.97, "check": 0.98, "issue25": 1.0}
    recall_floors = {"issue25": 1.0}
    for half, floor in floors.items():
        figures = bench.evaluate(whole, linkage, half)
        assert figures["overall"]["wrong_auto"] == [], half
        assert figures["overall"]["recall"] >= recall_floors.get(half, 0.93), (half, figures["overall"]["missed"])
        assert len(figures["dedupe"]["wrong"]) <= (3 if half == "final" else 0), (half, figures["dedupe"]["wrong"])
        assert figures["dedupe"]["f1"] >= floor, (half, figures["dedupe"]["missed"])


def test_york_baby_a_links_to_its_list_entry_and_its_review_holds_the_2011_summary(gold: dict) -> None:
    linkage = link.link_all(bench.gold_rows(gold))
    york = {(l.entry_b, l.decision) for l in linkage.links if l.entry_a == "york:baby-a"}
    assert ("nspcc-2013:city-of-york-baby-a", "auto") in york
    # the executive summary dated 2011 is the one review of York's Baby A in the two years after it: the same review
    (group,) = [g for g in linkage.national_groups if "nspcc-2013:city-of-york-baby-a" in g]
    assert "nspcc-library:SYN001" in group and "nspcc-library:SYN002" in group
    birmingham = [l for l in linkage.links if l.entry_a == "york:baby-a" and "birmingham" in l.entry_b.lower()]
    assert birmingham == []


# --- units: rows as the catalogue holds them ----------------------------------------------------------------


def row(id: str, kind: str = "national", codes: tuple[str, ...] = ("E10000016",), names: tuple[str, ...] = ("child a",),
        title: str | None = None, start: str = "2014-01-01", end: str | None = None, precision: str = "year",
        source: str | None = None, review_type: str = "scr", area: str | None = "Kent") -> dict:
    if end is None:
        end = start[:4] + "-12-31" if precision == "year" else start
    return {"id": id, "kind": kind, "source": source or id.split(":")[0], "la_codes": list(codes),
            "area": area if codes else None, "pseudonyms": list(names),
            "title_key": title if title is not None else " and ".join(names), "published_start": start,
            "published_end": end, "published_precision": precision, "review_type": review_type}


def local(id: str, **kw) -> dict:
    kw.setdefault("precision", "day")
    kw.setdefault("source", "kent")
    return row(id, kind="local", **kw)


def anon(id: str, **kw) -> dict:
    return row(id, codes=(), area=None, **kw)


def records(*rows: dict) -> dict[str, link.Record]:
    return {r["id"]: link.Record.from_row(r) for r in rows}


def test_date_relation_reads_intervals_at_their_precision() -> None:
    r = records(
        local("l:day", start="2013-12-15"),
        row("n:2014", start="2014-01-01"),
        row("n:2013", start="2013-01-01"),
        row("n:dec", start="2013-12-01", end="2013-12-31", precision="month"),
        row("n:2011", start="2011-01-01"),
        row("n:2008", start="2008-01-01"),
    )
    day = r["l:day"]
    assert link.date_relation(day, r["n:2013"]) == ("overlap", 0)
    assert link.date_relation(day, r["n:dec"]) == ("overlap", 0)
    # A year-only date is the whole year: 17 days before its first day is not "near" (it may be a year off).
    assert link.date_relation(day, r["n:2014"])[0] == "adjacent-year"
    assert link.date_relation(r["n:2013"], r["n:2014"])[0] == "adjacent-year"  # two whole years say little
    assert link.date_relation(r["n:dec"], r["n:2014"])[0] == "adjacent-year"  # a December list, next year's record
    assert link.date_relation(r["n:dec"], records(local("l:jan", start="2014-01-20"))["l:jan"]) == ("near", 20)
    assert link.date_relation(day, r["n:2011"])[0] == "within-3-years"
    assert link.date_relation(day, r["n:2008"])[0] == "far"


def test_a_year_only_date_is_a_year_not_near_on_a_common_pseudonym_alone() -> None:
    """Issue 25.7: a local Child A of 10 December 2015 and a national Child A dated only "2016", same area: not
    "near" (it may be a year later), so a common pseudonym alone sends the pair to a person, not a link."""
    rows = [local("kent:a", start="2015-12-10"), row("n:a", start="2016-01-01"),
            row("n:b", names=("child b",), start="2016-01-01")]
    r = records(*rows)
    assert link.date_relation(r["kent:a"], r["n:a"]) == ("adjacent-year", 22)
    assert decisions_of(link.link_all(rows)) == {("kent:a", "n:a"): "review"}
    # two names are evidence enough across the year boundary
    rare = [local("kent:cs", names=("charlie", "sam"), start="2015-12-10"),
            row("n:cs", names=("charlie", "sam"), start="2016-01-01")]
    assert decisions_of(link.link_all(rare)) == {("kent:cs", "n:cs"): "auto"}


def test_the_dedupe_and_the_links_are_the_same_whatever_the_order_of_the_rows(full_gold: dict) -> None:
    """Issue 25.7: an incremental catalogue (rows in the order runs added them) and a rebuild from snapshots
    (another order) group alike: the whole gold set, shuffled with several seeds, gives the same reviews and
    the same links."""
    import random

    rows = bench.gold_rows(full_gold)

    def outcome(rs: list[dict]) -> tuple:
        found = link.link_all(rs)
        return ({frozenset(g) for g in found.national_groups}, {frozenset(g) for g in found.groups},
                {(l.entry_a, l.entry_b, l.decision) for l in found.links})

    first = outcome(rows)
    for seed in (1, 3, 5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert outcome(shuffled) == first, seed


def test_a_common_pseudonym_is_weak_evidence_and_a_rare_one_strong() -> None:
    rows = [row(f"n:{i}", codes=(f"E0600{i:04d}",), names=("child a",)) for i in range(40)]
    rows += [row("n:br", names=("child br",)), row("n:bds", names=("bds12",)), row("n:gab", names=("gabriel",))]
    weights = link.Weights.from_records(link.Record.from_row(r) for r in rows)
    assert weights.bits("child a") < weights.bits("gabriel") < weights.bits("child br") < weights.bits("bds12")
    # a small collection does not make "Child A" look rare: the prior from its shape holds it down
    tiny = link.Weights.from_records([link.Record.from_row(row("n:1"))])
    assert tiny.bits("child a") < 6 < tiny.bits("child br")


def test_the_same_review_counts_once_in_a_pseudonyms_commonness() -> None:
    listed_thrice = [row(f"s{i}:x", names=("child zz",), source=f"s{i}") for i in range(3)]
    weights = link.Weights.from_records(link.Record.from_row(r) for r in listed_thrice)
    assert weights.df["child zz"] == 1


def test_score_weighs_pseudonym_rarity_area_and_dates() -> None:
    r = records(local("l:a", names=("child a",), start="2014-05-05"), row("n:a"),
                local("l:br", names=("child br",), start="2014-05-05"), row("n:br", names=("child br",)),
                row("n:b", names=("child b",)), row("n:a15", start="2015-01-01"))
    weights = link.Weights.from_records(v for v in r.values() if v.kind == "national")
    common, features = link.compare(r["l:a"], r["n:a"], weights)
    rare, _ = link.compare(r["l:br"], r["n:br"], weights)
    assert rare > common >= link.AUTO
    assert features["area"] == "same" and features["date"] == "overlap" and features["names_shared"] == ["child a"]
    assert set(features["points"]) == {"area", "date", "names", "title", "type", "summary", "document"}
    assert link.score(r["l:a"], r["n:b"], weights) < 0  # both name a child, not the same one
    assert link.REVIEW <= link.score(r["l:a"], r["n:a15"], weights) < link.AUTO  # a year on: a person decides


def test_titles_that_name_no_one_compare_on_their_content_words() -> None:
    r = records(local("l:t", names=(), title="thematic review of neglect", review_type="thematic"),
                row("n:same", names=(), title="neglect a thematic review", review_type="thematic"),
                row("n:other", names=(), title="thematic review of domestic abuse", review_type="thematic"))
    weights = link.Weights.from_records([r["n:same"], r["n:other"]])
    assert link.score(r["l:t"], r["n:same"], weights) >= link.AUTO
    assert link.score(r["l:t"], r["n:other"], weights) < link.REVIEW


# --- national dedupe -------------------------------------------------------------------------------------------


def groups_of(*rows: dict) -> list[list[str]]:
    return link.link_all(rows).national_groups


def test_dedupe_joins_listings_of_one_review() -> None:
    groups = groups_of(
        row("nspcc-2014:kent-child-a", start="2014-06-01", end="2014-06-30", precision="month"),
        row("nspcc-library:NC1", title="child a"),
        row("nspcc-library:NC2", title="child a executive summary")
        | {"title": "Serious case review: Child A: executive summary"},
    )
    assert groups == [["nspcc-2014:kent-child-a", "nspcc-library:NC1", "nspcc-library:NC2"]]
    # one listing lists a review once: two library records of it that are not summary documents are two reviews
    groups = groups_of(
        row("nspcc-2014:kent-child-a", start="2014-06-01", end="2014-06-30", precision="month"),
        row("nspcc-library:NC1", title="child a"),
        row("nspcc-library:NC3", title="child a"),
    )
    assert len(groups) == 2 and ["nspcc-library:NC1", "nspcc-library:NC3"] not in groups


def test_dedupe_gives_a_year_of_slack_only_to_a_distinctive_case_in_another_listing() -> None:
    december = dict(start="2013-12-01", end="2013-12-31", precision="month")
    assert len(groups_of(row("list:br", names=("child br",), **december),
                         row("library:br", names=("child br",), start="2014-01-01"))) == 1
    # "Child A" a year apart in one area is usually two children
    assert len(groups_of(row("list:a", **december), row("library:a", start="2014-01-01"))) == 2
    # two entries of one listing are two reviews
    assert len(groups_of(row("library:br1", names=("child br",), start="2013-01-01"),
                         row("library:br2", names=("child br",), start="2014-01-01"))) == 2


def test_anonymous_records_group_only_with_each_other_on_a_distinctive_key() -> None:
    assert len(groups_of(anon("list:ab", names=("child ab",)), anon("library:ab", names=("child ab",)))) == 1
    assert len(groups_of(anon("list:c", names=("child c",)), anon("library:c", names=("child c",)))) == 2
    assert len(groups_of(anon("list:ab", names=("child ab",)), row("library:ab", names=("child ab",)))) == 2
    assert len(groups_of(anon("list:cs", names=("charlie", "sam")), anon("library:cs", names=("charlie", "sam")))) == 1


def test_a_summary_document_whose_text_tells_another_story_stays_apart() -> None:
    story = "a baby with a fractured skull and the response to bruising in a non-mobile infant"
    other = "a teenage girl sexually exploited by older men, missing episodes and the police response"
    filler = [row(f"library:f{i}", names=(f"child f{i}",)) | {"summary": f"Matter{i} of topic{i}."} for i in range(20)]
    rows = [row("library:es", title="child a executive summary", start="2011-01-01")
            | {"summary": story, "title": "Serious case review: Child A: executive summary"},
            row("nspcc-2012:a", start="2012-01-01") | {"summary": other}, *filler]
    assert ["library:es"] in groups_of(*rows)
    verdict, reason = link.same_review_reason(*(link.Record.from_row(r) for r in rows[:2]),
                                              link.Weights.from_records(link.Record.from_row(r) for r in rows))
    assert verdict is None and "different stories" in reason


# --- blocking --------------------------------------------------------------------------------------------------


def test_blocking_finds_the_area_the_anonymous_and_the_thematic_by_dict_lookups() -> None:
    linker = link.Linker([
        local("kent:a", start="2014-05-05"),
        local("kent:t", names=(), title="thematic review of bruising", start="2019-05-05", review_type="thematic"),
        row("n:kent-2014"), row("n:kent-2015", start="2015-01-01"), row("n:kent-2018", start="2018-01-01"),
        row("n:kent-2012", start="2012-01-01"),  # same names, two years before: the wide pass
        row("n:kent-2014-b", names=("child b",)),  # same area and year, another child: filtered
        row("n:surrey-2014", codes=("E10000030",)),  # another area: never
        anon("n:anon-2014"), anon("n:anon-2018", start="2018-01-01"),
        anon("n:anon-theme", names=(), title="thematic review bruising", start="2019-01-01"),
        anon("n:anon-other", names=(), title="thematic review of neglect", start="2019-01-01"),
    ])
    assert set(linker.candidates(linker.by_id["kent:a"])) == {"n:kent-2014", "n:kent-2015", "n:kent-2012",
                                                              "n:anon-2014"}
    assert set(linker.candidates(linker.by_id["kent:t"])) == {"n:anon-theme"}


def test_an_undated_local_entry_finds_its_namesakes_for_a_person() -> None:
    undated = local("kent:a")
    undated.update(published_start=None, published_end=None, published_precision=None)
    found = decisions_of(link.link_all([undated, row("n:a"), row("n:b", names=("child b",))]))
    assert found == {("kent:a", "n:a"): "review"}


def test_linking_scores_candidates_not_all_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = bench.synthetic_collection(20000, 1000)
    calls = Counter()
    real = link.score

    def counting(*args):
        calls["score"] += 1
        return real(*args)

    monkeypatch.setattr(link.linker, "score", counting)  # what the linker scores with
    link.link_all(rows)
    assert calls["score"] < 50 * 1000  # all pairs would be 20 million


# --- assignment and bands ----------------------------------------------------------------------------------------


def decisions_of(linkage: link.Linkage) -> dict[tuple[str, str], str]:
    return {(l.entry_a, l.entry_b): l.decision for l in linkage.links}


def test_one_local_entry_one_national_review_and_one_review_one_entry_per_page() -> None:
    linkage = link.link_all([
        local("kent:a", start="2014-05-05"), local("kent:a-summary", title="child a summary", start="2014-05-06"),
        row("n:list", start="2014-05-01", end="2014-05-31", precision="month", source="nspcc-2014"),
        row("n:library", source="nspcc-library"),
    ])
    found = decisions_of(linkage)
    auto = [pair for pair, d in found.items() if d == "auto"]
    assert len(auto) == 1  # the list and the library record are one review: one link, to its best entry
    assert auto[0][1] == "n:list" and found.get(("kent:a-summary", "n:list")) == "review"
    review = next(g for g in linkage.groups if "n:list" in g)
    assert review == sorted(["n:library", "n:list", auto[0][0]])


def test_a_local_briefing_links_beside_its_review() -> None:
    found = decisions_of(link.link_all([
        local("kent:gabriel", names=("gabriel",), start="2025-06-03", review_type="lcspr"),
        local("kent:briefing", names=("gabriel",), title="gabriel", start="2025-06-03", review_type="briefing"),
        row("n:gabriel", names=("gabriel",), start="2025-01-01", review_type="lcspr"),
    ]))
    assert found == {("kent:gabriel", "n:gabriel"): "auto", ("kent:briefing", "n:gabriel"): "auto"}


def test_two_equally_good_reviews_go_to_a_person() -> None:
    found = decisions_of(link.link_all([
        local("kent:a", start="2014-05-05"),
        row("n:one", start="2014-05-01", end="2014-05-31", precision="month"),
        row("n:two", start="2014-03-01", end="2014-03-31", precision="month"),
    ]))
    assert found == {("kent:a", "n:one"): "review", ("kent:a", "n:two"): "review"}


def test_anonymous_records_are_never_linked_automatically() -> None:
    found = decisions_of(link.link_all([
        local("kent:cs", names=("charlie", "sam"), start="2018-05-05"),
        anon("n:cs", names=("charlie", "sam"), start="2018-01-01"),
    ]))
    assert found == {("kent:cs", "n:cs"): "review"}


def test_an_already_linked_entry_is_not_queued_against_anonymous_or_later_namesakes() -> None:
    found = decisions_of(link.link_all([
        local("kent:a", start="2014-05-05"),
        row("n:a-2014", start="2014-05-01", end="2014-05-31", precision="month"),
        row("n:a-2015", start="2015-01-01"),  # a later Child A of Kent: another review
        row("n:a-2013-doc", start="2013-01-01", source="library"),  # dated before: perhaps the document date
        anon("n:anon-a"),
    ]))
    assert found == {("kent:a", "n:a-2014"): "auto", ("kent:a", "n:a-2013-doc"): "review"}


# --- people's decisions ----------------------------------------------------------------------------------------


def test_a_rejected_pair_bars_its_whole_review_and_is_never_proposed_again() -> None:
    rows = [local("kent:a", start="2014-05-05"), row("n:list", start="2014-05-01", end="2014-05-31",
                                                     precision="month", source="nspcc-2014"),
            row("n:library", source="nspcc-library")]  # two listings (one listing lists a review once)
    no = link.Decision("kent:a", "n:list", "rejected", "2026-01-01T00:00:00+00:00")
    linkage = link.link_all(rows, [no])
    assert decisions_of(linkage) == {("kent:a", "n:list"): "rejected"}
    assert ["kent:a"] in linkage.groups


def test_an_accepted_pair_holds_whatever_the_score_and_joins_the_review() -> None:
    rows = [local("kent:a", start="2014-05-05"), row("n:far", codes=("E10000030",), names=("child q",),
                                                     start="2009-01-01")]
    yes = link.Decision("kent:a", "n:far", "accepted", "2026-01-01T00:00:00+00:00")
    linkage = link.link_all(rows, [yes])
    (only,) = linkage.links
    assert (only.decision, only.decided_at) == ("accepted", yes.decided_at) and only.score < link.REVIEW
    assert ["kent:a", "n:far"] in linkage.groups


def test_decisions_on_entries_not_in_the_collection_or_not_a_local_national_pair_are_ignored() -> None:
    gone = link.Decision("kent:gone", "n:gone", "accepted", "2026-01-01T00:00:00+00:00")
    reversed_ = link.Decision("n:far", "kent:a", "accepted", "2026-01-01T00:00:00+00:00")
    rows = [local("kent:a"), row("n:far", codes=("E10000030",), names=("child q",))]
    assert link.link_all(rows, [gone, reversed_]).links == []


def test_the_newest_decision_on_a_pair_wins() -> None:
    old = link.Decision("a", "b", "accepted", "2026-01-01T00:00:00+00:00")
    new = link.Decision("a", "b", "rejected", "2026-02-01T00:00:00+00:00")
    assert link.merge_decisions([old], [new])[("a", "b")] == new
    assert link.merge_decisions([new], [old])[("a", "b")] == new


# --- the catalogue: views over the gold set --------------------------------------------------------------------


def test_views_over_the_gold_set(tmp_path: Path, gold: dict) -> None:
    rows = bench.gold_rows(gold)
    by_source: dict[str, list[dict]] = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(r)
    db = open_db(tmp_path / "gold.db")
    apply_run(db, start_run(db, "offline"),
              [SourceOutcome(source=s, departure="expired", entries=e, complete=True) for s, e in by_source.items()],
              exit_code=0)
    links = {(r["entry_a"], r["entry_b"]): r["decision"] for r in db.query("SELECT * FROM links")}
    queue = list(db.query("SELECT * FROM review_queue"))
    assert len(queue) == sum(1 for d in links.values() if d == "review") > 0
    assert {q["national_id"] for q in queue if q["anonymous"]} and {q["national_id"] for q in queue
                                                                     if not q["anonymous"]}
    missing_local = {r["id"] for r in db.query("SELECT id FROM local_missing_from_national")}
    linked = {a for (a, _), d in links.items() if d == "auto"}
    assert missing_local == {r["id"] for r in rows if r["kind"] == "local"} - linked
    assert "syn-devon:child-b" in missing_local and "york:baby-a" not in missing_local
    national_missing = {(r["partnership"], r["title"]) for r in db.query("SELECT * FROM national_missing_from_local")}
    assert ("syn-stockport", "Child Q") in national_missing  # on the national list, gone from the local page
    assert ("syn-stockport", "Child A") not in national_missing  # listed on both
    # York's Baby A is on York's page, and its 2011 summary is in its review: nothing of York's is missing.
    assert not list(db.query("SELECT * FROM national_missing_from_local WHERE partnership = 'york'"))
    # Devon's Child B of 2015 is a national review of its own (Devon's page lists a 2016 Child B) until a person
    # says whether they are one: the view says it waits in the queue.
    devon = list(db.query("SELECT * FROM national_missing_from_local WHERE partnership = 'syn-devon'"))
    assert ("nspcc-2015:devon-child-b", 1) in [(r["national_ids"], r["in_review_queue"]) for r in devon]
    assert ("syn-devon:child-b", "nspcc-2015:devon-child-b") in {(q["local_id"], q["national_id"]) for q in queue}
    # The queue shows why, in words: every feature with its points, and the decision (migration m005).
    for q in queue:
        assert q["explanation"] == explain.text(q["score"], json.loads(q["features"]), "review")
        assert all(f" {name} " in f" {q['explanation']}" for name in explain.FEATURES)
        assert "in the review queue" in q["explanation"]
    anonymous = [q for q in queue if q["anonymous"]]
    assert all("never linked automatically" in q["explanation"] for q in anonymous)
    db.close()


# --- summaries as evidence (issue 14) -----------------------------------------------------------------------


def test_text_terms_are_words_and_word_pairs_without_names_or_stop_words() -> None:
    terms = link.text_terms("The death of Baby T from a head injury.", None, ["head injuries"], ["baby t"])
    assert "head injury" in terms and "death" in terms and "injury" in terms and "head injuries" in terms
    assert "the" not in terms and "baby" not in terms and not any(" t" in t or t == "t" for t in terms)


def _texts(*summaries: str, names: tuple[str, ...] = ("child c",), start: str = "2015-01-01") -> list[link.Record]:
    return [link.Record.from_row({**row(f"n:{i}", names=names, start=start), "summary": text})
            for i, text in enumerate(summaries)]


def test_boilerplate_shared_by_many_records_is_no_evidence() -> None:
    stock = "Serious case review published anonymously by the NSPCC on behalf of the local board."
    filler = [f"Review number {i} about topic{i} and matter{i}." for i in range(60)]
    records = _texts(stock, stock + " Neglect of a toddler in squalid housing.", *[stock] * 30, *filler)
    weights = link.Weights.from_records(records)
    assert weights.text_similarity(records[0].text, records[2].text) is None  # nothing but boilerplate
    alike = _texts("Neglect of a toddler in squalid housing over years.")[0]
    assert weights.text_similarity(records[1].text, alike.text) > link.DEDUPE_TEXT


def test_summary_counts_for_an_anonymous_record_only_beside_its_year_and_type() -> None:
    text = "a baby who died while co-sleeping with a parent who had been drinking"
    near = anon("n:near", start="2017-01-01") | {"summary": text}
    far = anon("n:far", start="2012-01-01") | {"summary": text}
    mine = local("l:1", start="2017-06-01") | {"note": text}
    r = records(near, far, mine)
    weights = link.Weights.from_records([r["n:near"], r["n:far"]])
    _, features = link.compare(r["l:1"], r["n:near"], weights)
    assert features["summary_counted"] and features["points"]["summary"] > 0
    _, features = link.compare(r["l:1"], r["n:far"], weights)
    assert not features["summary_counted"] and features["points"]["summary"] == 0


def test_thematic_reviews_worded_apart_join_within_an_area_and_year_only() -> None:
    rows = [row("nspcc-2019:t", names=(), title="thematic review criminal exploitation of children",
                source="nspcc-2019", start="2019-01-01"),
            row("nspcc-library:t", names=(), title="child criminal exploitation a thematic review",
                start="2019-01-01"),
            row("nspcc-library:other", names=(), title="child criminal exploitation a thematic review",
                start="2019-01-01", codes=("E08000018",), area="Rotherham")]
    groups = link.link_all(rows).national_groups
    assert ["nspcc-2019:t", "nspcc-library:t"] in groups and ["nspcc-library:other"] in groups


# Filler records so that IDF tells a case's words from the rest (a collection of four knows no boilerplate).
FILLER = [row(f"nspcc-library:f{i}", names=(f"child f{i}",), codes=("E08000025",), start="2005-01-01")
          | {"summary": f"Matter{i} concerning topic{i} and issue{i}."} for i in range(40)]


def similarity(*pair: dict) -> float:
    records_ = [link.Record.from_row(r) for r in (*pair, *FILLER)]
    return link.Weights.from_records(records_).text_similarity(records_[0].text, records_[1].text)


def test_a_distinctive_name_a_listings_lag_apart_stays_apart_when_the_summaries_tell_two_stories() -> None:
    list_2019 = anon("nspcc-monthly:leah", names=("leah",), start="2019-01-01", source="nspcc-monthly")
    library_2020 = anon("nspcc-library:leah", names=("leah",), start="2020-01-01", source="nspcc-library")
    overdose = {"summary": "Leah, aged 16, died of an overdose in supported accommodation after leaving care."}
    burns = {"summary": "Leah, a two-year-old, was admitted to hospital with burns; a mother with a learning "
                        "disability and the support offered to her."}
    assert similarity(list_2019 | overdose, library_2020 | burns) < link.DEDUPE_TEXT_AGAINST
    assert len(groups_of(list_2019 | overdose, library_2020 | burns, *FILLER)) == 2 + len(FILLER)
    # the same story, or nothing to compare on one side: a listing's lag apart, as before
    retold = {"summary": "A care leaver of 16 died of an overdose while in supported accommodation."}
    assert len(groups_of(list_2019 | overdose, library_2020 | retold, *FILLER)) == 1 + len(FILLER)
    assert len(groups_of(list_2019 | overdose, library_2020 | {"keywords": ["burns"]}, *FILLER)) == 1 + len(FILLER)


def test_paraphrased_summaries_join_a_common_pseudonym_the_same_year_but_not_a_year_apart() -> None:
    told = {"summary": "Death of a 17-month-old boy from a head injury; the mother's new partner was convicted."}
    retold = {"summary": "The death of a toddler aged 17 months from a head injury inflicted by his mother's "
                         "partner; parental alcohol misuse and the assessment of new partners."}
    list_entry = anon("nspcc-2014:k", names=("child k",), start="2014-09-01", end="2014-09-30", precision="month",
                      source="nspcc-2014") | told
    library = anon("nspcc-library:k", names=("child k",), start="2014-01-01", source="nspcc-library") | retold
    found = similarity(list_entry, library)
    assert link.DEDUPE_TEXT_SAME_YEAR <= found < link.DEDUPE_TEXT  # two writers' words for one review
    assert len(groups_of(list_entry, library, *FILLER)) == 1 + len(FILLER)
    next_year = library | {"published_start": "2015-01-01", "published_end": "2015-12-31"}
    assert len(groups_of(list_entry, next_year, *FILLER)) == 2 + len(FILLER)


def test_anonymous_thematic_reviews_join_across_listings_on_their_summaries_only() -> None:
    text = "Thematic review of five teenage boys stabbed or carrying knives: school exclusion and exploitation."
    listed = anon("nspcc-recent:t", names=(), title="serious youth violence", start="2022-01-01",
                  source="nspcc-recent", review_type="thematic") | {"summary": text}
    library = anon("nspcc-library:t", names=(), title="young people and knife crime", start="2022-01-01",
                   source="nspcc-library", review_type="thematic") | {"summary": "Five teenage boys harmed by or "
                                                                      "carrying knives; school exclusion, exploitation."}
    assert len(groups_of(listed, library, *FILLER)) == 1 + len(FILLER)
    # like titles alone say nothing of an anonymous review: no area to share
    alike = anon("nspcc-library:u", names=(), title="serious youth violence in the borough", start="2022-01-01",
                 source="nspcc-library", review_type="thematic")
    assert len(groups_of(listed | {"summary": None}, alike, *FILLER)) == 2 + len(FILLER)


def test_keywords_alone_are_no_description_for_the_summary_document_rule() -> None:
    summary = row("library:es", start="2014-01-01") | {
        "title": "Serious case review: Child A: executive summary", "keywords": ["executive summaries"]}
    review = row("nspcc-2016:a", start="2016-01-01", source="nspcc-2016") | {
        "summary": "Five children removed after one was found wandering at night; chronic neglect."}
    assert similarity(summary, review) == 0.0  # not None: the keyword is a term
    assert len(groups_of(summary, review, *FILLER)) == 1 + len(FILLER)


def test_an_areas_texts_need_agree_no_more_a_listings_lag_apart_than_the_anonymous_the_same_year() -> None:
    told = {"summary": "A three-year-old boy who died of sepsis after medical care was delayed because of the "
                       "parents' religious beliefs."}
    retold = {"summary": "Death from sepsis of a boy aged three whose parents delayed seeking treatment on "
                         "religious grounds."}
    november = dict(start="2014-11-01", end="2014-11-30", precision="month", source="nspcc-2014")
    named = [row("nspcc-2014:l", names=("child l",), **november) | told,
             row("nspcc-library:l", names=("child l",), start="2015-01-01") | retold]
    assert link.DEDUPE_TEXT_SAME_YEAR <= similarity(*named) < link.DEDUPE_TEXT
    assert len(groups_of(*named, *FILLER)) == 1 + len(FILLER)
    anonymous = [anon("nspcc-2014:l", names=("child l",), **november) | told,
                 anon("nspcc-library:l", names=("child l",), start="2015-01-01") | retold]
    assert len(groups_of(*anonymous, *FILLER)) == 2 + len(FILLER)


def test_generic_wording_tells_no_particulars_and_counts_neither_way() -> None:
    generic = row("nspcc-2016:d", start="2016-01-01", source="nspcc-2016") | {
        "summary": "Serious case review. The overview report sets out how agencies worked with the child and family."}
    library = row("nspcc-library:d", start="2016-01-01") | {
        "summary": "Serious case review about a child known as Child D, with learning for the agencies in the borough."}
    records_ = records(generic, library)
    assert not records_["nspcc-2016:d"].described and not records_["nspcc-library:d"].described
    assert similarity(generic, library) == 0.0
    assert len(groups_of(generic, library, *FILLER)) == 1 + len(FILLER)  # one review, as before


_HASH_OF_A_LINKING = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
import linkage as bench
from reposync import link
result = link.link_all(bench.synthetic_collection(20000, 3000))
print(hashlib.sha256(repr((result.groups, [(l.entry_a, l.entry_b, l.score, l.decision) for l in result.links],
                           result.national_groups)).encode()).hexdigest())
"""


def test_the_same_rows_give_the_same_reviews_in_every_process() -> None:
    """Which pairs join first decides what a cannot-link keeps apart: no set's order (which changes with each
    process's hash seed) may choose it."""
    import os
    import subprocess

    hashes = set()
    for seed in ("0", "4"):
        done = subprocess.run([sys.executable, "-c", _HASH_OF_A_LINKING, str(ROOT / "bench")], capture_output=True,
                              text=True, env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        hashes.add(done.stdout.strip())
    assert len(hashes) == 1

# --- Fellegi-Sunter weights by EM (issue 14: compared in bench/linkage.py --em) -----------------------------


def test_em_learns_the_direction_of_every_strong_feature_from_the_catalogue_alone(gold: dict) -> None:
    from reposync.link import fellegi_sunter as fs

    linker = link.Linker(bench.gold_rows(gold))
    model = fs.estimate(linker)
    assert model.weight("area", "same") > 5 > 0 > model.weight("area", "different")
    assert model.weight("date", "overlap") > 0 > model.weight("date", "far")
    assert model.weight("names", "rare") > model.weight("names", "common") > 0 > model.weight("names", "conflict")
    assert model.weight("title", "exact") > 0 > model.weight("title", "low")
    assert 0 < model.lam < 0.01  # a random local-national pair is almost never the same review
    again = fs.estimate(link.Linker(bench.gold_rows(gold)))
    assert again.m == model.m and again.lam == model.lam  # deterministic
    # Ranked by the model, York's Baby A finds its list entry first.
    score = fs.scorer(model)
    york = linker.by_id["york:baby-a"]
    ranked = sorted(linker.candidates(york).values(), key=lambda r: -score(york, r, linker.weights))
    assert ranked[0].id == "nspcc-2013:city-of-york-baby-a"

