"""config/metadata.yml on a catalogue built from the snapshots, through Datasette's own Python API (no browser):
every table and column described, search, facets, the saved queries, and a librarian's accept/reject."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from datasette_server import METADATA, YORK_TITLES, build_catalogue

from reposync.reports.completeness import LOCAL_REVIEW_TYPES

datasette_app = pytest.importorskip("datasette.app", reason="Datasette is not installed: pip install -e '.[datasette]'")
yaml = pytest.importorskip("yaml")

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
READ_QUERIES = ("local_not_in_national", "national_not_in_local", "links_to_review", "last_sync",
                "reviews_by_year_and_type")


def metadata() -> dict[str, Any]:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    return build_catalogue(tmp_path)[1]


def scenario(db_path: Path, steps: Callable[[Any], Any]) -> Any:
    """Run ``steps(client)`` against Datasette on the catalogue, in one event loop."""

    async def run() -> Any:
        ds = datasette_app.Datasette([str(db_path)], metadata=metadata())
        await ds.invoke_startup()
        return await steps(Client(ds))

    return asyncio.run(run())


class Client:
    def __init__(self, ds: Any) -> None:
        self.ds = ds

    def _cookies(self, actor: str | None, extra: str = "") -> dict[str, str]:
        cookies = [f"ds_actor={self.ds.sign({'a': {'id': actor}}, 'actor')}"] if actor else []
        if extra:
            cookies.append(extra)
        return {"cookie": "; ".join(cookies)} if cookies else {}

    async def get(self, path: str, actor: str | None = None):
        return await self.ds.client.get(path, headers=self._cookies(actor))

    async def rows(self, query: str, **params: str) -> list[dict[str, Any]]:
        args = "&".join(f"{k}={v}" for k, v in params.items())
        response = await self.get(f"/catalogue/{query}.json?_shape=array&{args}")
        assert response.status_code == 200, response.text
        return response.json()

    async def decide(self, query: str, actor: str | None, **form: str):
        """Fill in and submit a writable query's form as a browser would (with its CSRF token)."""
        page = await self.get(f"/catalogue/{query}", actor)
        if page.status_code != 200:
            return page
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        csrf_cookie = page.cookies.get("ds_csrftoken")
        blank = {name: "" for name in re.findall(r'<input type="text"[^>]* name="([^"]+)"', page.text)}
        return await self.ds.client.post(
            f"/catalogue/{query}",
            data={**blank, **form, "csrftoken": token},  # as a browser sends it: every field, some blank
            headers={**self._cookies(actor, f"ds_csrftoken={csrf_cookie}"),
                     "content-type": "application/x-www-form-urlencoded"},
        )


