"""Parsers on hostile input: a ParseResult or a typed ParseError, never another exception, in bounded time.

Every parser registered in ``reposync.parsers.PARSERS`` is run on:
- hypothesis properties: any text, HTML-like trees built from the words and
  markup the parsers look for, and random bytes decoded as a fetched page is;
- a seeded fuzz over the bundled snapshot pages, each mutated one to three
  times (truncated, tags unbalanced, attributes garbled, huge text nodes, deep
  nesting, random bytes as latin-1, NUL bytes, pieces of other pages, entities);
- named pathological pages (10,000 nested divs and the like).

A parse that takes longer than ``HANG_GUARD`` fails: a guard against hangs, not
a benchmark (the slowest fuzzed parse is printed, and is far under it).

The fuzz is deterministic: ``REPOSYNC_FUZZ_SEED`` picks the seed and
``REPOSYNC_FUZZ_ROUNDS`` the number of mutated inputs per bundled page (for a
longer run by hand). Each fuzz test prints how many inputs it ran and how long
they took; a failure names the seed, input number, page and mutations, which
reproduce it.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, SNAPSHOTS
from reposync import parsers
from reposync import settings as reposync_settings
from reposync.normalise.areas import load_areas
from reposync.config import Source, load_config
from reposync.errors import EXIT_DATA, ParseError
from reposync.crawl.fetch import decode
from reposync.models import ParseResult, RawEntry
from reposync.normalise.entries import normalise
from reposync.archive.snapshots import Archive
from reposync.sync import run_sync

HANG_GUARD = 5.0  # seconds for one parse: only a hang trips it
URL = "https://www.example-partnership.org.uk/case-reviews/"
SEED = int(os.environ.get("REPOSYNC_FUZZ_SEED", "20261126"))
ROUNDS = int(os.environ.get("REPOSYNC_FUZZ_ROUNDS", "8"))  # mutated inputs per bundled page
# Every registered name; a name that is only another's parser again ("york" is the generic parser) runs once.
NAMES = [name for number, name in enumerate(sorted(parsers.PARSERS))
         if all(parsers.PARSERS[name] is not parsers.PARSERS[other] for other in sorted(parsers.PARSERS)[:number])]

# Derandomized (the same examples on every run and machine) and no example database written.
HYPOTHESIS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def areas():
    return load_areas(ROOT / "config" / "areas.toml")


def check(name: str, html: str, url: str = URL, what: str = "", **options: str) -> float:
    """Parse ``html`` with parser ``name``: a well-formed ParseResult or a ParseError, within the guard.

    The entries must also normalise (the next step of a sync) and serialise
    (the parse cache stores them as JSON). Returns the seconds the parse took.
    """
    parse = parsers.get_parser(name, **options)
    started = time.perf_counter()
    try:
        result = parse(html, url)
    except ParseError as exc:
        result = exc
    except Exception as exc:  # noqa: BLE001 - the very thing under test
        raise AssertionError(f"{name} raised {type(exc).__name__}: {exc} on {what or repr(html[:200])}") from exc
    elapsed = time.perf_counter() - started
    assert elapsed < HANG_GUARD, f"{name} took {elapsed:.1f} s on {what or repr(html[:200])}"
    if isinstance(result, ParseError):
        assert result.url == url and result.reason
        return elapsed
    assert isinstance(result, ParseResult)
    assert result.next_url is None or isinstance(result.next_url, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.meta.items())
    source = Source(id="fuzz", kind="national", parser=name, url=url, **options)
    for entry in result.entries:
        assert isinstance(entry, RawEntry) and isinstance(entry.title, str) and entry.title.strip()
        assert isinstance(entry.page_url, str)
        for f in fields(entry):
            value = getattr(entry, f.name)
            if f.name == "keywords":
                assert all(isinstance(word, str) for word in value)
            elif f.name == "details":
                assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
            else:
                assert value is None or isinstance(value, str), (f.name, value)
        try:
            normalise(entry, source, areas())
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"normalise raised {type(exc).__name__}: {exc} on {entry!r} ({what})") from exc
    json.dumps(result.to_dict(), ensure_ascii=False)
    return elapsed


# --- hypothesis: any text, HTML-like trees, bytes ------------------------------------------------------------------

# What the parsers look for: dates, labels, headings, field names, separators, entities, odd characters.
WORDS = [
    "2018", "December 2013", "Dec 2024", "31/01/11", "24/1/13", "6th January 2020", "(2014)", "published",
    "(published 10/10/13)", "Published 2014", "Page last updated 12/03/2019", "Last updated: 04 Sep 2018",
    "Child A", "Baby M", "Children F, G and H", "York", "Anonymous", "Stockton-on-Tees", " - ", " – ", " — ", "|",
    ":", ",", ".", "Learning:", "Learning includes:", "Keywords:", "Key issues: include:", "Recommendations:",
    "Model:", "neglect, parenting, domestic abuse.", "Serious case review", "LCSPR", "SCR", "7 minute briefing",
    "Case reviews published in 2018", "New in the collection", "Record 1 of 36", "Record <b>2</b> of <b>3</b>",
    "Title", "Copy number", "Date of publication", "Abstract", "Other", "Local Safeguarding Children Board",
    "Read the overview report", "(PDF, 1.2MB)", "Top of page", "currently under review", "&amp;", "&ndash;",
    "&#8217;", "&#0;", "&#xD800;", "&#x110000;", "&#99999999999;", "&amp", "&", "\x00", "\u2019", "\u201c",
    "\xa0", "\u200b", "\ufeff", "<", ">", '"', "'", "=", "<!--", "-->", "<![CDATA[", "]]>", "\r\n", "\t",
]
TAGS = [
    "div", "p", "span", "a", "ul", "ol", "li", "table", "thead", "tbody", "tr", "td", "th", "h1", "h2", "h3", "h4",
    "h6", "strong", "b", "em", "font", "br", "hr", "img", "dl", "dt", "dd", "main", "section", "article", "nav",
    "header", "footer", "aside", "form", "script", "style", "template", "title", "svg", "select", "option",
    "button", "center", "blockquote", "pre", "details", "summary", "caption", "iframe", "textarea", "noscript",
]
HREFS = [
    "/reports/child-a.pdf", "report.pdf", "?page=2", "#top", "javascript:alert(1)", "mailto:x@example.org",
    "file:///etc/passwd", "data:text/html,<b>x</b>", "ftp://10.0.0.1/r.pdf", "//evil.example/x",
    "http://127.0.0.1:9/", "http://[::1]:80/", "http://[::1", "//[evil", "http://e.org:99999/", "http://e.org:x/",
    "https://e.org/\x00", " \t\n", "", "../../../../etc/passwd", "HTTPS://WWW.EXAMPLE-PARTNERSHIP.ORG.UK/next",
]
ATTRIBUTES = st.one_of(
    st.tuples(st.just("class"), st.sampled_from(["fulllabel", "navNext", "main-content", "nav", "site-footer",
                                                 "cookie-banner", "breadcrumb", "entry", "FULLLABEL x", ""])),
    st.tuples(st.just("href"), st.one_of(st.sampled_from(HREFS), st.text(max_size=20))),
    st.tuples(st.sampled_from(["id", "role"]), st.sampled_from(["main", "content", "navigation", "banner", "x"])),
    st.tuples(st.sampled_from(["hidden", "aria-hidden"]), st.sampled_from(["", "true"])),
    st.tuples(st.text(max_size=6), st.text(max_size=10)),
)
TEXT = st.one_of(st.sampled_from(WORDS), st.text(max_size=30))


def _attributes(pairs: list[tuple[str, str]]) -> str:
    return "".join(f' {name}="{value}"' if name else f" {value}" for name, value in pairs)


def _element(tag: str, pairs: list[tuple[str, str]], children: list[str], closed: bool) -> str:
    return f"<{tag}{_attributes(pairs)}>{''.join(children)}" + (f"</{tag}>" if closed else "")


NODES = st.recursive(
    TEXT,
    lambda children: st.builds(_element, st.sampled_from(TAGS), st.lists(ATTRIBUTES, max_size=3),
                               st.lists(children, max_size=6), st.booleans()),
    max_leaves=40,
)


@st.composite
def pages(draw: st.DrawFn) -> str:
    body = "".join(draw(st.lists(NODES, min_size=1, max_size=8)))
    if draw(st.booleans()):
        title = draw(st.sampled_from(["Serious case reviews", "Case reviews published in 2018", "Record", ""]))
        body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"
    return body


@pytest.mark.parametrize("name", NAMES)
@HYPOTHESIS
@given(text=st.text(max_size=3000))
def test_any_text(name: str, text: str) -> None:
    check(name, text)


@pytest.mark.parametrize("name", NAMES)
@settings(HYPOTHESIS, max_examples=60)
@given(html=pages())
def test_html_like_pages(name: str, html: str) -> None:
    check(name, html)


CONTENT_TYPES = st.sampled_from([None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1252",
                                 "text/html; charset=iso-8859-1", "text/html; charset=shift_jis",
                                 "text/html; charset=utf-16", "text/html; charset=rot13",
                                 "text/html; charset=unicode_escape", "text/html; charset=nonesuch",
                                 'text/html; charset="', "text/html; charset=;"])


@pytest.mark.parametrize("name", NAMES)
@HYPOTHESIS
@given(body=st.binary(max_size=3000), content_type=CONTENT_TYPES)
def test_random_bytes_as_a_fetched_page(name: str, body: bytes, content_type: str | None) -> None:
    text = decode(body, content_type)
    assert isinstance(text, str)
    text.encode("utf-8")  # no lone surrogates: the text can be stored
    check(name, text)


def test_options_of_parsers_that_take_them() -> None:
    """Per-source overrides (a CSS selector, a date pattern) on hostile pages: the same promise."""
    selectors = [None, "li", "tr", "div.entry", "h2, h3", "*", "a", "body > *", ":not(p)", "[href]"]
    patterns = [None, r"(?P<year>\d{4})", r"(?P<day>\d+)\.(?P<month>\d+)\.(?P<year>\d+)", r"x*", r"(?P<month>\w+)",
                r"(?P<year>\d\d)(?P<year2>\d\d)?", r"\b"]
    takers = [name for name in NAMES if getattr(parsers, "OPTIONS", {}).get(name)]
    if not takers:
        pytest.skip("no registered parser takes per-source options")

    @settings(HYPOTHESIS, max_examples=80)
    @given(html=pages(), selector=st.sampled_from(selectors), pattern=st.sampled_from(patterns),
           name=st.sampled_from(takers))
    def run(html: str, selector: str | None, pattern: str | None, name: str) -> None:
        taken = parsers.OPTIONS[name]
        options = {key: value for key, value in (("entry_selector", selector), ("date_pattern", pattern))
                   if value is not None and key in taken}
        check(name, html, **options)

    run()


# --- the seeded fuzz over the bundled pages ------------------------------------------------------------------------


@cache
def bundled_pages() -> tuple[tuple[str, str], ...]:
    """(url, text) of every distinct body in snapshots/, decoded as a sync decodes it."""
    archive = Archive(SNAPSHOTS)
    found: dict[str, tuple[str, str]] = {}
    for row in archive.rows():
        if row.sha256 and row.sha256 not in found:
            found[row.sha256] = (row.url, decode(archive.body(row.sha256), row.content_type))
    return tuple(found.values())


_CLOSING = re.compile(r"</[A-Za-z][^>]*>")
_OPENING = re.compile(r"<[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?>")
JUNK_ATTRIBUTES = [
    ' class="fulllabel', " href=javascript:alert(1)", " a=b=c\"'", " " + "=" * 200, ' title="' + "x" * 20000 + '"',
    ' class="navNext" href="//[evil"', ' href="http://[::1"', ' href="\x00"', " class=fulllabel class=navNext",
    ' href="file:///etc/passwd"', " <", ' href="' + "../" * 500 + '"', " \x00=\x00", ' id="main" role="main"',
]
ENTITIES = ["&#0;", "&#xD800;", "&#x110000;", "&amp", "&ndash", "&;", "&#99999999999;", "&#x;", "&" * 50, "&#65"]
INSERTED_TAGS = ["<div>", "<li>", "<table>", "<tr>", "<td>", "<a href=x>", "<h2>", "<span class=fulllabel>",
                 "<b>", "<ul>", "<p>", "<main>", "<script>", "<!--", "<style>", "<title>", "<textarea>", "<svg>"]


def _at(rng: random.Random, text: str) -> int:
    return rng.randrange(len(text) + 1)


def _insert(rng: random.Random, text: str, piece: str) -> str:
    at = _at(rng, text)
    return text[:at] + piece + text[at:]


def m_truncate(rng: random.Random, text: str) -> str:
    return text[: _at(rng, text)]


def m_drop_closing_tags(rng: random.Random, text: str) -> str:
    share = rng.random()
    return _CLOSING.sub(lambda m: "" if rng.random() < share else m.group(0), text)


def m_extra_tags(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 60)):
        piece = rng.choice(INSERTED_TAGS)
        if rng.random() < 0.3:
            piece = piece.replace("<", "</", 1)
        text = _insert(rng, text, piece)
    return text


def m_garble_attributes(rng: random.Random, text: str) -> str:
    share = rng.random() * 0.5
    return _OPENING.sub(
        lambda m: m.group(0)[:-1] + rng.choice(JUNK_ATTRIBUTES) + (">" if rng.random() < 0.8 else "")
        if rng.random() < share else m.group(0),
        text,
    )


def m_huge_text(rng: random.Random, text: str) -> str:
    words = [w for w in WORDS if w not in ("<", ">", "<!--", "<![CDATA[")]
    size = rng.choice([20_000, 100_000, 300_000])
    if rng.random() < 0.5:
        node = rng.choice(words) * (size // 4)  # one token repeated: what a backtracking regex hates
    else:
        node = " ".join(rng.choice(words) for _ in range(size // 8))
    # Inside a tag the parsers read: a heading, a list item, a cell, a label's value.
    wrapper = rng.choice(["{}", "<h2>{}</h2>", "<li>{}</li>", "<td>{}</td>", "<p>{}</p>", '<a href="x">{}</a>'])
    return _insert(rng, text, wrapper.format(node[: size]))


def m_deep_nesting(rng: random.Random, text: str) -> str:
    depth = rng.choice([50, 500, 1500, 10_000])
    tag = rng.choice(["div", "span", "b", "li", "table", "section", "font", "a"])
    start = _at(rng, text)
    end = start + rng.randrange(len(text) - start + 1)
    return text[:start] + f"<{tag}>" * depth + text[start:end] + f"</{tag}>" * depth + text[end:]


def m_latin1_bytes(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 8)):
        text = _insert(rng, text, rng.randbytes(rng.randrange(1, 400)).decode("latin-1"))
    return text


def m_nul_bytes(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 50)):
        text = _insert(rng, text, "\x00" * rng.randrange(1, 4))
    return text


def m_splice_other_page(rng: random.Random, text: str) -> str:
    _, other = rng.choice(bundled_pages())
    start = _at(rng, other)
    return _insert(rng, text, other[start: start + rng.randrange(1, 3000)])


def m_entities(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 30)):
        text = _insert(rng, text, rng.choice(ENTITIES))
    return text


def m_shuffle_tags(rng: random.Random, text: str) -> str:
    pieces = text.split("<")
    if len(pieces) > 3:
        start = rng.randrange(1, len(pieces) - 1)
        window = pieces[start: start + rng.randrange(2, 40)]
        rng.shuffle(window)
        pieces[start: start + len(window)] = window
    return "<".join(pieces)


MUTATIONS: dict[str, Callable[[random.Random, str], str]] = {
    name.removeprefix("m_"): func for name, func in globals().items() if name.startswith("m_")
}


@dataclass(frozen=True)
class Fuzzed:
    number: int
    url: str
    mutations: tuple[str, ...]
    html: str

    def describe(self, short: bool = False) -> str:
        url = self.url if not short or len(self.url) < 70 else self.url[:67] + "..."
        return (f"REPOSYNC_FUZZ_SEED={SEED} input #{self.number} ({len(self.html)} chars): "
                f"{url} mutated by {', '.join(self.mutations)}")


@cache
def fuzzed_inputs() -> tuple[Fuzzed, ...]:
    inputs = []
    for number in range(len(bundled_pages()) * ROUNDS):
        rng = random.Random(f"{SEED}:{number}")  # each input reproducible on its own
        url, html = bundled_pages()[number % len(bundled_pages())]
        names = tuple(rng.sample(sorted(MUTATIONS), rng.randrange(1, 4)))
        for name in names:
            html = MUTATIONS[name](rng, html)
        inputs.append(Fuzzed(number, url, names, html))
    return tuple(inputs)


@pytest.mark.parametrize("name", NAMES)
def test_fuzzed_snapshot_pages(name: str, capsys: pytest.CaptureFixture[str],
                               record_property: Callable[[str, object], None]) -> None:
    inputs = fuzzed_inputs()
    assert len(inputs) >= 100, "too few bundled pages to fuzz"
    started = time.perf_counter()
    slowest = (0.0, "")
    for fuzzed in inputs:
        elapsed = check(name, fuzzed.html, fuzzed.url, fuzzed.describe())
        slowest = max(slowest, (elapsed, fuzzed.describe(short=True)))
    total = time.perf_counter() - started
    record_property("fuzzed_inputs", len(inputs))
    record_property("fuzz_seconds", round(total, 2))
    with capsys.disabled():
        print(f"\n[fuzz] {name}: {len(inputs)} mutated snapshot pages (seed {SEED}) in {total:.1f} s; "
              f"slowest {slowest[0]:.2f} s: {slowest[1]}")


def test_every_registered_parser_is_run() -> None:
    run = {parsers.PARSERS[name] for name in NAMES}
    assert all(parse in run for parse in parsers.PARSERS.values())


def test_every_mutation_changes_pages_and_the_inputs_are_the_same_every_run() -> None:
    """The fuzz is what it says: each mutation does something, and a seed gives the same inputs."""
    url, html = bundled_pages()[0]
    for name, mutate in MUTATIONS.items():
        assert any(mutate(random.Random(n), html) != html for n in range(5)), name
    again = [random.Random(f"{SEED}:{n}").random() for n in range(3)]
    assert again == [random.Random(f"{SEED}:{n}").random() for n in range(3)]
    assert {m for f in fuzzed_inputs() for m in f.mutations} == set(MUTATIONS)  # every mutation is used


# --- named pathological pages ---------------------------------------------------------------------------------------

HEAD = "<!DOCTYPE html><html><head><title>Serious case reviews</title></head><body>"
ENTRY = "<h2>2018 - York - Child A</h2><ul><li><a href='/a.pdf'>Child A</a> (published 10/10/13)</li></ul>"
PATHOLOGICAL = {
    "10,000 nested divs": HEAD + "<div>" * 10_000 + ENTRY + "</div>" * 10_000 + "</body></html>",
    "10,000 nested divs, never closed": HEAD + "<div>" * 10_000 + ENTRY,
    "10,000 nested bold": HEAD + "<b>" * 10_000 + "2018 - York - Child A" + "</b>" * 10_000,
    "10,000 nested spans in a paragraph": HEAD + "<p>" + "<span>" * 10_000 + "Child A (published 2018)",
    "3,000 nested tables": HEAD + "<table><tr><td>" * 3_000 + ENTRY + "</td></tr></table>" * 3_000,
    "10,000 nested list items": HEAD + "<ul>" + "<li>" * 10_000 + "Child A (published 2018)" + "</li>" * 10_000,
    "5,000 unclosed paragraphs": HEAD + "<p>Child A (published 2018)" * 5_000,
    "1,900 nested divs (under the cap)": HEAD + "<div>" * 1_900 + ENTRY + "</div>" * 1_900,
    "a 500 KB heading": HEAD + "<main><h2>2018 - York - " + "A" * 500_000 + "</h2></main>",
    "a 500 KB run of spaces and dashes": HEAD + "<h2>2018" + " -" * 125_000 + "x</h2><p>Child A (published" +
                                         " " * 250_000 + "2018)</p>",
    "50,000 dates in a line": HEAD + "<li>" + "31/01/11 " * 50_000 + "</li>",
    "10,000 labelled dates in a line": HEAD + "<li>" + "Child A, updated: 2018 published 1 May 2019 " * 10_000,
    "10,000 fields of a record": HEAD + '<span class="fulllabel">Title</span> x<br>' * 10_000,
    "10,000 links": HEAD + "<ul>" + "<li><a href='/r.pdf'>Read the report</a></li>" * 10_000 + "</ul>",
    "NUL bytes everywhere": "\x00".join(HEAD + ENTRY),
    "only NUL bytes": "\x00" * 100_000,
    "only white space": " \t\r\n\xa0\u2028" * 10_000,
    "random bytes as latin-1": random.Random(SEED).randbytes(200_000).decode("latin-1"),
    "an unterminated comment": HEAD + "<!--" + ENTRY * 1_000,
    "an unterminated script": HEAD + "<script>" + ENTRY * 1_000,
    "100,000 '<' and no '>'": HEAD + "<a" * 100_000,
    "entities that are not characters": HEAD + "<h2>2018 - York - &#0;&#xD800;&#x110000;&#99999999999;</h2>",
}


@pytest.mark.parametrize("case", PATHOLOGICAL, ids=list(PATHOLOGICAL))
@pytest.mark.parametrize("name", NAMES)
def test_pathological_page(name: str, case: str) -> None:
    check(name, PATHOLOGICAL[case], what=case)


def test_deep_nesting_is_refused_as_a_parse_error_before_it_is_parsed() -> None:
    """Tree building slows with the square of the depth: 10 MB of nested <div> would take hours. Over the cap,
    every parser refuses the page at once; under it, the entries are read."""
    cap = reposync_settings.MAX_NESTING
    for name in NAMES:
        with pytest.raises(ParseError, match=f"nested more than {cap} deep"):
            parsers.get_parser(name)(HEAD + "<div>" * (cap + 1) + ENTRY, URL)
    started = time.perf_counter()
    with pytest.raises(ParseError, match="nested more than"):
        parsers.get_parser(NAMES[0])("<div>" * 2_000_000, URL)  # the size cap's worth of nesting
    assert time.perf_counter() - started < 1.0
    under = HEAD + "<div>" * (cap - 10) + ENTRY + "</div>" * (cap - 10)
    read = {name: len(parsers.get_parser(name)(under, URL).entries) for name in NAMES if name != "nspcc-library"}
    assert all(read.values()), read
    # Unclosed <p>, <li> and <td> do not nest, and a real page is never refused.
    assert parsers.get_parser(NAMES[0])(HEAD + "<p>Child A (published 2018)" * (3 * cap), URL) is not None


def test_a_link_that_is_not_a_url_is_no_link() -> None:
    """``//[evil`` made urljoin raise ValueError in every parser; it is now no link at all (only http(s) is)."""
    page = (HEAD + "<main><h2>Case reviews published in 2018</h2><h3>2018 - York - Child A</h3>"
            "<p><a href='//[evil'>Read the overview report</a></p>"
            "<ul><li><a href='http://[::1'>Child A</a> (published 10/10/13)</li></ul>"
            "<span class='fulllabel'>Title</span> Child A <span class='fulllabel'>Other</span>"
            "<a href='//[evil'>report.pdf</a> <a class='navNext' href='http://[::1'>next</a></main></body></html>")
    for name in NAMES:
        result = parsers.get_parser(name)(page, URL)
        assert result.entries, name
        assert {entry.url for entry in result.entries} == {None}, name
        assert result.next_url in (None, "http://[::1")  # the library's, as written: the walk refuses it


