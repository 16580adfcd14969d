"""Nameless records of an area and year meet through indexes (``reposync.link.nameless``), not all against all:
every pair a dedupe rule can act on still meets, in the same order, so the reviews are those of all pairs."""

from __future__ import annotations

import importlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from reposync import link
from reposync.link import nameless
from reposync.link.rules import _thematic_pair, plan, verdict

# Few words, so pairs share title words, summary terms and keywords, and some titles differ by a letter only.
TITLE_WORDS = ["neglect", "neglects", "disabled", "exploitation", "qa1000", "qa1001", "qb1000", "qa10001", "drowning"]
TEXT_WORDS = ["neglect", "river", "drowning", "school", "housing", "mental", "health", "alcohol", "bruising",
              "hospital", "police", "nursery"]
TYPES = ["thematic", "thematic", "scr", "cspr", "briefing", None]
SOURCES = ["nspcc-library", "nspcc-2014", "nspcc-recent"]
dedupe_module = importlib.import_module("reposync.link.dedupe")  # the module (``link.dedupe`` is its function)


def _row(rng: random.Random, n: int, anonymous: bool = False) -> dict:
    year = rng.choice([2014, 2015])
    words = rng.sample(TITLE_WORDS, rng.randint(0, 2))
    title = " ".join(words) or "review"
    document = rng.random() < 0.15
    day = rng.choice(["01-15", "06-30", "12-01"])
    precision = rng.choice(["year", "month", "day"])
    start = f"{year}-{day}" if precision != "year" else f"{year}-01-01"
    end = f"{year}-12-31" if precision == "year" else start
    return {
        "id": f"{'a' if anonymous else 'n'}:{n}", "kind": "national", "source": rng.choice(SOURCES),
        "la_codes": [] if anonymous else ["E10000016"], "area": None if anonymous else "Kent", "pseudonyms": [],
        "title_key": title, "title": "Executive summary: " + title if document else title.title(),
        "published_start": start, "published_end": end, "published_precision": precision,
        "review_type": rng.choice(TYPES),
        "summary": " ".join(rng.choice(TEXT_WORDS) for _ in range(rng.randint(0, 7))) or None,
        "keywords": rng.sample(["neglect", "domestic abuse", "suicide"], rng.randint(0, 2)),
        # one report document's bytes (``same-document``), listed under titles and texts that differ
        "report_sha256": rng.choice([None, None, None, "a" * 64, "b" * 64]),
    }


def _collection(seed: int, size: int, anonymous: bool = False) -> list[dict]:
    rng = random.Random(seed)
    return [_row(rng, n, anonymous) for n in range(size)]


def every_pair(records: list[link.Record], first: int,
               distinctive: nameless.Distinctive) -> tuple[list[list[int]], list[set[int]]]:
    """The block as it was: each record meets every record after it, and the rules judge every pair."""
    met = [list(range(x + 1, len(records))) for x in range(first)]
    return met, [set(m) for m in met]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9), st.integers(2, 30), st.booleans())
def test_every_pair_a_rule_can_act_on_meets(seed: int, size: int, anonymous: bool) -> None:
    records = [link.Record.from_row(r) for r in _collection(seed, size, anonymous)]
    weights = link.Weights.from_records(records)
    rules = plan()
    first = size // 2
    met, judged = nameless.meetings(records, first, nameless.Distinctive(weights))
    for x in range(first):
        for y in range(x + 1, size):
            a, b = records[x], records[y]
            if verdict(a, b, weights, rules)[0] is not None:
                assert y in judged[x] and y in met[x], (a, b, verdict(a, b, weights, rules))
            if _thematic_pair(a, b, weights):
                assert y in met[x], (a, b)
        assert met[x] == sorted(set(met[x])) and all(y > x for y in met[x]) and judged[x] <= set(met[x])


def test_the_reviews_are_those_of_every_pair(monkeypatch) -> None:
    for seed in range(6):
        rows = _collection(seed, 300) + _collection(seed + 100, 60, anonymous=True)
        indexed = link.link_all(rows).national_groups
        monkeypatch.setattr(dedupe_module, "meetings", every_pair)
        assert link.link_all(rows).national_groups == indexed
        monkeypatch.undo()
        assert any(len(g) > 1 for g in indexed)


def test_a_year_of_nameless_records_is_not_compared_all_against_all(monkeypatch) -> None:
    # 400 reviews of one area and year that name no one, each in words of its own: the rules join none of them.
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12)) for _ in range(400)]
    rows = [{"id": f"n:{n}", "kind": "national", "source": f"list-{n % 2}", "la_codes": ["E10000016"],
             "area": "Kent", "pseudonyms": [], "title_key": words[n], "title": words[n],
             "published_start": "2014-01-01", "published_end": "2014-12-31", "published_precision": "year",
             "review_type": "scr", "summary": f"{words[n]} {words[n - 1][::-1]}"} for n in range(400)]
    calls = []
    judged = dedupe_module.verdict

    def counted(*args):
        calls.append(1)
        return judged(*args)

    monkeypatch.setattr(dedupe_module, "verdict", counted)
    groups = link.link_all(rows).national_groups
    assert len(groups) == 400
    assert len(calls) < 400  # all against all: 79,800
