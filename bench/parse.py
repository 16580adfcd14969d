"""Benchmark 1: entries per second of reposync's parsers, per page family, against the limit and the usual way.

- reposync: the parser a sync runs (``reposync.parsers.PARSERS``), HTML text in, raw entries out.
- bare: ``LexborHTMLParser(html)`` on the same text and nothing else: the tree, no extraction. The limit.
- bs4: the same extraction written with BeautifulSoup and html.parser (bench/bs4_parsers.py); checked here to
  give the very same entries.

Pages: the bundled snapshot pages of each family, plus, where the bundled pages are abridged to a few
entries, a generated page at a realistic size in the same markup: a yearly list of 500 entries, a rolling
page of 100 (bench/generate.py). Each family is timed in rounds (reposync, bare and bs4 in turn, so they
share the machine's noise); the best round counts.

    python bench/parse.py [--seconds 0.5] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from selectolax.lexbor import LexborHTMLParser  # noqa: E402

import generate  # noqa: E402
from reposync.parsers import PARSERS  # noqa: E402
from reposync.archive.snapshots import Archive  # noqa: E402

FAMILIES = ("generic", "nspcc-rolling", "nspcc-yearly", "nspcc-library")
TARGET_OVER_BARE = 1.5
TARGET_BS4_FACTOR = 10.0


def corpus() -> dict[str, list[tuple[str, str]]]:
    """(url, html) pages per family."""
    from reposync.config import load_config

    config = load_config(ROOT / "config" / "sources.toml")
    parser_of = {s.url: s.parser for s in config.sources}
    archive = Archive(ROOT / "snapshots")
    pages: dict[str, list[tuple[str, str]]] = {family: [] for family in FAMILIES}
    for row in archive.rows():
        if row.sha256 is None or row.url.endswith("robots.txt"):
            continue
        family = parser_of.get(row.url)
        if family is None and "Hapi.dll" in row.url:
            family = "nspcc-library"
        family = "generic" if family == "york" else family
        if family in pages:
            pages[family].append((row.url, archive.body(row.sha256).decode("utf-8")))
    rng = random.Random(5)
    areas = generate.area_names()
    pages["nspcc-yearly"].append((generate.yearly_url(2014, 9),
                                  generate.yearly_page(2014, generate.list_entries(rng, areas, 500, 2014, "P"))))
    pages["nspcc-rolling"].append((generate.rolling_url(9),
                                   generate.rolling_page(generate.list_entries(rng, areas, 100, 2025, "P"))))
    return pages


def _time(work, pages: list[tuple[str, str]], seconds: float) -> tuple[float, int]:
    """Seconds per pass over ``pages`` (passes repeated for at least ``seconds``), and entries per pass."""
    passes, entries = 0, 0
    started = time.perf_counter()
    while True:
        count = 0
        for url, html in pages:
            count += work(html, url)
        passes += 1
        entries = count
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / passes, entries


def _walk_only(html: str, url: str) -> int:
    """The floor of any extraction in Python: the bare parse, then a visit of every node asking its tag."""
    doc = LexborHTMLParser(html)
    for node in doc.root.traverse(include_text=True):
        node.tag  # noqa: B018
    return 0


PORTED = ("entries", "next_url", "meta")


def check_ports(pages: dict[str, list[tuple[str, str]]]) -> list[str]:
    from bs4_parsers import PORTS

    problems = []
    for family, items in pages.items():
        for url, html in items:
            # The ports read entries only: layout and skipped (what a sync's guards read) are not ported.
            ours = {key: value for key, value in PARSERS[family](html, url).to_dict().items() if key in PORTED}
            theirs = {key: value for key, value in PORTS[family](html, url).to_dict().items() if key in PORTED}
            if ours != theirs:
                problems.append(f"{family}: {url}: the BeautifulSoup port gives other entries")
    return problems


def run(seconds: float = 0.5, rounds: int = 3) -> dict:
    from bs4_parsers import PORTS

    pages = corpus()
    problems = check_ports(pages)
    results = {}
    for family in FAMILIES:
        items = pages[family]
        parse = PARSERS[family]
        port = PORTS[family]
        best = {"reposync": float("inf"), "bare": float("inf"), "bs4": float("inf"), "walk": float("inf")}
        entries = 0
        for _ in range(rounds):
            t, entries = _time(lambda html, url: len(parse(html, url).entries), items, seconds)
            best["reposync"] = min(best["reposync"], t)
            t, _ = _time(lambda html, url: LexborHTMLParser(html) and 0, items, seconds)
            best["bare"] = min(best["bare"], t)
            t, _ = _time(lambda html, url: len(port(html, url).entries), items, seconds / 2)
            best["bs4"] = min(best["bs4"], t)
            t, _ = _time(_walk_only, items, seconds)
            best["walk"] = min(best["walk"], t)
        results[family] = {
            "pages": len(items),
            "entries": entries,
            "bytes": sum(len(h.encode()) for _, h in items),
            "reposync_entries_per_s": entries / best["reposync"],
            "bare_entries_per_s": entries / best["bare"],
            "bs4_entries_per_s": entries / best["bs4"],
            "over_bare": best["reposync"] / best["bare"],
            "walk_over_bare": best["walk"] / best["bare"],
            "bs4_factor": best["bs4"] / best["reposync"],
        }
    return {"families": results, "problems": problems}


def table(result: dict) -> str:
    lines = [
        "Parse: entries per second (best of rounds); limit = bare selectolax parse, no extraction",
        f"{'family':15} {'pages':>5} {'entries':>7} {'KB':>6} {'reposync/s':>11} {'bare/s':>10} {'bs4/s':>9} "
        f"{'vs bare':>8} {'target':>7} {'bs4 slower':>10} {'target':>7} {'walk only':>9}",
    ]
    for family, r in result["families"].items():
        lines.append(
            f"{family:15} {r['pages']:5d} {r['entries']:7d} {r['bytes'] / 1024:6.0f} "
            f"{r['reposync_entries_per_s']:11,.0f} {r['bare_entries_per_s']:10,.0f} {r['bs4_entries_per_s']:9,.0f} "
            f"{r['over_bare']:7.1f}x {'met' if r['over_bare'] <= TARGET_OVER_BARE else 'MISSED':>7} "
            f"{r['bs4_factor']:9.1f}x {'met' if r['bs4_factor'] >= TARGET_BS4_FACTOR else 'MISSED':>7} "
            f"{r['walk_over_bare']:8.1f}x"
        )
    lines.append("  walk only: the bare parse plus a Python visit of every node (its tag, nothing else), over the "
                 "bare parse: the floor of a tree walk in Python")
    for problem in result["problems"]:
        lines.append(f"  ! {problem}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.seconds, args.rounds)
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