# --- the whole sync: a parser that blows up fails its own source only -------------------------------------------------

GOOD_PAGE = (HEAD + "<main><h1>Safeguarding practice reviews</h1><ul>"
             "<li><a href='/reports/child-a.pdf'>Child A</a> (published 10/10/13)</li>"
             "<li><a href='/reports/baby-b.pdf'>Baby B</a> (published 2014)</li></ul></main></body></html>")


def offline_config(tmp_path: Path, pages: dict[str, tuple[str, str]]) -> Path:
    """A config of generic-parser sources, {id: (url, parser)}, with an archive holding GOOD_PAGE at each URL."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "areas.toml").write_text((ROOT / "config" / "areas.toml").read_text(encoding="utf-8"), encoding="utf-8")
    archive = Archive(tmp_path / "snapshots")
    for url, _ in pages.values():
        archive.add(url, GOOD_PAGE.encode("utf-8"))
    table = {
        "crawl": {"user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; tests)"},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": [{"id": source_id, "kind": "local", "parser": parser, "area": "York", "url": url}
                   for source_id, (url, parser) in pages.items()],
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


@pytest.mark.parametrize("error", [RecursionError("maximum recursion depth exceeded"), KeyError("title"),
                                   ValueError("Invalid IPv6 URL"), AssertionError(), MemoryError(),
                                   UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")],
                         ids=lambda e: type(e).__name__)
def test_a_parser_that_raises_anything_fails_its_source_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              error: BaseException) -> None:
    def explode(html: str, url: str) -> ParseResult:
        raise error

    monkeypatch.setitem(parsers.PARSERS, "explodes", explode)
    config = load_config(offline_config(tmp_path, {
        "before": ("https://one.example.org/reviews", "generic"),
        "broken": ("https://two.example.org/reviews", "explodes"),
        "after": ("https://three.example.org/reviews", "generic"),
    }))
    result = run_sync(config, offline=True)
    assert result.exit_code == EXIT_DATA  # a page that no longer parses: a person looks
    outcomes = {o.source: o for o in result.outcomes}
    assert outcomes["broken"].error and type(error).__name__ in outcomes["broken"].error
    assert outcomes["broken"].entries == [] and not outcomes["broken"].complete
    assert all(outcomes[s].error is None and len(outcomes[s].entries) == 2 for s in ("before", "after"))
    assert result.counts.get("added") == 4 and result.counts.get("source-failed") == 1


def test_a_hostile_page_in_a_sync_fails_its_source_with_a_parse_error(tmp_path: Path) -> None:
    config_path = offline_config(tmp_path, {
        "deep": ("https://deep.example.org/reviews", "generic"),
        "fine": ("https://fine.example.org/reviews", "generic"),
    })
    Archive(tmp_path / "snapshots").add("https://deep.example.org/reviews", ("<div>" * 100_000).encode())
    result = run_sync(load_config(config_path), offline=True)
    outcomes = {o.source: o for o in result.outcomes}
    assert result.exit_code == EXIT_DATA
    assert "nested more than" in outcomes["deep"].error and outcomes["fine"].error is None
