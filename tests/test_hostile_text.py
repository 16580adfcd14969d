"""Text from pages is stored as text and shown as text: in SQLite, in the Markdown and HTML reports, in Datasette.

Hostile titles (SQL, HTML, Markdown, entities) go through a full offline sync
into a catalogue, come back byte for byte, and appear escaped in every place a
person reads them. The SQL is parameterised throughout: the only f-string SQL in
``src/reposync`` interpolates column names and ``?`` lists that the code makes,
never a value (reviewed when this file was written); the round trips here would
break on any value spliced into SQL.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import markupsafe
import pytest
import tomli_w
from click.testing import CliRunner

from conftest import ROOT
from reposync import parsers
from reposync.reports import night as report
from reposync.catalogue import open_db
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.errors import EXIT_OK, EXIT_USAGE
from reposync.archive.snapshots import Archive
from reposync.sync import run_sync

if "nspcc-library" not in parsers.PARSERS:
    pytest.skip("the library parser is not registered", allow_module_level=True)

LIBRARY = "https://library.example.org/record/"
SQL = "Child SQ'); DROP TABLE entries; --"
SCRIPT = "<script>alert(1)</script> Child SX"
MD_LINK = "[x](javascript:alert(1)) Child MD"
IMG = "<img src=x onerror=alert(1)> Child IM"
MARKDOWN = "**Child BO** PWN # heading | cell | ![i](http://evil.example/i.png) <http://evil.example/>"
ENTITY = "&lt;script&gt; Child EN &amp; &#60;b&#62;"  # as written on the page, after one decoding
QUOTES = 'Child QU " onmouseover="alert(1)'
TITLES = [SQL, SCRIPT, MD_LINK, IMG, MARKDOWN, ENTITY, QUOTES]
TABLES = {"entries", "reviews", "links", "runs", "changes", "entry_versions"}


def record(number: int, title: str, *, last: bool = False, summary: str = "") -> bytes:
    escaped = html.escape(title, quote=True)
    nav = "" if last else f'<a class="navNext" href="{LIBRARY}{number + 1}">Next</a>'
    return (f"<html><head><title>NSPCC Library</title></head><body><table>"
            f"<tr><td class='fulllabel'>Title</td><td>{escaped}</td></tr>"
            f"<tr><td class='fulllabel'>Copy number</td><td>CN{number}'; DROP TABLE runs;--</td></tr>"
            f"<tr><td class='fulllabel'>Date of publication</td><td>2015</td></tr>"
            f"<tr><td class='fulllabel'>Abstract</td><td>{html.escape(summary or title)}</td></tr>"
            f"<tr><td class='fulllabel'>Keywords</td><td>neglect, {html.escape(SQL)}</td></tr>"
            f"<tr><td class='fulllabel'>Other</td><td><a href=\"{LIBRARY}{number}.pdf?x=%22%3E%3Cscript%3E\">"
            f"report.pdf</a></td></tr></table>{nav}</body></html>").encode("utf-8")


def catalogue_from(tmp_path: Path, titles: list[str], summary: str = "") -> tuple[Path, Any]:
    """An offline sync of a library chain, one record per title, into tmp_path/catalogue.db."""
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    archive = Archive(tmp_path / "snapshots")
    for number, title in enumerate(titles, 1):
        archive.add(f"{LIBRARY}{number}", record(number, title, last=number == len(titles), summary=summary))
    table = {
        "crawl": {"user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; tests)"},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": [{"id": "library", "kind": "national", "parser": "nspcc-library", "url": f"{LIBRARY}1"}],
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    result = run_sync(load_config(path), offline=True)
    assert result.exit_code == EXIT_OK, [o.error for o in result.outcomes]
    return path, result


def tables(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def rows(db_path: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchall()


# --- SQLite ---------------------------------------------------------------------------------------------------------

def test_hostile_titles_round_trip_through_the_catalogue(tmp_path: Path) -> None:
    config, first = catalogue_from(tmp_path, TITLES)
    db = tmp_path / "catalogue.db"
    assert TABLES <= tables(db)
    assert sorted(t for (t,) in rows(db, "SELECT title FROM entries")) == sorted(TITLES)
    assert {s for (s,) in rows(db, "SELECT summary FROM entries")} == set(TITLES)
    assert all(SQL in json.loads(k) for (k,) in rows(db, "SELECT keywords FROM entries"))
    assert {c for (c,) in rows(db, "SELECT copy_number FROM entries")} == {
        f"CN{n}'; DROP TABLE runs;--" for n in range(1, len(TITLES) + 1)}
    assert {t for (t,) in rows(db, "SELECT new FROM changes WHERE kind = 'added'")} == set(TITLES)

    # A second night changes every summary: UPDATEs and change rows carry hostile text both ways.
    _, second = catalogue_from(tmp_path, TITLES, summary=SQL + " " + SCRIPT)
    assert TABLES <= tables(db)
    assert second.counts.get("changed") == len(TITLES)
    changed = rows(db, "SELECT old, new FROM changes WHERE run_id = ? AND field = 'summary'", second.run_id)
    assert {old for old, _ in changed} == set(TITLES) and {new for _, new in changed} == {SQL + " " + SCRIPT}
    assert sorted(t for (t,) in rows(db, "SELECT title FROM entries")) == sorted(TITLES)

    # Full-text search with the hostile text as the query (quoted, as FTS5 wants it).
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?", ['"DROP TABLE"'])
        assert found.fetchone()[0] == len(TITLES)


def test_hostile_ids_on_the_command_line_are_unknown_ids_not_sql(tmp_path: Path) -> None:
    config, _ = catalogue_from(tmp_path, [SQL, SCRIPT])
    result = CliRunner().invoke(cli, ["links", "--config", str(config), "accept", SQL, "x' OR '1'='1"])
    assert result.exit_code == EXIT_USAGE
    assert TABLES <= tables(tmp_path / "catalogue.db")
    assert rows(tmp_path / "catalogue.db", "SELECT count(*) FROM entries") == [(2,)]


# --- the reports --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("hostile-report")
    catalogue_from(tmp_path, TITLES)
    db = open_db(tmp_path / "catalogue.db")
    try:
        built = report.build(db)
    finally:
        db.close()
    # A failure reason and a changed field can carry page text too.
    built["sections"]["source-failed"] = [{"source": "x", "url": "https://e.org/\n# PWN\n<script>alert(1)</script>",
                                           "reason": SCRIPT + " " + MD_LINK}]
    built["sections"]["changed"] = [{"entry": "e1", "source": "library", "title": SQL, "area": IMG,
                                     "published": "2015", "url": 'https://e.org/x"><script>alert(1)</script>',
                                     "page": "https://e.org/\r\n<script>alert(1)</script>",
                                     "fields": [{"field": "title", "old": MARKDOWN, "new": SCRIPT}]}]
    return built


def test_the_markdown_report_shows_page_text_as_text(built: dict[str, Any]) -> None:
    md = report.render_md(built)
    assert all(report.md_escape(title) in md for title in TITLES)  # every entry is there, escaped
    text = re.sub(r"\]\(<[^>\s]*>\)", "]", md)  # the report's own link destinations set aside
    assert not re.search(r"(?<!\\)[<>]", text)  # no unescaped < or >: no raw HTML, no autolink
    assert "](javascript" not in md and "![" not in md and "**Child" not in md
    assert "&lt;" not in md.replace("\\&lt;", "")  # an entity is escaped, so it shows as written
    # Page text never starts a line: every line holding it is a list item or a table row, so no heading,
    # no raw HTML block, no link reference definition can come from a page.
    for line in md.splitlines():
        if "PWN" in line or "alert" in line or "DROP" in line:
            assert line.startswith(("- ", "| ", "  ")), line
    for title in (SCRIPT, MD_LINK, IMG, MARKDOWN):  # each special character is backslash-escaped
        assert report.md_escape(title) in md
        assert all(f"\\{ch}" in report.md_escape(title) for ch in set(title) & set("[]()<>*#|!"))
    # Link destinations from pages: nothing that can end the link or the line.
    for destination in re.findall(r"\]\(<([^>]*)>\)", md):
        assert not re.search(r"[\s<>\\]", destination), destination


def test_the_html_report_shows_page_text_as_text(built: dict[str, Any]) -> None:
    page = report.render_html(built)
    assert "<script" not in page.lower().replace("&lt;script", "") and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Child SX" in page
    # (escaped as Jinja2 escapes, which writes ' as &#39; where html.escape writes &#x27;)
    assert all(str(markupsafe.escape(text)) in page for text in (MD_LINK, IMG, SQL))
    assert 'href="javascript' not in page.lower() and "onmouseover=\"" not in page and "\"><script" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)


def test_the_json_report_is_the_text_as_written(built: dict[str, Any]) -> None:
    data = json.loads(report.render(built, "json"))
    titles = {item["title"] for item in data["sections"]["added"]}
    assert titles == set(TITLES)


# --- Datasette --------------------------------------------------------------------------------------------------------

def test_datasette_renders_page_text_escaped(tmp_path: Path) -> None:
    app = pytest.importorskip("datasette.app", reason="Datasette is not installed: pip install -e '.[datasette]'")
    from datasette.utils import tilde_encode
    catalogue_from(tmp_path, TITLES)
    db_path = tmp_path / "catalogue.db"
    metadata = None
    metadata_path = ROOT / "config" / "metadata.yml"
    if metadata_path.exists():
        yaml = pytest.importorskip("yaml")
        metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))

    async def pages() -> dict[str, Any]:
        ds = app.Datasette([str(db_path)], metadata=metadata)
        await ds.invoke_startup()
        got = {}
        for path in ("/catalogue/entries", "/catalogue/entries?_search=script",
                     "/catalogue?sql=select+title,+summary,+url+from+entries", "/catalogue/changes",
                     "/catalogue/entry_versions"):
            got[path] = await ds.client.get(path)
        [(entry_id,)] = rows(db_path, "SELECT id FROM entries WHERE title = ?", SCRIPT)
        got["row"] = await ds.client.get(f"/catalogue/entries/{tilde_encode(entry_id)}")
        return got

    for path, response in asyncio.run(pages()).items():
        assert response.status_code == 200, (path, response.status_code)
        text = response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert 'href="javascript:' not in text, path
