"""Parsing in bounded time: the worst a hostile page up to the size cap costs each parser, beside a normal page.

Hostile pages, each filled to the size cap (``--mb``, default the cap, 10 MB), in two kinds:

- nested hundreds of thousands deep in ways that fooled the old guard (stray end tags, "<div/>", end tags in
  attributes, divs in an SVG title, a table per cell) or that re-open formatting elements over and over:
  refused ("nested too deeply") from their tags before lexbor sees them;
- accepted ones at the limits: nested just under the depth cap and then filled with <div></div> (lexbor's
  worst accepted page: each <div> looks down the whole stack), the most tags a page can hold (<i></i>), and
  a flat list of links (the parsers' own work, no nesting at all).

Each page goes through every parser family (parse or refuse, as a sync calls it), once; lexbor alone is
timed on the accepted ones. The normal page is the generated yearly list of 500 entries (bench/parse.py),
best of a few rounds, timed in the same run: the ratio says how many normal pages' time the worst costs.
Unguarded, lexbor on the stray-end-tag page is timed at 10,000 and 20,000 levels (the cost grows with the
square of the depth; the full page would take hours).

    python bench/parse_depth.py [--mb 10] [--parsers generic,nspcc-library] [--json]
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
from reposync import settings
from reposync.errors import ParseError  # noqa: E402
from reposync.parsers import PARSERS  # noqa: E402

FAMILIES = ("generic", "nspcc-rolling", "nspcc-yearly", "nspcc-library")
URL = "https://www.example-partnership.org.uk/case-reviews/"
HEAD = "<!DOCTYPE html><html><head><title>Case reviews</title></head><body><h1>Case reviews</h1>"


def hostile_pages(size: int) -> dict[str, str]:
    def fill(unit: str, head: str = HEAD) -> str:
        return head + unit * ((size - len(head)) // len(unit))

    under = HEAD + "<div>" * (settings.MAX_NESTING - 10)
    reopen = HEAD + "<div>" + "".join(f"<b id={n}>" for n in range(settings.MAX_NESTING - 20)) + "</div>"
    return {
        "stray end tags <div></span>": fill("<div></span>"),
        "self-closing <div/>": fill("<div/>"),
        'end tags in attributes <div title="</div>">': fill('<div title="</div>">'),
        "divs in an SVG <title>": fill("<div>", HEAD + "<svg><title>"),
        "a table per cell <table><td>": fill("<table><td>"),
        "re-opened formatting (490 <b> then <p>x</p>)": fill("<p>x</p>", reopen),
        "just under the depth cap, then <div></div>": fill("<div></div>", under),
        "the most tags: <i></i>": fill("<i></i>"),
        "a flat list of links": fill("<li><a href='/r.pdf'>Child A</a> (published 10/10/13)</li>", HEAD + "<ul>"),
    }


def normal_page() -> tuple[str, str]:
    rng = random.Random(5)
    entries = generate.list_entries(rng, generate.area_names(), 500, 2014, "P")
    return generate.yearly_url(2014, 9), generate.yearly_page(2014, entries)


def parse_or_refuse(family: str, html: str, url: str) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        outcome = f"{len(PARSERS[family](html, url).entries)} entries"
    except ParseError as exc:
        deep = "nested too deeply" in exc.reason
        outcome = "refused: nested too deeply" if deep else f"ParseError: {exc.reason[:40]}"
    return time.perf_counter() - started, outcome


def run(size: int, families: tuple[str, ...]) -> dict:
    url, page = normal_page()
    normal = {}
    for family in families:
        normal[family] = min(parse_or_refuse(family, page, url)[0] for _ in range(5))
    unguarded = {}
    for levels in (10_000, 20_000):
        started = time.perf_counter()
        LexborHTMLParser("<div></span>" * levels)
        unguarded[levels] = time.perf_counter() - started
    rows = []
    for name, html in hostile_pages(size).items():
        row = {"page": name, "bytes": len(html), "parsers": {}}
        for family in families:
            seconds, outcome = parse_or_refuse(family, html, URL)
            row["parsers"][family] = {"seconds": seconds, "outcome": outcome}
        if not all(p["outcome"].startswith("refused") for p in row["parsers"].values()):
            started = time.perf_counter()
            LexborHTMLParser(html)
            row["lexbor_seconds"] = time.perf_counter() - started
        rows.append(row)
    worst = {family: max(r["parsers"][family]["seconds"] for r in rows) for family in families}
    return {"size": size, "normal_page_bytes": len(page), "normal": normal, "unguarded_lexbor": unguarded,
            "rows": rows, "worst": worst, "max_nesting": settings.MAX_NESTING}


def table(result: dict) -> str:
    families = list(result["normal"])
    lines = [f"Parse or refuse a hostile page of {result['size'] / 2**20:.0f} MB (seconds, once); "
             f"MAX_NESTING {result['max_nesting']}",
             f"{'page':48} " + " ".join(f"{f:>14}" for f in families) + f" {'lexbor':>7}  outcome"]
    for row in result["rows"]:
        cells = " ".join(f"{row['parsers'][f]['seconds']:14.2f}" for f in families)
        lexbor = f"{row['lexbor_seconds']:7.2f}" if "lexbor_seconds" in row else f"{'-':>7}"
        outcomes = sorted({p["outcome"].split(":")[0] if p["outcome"].startswith("refused") else "parsed"
                           for p in row["parsers"].values()})
        lines.append(f"{row['page'][:48]:48} {cells} {lexbor}  {'/'.join(outcomes)}")
    lines.append(f"{'worst':48} " + " ".join(f"{result['worst'][f]:14.2f}" for f in families))
    lines.append(f"{'normal page (500-entry yearly list, ' + str(result['normal_page_bytes'] // 1024) + ' KB)':48} "
                 + " ".join(f"{result['normal'][f]:14.3f}" for f in families))
    lines.append(f"{'worst / normal':48} " + " ".join(f"{result['worst'][f] / result['normal'][f]:13.0f}x"
                                                    for f in families))
    u = result["unguarded_lexbor"]
    lines.append(f"unguarded lexbor, stray end tags: 10,000 levels {u[10_000]:.2f} s, 20,000 levels {u[20_000]:.2f} s "
                 f"(x{u[20_000] / u[10_000]:.1f}: the square); the {result['size'] / 2**20:.0f} MB page is "
                 f"{result['rows'][0]['bytes'] // 12:,} levels")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=settings.MAX_BYTES / 2**20)
    parser.add_argument("--parsers", default=",".join(FAMILIES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(int(args.mb * 2**20), tuple(args.parsers.split(",")))
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
