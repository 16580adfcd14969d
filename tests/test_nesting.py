"""Parsing in bounded time: a page lexbor would nest too deeply is refused from its tags, before it is parsed.

The estimate (reposync.parsers.nesting) must never be below the depth lexbor really builds, whatever the
page does to fool it (stray end tags, "<div/>", a "</div>" inside an attribute, script escapes, foreign
content, tables, misnested formatting tags), and must not refuse a real page. Each check here parses the
same page with lexbor and walks its tree for the real depth.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from conftest import FIXTURES, SNAPSHOTS
from reposync import parsers, settings
from reposync.config import load_config
from reposync.errors import EXIT_DATA, ParseError
from reposync.parsers import nesting
from reposync.parsers.base import refuse_too_deep
from reposync.archive.snapshots import Archive
from reposync.sync import run_sync
from test_hostile_parsers import NAMES, URL, offline_config

CAP = settings.MAX_BYTES  # the size cap: no page is larger
# Seconds within which any page under the size cap is refused by the guard (it stops at the first level over
# the cap): generous, for a loaded two-core machine; the guard takes milliseconds on these.
REFUSE_BOUND = 2.0


def real_depth(html: str) -> int:
    """The deepest element of lexbor's tree (<html> is 1)."""
    deepest, stack = 0, [(LexborHTMLParser(html).root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        child = node.child
        while child is not None:
            if not child.tag.startswith("-"):  # elements only: text and comments are no level
                stack.append((child, depth + 1))
            child = child.next
    return deepest


def estimate(html: str) -> int:
    return nesting.measure(html, 10**9).depth


def fill(unit: str, size: int = 3 * 1024 * 1024, head: str = "") -> str:
    return head + unit * ((size - len(head)) // len(unit))


# Pages that fooled the guard that counted any end tag as closing (or "/>" as closing), each under the size
# cap and nested hundreds of thousands deep in lexbor's tree.
HOSTILE: dict[str, str | tuple[str, str]] = {
    "stray end tags": "<div></span>",
    "self-closing divs": "<div/>",
    "an end tag inside an attribute": '<div title="</div>">',
    "an end tag inside an unquoted attribute": "<div class=</div>>",
    "a script escape hiding its end tag": "<div><script><!--<script></script></div>--></script>",
    "divs in an SVG title (not raw text there)": ("<svg><title>", "<div>"),
    "svg elements after a breakout": "<svg></p><g/>",
    "a table per cell": "<table><td>",
    "objects around paragraphs": "<object><p>",
    "misnested bold and divs": "<b><div>x</b>",
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_page_of_a_few_mb_nested_hundreds_of_thousands_deep_is_refused_at_once(case: str) -> None:
    head, unit = HOSTILE[case] if isinstance(HOSTILE[case], tuple) else ("", HOSTILE[case])
    html = fill(unit, head=head)
    sample = head + unit * 3000  # lexbor's real depth on a sample: the page really nests
    assert real_depth(sample) > 2000 and estimate(sample) >= real_depth(sample)
    for name in NAMES:
        started = time.perf_counter()
        with pytest.raises(ParseError, match="nested too deeply: elements nested more than 512 deep"):
            parsers.get_parser(name)(html, URL)
        assert time.perf_counter() - started < REFUSE_BOUND, name


def test_a_page_that_reopens_formatting_elements_over_and_over_is_refused() -> None:
    """500 open <b>s closed by a </div> are re-opened by lexbor inside every <p>x</p>: a few MB would make
    hundreds of millions of elements (each under the depth cap). The guard counts them and refuses."""
    head = "<div>" + "".join(f"<b id={n}>" for n in range(500)) + "</div>"
    small = head + "<p>x</p>" * 100
    assert len(LexborHTMLParser(small).css("b")) > 50_000  # lexbor really makes them: 100 x 500 from 8 KB
    assert nesting.measure(small, 10**9).elements >= len(LexborHTMLParser(small).css("*"))
    started = time.perf_counter()
    with pytest.raises(ParseError, match="nested too deeply: misnested tags re-open elements"):
        refuse_too_deep(fill("<p>x</p>", head=head), URL)
    assert time.perf_counter() - started < REFUSE_BOUND


def test_a_page_under_the_depth_cap_still_parses() -> None:
    cap = settings.MAX_NESTING
    page = "<!DOCTYPE html><html><body>" + "<div>" * (cap - 10) + "<h2>2018 - York - Child A</h2>" + "</div>" * 5
    refuse_too_deep(page, URL)
    with pytest.raises(ParseError, match="nested too deeply"):
        refuse_too_deep(page.replace("<h2>", "<div>" * 20 + "<h2>"), URL)


def bundled_pages() -> list[tuple[str, str]]:
    archive = Archive(SNAPSHOTS)
    pages = [(row.url, archive.body(row.sha256).decode("utf-8", "replace")) for row in archive.rows()
             if row.sha256 is not None and not row.url.endswith("robots.txt")]
    return pages + [(str(path), path.read_text(encoding="utf-8", errors="replace"))
                    for path in sorted(FIXTURES.rglob("*.html"))]


def test_real_pages_are_estimated_at_their_depth_and_never_refused() -> None:
    pages = bundled_pages()
    assert len(pages) > 50
    for url, html in pages:
        real = real_depth(html)
        assert real <= estimate(html) <= real + 1, url  # at most a leaf more
        refuse_too_deep(html, url)
        found = nesting.measure(html, 10**9)
        assert found.elements * settings.CHARACTERS_PER_ELEMENT * 10 < len(html), url  # ten times under


# Pieces that change the stack of open elements, each a way lexbor's tree building departs from "an end tag
# closes the last open element".
PIECES = sorted(nesting._SPECIAL | nesting._FORMATTING | nesting._VOID - {"image"}) + [
    "span", "x", "ruby", "rb", "rt", "rp", "rtc", "option", "optgroup", "select", "svg", "math", "g", "mi", "mo",
    "annotation-xml", "foreignObject", "desc", "path", "image", "nobr", "template", "frameset", "noscript"]
PIECES = [p for p in PIECES if " " not in p]
EXTRA = ["<b x=1>", "<b x=2>", "<a href=1>", "<input type=hidden>", "<font color=red>", "<font>",
         '<annotation-xml encoding="text/html">', "<div/>", "<g/>", "<svg/>", "<br/>", "x", " ", "<!--c-->",
         "<script>y</script>", "<style>s</style>", "<title>t</title>", "<![CDATA[z]]>", "</x>",
         "<textarea>q</textarea>",
         "<!-->", '<div title="</div>">', "</br>", "</p>", "<p>", "<table>", "<td>", "<tr>", "</table>", "</td>",
         "<script><!--<script></script>x-->", "<a href=/>", "<g a=/>"]


def token(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.35:
        return f"<{rng.choice(PIECES)}>"
    if draw < 0.65:
        return f"</{rng.choice(PIECES)}>"
    return rng.choice(EXTRA)


def test_the_estimate_is_never_below_lexbors_depth_on_repeated_random_tag_soup() -> None:
    """A hostile page repeats a unit: if the estimate missed what one unit adds, it would fall ever further
    behind. Random units of tags (every element with a rule of its own, foreign content, tables, raw text,
    misnested formatting), repeated, with and without a doctype (quirks mode)."""
    rng = random.Random(26)
    deepest = 0
    for _ in range(300):
        prefix = "".join(token(rng) for _ in range(rng.randint(0, 6)))
        unit = "".join(token(rng) for _ in range(rng.randint(1, 7)))
        html = rng.choice(["", "<!DOCTYPE html>"]) + prefix + unit * rng.randint(20, 150)
        real = real_depth(html)
        deepest = max(deepest, real)
        assert estimate(html) >= real, html[:500]
    assert deepest > 300  # the soup did nest deep


def test_a_hostile_page_fails_its_source_and_the_other_hosts_sync(tmp_path: Path) -> None:
    config_path = offline_config(tmp_path, {
        "deep": ("https://deep.example.org/reviews", "generic"),
        "fine": ("https://fine.example.org/reviews", "generic"),
    })
    Archive(tmp_path / "snapshots").add("https://deep.example.org/reviews", fill("<div></span>", CAP - 1).encode())
    started = time.perf_counter()
    result = run_sync(load_config(config_path), offline=True)
    assert time.perf_counter() - started < 30
    outcomes = {o.source: o for o in result.outcomes}
    assert result.exit_code == EXIT_DATA and outcomes["deep"].exit_code == EXIT_DATA
    assert "nested too deeply" in outcomes["deep"].error
    assert outcomes["fine"].error is None and outcomes["fine"].entries


def test_the_counted_bounds_hold_on_random_tag_soup_and_on_reopened_formatting() -> None:
    """``nesting.counted`` lets a page skip ``measure``: it must never be below what lexbor really builds (depth
    and elements), nor below what ``measure`` would find, on pages of every kind of tag, including those that
    make lexbor re-open formatting elements many times over."""
    rng = random.Random(23)
    pages = []
    for _ in range(400):
        prefix = "".join(token(rng) for _ in range(rng.randint(0, 6)))
        unit = "".join(token(rng) for _ in range(rng.randint(1, 7)))
        pages.append(rng.choice(["", "<!DOCTYPE html>", '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN">'])
                     + prefix + unit * rng.randint(1, 30))
    pages.append("<div>" + "".join(f"<b id={n}>" for n in range(40)) + "</div>" + "<p>x</p>" * 40)
    pages.append("<DIV>" + "".join(f"<B ID={n}>" for n in range(40)) + "</DIV>" + "<P>x</P>" * 40)  # any case
    pages.append("<table>" + "<td><b><i>x</table>" * 30)
    reopened = 0
    for html in pages:
        bound = nesting.counted(html)
        made = len(LexborHTMLParser(html).css("*"))
        assert real_depth(html) < bound.depth and made <= bound.elements, html[:300]
        found = nesting.measure(html, 10**9)
        assert found.depth <= bound.depth and found.elements <= bound.elements, html[:300]
        reopened = max(reopened, made - len(nesting._START_TAG.findall(html.lower())))
    assert reopened > 1000  # some page made far more elements than it has tags


def test_a_record_page_needs_no_measure(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's record pages (a thousand and more a walk) are under both limits from counts alone."""
    def measured(*args: object, **kwargs: object) -> None:
        raise AssertionError("measured")

    monkeypatch.setattr(nesting, "measure", measured)
    records = [html for url, html in bundled_pages() if "library.nspcc.org.uk" in url and "Record" in html]
    assert len(records) > 20
    for html in records:
        refuse_too_deep(html, URL)
