"""Applying runs to the catalogue: history, failure semantics, dedupe and links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reposync import catalogue
from reposync.catalogue import SourceOutcome, apply_run, open_db, start_run
from reposync.errors import LockHeld
from reposync.sync import guard_layout, sync_lock


def entry(id: str, source: str = "york", kind: str = "local", title: str = "Child B", year: int | None = 2013,
          codes: list[str] | None = None, names: list[str] | None = None, **extra) -> dict:
    row = {
        "id": id,
        "source": source,
        "kind": kind,
        "title": title,
        "title_key": title.lower(),
        "summary": extra.pop("summary", None),
        "published": str(year) if year else None,
        "published_precision": "year" if year else None,
        "published_start": f"{year}-01-01" if year else None,
        "published_end": f"{year}-12-31" if year else None,
        "published_year": year,
        "area": "York" if codes is None else None,
        "la_codes": ["E06000014"] if codes is None else codes,
        "pseudonyms": [title.lower()] if names is None else names,
        "review_type": "scr",
        "report_url": extra.pop("report_url", f"https://example.org/{id}.pdf"),
        "url": None,
        "page_url": "https://example.org/page",
    }
    row["url"] = row["report_url"]
    row.update(extra)
    return row


def outcome(source: str, entries: list[dict], *, departure: str = "expired", complete: bool = True,
            error: str | None = None) -> SourceOutcome:
    return SourceOutcome(source=source, departure=departure, entries=entries, complete=complete, error=error,
                         error_url="https://example.org/page" if error else None, exit_code=65 if error else 0)


def run(db, *outcomes: SourceOutcome, dry_run: bool = False) -> int:
    if dry_run:  # as a dry sync does: no run row outside the transaction
        run_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM runs").fetchone()[0]
    else:
        run_id = start_run(db, "offline")
    apply_run(db, run_id, outcomes, exit_code=0, dry_run=dry_run)
    return run_id


def rows(db, sql: str, params=()) -> list[dict]:
    return list(db.query(sql, params))


def snapshot(db) -> dict:
    """Everything a user sees of the catalogue's contents (not its run log)."""
    return {t: rows(db, f"SELECT * FROM {t} ORDER BY 1, 2") for t in ("entries", "reviews", "links", "entry_versions")}


@pytest.fixture()
def db(tmp_path: Path):
    database = open_db(tmp_path / "catalogue.db")
    yield database
    database.close()


def test_schema_is_the_contracts(db) -> None:
    assert {"entries", "reviews", "links", "runs", "changes", "entry_versions", "entries_fts"} <= set(db.table_names())
    assert db.journal_mode == "wal"
    columns = set(db["entries"].columns_dict)
    assert {"id", "source", "title", "title_key", "summary", "published", "published_precision", "published_year",
            "area", "la_codes", "pseudonyms", "review_type", "url", "copy_number", "review_id", "status",
            "first_seen_run", "last_seen_run"} <= columns


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    open_db(tmp_path / "c.db").close()
    again = open_db(tmp_path / "c.db")
    names = [r["name"] for r in again.query("SELECT name FROM _sqlite_migrations")]
    # every migration once, in file order (each helper's own name: m001, m002, then m003, m004, ...)
    assert names == [m.name for m in catalogue.migrations._migrations]
    assert names[:2] == ["m001_initial", "m002_link_views"]


def test_added_then_changed_then_expired_then_reappeared(db) -> None:
    first = run(db, outcome("york", [entry("york:child-b"), entry("york:baby-a", title="Baby A")]))
    assert [r["kind"] for r in rows(db, "SELECT kind FROM changes WHERE run_id = ?", [first])] == ["added", "added"]

    second = run(db, outcome("york", [entry("york:child-b", summary="Only the lessons are published."),
                                      entry("york:baby-a", title="Baby A")]))
    change = rows(db, "SELECT kind, field, old, new FROM changes WHERE run_id = ? AND kind = 'changed'", [second])
    assert change == [{"kind": "changed", "field": "summary", "old": None, "new": "Only the lessons are published."}]
    versions = rows(db, "SELECT version, changed FROM entry_versions WHERE entry_id = 'york:child-b' ORDER BY version")
    assert [v["version"] for v in versions] == [1, 2] and json.loads(versions[1]["changed"]) == ["summary"]

    third = run(db, outcome("york", [entry("york:child-b", summary="Only the lessons are published.")]))
    baby = db["entries"].get("york:baby-a")
    assert baby["status"] == "expired" and baby["last_seen_run"] == second
    assert rows(db, "SELECT kind FROM changes WHERE run_id = ? AND entry_id = 'york:baby-a'", [third]) == [
        {"kind": "expired"}]

    fourth = run(db, outcome("york", [entry("york:child-b", summary="Only the lessons are published."),
                                      entry("york:baby-a", title="Baby A")]))
    assert db["entries"].get("york:baby-a")["status"] == "listed"
    assert rows(db, "SELECT kind FROM changes WHERE run_id = ?", [fourth]) == [{"kind": "reappeared"}]


