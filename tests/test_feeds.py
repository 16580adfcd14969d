"""The Atom feeds (datasette-atom on three saved queries of config/metadata.yml), read with feedparser as a
feed reader would: new national entries, new entries for one area, new links."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from datasette_server import METADATA, build_catalogue

datasette_app = pytest.importorskip("datasette.app", reason="Datasette is not installed: pip install -e '.[datasette]'")
feedparser = pytest.importorskip("feedparser")
yaml = pytest.importorskip("yaml")

FEEDS = ("new_national_entries", "new_entries_for_area", "new_links")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_catalogue(tmp_path_factory.mktemp("feeds"))[1]


def fetch(db_path: Path, *paths: str) -> list[Any]:
    """GET each path from Datasette on the catalogue; each response's status, content type and parsed feed."""

    async def run() -> list[Any]:
        ds = datasette_app.Datasette([str(db_path)], metadata=yaml.safe_load(METADATA.read_text(encoding="utf-8")))
        await ds.invoke_startup()
        out = []
        for path in paths:
            response = await ds.client.get(path)
            out.append((response.status_code, response.headers.get("content-type"), feedparser.parse(response.content)))
        return out

    return asyncio.run(run())


def feed(db_path: Path, path: str) -> Any:
    [(status, content_type, parsed)] = fetch(db_path, path)
    assert status == 200, (path, parsed)
    assert content_type.startswith("application/xml")
    assert not parsed.bozo, parsed.bozo_exception  # well-formed Atom
    assert parsed.version == "atom10"
    return parsed


def test_each_feed_is_a_saved_query_with_the_atom_columns() -> None:
    queries = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["catalogue"]["queries"]
    for name in FEEDS:
        sql = queries[name]["sql"]
        for column in ("atom_id", "atom_title", "atom_updated"):
            assert f" as {column}" in sql, (name, column)


def test_new_national_entries(catalogue: Path) -> None:
    with sqlite3.connect(catalogue) as conn:
        national = {r[0]: r[1] for r in conn.execute("SELECT id, title FROM entries WHERE kind = 'national'")}
        started = conn.execute("SELECT started_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    parsed = feed(catalogue, "/catalogue/new_national_entries.atom")
    assert parsed.feed.title == "New in the national repository"
    assert len(parsed.entries) == min(100, len(national))
    ids = [e.id.removeprefix("urn:reposync:entry:") for e in parsed.entries]
    assert set(ids) <= set(national) and len(set(ids)) == len(ids)
    york = next(e for e in parsed.entries if e.id == "urn:reposync:entry:nspcc-2013:city-of-york-baby-a")
    assert york.title == "Baby A (York, 2013-10)"
    assert york.link.startswith("https://")
    assert york.updated == started
    anonymous = [e.title for e in parsed.entries if "area withheld" in e.title]
    assert anonymous  # the anonymous records say so rather than name no area


def test_new_entries_for_one_area(catalogue: Path) -> None:
    parsed = feed(catalogue, "/catalogue/new_entries_for_area.atom?area=york")
    # York's five entries on its own page, and the national repository's Baby A of York
    assert sorted(e.id for e in parsed.entries) == sorted(
        f"urn:reposync:entry:{i}" for i in ("york:child-a-b-and-c", "york:child-b", "york:baby-a",
                                            "york:thematic-review-of-child-neglect", "york:messages-from-reviews",
                                            "nspcc-2013:city-of-york-baby-a"))
    assert "Child A, B and C (york, 2011-01-31)" in [e.title for e in parsed.entries]
    with sqlite3.connect(catalogue) as conn:
        birmingham = {f"urn:reposync:entry:{r[0]}" for r in conn.execute("SELECT id FROM entries WHERE area = 'Birmingham'")}
    assert birmingham and {e.id for e in feed(catalogue, "/catalogue/new_entries_for_area.atom?area=Birmingham").entries} == birmingham


def test_an_area_with_nothing_yet_is_still_a_feed(catalogue: Path) -> None:
    parsed = feed(catalogue, "/catalogue/new_entries_for_area.atom?area=Atlantis")
    assert [e.title for e in parsed.entries] == ["No entries for Atlantis in the catalogue yet"]


def test_new_links(catalogue: Path, tmp_path: Path) -> None:
    parsed = feed(catalogue, "/catalogue/new_links.atom")
    assert [e.title for e in parsed.entries] == ["Baby A (york) linked to Baby A (nspcc-2013, 2013-10)"]
    assert "National: Baby A (nspcc-2013, York, 2013-10)" in parsed.entries[0].summary
    empty = tmp_path / "catalogue.db"  # a catalogue in which nothing was ever linked
    empty.write_bytes(catalogue.read_bytes())
    with sqlite3.connect(empty) as conn:
        conn.execute("DELETE FROM changes WHERE kind = 'linked'")
    assert [e.title for e in feed(empty, "/catalogue/new_links.atom").entries] == ["No links yet"]


def test_page_text_stays_text_in_a_feed(catalogue: Path, tmp_path: Path) -> None:
    hostile = tmp_path / "catalogue.db"
    hostile.write_bytes(catalogue.read_bytes())
    title = "Child <script>alert(1)</script> & \"Baby\" ]]>"
    with sqlite3.connect(hostile) as conn:
        conn.execute("UPDATE entries SET title = ? WHERE id = 'york:child-b'", [title])
    parsed = feed(hostile, "/catalogue/new_entries_for_area.atom?area=York")
    assert f"{title} (york, 2013-10-10)" in [e.title for e in parsed.entries]