def links(db_path: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    with sqlite3.connect(db_path) as conn:
        return {(a, b): (d, t) for a, b, d, t in conn.execute("SELECT entry_a, entry_b, decision, decided_at FROM links")}


def york_baby_a(db_path: Path) -> tuple[str, str]:
    """York's Baby A and the national entry it is (auto) linked to, else the York Baby A of the 2013 list."""
    with sqlite3.connect(db_path) as conn:
        local = conn.execute("SELECT id FROM entries WHERE source = 'york' AND title = 'Baby A'").fetchone()[0]
        row = conn.execute("SELECT entry_b FROM links WHERE entry_a = ? AND decision IN ('auto', 'accepted') "
                           "ORDER BY entry_b LIMIT 1", [local]).fetchone()
        if row is None:
            row = conn.execute("SELECT id FROM entries WHERE kind = 'national' AND la_codes LIKE '%E06000014%' "
                               "AND pseudonyms LIKE '%\"baby a\"%' ORDER BY id LIMIT 1").fetchone()
    assert row is not None, "the snapshots place York's Baby A in a national list"
    return local, row[0]


# --- the metadata --------------------------------------------------------------------------------------------


def test_every_table_and_column_a_librarian_sees_is_described(catalogue: Path) -> None:
    tables = metadata()["databases"]["catalogue"]["tables"]

    async def steps(client: Client) -> tuple[list[str], list[str], list[str], dict[str, list[str]]]:
        db = client.ds.get_database("catalogue")
        names = await db.table_names()
        views = await db.view_names()
        hidden = await db.hidden_table_names()
        columns = {name: await db.table_columns(name) for name in [*names, *views]}
        return names, views, hidden, columns

    names, views, hidden, columns = scenario(catalogue, steps)
    assert {"_sqlite_migrations", "entries_fts", "entries_fts_data", "entries_fts_idx", "entries_fts_docsize",
            "entries_fts_config"} <= set(hidden)
    visible = [name for name in [*names, *views] if name not in hidden]
    assert {"entries", "reviews", "links", "runs", "changes", "entry_versions"} <= set(visible)
    for name in visible:
        assert tables.get(name, {}).get("description"), f"metadata.yml: no description for table {name}"
        described = tables[name].get("columns", {})
        missing = [c for c in columns[name] if not described.get(c)]
        assert not missing, f"metadata.yml: no description for column(s) {missing} of {name}"
        stale = sorted(set(described) - set(columns[name]))
        assert not stale, f"metadata.yml: {name} has no column(s) {stale}"


def test_metadata_has_the_notes_a_librarian_needs() -> None:
    meta = metadata()
    assert meta["title"] and meta["description_html"]
    assert "copyright" in meta["license"] and "metadata and links" in meta["license"].lower()
    assert meta["source"] and meta["source_url"].startswith("https://")
    entries = meta["databases"]["catalogue"]["tables"]["entries"]
    assert entries["sort_desc"] == "published" and entries["label_column"] == "title"
    assert entries["facets"] == ["source", "area", "review_type", "published_year", "status"]
    assert entries["fts_table"] == "entries_fts"
    assert meta["databases"]["catalogue"]["tables"]["reviews"]["label_column"] == "title"
    queries = meta["databases"]["catalogue"]["queries"]
    for name in ("accept_link", "reject_link"):
        assert queries[name]["write"] is True
        assert queries[name]["allow"] == {"id": ["root", "librarian"]}


# --- browsing ---------------------------------------------------------------------------------------------------


def test_search_facets_and_newest_first(catalogue: Path) -> None:
    async def steps(client: Client) -> dict[str, Any]:
        searched = await client.get("/catalogue/entries.json?_search=Baby&_shape=objects")
        york = await client.get("/catalogue/entries.json?source=york&_shape=objects&_size=max")
        page = await client.get("/catalogue/entries")
        return {"searched": searched.json(), "york": york.json(), "page": page.text}

    got = scenario(catalogue, steps)
    titles = [row["title"] for row in got["searched"]["rows"]]
    assert "Baby A" in titles and all(re.search(r"\bbab(y|ies)\b", t, re.I) for t in titles)
    assert {f for f in got["searched"]["facet_results"]} == {"source", "area", "review_type", "published_year",
                                                             "status"}
    york_rows = got["york"]["rows"]
    assert {row["title"] for row in york_rows} == YORK_TITLES
    published = [row["published"] for row in york_rows]
    assert published == sorted(published, reverse=True)  # newest first by default
    assert "sorted by published descending" in got["page"]


def test_every_saved_query_answers(catalogue: Path) -> None:
    async def steps(client: Client) -> dict[str, Any]:
        pages = {name: (await client.get(f"/catalogue/{name}")).status_code for name in READ_QUERIES}
        index = await client.get("/")
        data = {name: await client.rows(name) for name in READ_QUERIES}
        return {"pages": pages, "data": data, "index": index.text}

    got = scenario(catalogue, steps)
    assert got["pages"] == {name: 200 for name in READ_QUERIES}
    for name in READ_QUERIES:  # the home page links every saved query
        assert f'href="/catalogue/{name}"' in got["index"]
    data = got["data"]
    with sqlite3.connect(catalogue) as conn:
        unlinked = {r[0] for r in conn.execute(
            "SELECT id FROM entries e WHERE kind = 'local' AND NOT EXISTS (SELECT 1 FROM links l "
            "WHERE l.entry_a = e.id AND l.decision IN ('auto', 'accepted')) AND review_type IN "
            f"({', '.join(repr(t) for t in LOCAL_REVIEW_TYPES)})")}
        queue = conn.execute("SELECT count(*) FROM links WHERE decision = 'review'").fetchone()[0]
        last_run = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
        reviews = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
    missing = data["local_not_in_national"]
    assert {row["entry"] for row in missing} == unlinked
    assert "york:child-b" in unlinked
    assert "york:messages-from-reviews" not in unlinked  # a learning document: counted apart, as completeness does
    assert len(data["links_to_review"]) == queue
    for row in data["links_to_review"]:
        assert "/catalogue/accept_link?local_entry=" in row["accept"]
        assert "in the review queue" in row["why"] and " summary " in row["why"]  # m005: why, in words
    changes = data["last_sync"]
    assert changes and {row["run"] for row in changes} == {last_run}
    assert YORK_TITLES <= {row["title"] for row in changes if row["kind"] == "added"}
    assert sum(row["reviews"] for row in data["reviews_by_year_and_type"]) == reviews


# --- a librarian's decision ---------------------------------------------------------------------------------------


def test_only_a_signed_in_librarian_may_decide(catalogue: Path) -> None:
    local, national = york_baby_a(catalogue)
    before = links(catalogue)

    async def steps(client: Client) -> dict[str, int]:
        return {
            "anonymous": (await client.get("/catalogue/accept_link")).status_code,
            "stranger": (await client.get("/catalogue/accept_link", actor="someone")).status_code,
            "anonymous post": (await client.ds.client.post(
                "/catalogue/reject_link", data={"local_entry": local, "national_entry": national})).status_code,
            "root": (await client.get("/catalogue/accept_link", actor="root")).status_code,
            "librarian": (await client.get("/catalogue/reject_link", actor="librarian")).status_code,
            "listed to anonymous": 'href="/catalogue/accept_link"' in (await client.get("/catalogue")).text,
        }

    got = scenario(catalogue, steps)
    assert got == {"anonymous": 403, "stranger": 403, "anonymous post": 403, "root": 200, "librarian": 200,
                   "listed to anonymous": False}
    assert links(catalogue) == before


def test_reject_then_accept_a_link_as_reposync_links_would(catalogue: Path) -> None:
    local, national = york_baby_a(catalogue)

    async def steps(client: Client) -> dict[str, Any]:
        out: dict[str, Any] = {}
        response = await client.decide("reject_link", "librarian", national_entry=national, local_entry=local)
        out["reject"] = response.status_code, response.headers.get("location")
        out["after reject"] = links(catalogue)[(local, national)]
        out["missing local"] = {r["entry"] for r in await client.rows("local_not_in_national")}
        out["missing national"] = {r["entry"] for r in await client.rows("national_not_in_local")}
        # Either order: a national id first is the same pair.
        response = await client.decide("accept_link", "root", local_entry=national, national_entry=local)
        out["accept"] = response.status_code
        out["after accept"] = links(catalogue)[(local, national)]
        out["missing local 2"] = {r["entry"] for r in await client.rows("local_not_in_national")}
        out["missing national 2"] = {r["entry"] for r in await client.rows("national_not_in_local")}
        out["message"] = (await client.get("/catalogue/links_to_review", "root")).text
        return out

    got = scenario(catalogue, steps)
    assert got["reject"] == (302, "links_to_review")
    decision, decided_at = got["after reject"]
    assert decision == "rejected" and ISO_UTC.match(decided_at)
    assert local in got["missing local"] and national in got["missing national"]
    assert got["accept"] == 302
    decision, decided_at = got["after accept"]
    assert decision == "accepted" and ISO_UTC.match(decided_at)
    assert local not in got["missing local 2"] and national not in got["missing national 2"]


def test_a_decision_in_datasette_is_logged_with_the_actor_and_how(catalogue: Path) -> None:
    local, national = york_baby_a(catalogue)

    async def steps(client: Client) -> list[int]:
        return [(await client.decide("reject_link", "librarian", local_entry=local, national_entry=national)).status_code,
                (await client.decide("accept_link", "root", local_entry=local, national_entry=national)).status_code]

    assert scenario(catalogue, steps) == [302, 302]
    with sqlite3.connect(catalogue) as conn:
        logged = conn.execute("SELECT entry_a, entry_b, decision, previous, decided_by, decided_via, decided_at "
                              "FROM link_decisions ORDER BY id").fetchall()
        row = conn.execute("SELECT decided_at, synced_decision FROM links WHERE entry_a = ? AND entry_b = ?",
                           [local, national]).fetchone()
    assert [r[:6] for r in logged] == [(local, national, "rejected", "auto", "librarian", "datasette"),
                                       (local, national, "accepted", "rejected", "root", "datasette")]
    assert all(ISO_UTC.match(r[6]) for r in logged) and logged[-1][6] == row[0]
    assert row[1] == "auto"  # as the last sync left it, until the next one


def test_a_new_pair_is_inserted_and_a_bad_pair_writes_nothing(catalogue: Path) -> None:
    with sqlite3.connect(catalogue) as conn:
        local = conn.execute("SELECT id FROM entries WHERE source = 'york' AND title = 'Child B'").fetchone()[0]
        # A national entry that is surely not York's Child B: another area's, not linked to it.
        national = conn.execute("SELECT id FROM entries WHERE kind = 'national' AND la_codes NOT LIKE "
                                "'%E06000014%' AND id NOT IN (SELECT entry_b FROM links WHERE entry_a = ?) "
                                "ORDER BY id LIMIT 1", [local]).fetchone()[0]
    before = links(catalogue)
    assert (local, national) not in before

    async def steps(client: Client) -> list[int]:
        codes = []
        for form in ({"local_entry": local, "national_entry": national},
                     {"local_entry": local, "national_entry": "no-such-entry"},
                     {"local_entry": local, "national_entry": local},  # two local entries
                     {"local_entry": "", "national_entry": ""}):
            codes.append((await client.decide("reject_link", "librarian", **form)).status_code)
        return codes

    assert scenario(catalogue, steps) == [302, 302, 302, 302]
    after = links(catalogue)
    decision, decided_at = after.pop((local, national))
    assert decision == "rejected" and ISO_UTC.match(decided_at)
    assert after == before  # the bad pairs wrote nothing


def test_a_bad_pair_says_so(catalogue: Path) -> None:
    async def steps(client: Client) -> str:
        response = await client.decide("accept_link", "root", local_entry="nope", national_entry="nada")
        assert response.headers["location"] == "/catalogue/accept_link"  # back to the form, with the message
        messages = "; ".join(f"{k}={v}" for k, v in response.cookies.items())
        page = await client.ds.client.get(response.headers["location"], headers=client._cookies("root", messages))
        return page.text

    assert "Nothing recorded: give the id of a local entry and the id of a national entry" in scenario(catalogue, steps)


def test_a_decision_made_in_datasette_is_exported(catalogue: Path, tmp_path: Path) -> None:
    """What the next sync does with the catalogue's decisions: export them to decisions.toml."""
    decisions = pytest.importorskip("reposync.catalogue.decisions", reason="the decisions export is not there yet")
    local, national = york_baby_a(catalogue)

    async def steps(client: Client) -> int:
        return (await client.decide("reject_link", "librarian", local_entry=local, national_entry=national)).status_code

    assert scenario(catalogue, steps) == 302
    from reposync.catalogue import open_db

    db = open_db(catalogue)
    try:
        path = tmp_path / "decisions.toml"
        decisions.export(db, path)
    finally:
        db.close()
    exported = decisions.load(path)
    assert [(d.entry_a, d.entry_b, d.decision) for d in exported] == [(local, national, "rejected")]
    assert ISO_UTC.match(exported[0].decided_at)


def test_the_missing_reviews_query_counts_the_review_types_completeness_counts() -> None:
    import yaml

    sql = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["catalogue"]["queries"][
        "local_not_in_national"]["sql"]
    listed = re.search(r"review_type in \(([^)]*)\)", sql)
    assert listed, sql
    assert {t.strip().strip("'") for t in listed[1].split(",")} == set(LOCAL_REVIEW_TYPES)


def test_accepting_against_the_evidence_needs_force_yes_and_check_link_says_why(catalogue: Path) -> None:
    """Issue 24: York's Child B with the 2013 list's Baby A (not a candidate; Baby A is York's Baby A's) is
    refused unless force is yes; check_link shows the evidence and the link accepting it would undo."""
    local, national = york_baby_a(catalogue)
    before = links(catalogue)
    child_b = "york:child-b"

    async def steps(client: Client) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["form"] = (await client.get("/catalogue/accept_link", "root")).text
        out["check"] = await client.rows("check_link", local_entry=national, national_entry=child_b)
        out["check in band"] = await client.rows("check_link", local_entry=local, national_entry=national)
        response = await client.decide("accept_link", "root", local_entry=child_b, national_entry=national)
        out["refused"] = response.status_code, links(catalogue) == before
        messages = "; ".join(f"{k}={v}" for k, v in response.cookies.items())
        out["message"] = (await client.ds.client.get(response.headers["location"],
                                                     headers=client._cookies("root", messages))).text
        response = await client.decide("accept_link", "root", local_entry=child_b, national_entry=national,
                                       force="yes")
        out["forced"] = response.status_code
        return out

    got = scenario(catalogue, steps)
    # Datasette 0.65 shows a writable query's SQL, not its description, above the form: its comment explains
    assert 'name="force"' in got["form"] and "Check a link before accepting it" in got["form"]
    [check] = got["check"]
    assert check["local_entry"] == child_b and check["national_entry"] == national and check["score"] is None
    assert check["why"].startswith("not a candidate") and f"reposync links explain {child_b} {national}" in check["why"]
    assert check["needs_force"] == ("yes: below the review band; its national review is already linked from "
                                    "the page of york")
    assert check["accepting_undoes"] == f"{local} <-> {national} (auto)"
    assert got["check in band"][0]["needs_force"] == "no" and got["check in band"][0]["why"].startswith("area ")
    assert got["refused"] == (302, True)
    assert "also needs yes in force" in got["message"]
    assert got["forced"] == 302 and links(catalogue)[(child_b, national)][0] == "accepted"


def test_the_review_band_in_the_accept_guard_is_the_linkers() -> None:
    from reposync import link

    queries = metadata()["databases"]["catalogue"]["queries"]
    for name in ("accept_link", "check_link"):
        bands = set(re.findall(r"score(?:, -1e9\))? (?:>=|<) (\d+(?:\.\d+)?)", queries[name]["sql"]))
        assert bands == {f"{link.REVIEW:g}"}, name