def test_an_unchanged_run_changes_nothing_but_last_seen(db) -> None:
    run(db, outcome("york", [entry("york:child-b")]))
    before = snapshot(db)
    again = run(db, outcome("york", [entry("york:child-b")]))
    assert rows(db, "SELECT * FROM changes WHERE run_id = ?", [again]) == []
    after = snapshot(db)
    assert after["entries"][0]["last_seen_run"] == again
    after["entries"][0]["last_seen_run"] = before["entries"][0]["last_seen_run"]
    assert after == before


def test_a_corrected_title_is_the_same_entry_changed(db) -> None:
    run(db, outcome("york", [entry("york:chlid-b", title="Chlid B", report_url="https://example.org/b.pdf")]))
    second = run(db, outcome("york", [entry("york:child-b", title="Child B", report_url="https://example.org/b.pdf")]))
    assert [r["id"] for r in rows(db, "SELECT id FROM entries")] == ["york:chlid-b"]
    assert db["entries"].get("york:chlid-b")["title"] == "Child B"
    kinds = {r["kind"] for r in rows(db, "SELECT kind FROM changes WHERE run_id = ?", [second])}
    assert kinds == {"changed"}


def test_a_failed_source_leaves_its_entries_exactly_as_they_were(db) -> None:
    run(db, outcome("york", [entry("york:child-b")]),
        outcome("nspcc-2013", [entry("nspcc-2013:x", source="nspcc-2013", kind="national", title="BDS12",
                                     codes=["E10000007"])], departure="delisted"))
    before = snapshot(db)
    failed = run(db, outcome("york", [], complete=False, error="HTTP 503"),
                 outcome("nspcc-2013", [entry("nspcc-2013:x", source="nspcc-2013", kind="national", title="BDS12",
                                              codes=["E10000007"])], departure="delisted"))
    after = snapshot(db)
    york_before = [e for e in before["entries"] if e["source"] == "york"]
    york_after = [e for e in after["entries"] if e["source"] == "york"]
    assert york_after == york_before and york_before  # untouched: not even last_seen_run
    change = rows(db, "SELECT source, kind, field, new FROM changes WHERE run_id = ?", [failed])
    assert change == [{"source": "york", "kind": "source-failed", "field": "https://example.org/page",
                       "new": "HTTP 503"}]
    assert db["runs"].get(failed)["status"] == "partial"


def test_an_incomplete_walk_marks_nothing_gone(db) -> None:
    run(db, outcome("york", [entry("york:child-b"), entry("york:baby-a", title="Baby A")]))
    run(db, outcome("york", [entry("york:child-b")], complete=False))
    assert db["entries"].get("york:baby-a")["status"] == "listed"


def test_dry_run_writes_nothing(db) -> None:
    run(db, outcome("york", [entry("york:child-b")]))
    before = snapshot(db)
    changes_before = db["changes"].count
    runs_before = db["runs"].count
    run(db, outcome("york", [entry("york:baby-a", title="Baby A")]), dry_run=True)
    assert snapshot(db) == before and db["changes"].count == changes_before and db["runs"].count == runs_before


def test_a_run_left_running_by_a_dead_process_is_marked_crashed(db) -> None:
    dead = start_run(db, "live")
    alive = start_run(db, "live")
    assert db["runs"].get(dead)["status"] == "crashed"
    assert db["runs"].get(alive)["status"] == "running"


def test_same_area_case_and_year_share_a_review_and_link_local_to_national(db) -> None:
    local = entry("york:baby-a", title="Baby A")
    national = entry("nspcc-2013:york-baby-a", source="nspcc-2013", kind="national", title="Baby A")
    elsewhere = entry("nspcc-recent:birmingham-baby-a", source="nspcc-recent", kind="national", title="Baby A",
                      year=2025, codes=["E08000025"])
    anonymous = entry("nspcc-2013:anon-baby-a", source="nspcc-2013", kind="national", title="Baby A", codes=[])
    run(db, outcome("york", [local]),
        outcome("nspcc-2013", [national, anonymous], departure="delisted"),
        outcome("nspcc-recent", [elsewhere], departure="rolled-off"))
    review = {r["id"]: r["review_id"] for r in rows(db, "SELECT id, review_id FROM entries")}
    assert review["york:baby-a"] == review["nspcc-2013:york-baby-a"]
    assert len(set(review.values())) == 3  # Birmingham's Baby A and the anonymous one stand alone
    links = rows(db, "SELECT entry_a, entry_b, decision FROM links")
    assert links == [{"entry_a": "york:baby-a", "entry_b": "nspcc-2013:york-baby-a", "decision": "auto"}]
    reviews = rows(db, "SELECT local_entries, national_entries FROM reviews WHERE id = ?", [review["york:baby-a"]])
    assert reviews == [{"local_entries": 1, "national_entries": 1}]


