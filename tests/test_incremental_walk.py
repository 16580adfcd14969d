"""The library catalogue is walked incrementally on most nights and in full every ``crawl.full_walk_days``.

A live sync against the loopback server, with a small catalogue of SYNTHETIC
records (invented titles and copy numbers) in the Heritage full-display markup,
one record a page, linked by ``navNext``, newest first. The run of known,
unchanged records that ends an incremental walk is 3 here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import sqlite_utils

from conftest import age_runs, loopback_config
from mockserver import MockServer, Resource
from reposync import settings
from reposync.config import load_config
from reposync.errors import EXIT_OK
from reposync.sync import SyncResult, run_sync

RUN = 3


@dataclass(frozen=True)
class Rec:
    copy: str
    year: int
    title: str
    pdf: str | None = None


def catalogue(count: int = 12, newest: int = 2025) -> list[Rec]:
    """``count`` synthetic records, newest first, two a year."""
    return [Rec(f"SYN{100 + n}", newest - n // 2, f"Serious case review: Child Q{n}", f"/files/SYN{100 + n}.pdf")
            for n in range(count)]


def target(offset: int) -> str:
    return "/lib/search2?Offset=1" if offset == 1 else f"/lib/retrieve2?SetID=SYN&Offset={offset}"


def page(rec: Rec, offset: int, total: int) -> bytes:
    nav = f'<a class="navNext" href="retrieve2?SetID=SYN&amp;Offset={offset + 1}">Next</a>' if offset < total else ""
    other = f'<a href="{rec.pdf}">Full text (PDF)</a>' if rec.pdf else "No longer available online"
    fields = [("Title", rec.title), ("Copy number", rec.copy), ("LSCB", "Synthetic Safeguarding Children Board"),
              ("Date of publication", str(rec.year)), ("Media", "Case review"), ("Other format", other)]
    rows = "".join(f'<tr><td class="fulllabel">{label}:</td><td class="fulltext">{value}</td></tr>'
                   for label, value in fields)
    return (f"<!DOCTYPE html><html><head><title>Full display</title></head><body><!-- synthetic record -->"
            f'<table class="navbar"><tr><td class="navPosition">Record <b>{offset}</b> of <b>{total}</b></td>'
            f"<td>{nav}</td></tr></table><table class=\"fullDisplay\">{rows}</table></body></html>").encode()


def serve(server: MockServer, records: list[Rec]) -> None:
    """The catalogue as the OPAC shows it: record n at offset n, with ETags (unchanged pages answer 304)."""
    for key in [k for k in server.pages if k.startswith("/lib/")]:
        del server.pages[key]
    for offset, rec in enumerate(records, 1):
        body = page(rec, offset, len(records))
        server.pages[target(offset)] = Resource(body, etag=f'"{hashlib.sha256(body).hexdigest()[:16]}"')


@pytest.fixture(autouse=True)
def short_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "INCREMENTAL_KNOWN_RUN", RUN)


@pytest.fixture
def config(tmp_path: Path, server: MockServer) -> Path:
    library = {"id": "nspcc-library", "kind": "national", "parser": "nspcc-library", "url": server.url(target(1))}
    return loopback_config(tmp_path / "config", library, crawl={"full_walk_days": 7, "check_links_days": 0})


def sync(config: Path, server: MockServer) -> SyncResult:
    server.reset_counts()
    result = run_sync(load_config(config))
    assert result.exit_code == EXIT_OK, [o.error for o in result.outcomes]
    return result


def pages_asked(server: MockServer) -> int:
    return server.count("/lib/")


def db(tmp_path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(tmp_path / "catalogue.db")


def rows(tmp_path: Path) -> dict[str, dict]:
    return {r["copy_number"]: r for r in db(tmp_path).query("SELECT * FROM entries")}


def walk(result: SyncResult) -> dict:
    [outcome] = result.outcomes
    return outcome.as_json()


def test_the_first_walk_is_full_and_finds_the_catalogue_newest_first(tmp_path: Path, server: MockServer,
                                                                     config: Path):
    serve(server, catalogue())
    first = sync(config, server)
    assert pages_asked(server) == 12 and first.counts == {"added": 12}
    assert walk(first)["complete"] and walk(first)["walk"] == "full"
    assert walk(first)["newest_first"] is True
    stored = json.loads(db(tmp_path)["runs"].get(first.run_id)["sources"])["nspcc-library"]
    assert stored["complete"] and stored["newest_first"] and stored["walk"] == "full"


def test_a_walk_stops_at_a_run_of_known_unchanged_records(tmp_path: Path, server: MockServer, config: Path):
    records = catalogue()
    serve(server, records)
    first = sync(config, server)
    second = sync(config, server)
    assert pages_asked(server) == RUN and set(server.statuses("/lib/")) == {304}
    assert walk(second)["walk"] == "incremental" and not walk(second)["complete"]
    assert second.counts == {}  # nothing changed, and nothing unvisited was marked
    after = rows(tmp_path)
    assert all(r["status"] == "listed" for r in after.values())
    assert {c for c, r in after.items() if r["last_seen_run"] == second.run_id} == {r.copy for r in records[:RUN]}
    assert all(r["last_seen_run"] == first.run_id for c, r in after.items() if c not in {x.copy for x in records[:RUN]})


def test_new_records_at_the_front_are_read_and_the_walk_stops_after_them(tmp_path: Path, server: MockServer,
                                                                         config: Path):
    records = catalogue(newest=2024)
    serve(server, records)
    sync(config, server)
    new = [Rec("SYN900", 2025, "Local child safeguarding practice review: Baby Q90"),
           Rec("SYN901", 2025, "Local child safeguarding practice review: Child Q91")]
    serve(server, new + records)
    second = sync(config, server)
    assert second.counts == {"added": 2} and walk(second)["walk"] == "incremental"
    assert pages_asked(server) == len(new) + RUN


def test_a_changed_record_resets_the_run(tmp_path: Path, server: MockServer, config: Path):
    records = catalogue()
    serve(server, records)
    sync(config, server)
    records[1] = replace(records[1], pdf=None)  # a report link removed near the front
    serve(server, records)
    second = sync(config, server)
    assert second.counts == {"changed": 1} and walk(second)["walk"] == "incremental"
    assert pages_asked(server) == 2 + RUN  # record 1 (known), record 2 (changed), then a run of RUN


def test_a_changed_deep_record_is_caught_on_the_full_walk_night(tmp_path: Path, server: MockServer, config: Path):
    records = catalogue()
    serve(server, records)
    sync(config, server)
    records[10] = replace(records[10], pdf=None)  # a report link removed, years down the list
    serve(server, records)

    missed = sync(config, server)  # the next night: incremental, it does not get that far
    assert missed.counts == {} and walk(missed)["walk"] == "incremental" and pages_asked(server) == RUN

    age_runs(tmp_path / "catalogue.db", 6)  # six days after the full walk: still incremental
    assert sync(config, server).counts == {} and pages_asked(server) == RUN

    age_runs(tmp_path / "catalogue.db", 1)  # seven days: the full walk is due
    full = sync(config, server)
    assert walk(full)["walk"] == "full" and walk(full)["complete"] and pages_asked(server) == 12
    assert full.counts == {"changed": 1}
    assert rows(tmp_path)[records[10].copy]["report_url"] is None

    assert sync(config, server).counts == {} and pages_asked(server) == RUN  # and incremental again after it


def test_an_out_of_order_listing_falls_back_to_a_full_walk(tmp_path: Path, server: MockServer, config: Path):
    records = catalogue()
    serve(server, records)
    sync(config, server)
    # The OPAC changes its sort: oldest first. The incremental walk sees the years go up and walks on.
    serve(server, list(reversed(records)))
    second = sync(config, server)
    assert pages_asked(server) == 12 and walk(second)["walk"] == "full" and walk(second)["complete"]
    assert walk(second)["newest_first"] is False and second.counts == {}
    # And the next night does not trust the order either: the last full walk did not find it newest first.
    third = sync(config, server)
    assert pages_asked(server) == 12 and walk(third)["complete"]


def test_incremental_walks_delist_nothing(tmp_path: Path, server: MockServer, config: Path):
    records = catalogue()
    serve(server, records)
    sync(config, server)
    gone = records.pop(8)  # a record leaves the catalogue, deep in the list
    serve(server, records)
    second = sync(config, server)
    assert walk(second)["walk"] == "incremental" and second.counts == {}
    assert rows(tmp_path)[gone.copy]["status"] == "listed"  # not visited: not marked

    age_runs(tmp_path / "catalogue.db", 7)
    full = sync(config, server)
    assert walk(full)["complete"] and full.counts == {"delisted": 1}
    assert rows(tmp_path)[gone.copy]["status"] == "delisted"


def test_a_short_catalogue_walked_to_its_end_is_a_complete_walk(tmp_path: Path, server: MockServer, config: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(settings, "INCREMENTAL_KNOWN_RUN", 50)
    records = catalogue()
    serve(server, records)
    sync(config, server)
    gone = records.pop()
    serve(server, records)
    second = sync(config, server)  # never met a run of 50: it reached the end, so it may mark what left
    assert pages_asked(server) == 11 and walk(second)["complete"] and walk(second)["walk"] == "full"
    assert second.counts == {"delisted": 1} and rows(tmp_path)[gone.copy]["status"] == "delisted"


def test_offline_syncs_always_walk_in_full(tmp_path: Path, server: MockServer, config: Path):
    serve(server, catalogue())
    sync(config, server)
    offline = run_sync(load_config(config), offline=True)
    assert offline.exit_code == EXIT_OK and walk(offline)["complete"] and walk(offline)["pages"] == 12
