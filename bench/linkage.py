"""Linkage figures: precision, recall and review-queue size per stratum on the gold set; or, with --scale,
time and peak memory of the same linking at 5k, 50k and 500k synthetic national records against 5,000
local entries.

    .venv/bin/python bench/linkage.py            # the gold set (tests/fixtures/linkage/gold.json) but held-back halves
    .venv/bin/python bench/linkage.py --blind    # the same with the blind half: run it once, at the end
    .venv/bin/python bench/linkage.py --final    # the same with the final half (both flags: both halves), once
    .venv/bin/python bench/linkage.py --last     # the same with the last half (combinable with the others), once
    .venv/bin/python bench/linkage.py --check    # the same with the check half (combinable with the others), once
    .venv/bin/python bench/linkage.py --issue25  # the same with issue 25's half (combinable with the others), once
    .venv/bin/python bench/linkage.py --rules    # each dedupe rule switched off: what every half loses
    .venv/bin/python bench/linkage.py --scale    # 5k, 50k, 500k national x 5k local
    .venv/bin/python bench/linkage.py --scale --sizes 5000,50000

Both run ``reposync.link.link_all``, the function the sync runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import time
import tracemalloc
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from reposync import link
from reposync.normalise.areas import load_areas  # noqa: E402
from reposync.config import Source  # noqa: E402
from reposync.models import RawEntry  # noqa: E402
from reposync.normalise.entries import normalise  # noqa: E402

GOLD = ROOT / "tests" / "fixtures" / "linkage" / "gold.json"
AREAS = ROOT / "config" / "areas.toml"
URL = "https://example.invalid/"
PARSERS = {"nspcc-library": "nspcc-library", "nspcc-recent": "nspcc-rolling", "nspcc-monthly": "nspcc-rolling"}

# --- the gold set ------------------------------------------------------------------------------------------


def load_gold(path: Path = GOLD) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def without_fresh(gold: dict[str, Any]) -> dict[str, Any]:
    """The gold set as it was before the fresh, blind, final, last, check and issue25 halves (tests/fixtures/
    linkage/fresh_cases.py, blind_cases.py, final_cases.py, last_cases.py, check_cases.py, issue25_cases.py) were
    added: the tune and holdout halves alone, for the tests' targets and the Splink bench, which predate them."""
    return _without(gold, ("fresh", "blind", "final", "last", "check", "issue25"))


# halves shown only when asked for, each measured once at the end
HELD_BACK = ("blind", "final", "last", "check", "issue25")