def test_review_ids_stay_when_reviews_merge(db) -> None:
    national = entry("nspcc-2014:child-i", source="nspcc-2014", kind="national", title="Child I",
                     codes=["E10000021"], year=2014)
    run(db, outcome("nspcc-2014", [national], departure="delisted"))
    original = db["entries"].get("nspcc-2014:child-i")["review_id"]
    library = entry("nspcc-library:NC1", source="nspcc-library", kind="national", title="Child I",
                    codes=["E10000021"], year=2014)
    run(db, outcome("nspcc-library", [library], departure="delisted"))
    assert db["entries"].get("nspcc-library:NC1")["review_id"] == original
    assert db["reviews"].count == 1


def test_review_ids_are_read_a_chunk_of_entries_at_a_time(db, monkeypatch) -> None:
    first = entry("nspcc-2014:child-i", source="nspcc-2014", kind="national", title="Child I", codes=["E10000021"])
    second = entry("nspcc-2014:child-j", source="nspcc-2014", kind="national", title="Child J", codes=["E10000021"])
    run(db, outcome("nspcc-2014", [first, second], departure="delisted"))
    held = {r["id"]: r["review_id"] for r in rows(db, "SELECT id, review_id FROM entries")}
    monkeypatch.setattr(catalogue.ReviewIds, "CHUNK", 1)
    asked = ["nspcc-2014:child-j", "nowhere", "nspcc-2014:child-i"]
    assert catalogue.ReviewIds(db)(asked) == {i: held[i] for i in asked if i in held}


def test_full_text_search_over_title_and_summary(db) -> None:
    run(db, outcome("york", [entry("york:neglect", title="Thematic review of child neglect", names=[],
                                   summary="A two-year study of responses to neglect.")]))
    found = rows(db, "SELECT entries.id FROM entries_fts JOIN entries ON entries.rowid = entries_fts.rowid "
                     "WHERE entries_fts MATCH 'study'")
    assert found == [{"id": "york:neglect"}]


def test_the_full_text_index_is_written_again_only_when_a_title_or_summary_changes(db) -> None:
    run(db, outcome("york", [entry("york:neglect", title="Thematic review of child neglect", names=[],
                                   summary="A two-year study of responses to neglect.")]))

    def index() -> list[tuple]:
        return db.execute("SELECT id, block FROM entries_fts_data ORDER BY id").fetchall()

    def search(word: str) -> list[dict]:
        return rows(db, "SELECT entries.id FROM entries_fts JOIN entries ON entries.rowid = entries_fts.rowid "
                        "WHERE entries_fts MATCH ?", [word])

    before = index()
    # what a sync and a link check write of an entry every night: none of it is indexed text
    db.execute("UPDATE entries SET last_seen_run = 7, review_id = NULL, link_status = 'ok'")
    assert index() == before
    db.execute("UPDATE entries SET summary = 'A study of a drowning.'")
    assert index() != before
    assert search("drowning") == search("neglect") == [{"id": "york:neglect"}]  # neglect: the title's
    assert search("responses") == []


def test_layout_guard_turns_a_collapse_into_a_failure() -> None:
    collapsed = outcome("york", [entry("york:child-b")])
    guarded = guard_layout(collapsed, previous=5)
    assert guarded.error is not None and "layout guard" in guarded.error and guarded.exit_code == 65
    assert guarded.entries == [] and not guarded.complete
    assert guard_layout(collapsed, previous=2).error is None  # half is not a collapse
    assert guard_layout(outcome("york", []), previous=0).error is None  # a first walk has nothing to compare


def test_a_second_sync_cannot_take_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.db"
    with sync_lock(path):
        with pytest.raises(LockHeld) as caught:
            with sync_lock(path):
                pass
        assert caught.value.exit_code == 75
    with sync_lock(path):  # released when the holder is done
        pass


def test_listed_count_counts_only_listed(db) -> None:
    run(db, outcome("york", [entry("york:child-b"), entry("york:baby-a", title="Baby A")]))
    run(db, outcome("york", [entry("york:child-b")]))
    assert catalogue.listed_count(db, "york") == 1
