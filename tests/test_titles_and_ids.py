"""Issue 12, items 1-3: titles as written, no entry lost to an id collision, entries without a link.

- Every parser keeps the title as the page writes it, type words included; the type is read from those
  words (``review_type``) and the matching key (``title_key``) drops them.
- A review and its 7 minute briefing of the same name are two entries; two reviews with one title are
  two entries; a walk's ids are unique, and the catalogue refuses (loudly) a walk that is not.
- A review listed with no link is an entry with ``url`` null and its note.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlite_utils
import tomli_w

from conftest import CONFIG, FIXTURES, ROOT, SNAPSHOTS
from mockserver import MockServer, Resource
from reposync import catalogue
from reposync.catalogue import DuplicateEntryId, SourceOutcome
from reposync.config import load_config
from reposync.normalise.entries import entry_id, normalise, title_key, unique_ids
from reposync.parsers import get_parser
from reposync.archive.snapshots import Archive
from reposync.sync import run_sync

PAGE = FIXTURES / "pages" / "generic" / "review-and-briefing.html"


def _config(tmp_path: Path, url: str) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    table = {
        "crawl": {"delay": 0.0, "timeout": 5.0, "retries": 0, "max_bytes": 1_000_000,
                  "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; tests)"},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": [{"id": "synthetic", "kind": "local", "parser": "generic", "area": "York", "url": url}],
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


@pytest.fixture
def synced(tmp_path: Path, server: MockServer) -> tuple[object, list[dict]]:
    server.pages["/reviews"] = Resource(PAGE.read_bytes())
    result = run_sync(load_config(_config(tmp_path, server.url("/reviews"))))
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    try:
        rows = list(db.query("SELECT * FROM entries WHERE source = 'synthetic' ORDER BY published DESC, id"))
    finally:
        db.close()
    return result, rows


def test_every_entry_of_the_page_reaches_the_catalogue(synced) -> None:
    result, rows = synced
    assert result.exit_code == 0
    (outcome,) = result.outcomes
    assert len(rows) == len(outcome.entries) == 10  # what the sync says it saw is what the catalogue holds
    assert len({row["id"] for row in rows}) == 10


def test_a_review_and_its_briefing_with_one_name_are_two_entries(synced) -> None:
    _, rows = synced
    named = {row["title"]: row for row in rows if "XNA" in row["title"]}
    review = named["Child XNA – Local Child Safeguarding Practice Review"]
    briefing = named["Child XNA – 7 Minute Briefing"]
    assert review["id"] != briefing["id"]
    assert (review["review_type"], briefing["review_type"]) == ("lcspr", "briefing")
    assert review["url"].endswith("child-xna-lcspr.pdf") and briefing["url"].endswith("child-xna-7mb.pdf")
    assert review["title_key"] == briefing["title_key"] == "child xna"  # matching still sees one case


def test_titles_are_kept_as_written_and_typed_from_their_words(synced) -> None:
    _, rows = synced
    types = {row["title"]: row["review_type"] for row in rows}
    assert types["7 Minute Briefing: Learning from Rapid Reviews"] == "briefing"
    assert types["Learning summary: Family XF"] == "briefing"
    assert types["Child XD Local Child Safeguarding Practice Review"] == "lcspr"
    assert types["Child XR – serious case review"] == "scr"
    assert "Child ‘XEllie’ – learning review" in types
    keys = {row["title"]: row["title_key"] for row in rows}
    assert keys["Child ‘XEllie’ – learning review"] == "child xellie"
    assert keys["Child XD Local Child Safeguarding Practice Review"] == "child xd"


def test_entries_without_a_link_are_kept_with_their_note(synced) -> None:
    _, rows = synced
    by_title = {row["title"]: row for row in rows}
    withdrawn = by_title["Child XQ"]
    assert withdrawn["url"] is None and withdrawn["report_url"] is None
    assert withdrawn["note"] == "the report was withdrawn at the family's request"
    assert withdrawn["published"] == "2022-06-14"
    assert withdrawn["page_url"].endswith("/reviews")  # where it is listed
    on_request = by_title["Child XR – serious case review"]
    assert on_request["url"] is None and on_request["note"] == "available on request from the business unit"


def test_two_reviews_with_one_title_keep_their_own_ids_whatever_the_order(tmp_path: Path) -> None:
    config = load_config(CONFIG)
    source = next(s for s in config.sources if s.id == "york")
    html = PAGE.read_text(encoding="utf-8")
    url = "https://partnership.example/learning-from-reviews"

    def ids(page: str) -> dict[str, str]:
        rows = unique_ids([normalise(raw, source, config.areas) for raw in get_parser("generic")(page, url).entries],
                          set())
        return {row["report_url"]: row["id"] for row in rows if row["title"] == "Child XA"}

    first = ids(html)
    assert sorted(first.values()) == ["york:child-xa@2018-04-05", "york:child-xa@2021-02-02"]
    older, newer = ('<li><a href="/files/child-xa-2018.pdf">Child XA</a> (published 5 April 2018)</li>',
                    '<li><a href="/files/child-xa-2021.pdf">Child XA</a> (published 2 February 2021)</li>')
    swapped = html.replace(older, "@@").replace(newer, older).replace("@@", newer)
    assert swapped != html and ids(swapped) == first  # the page's order does not decide an id


def test_unique_ids_keeps_identical_entries_and_leaves_library_records_alone() -> None:
    rows = [{"id": "s:child-a", "published": "2020"}, {"id": "s:child-a", "published": "2020"},
            {"id": "s:child-b", "published": None, "report_url": "https://e.org/docs/child-b.pdf?v=2"},
            {"id": "lib:NC1", "copy_number": "NC1"}, {"id": "lib:NC1", "copy_number": "NC1"}]
    taken: set[str] = set()
    unique_ids(rows, taken)
    assert [row["id"] for row in rows] == ["s:child-a@2020", "s:child-a@2020-2", "s:child-b", "lib:NC1", "lib:NC1"]
    later = [{"id": "s:child-b", "published": None, "report_url": "https://e.org/docs/child-b.pdf?v=2"}]
    assert unique_ids(later, taken)[0]["id"] == "s:child-b@child-b-pdf"  # the same title on a later page


def _outcome(rows: list[dict]) -> SourceOutcome:
    outcome = SourceOutcome(source="synthetic", departure="expired")
    outcome.entries, outcome.complete = rows, True
    return outcome


def _row(entry_id: str, title: str, **extra: object) -> dict:
    row = {"id": entry_id, "source": "synthetic", "kind": "local", "title": title, "title_key": title_key(title),
           "url": None, "report_url": None, "page_url": "https://e.org/", "copy_number": None, "area": "York",
           "la_codes": ["E06000014"], "pseudonyms": [], "keywords": [], "details": {}, "review_type": "other"}
    row.update(extra)
    return row


def test_a_walk_with_two_entries_of_one_id_fails_loudly_and_lands_nothing(tmp_path: Path) -> None:
    db = catalogue.open_db(tmp_path / "catalogue.db")
    run_id = catalogue.start_run(db, "offline")
    rows = [_row("synthetic:child-a", "Child A"), _row("synthetic:child-a", "Child A", note="another")]
    with pytest.raises(DuplicateEntryId, match="synthetic:child-a"):
        catalogue.apply_run(db, run_id, [_outcome(rows)], exit_code=0)
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_one_library_record_seen_twice_on_a_walk_is_one_entry(tmp_path: Path) -> None:
    db = catalogue.open_db(tmp_path / "catalogue.db")
    run_id = catalogue.start_run(db, "offline")
    rows = [_row("synthetic:NC1", "Serious case review: Child A", copy_number="NC1")] * 2
    catalogue.apply_run(db, run_id, [_outcome(rows)], exit_code=0)
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 1


def _walks() -> list[tuple[str, list]]:
    """Every bundled snapshot walk and every example page, as raw entries with the source that reads them."""
    config = load_config(CONFIG)
    archive = Archive(SNAPSHOTS)
    found = []
    for source in config.sources:
        raws, url, seen = [], source.url, set()
        parse = get_parser(source.parser, entry_selector=source.entry_selector, date_pattern=source.date_pattern)
        while url is not None and url not in seen:
            seen.add(url)
            row = archive.latest(url)
            result = parse(archive.body(row.sha256).decode("utf-8"), url)
            raws.extend(result.entries)
            url = result.next_url
        found.append((source.id, source, raws))
    local = next(s for s in config.sources if s.kind == "local")
    for page in sorted((FIXTURES / "pages").glob("*/*.html")):
        authored = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        options = {key: authored.get(key) for key in ("entry_selector", "date_pattern")}
        try:
            result = get_parser(page.parent.name, **options)(page.read_text(encoding="utf-8"), authored["url"])
        except Exception:
            continue  # pages that must not parse (tested elsewhere)
        found.append((f"{page.parent.name}/{page.stem}", local, result.entries))
    return [(name, source, raws) for name, source, raws in found]


# Example pages that repeat a title on purpose (two reviews named alike): unique_ids settles them.
REPEATS_TITLES = {"generic/review-and-briefing", "generic/table-of-documents",
                  "lancashire",  # a real table of a report and a brief per review, both named by the review
                  "rochdale"}  # a real list naming "Child X1/X2 Serious Case Review" twice


@pytest.mark.parametrize(("name", "source", "raws"), _walks(), ids=lambda value: value if isinstance(value, str) else "")
def test_no_walk_gives_two_entries_one_id(name: str, source, raws: list) -> None:
    """A parser change that made two entries of a real page share an id fails here, not silently in a sync."""
    ids = [entry_id(source, raw) for raw in raws if not raw.copy_number]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if name in REPEATS_TITLES:
        assert repeated, f"{name} no longer repeats a title: take it out of REPEATS_TITLES"
    else:
        assert not repeated, f"{name}: entries share the ids {repeated}"


def test_titles_as_written_in_the_national_parsers() -> None:
    """The NSPCC lists and the library keep the whole title as written (type words and all)."""
    rolling = get_parser("nspcc-rolling")(
        "<html><body><main><h1>Case reviews published in 2025</h1>"
        "<h3>2025 - Birmingham - Baby XA: local child safeguarding practice review</h3>"
        "<p>A synthetic summary.</p><p><a href='/x.pdf'>Read the overview report</a></p></main></body></html>",
        "https://learning.nspcc.example/case-reviews/recently-published-case-reviews")
    (entry,) = rolling.entries
    assert entry.title == "Baby XA: local child safeguarding practice review"
    assert title_key(entry.title) == "baby xa"
    library = get_parser("nspcc-library")(
        "<html><body><table><tr><td class='fulllabel'>Title</td>"
        "<td>Serious case review: overview report: Child 'XElias'.</td></tr>"
        "<tr><td class='fulllabel'>Copy number</td><td>NC00001</td></tr></table></body></html>",
        "https://library.nspcc.example/record")
    assert library.entries[0].title == "Serious case review: overview report: Child 'XElias'."
    assert title_key(library.entries[0].title) == "child xelias"


def test_a_table_of_documents_gives_an_entry_a_document_with_its_own_id() -> None:
    """Case | Overview Report | Learning Brief: a review's report and brief are two entries (typed by their
    column), a report no longer published is kept without a link, and ids never depend on the column order."""
    config = load_config(CONFIG)
    source = next(s for s in config.sources if s.id == "york")
    page = FIXTURES / "pages" / "generic" / "table-of-documents.html"
    raws = get_parser("generic")(page.read_text(encoding="utf-8"), "https://lscb.example/scr.aspx").entries
    rows = unique_ids([normalise(raw, source, config.areas) for raw in raws], set())
    found = {(row["title"], row["review_type"], row["published"]): row for row in rows}
    assert len(rows) == 8 and len({row["id"] for row in rows}) == 8
    assert found[("Child XLC", "scr", "2017-06-14")]["id"] == "york:child-xlc@2017-06-14-scr"
    assert found[("Child XLC", "briefing", "2017-06-14")]["id"] == "york:child-xlc@2017-06-14-briefing"
    withdrawn = found[("Young Person XA", "other", None)]
    assert withdrawn["url"] is None and withdrawn["note"] == "No longer published"