def without_blind(gold: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """The gold set without its blind, final, last, check and issue25 halves (tests/fixtures/linkage/
    blind_cases.py, final_cases.py, last_cases.py, check_cases.py, issue25_cases.py), each measured once, at the
    end (``--blind``, ``--final``, ``--last``, ``--check``, ``--issue25``; ``keep`` names those asked for): while
    the rules are being improved, none of their figures is shown, not even inside "all"."""
    return _without(gold, tuple(h for h in HELD_BACK if h not in keep))



def _without(gold: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    out = {e["id"] for e in gold["local"] + gold["national"] if e["half"] in names}
    sources = {e["source"] for e in gold["local"] if e["id"] not in out}
    return {**gold, "local": [e for e in gold["local"] if e["id"] not in out],
            "national": [e for e in gold["national"] if e["id"] not in out],
            "pairs": [p for p in gold["pairs"] if p[0] not in out and p[1] not in out],
            "local_sources": {k: v for k, v in gold["local_sources"].items() if k in sources}}


def gold_rows(gold: dict[str, Any]) -> list[dict[str, Any]]:
    """Every gold entry through the real normalise(), as the sync would store it."""
    areas = load_areas(AREAS)
    rows = []
    for kind in ("local", "national"):
        for item in gold[kind]:
            if kind == "local":
                source = Source(id=item["source"], kind="local", parser="york", url=URL,
                                area=areas.lookup(gold["local_sources"][item["source"]]))
            else:
                source = Source(id=item["source"], kind="national", parser=PARSERS.get(item["source"], "nspcc-yearly"),
                                url=URL)
            raw = RawEntry(title=item["title"], page_url=URL, date_text=item.get("date_text"),
                           area_text=item.get("area_text"), copy_number=item.get("copy_number"),
                           type_text=item.get("type_text"), note=item.get("note"), summary=item.get("summary"),
                           keywords=item.get("keywords") or [])
            row = normalise(raw, source, areas)
            assert row["id"] == item["id"], (row["id"], item["id"])
            rows.append(row)
    return rows


def evaluate(gold: dict[str, Any], linkage: link.Linkage | None = None, half: str | None = None) -> dict[str, Any]:
    """Auto-link precision, recall counting the queue, and queue sizes, overall and per stratum; and the
    national dedupe's pairwise precision, recall and F1.

    A link stands for its national review: it counts as a predicted pair with every entry of the review
    (``features["review_entries"]``), which is how a librarian reads it; a queue row asked through a review's
    first document on a page stands for its other documents too (``features["documents"]``). ``half`` ("tune",
    "holdout", "fresh", "blind", "final", "last", "check" or "issue25"): only the local entries and national cases
    of that half of the gold (a dedupe pair counts in a half when either of its entries is in it).
    """
    if linkage is None:
        linkage = link.link_all(gold_rows(gold))
    if half is not None:
        gold = {**gold, "local": [l for l in gold["local"] if l["half"] == half]}
        in_half = {n["id"] for n in gold["national"] if n["half"] == half}
    national = {n["id"]: n for n in gold["national"]}
    anonymous = {n["id"] for n in gold["national"]
                 if (n.get("area_text") or "").lower() in ("anonymous", "nspcc on behalf of unnamed lscb")}
    stratum_of = {l["id"]: l["stratum"] for l in gold["local"]}
    true = {tuple(p) for p in gold["pairs"]}
    auto: set[tuple[str, str]] = set()
    queued: set[tuple[str, str]] = set()
    queue_rows: dict[str, list[link.Link]] = defaultdict(list)
    for item in linkage.links:
        if item.entry_a not in stratum_of:
            continue  # the other half
        # A queue row asked through a review's first document stands for its other documents on the page
        # (``features["documents"]``): a person's answer applies to them all (link.linkrules, report-first).
        pairs = {(local, n) for local in (item.entry_a, *item.features.get("documents", ()))
                 for n in item.features.get("review_entries", [item.entry_b])}
        if item.decision in ("auto", "accepted"):
            auto |= pairs
        elif item.decision == "review":
            queued |= pairs
            queue_rows[stratum_of[item.entry_a]].append(item)

    def figures(locals_: set[str]) -> dict[str, Any]:
        t = {p for p in true if p[0] in locals_}
        a = {p for p in auto if p[0] in locals_}
        q = {p for p in queued if p[0] in locals_}
        rows = [r for s in {stratum_of[i] for i in locals_} for r in queue_rows[s] if r.entry_a in locals_]
        named = [r for r in rows if r.entry_b not in anonymous]
        return {
            "local": len(locals_),
            "true_pairs": len(t),
            "auto_pairs": len(a),
            "auto_correct": len(a & t),
            "precision": round(len(a & t) / len(a), 3) if a else None,
            "recall_auto": round(len(a & t) / len(t), 3) if t else None,
            "recall": round(len((a | q) & t) / len(t), 3) if t else None,
            "queue": len(rows),
            "queue_named": len(named),
            "queue_named_share": round(len(named) / len(locals_), 3) if locals_ else 0.0,
            "missed": sorted(t - a - q),
            "wrong_auto": sorted(a - t),
        }

    result: dict[str, Any] = {"overall": figures(set(stratum_of)), "strata": {}}
    for stratum in sorted(set(stratum_of.values())):
        result["strata"][stratum] = figures({i for i, s in stratum_of.items() if s == stratum})
    # National dedupe against the case labels: pairs of national entries put in one review.
    case = {n["id"]: n["case"] for n in national.values()}
    predicted = {(a, b) for g in linkage.national_groups for i, a in enumerate(g) for b in g[i + 1:]}
    by_case: dict[str, list[str]] = defaultdict(list)
    for entry_id, c in case.items():
        by_case[c].append(entry_id)
    actual = {tuple(sorted((a, b))) for ids in by_case.values() for i, a in enumerate(ids) for b in ids[i + 1:]}
    predicted = {tuple(sorted(p)) for p in predicted}
    if half is not None:
        actual = {p for p in actual if p[0] in in_half or p[1] in in_half}
        predicted = {p for p in predicted if p[0] in in_half or p[1] in in_half}
    precision = len(predicted & actual) / len(predicted) if predicted else 1.0
    recall = len(predicted & actual) / len(actual) if actual else 1.0
    result["dedupe"] = {
        "f1": round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0,
        "missed": sorted(actual - predicted),
        "predicted_pairs": len(predicted),
        "true_pairs": len(actual),
        "precision": round(len(predicted & actual) / len(predicted), 3) if predicted else None,
        "recall": round(len(predicted & actual) / len(actual), 3) if actual else None,
        "wrong": sorted(predicted - actual),
    }
    return result


def halves(gold: dict[str, Any], linkage: link.Linkage | None = None) -> dict[str, dict[str, Any]]:
    """The figures of each half and of the whole gold set, from one linking."""
    if linkage is None:
        linkage = link.link_all(gold_rows(gold))
    present = {e["half"] for e in gold["local"] + gold["national"]}
    return {name: evaluate(gold, linkage, None if name == "all" else name)
            for name in ("tune", "holdout", "fresh", "blind", "final", "last", "check", "issue25", "all")
            if name == "all" or name in present}


def print_halves(results: dict[str, dict[str, Any]]) -> None:
    header = (f"{'half':8} {'local':>5} {'true':>5} {'auto':>5} {'prec':>5} {'recall':>6} {'queue':>5} "
              f"{'queue%':>6} {'named':>5} {'named%':>6} | {'dedupe':>6} {'prec':>5} {'recall':>6} {'F1':>5}")
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        o, d = r["overall"], r["dedupe"]

        def fmt(x: Any) -> str:
            return "-" if x is None else f"{x:.3f}"
        print(f"{name:8} {o['local']:>5} {o['true_pairs']:>5} {o['auto_pairs']:>5} {fmt(o['precision']):>5} "
              f"{fmt(o['recall']):>6} {o['queue']:>5} {o['queue'] / o['local'] * 100:>5.1f}% {o['queue_named']:>5} "
              f"{o['queue_named_share'] * 100:>5.1f}% | {d['true_pairs']:>6} {fmt(d['precision']):>5} "
              f"{fmt(d['recall']):>6} {fmt(d['f1']):>5}")
    print("targets (holdout): local->national precision 1.000, recall (auto + queue) >= 0.95, queue share no "
          "larger than before; dedupe F1 >= 0.98. fresh: written blind after the rules were tuned on the holdout's "
          "misses; blind: written blind while they were tuned on fresh's (shown only with --blind); final: written "
          "blind after fresh's and blind's results were looked at (shown only with --final); last: written "
          "blind after fresh's, blind's and final's were looked at (shown only with --last); check: written "
          "blind after fresh's, blind's, final's and last's were looked at (shown only with --check); issue25: "
          "written blind for issue 25's inputs (shown only with --issue25)")


def print_gold(result: dict[str, Any]) -> None:
    header = f"{'stratum':28} {'local':>5} {'true':>5} {'auto':>5} {'prec':>6} {'rec(auto)':>9} {'recall':>7} " \
             f"{'queue':>5} {'named':>5} {'named%':>7}"
    print(header)
    print("-" * len(header))
    for name, f in [*result["strata"].items(), ("OVERALL", result["overall"])]:
        def fmt(x: Any) -> str:
            return "-" if x is None else f"{x:.2f}"
        print(f"{name:28} {f['local']:>5} {f['true_pairs']:>5} {f['auto_pairs']:>5} {fmt(f['precision']):>6} "
              f"{fmt(f['recall_auto']):>9} {fmt(f['recall']):>7} {f['queue']:>5} {f['queue_named']:>5} "
              f"{f['queue_named_share'] * 100:>6.1f}%")
    overall = result["overall"]
    print()
    print("targets: auto precision 1.00, recall (auto + queue) >= 0.95, queue against named records <= 10% of local")
    if overall["missed"]:
        print("missed pairs:", *(f"  {a} -- {b}" for a, b in overall["missed"]), sep="\n")
    if overall["wrong_auto"]:
        print("WRONG automatic links:", *(f"  {a} -- {b}" for a, b in overall["wrong_auto"]), sep="\n")
    d = result["dedupe"]
    print(f"national dedupe: {d['predicted_pairs']} pairs joined, precision {d['precision']}, recall {d['recall']}"
          f" (of {d['true_pairs']} same-review pairs; common pseudonyms without overlapping dates and anonymous "
          "records with common pseudonyms are left apart on purpose)")
    for a, b in d["wrong"]:
        print(f"  WRONG merge: {a} -- {b}")
    for a, b in d["missed"]:
        print(f"  missed merge: {a} -- {b}")


# --- the dedupe's rules, one switched off at a time -------------------------------------------------------------


def run_rules(gold: dict[str, Any]) -> dict[str, Any]:
    """The figures of every half with all the dedupe's rules on, and with each rule switched off in turn
    (``link.DEDUPE_RULES``): what each rule is worth on each half, and the gold pairs it decides."""
    rows = gold_rows(gold)
    base = link.link_all(rows)
    result: dict[str, Any] = {"all on": halves(gold, base), "rules": {}}
    pairs = _dedupe_pairs(base)
    for rule in link.DEDUPE_RULES:
        linkage = link.link_all(rows, skip_rules=[rule.name])
        off = _dedupe_pairs(linkage)
        result["rules"][rule.name] = {"rule": rule, "halves": halves(gold, linkage),
                                      "joined": sorted(pairs - off), "added": sorted(off - pairs)}
    return result


def _dedupe_pairs(linkage: link.Linkage) -> set[tuple[str, str]]:
    return {(a, b) for g in linkage.national_groups for i, a in enumerate(g) for b in g[i + 1:]}


SHOWN = 6  # gold pairs shown of those a rule decides


def print_rules(result: dict[str, Any]) -> None:
    def fmt(x: Any) -> str:
        return "    -" if x is None else f"{x:.3f}"

    def delta(x: Any, y: Any) -> str:
        return "     " if x is None or y is None or round(x - y, 3) == 0 else f"{x - y:+.3f}"

    base = result["all on"]
    header = (f"{'half':8} | {'dedupe P':>8} {'R':>5} {'F1':>5} {'dF1':>6} {'dP':>6} {'dR':>6} | "
              f"{'l->n P':>6} {'recall':>6} {'dP':>6} {'dRec':>6} {'queue':>5} {'dq':>4}")
    print("All rules on:")
    print(header)
    for name, r in base.items():
        d, o = r["dedupe"], r["overall"]
        print(f"{name:8} | {fmt(d['precision']):>8} {fmt(d['recall']):>5} {fmt(d['f1']):>5} {'':>6} {'':>6} {'':>6} | "
              f"{fmt(o['precision']):>6} {fmt(o['recall']):>6} {'':>6} {'':>6} {o['queue']:>5} {'':>4}")
    for name, found in result["rules"].items():
        rule = found["rule"]
        print(f"\nwithout {name} ({rule.acts}; evidence: {rule.evidence}; case: {rule.case or '-'}; {rule.commit})")
        print(f"  {rule.why}")
        print(header)
        for half, r in found["halves"].items():
            d, o, bd, bo = r["dedupe"], r["overall"], base[half]["dedupe"], base[half]["overall"]
            print(f"{half:8} | {fmt(d['precision']):>8} {fmt(d['recall']):>5} {fmt(d['f1']):>5} "
                  f"{delta(d['f1'], bd['f1']):>6} {delta(d['precision'], bd['precision']):>6} "
                  f"{delta(d['recall'], bd['recall']):>6} | {fmt(o['precision']):>6} {fmt(o['recall']):>6} "
                  f"{delta(o['precision'], bo['precision']):>6} {delta(o['recall'], bo['recall']):>6} "
                  f"{o['queue']:>5} {o['queue'] - bo['queue']:>+4}")
        for label, pairs in (("the rule joins", found["joined"]), ("without it joined", found["added"])):
            for a, b in pairs[:SHOWN]:
                print(f"  {label}: {a} -- {b}")
            if len(pairs) > SHOWN:
                print(f"  {label}: ... and {len(pairs) - SHOWN} more pairs")


# --- Fellegi-Sunter weights by EM, beside the hand-set points -------------------------------------------------


def run_em(gold: dict[str, Any]) -> dict[str, Any]:
    """Estimate m/u by EM on the gold collection (no labels), choose its bands on the tune half only, and
    compare both scorers on both halves through the same blocking, dedupe and assignment."""
    from reposync.link import fellegi_sunter as fs

    rows = gold_rows(gold)
    started = time.perf_counter()
    hand = link.Linker(rows)
    model = fs.estimate(hand)
    em_seconds = time.perf_counter() - started
    em = link.Linker(rows, scorer=fs.scorer(model))
    # Bands from the tune half: the lowest automatic band with no wrong link there, then the highest review
    # band that keeps its recall (auto + queue) at 0.95 or more; margin: the hand-set 3, in bits.
    # Among bands as good on the tune half, the highest (the safest).
    best: tuple | None = None
    for auto in [x / 2 for x in range(0, 61)]:
        em.bands = (auto, min(auto, 0.0), link.MARGIN)
        tune = evaluate(gold, em.link(), "tune")["overall"]
        if tune["wrong_auto"]:
            continue
        for review in range(-10, int(auto) + 1):
            em.bands = (auto, review, link.MARGIN)
            tune = evaluate(gold, em.link(), "tune")["overall"]
            if tune["wrong_auto"] or (tune["recall"] or 0) < 0.95:
                continue
            key = (-(tune["recall_auto"] or 0), tune["queue"], -auto, -review)
            if best is None or key < best[0]:
                best = (key, auto, review)
    bands = (best[1], best[2], link.MARGIN) if best else (link.AUTO, link.REVIEW, link.MARGIN)
    em.bands = bands
    return {"model": model, "bands": bands, "em_seconds": em_seconds,
            "hand": halves(gold, hand.link()), "em": halves(gold, em.link())}


def print_em(result: dict[str, Any]) -> None:
    print(result["model"].table())
    auto, review, margin = result["bands"]
    print(f"\nEM bands (chosen on the tune half): auto >= {auto:g} bits, review >= {review:g} bits, margin {margin:g};"
          f" estimated in {result['em_seconds']:.2f} s\n")
    for name in ("hand", "em"):
        print("hand-set points (link.py)" if name == "hand" else "Fellegi-Sunter weights by EM")
        print_halves(result[name])
        for half in [h for h in result[name] if h != "all"]:
            for a, b in result[name][half]["overall"]["wrong_auto"]:
                print(f"  WRONG automatic link ({half}): {a} -- {b}")
        print()


# --- scale --------------------------------------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NAMES = ["Gabriel", "Katie", "John", "Jack", "Olivia", "Harry", "Ellie", "Tyrone", "Amy", "Ben", "Sam", "Charlie",
          "Elias", "Leo", "Mia", "Noah", "Ava", "Isla", "Oscar", "Ruby", "Alfie", "Poppy", "Archie", "Freya"]
_THEMES = ["neglect", "exploitation", "domestic abuse", "adolescent suicide", "sudden infant death",
           "criminal exploitation", "bruising in non-mobile babies", "online harm", "county lines", "self harm"]


def _pseudonym(rng: random.Random) -> tuple[str, list[str]]:
    """A title and its pseudonyms, with the skew of real listings: single letters most common."""
    roll = rng.random()
    if roll < 0.45:
        role = rng.choice(["Child", "Child", "Child", "Baby", "Young Person", "Family"])
        ident = rng.choice(_LETTERS) if role != "Young Person" else str(rng.randint(1, 9))
        return f"{role} {ident}", [f"{role.lower()} {ident.lower()}"]
    if roll < 0.70:
        ident = rng.choice(_LETTERS) + rng.choice(_LETTERS + "123456789")
        return f"Child {ident}", [f"child {ident.lower()}"]
    if roll < 0.85:
        name = rng.choice(_NAMES) + ("" if rng.random() < 0.7 else f" {rng.choice(_LETTERS)}{rng.randint(1, 99)}")
        return name, [name.lower()] if " " not in name else [name.split()[0].lower(), name.split()[1].lower()]
    if roll < 0.93:
        a, b = rng.sample(_LETTERS, 2)
        return f"Children {a} and {b}", [f"child {a.lower()}", f"child {b.lower()}"]
    theme = rng.choice(_THEMES)
    return f"Thematic review of {theme} {rng.randint(1, 999)}", []


def synthetic_collection(n_national: int, n_local: int = 5000, seed: int = 4) -> list[dict[str, Any]]:
    """Rows shaped like the catalogue's: national reviews listed 1-3 times, local pages listing some of them.

    Areas are the real ONS codes of config/areas.toml (about 250), years 1995-2025, so blocks grow with
    the collection as they would (a collection 300 times today's packs 300 times more into each area-year).
    """
    rng = random.Random(seed)
    areas = list(load_areas(AREAS).areas.values())
    rows: list[dict[str, Any]] = []
    reviews = []
    n = 0
    while n < n_national:
        area = rng.choice(areas) if rng.random() > 0.1 else None  # one in ten anonymous
        published = date(rng.randint(1995, 2025), rng.randint(1, 12), rng.randint(1, 28))
        title, names = _pseudonym(rng)
        reviews.append((area, published, title, names))
        for copy in range(rng.choice((1, 1, 2, 3))):
            if rng.random() < 0.6:  # a library record: the year only
                precision, start, end = "year", date(published.year, 1, 1), date(published.year, 12, 31)
            else:  # a list entry: the month it reached the list, up to two months after publication
                month = published.month - 1 + rng.randint(0, 2)
                year, month = published.year + month // 12, month % 12 + 1
                precision, start, end = "month", date(year, month, 1), date(year, month, 28)
            rows.append({
                "id": f"nat:{n}", "kind": "national", "source": f"national-{copy}",
                "la_codes": list(area.codes) if area else [], "area": area.name if area else None,
                "pseudonyms": names, "title_key": title.lower(), "published_start": start.isoformat(),
                "published_end": end.isoformat(), "published_precision": precision, "published_year": start.year,
                "review_type": "thematic" if not names else "scr",
            })
            n += 1
            if n >= n_national:
                break
    # Each local entry is a review of its own (a page lists a review once): 70% of them held nationally.
    held = rng.sample(reviews, min(len(reviews), int(n_local * 0.7)))
    for i in range(n_local):
        if i < len(held) and held[i][0] is not None:
            area, published, title, names = held[i]
        else:  # a review the national repository does not hold
            area, published = rng.choice(areas), date(rng.randint(1995, 2025), rng.randint(1, 12), rng.randint(1, 28))
            title, names = _pseudonym(rng)
        rows.append({
            "id": f"loc:{i}", "kind": "local", "source": f"local-{area.name}", "la_codes": list(area.codes),
            "area": area.name, "pseudonyms": names, "title_key": title.lower(),
            "published_start": published.isoformat(), "published_end": published.isoformat(),
            "published_precision": "day", "published_year": published.year,
            "review_type": "thematic" if not names else "scr",
        })
    return rows


def run_scale(sizes: list[int], n_local: int, trace: bool) -> None:
    print(f"{'national':>9} {'local':>6} {'seconds':>8} {'us/record':>10} {'peak MB':>8} {'links':>7} {'auto':>6} "
          f"{'review':>6}")
    for size in sizes:
        rows = synthetic_collection(size, n_local)
        gc.collect()
        if trace:
            tracemalloc.start()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        linkage = link.link_all(rows)
        seconds = time.perf_counter() - started
        if trace:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            peak_mb = peak / 2**20
        else:
            peak_mb = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        auto = sum(1 for l in linkage.links if l.decision == "auto")
        review = sum(1 for l in linkage.links if l.decision == "review")
        print(f"{size:>9} {n_local:>6} {seconds:>8.2f} {seconds / (size + n_local) * 1e6:>10.1f} {peak_mb:>8.1f} "
              f"{len(linkage.links):>7} {auto:>6} {review:>6}", flush=True)
        del rows, linkage
    print("peak MB: tracemalloc peak of the linking alone" if trace else
          "peak MB: growth of the process's peak RSS during the linking (0 when an earlier, larger peak covers it)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="time synthetic collections instead of the gold set")
    parser.add_argument("--sizes", default="5000,50000,500000", help="national record counts for --scale")
    parser.add_argument("--local", type=int, default=5000, help="local entries for --scale")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="measure peak memory with tracemalloc (exact, but slows the run 2-3x)")
    parser.add_argument("--json", action="store_true", help="print the gold figures as JSON")
    parser.add_argument("--em", action="store_true",
                        help="Fellegi-Sunter m/u by EM beside the hand-set points, both halves")
    parser.add_argument("--rules", action="store_true",
                        help="each dedupe rule switched off in turn: its effect on every half shown")
    parser.add_argument("--blind", action="store_true",
                        help="include the blind half (blind_cases.py): for the one measurement at the end")
    parser.add_argument("--final", action="store_true",
                        help="include the final half (final_cases.py): for the one measurement at the end")
    parser.add_argument("--last", action="store_true",
                        help="include the last half (last_cases.py): for the one measurement at the end")
    parser.add_argument("--check", action="store_true",
                        help="include the check half (check_cases.py): for the one measurement at the end")
    parser.add_argument("--issue25", action="store_true",
                        help="include issue 25's half (issue25_cases.py): for the one measurement at the end")
    args = parser.parse_args(argv)
    if args.scale:
        run_scale([int(s) for s in args.sizes.split(",")], args.local, args.tracemalloc)
        return 0
    gold = without_blind(load_gold(), keep=tuple(h for h in HELD_BACK if getattr(args, h)))
    if args.em:
        print_em(run_em(gold))
        return 0
    if args.rules:
        print_rules(run_rules(gold))
        return 0
    linkage = link.link_all(gold_rows(gold))
    results = halves(gold, linkage)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print_gold(results["all"])
        print()
        print_halves(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
