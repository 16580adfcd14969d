"""History that tells the truth (issue 26, point 7): a person's decision is logged as theirs, not as a change a
sync made; a better record of a linked review is not an unlink and a link; a new review under an old title is
a new entry; review ids are never given twice."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
import yaml

from reposync.catalogue import decisions
from reposync import link
from reposync.catalogue import SourceOutcome, apply_run, open_db, start_run
from test_catalogue import entry, outcome, rows

ROOT = Path(__file__).resolve().parent.parent


def day(id: str, date: str, **extra) -> dict:
    """An entry dated to the day (``entry`` dates to the year)."""
    return entry(id, year=int(date[:4]), published=date, published_precision="day", published_start=date,
                 published_end=date, **extra)


def month(id: str, date: str, end: str, **extra) -> dict:
    return entry(id, year=int(date[:4]), published=date, published_precision="month", published_start=f"{date}-01",
                 published_end=end, **extra)


def run(db, *outcomes: SourceOutcome, decisions: list[link.Decision] = ()) -> int:
    """A sync of these outcomes, with people's decisions from decisions.toml."""
    run_id = start_run(db, "offline")
    apply_run(db, run_id, outcomes, exit_code=0, decisions=decisions)
    return run_id


@pytest.fixture()
def db(tmp_path: Path):
    database = open_db(tmp_path / "catalogue.db")
    yield database
    database.close()


def changes(db, run_id: int) -> list[tuple]:
    return [(r["kind"], r["entry_id"], r["field"], r["old"], r["new"])
            for r in rows(db, "SELECT * FROM changes WHERE run_id = ? ORDER BY id", [run_id])]


def new_links_feed(db) -> list[str]:
    """The titles of the new_links Atom feed, by the saved query's own SQL."""
    metadata = yaml.safe_load((ROOT / "config" / "metadata.yml").read_text(encoding="utf-8"))
    sql = metadata["databases"]["catalogue"]["queries"]["new_links"]["sql"]
    return [r["atom_title"] for r in db.query(sql)]


# Baby A of York: the local page's entry and the NSPCC's yearly list's (dated to the month).
LOCAL = day("york:baby-a", "2013-10-11", title="Baby A")
YEARLY = month("nspcc-2013:york-baby-a", "2013-10", "2013-10-31", source="nspcc-2013", kind="national",
               title="Baby A")


def test_an_accept_then_a_sync_is_the_persons_not_the_syncs(db, tmp_path: Path) -> None:
    # The library's record of the same review, dated to the year: the yearly list's stays the one linked.
    library = entry("nspcc-library:NC1", source="nspcc-library", kind="national", title="Baby A")
    national = [outcome("nspcc-2013", [YEARLY], departure="delisted"),
                outcome("nspcc-library", [library], departure="delisted")]
    run(db, outcome("york", [LOCAL]), *national)
    assert rows(db, "SELECT entry_b, decision FROM links") == [{"entry_b": YEARLY["id"], "decision": "auto"}]

    # A person says the local entry is the library record's review (the same review): `reposync links accept`.
    made = decisions.record(db, tmp_path / "decisions.toml", LOCAL["id"], library["id"], "accepted")
    second = run(db, outcome("york", [LOCAL]), *national)

    assert changes(db, second) == []  # no unlink of the yearly list's record: the review stays linked
    logged = rows(db, "SELECT * FROM link_decisions")
    assert logged == [{"id": 1, "entry_a": LOCAL["id"], "entry_b": library["id"], "decision": "accepted",
                       "previous": None, "decided_at": made.decided_at, "decided_by": getpass.getuser(),
                       "decided_via": "cli"}]
    row = rows(db, "SELECT decision, decided_by, decided_via, synced_decision FROM links WHERE entry_b = ?",
               [library["id"]])
    assert row == [{"decision": "accepted", "decided_by": getpass.getuser(), "decided_via": "cli",
                    "synced_decision": "accepted"}]
    # Who and how travel with the decision in decisions.toml, so a rebuild keeps them.
    saved = decisions.load(tmp_path / "decisions.toml")
    assert [(d.decided_by, d.decided_via) for d in saved] == [(getpass.getuser(), "cli")]

    # A rebuild applies the file's decision: logged once, as made, and not a change of either sync.
    rebuilt = open_db(tmp_path / "rebuilt.db")
    runs = [run(rebuilt, outcome("york", [LOCAL]), *national, decisions=saved) for _ in range(2)]
    assert {c[0] for c in changes(rebuilt, runs[0])} == {"added"}  # the file's accept is no link of the sync's
    assert changes(rebuilt, runs[1]) == []
    assert [(r["decision"], r["decided_at"], r["decided_by"], r["decided_via"])
            for r in rows(rebuilt, "SELECT * FROM link_decisions")] == [
        ("accepted", made.decided_at, getpass.getuser(), "cli")]
    rebuilt.close()


def test_a_reject_of_a_linked_pair_is_logged_and_the_sync_adds_nothing_to_it(db, tmp_path: Path) -> None:
    national = outcome("nspcc-2013", [YEARLY], departure="delisted")
    run(db, outcome("york", [LOCAL]), national)
    # As Datasette's reject_link query writes it: straight into links, with the actor's id.
    db.execute("UPDATE links SET decision = 'rejected', decided_at = '2026-12-01T10:00:00+00:00', "
               "decided_by = 'librarian', decided_via = 'datasette' WHERE entry_a = ?", [LOCAL["id"]])
    assert rows(db, "SELECT synced_decision FROM links") == [{"synced_decision": "auto"}]  # as the last sync left it
    second = run(db, outcome("york", [LOCAL]), national)
    assert changes(db, second) == []
    assert [(r["decision"], r["previous"], r["decided_by"], r["decided_via"], r["decided_at"])
            for r in rows(db, "SELECT * FROM link_decisions")] == [
        ("rejected", "auto", "librarian", "datasette", "2026-12-01T10:00:00+00:00")]
    assert rows(db, "SELECT synced_decision FROM links") == [{"synced_decision": "rejected"}]


def test_a_better_national_record_of_a_linked_review_is_not_an_unlink_and_a_link(db) -> None:
    first = run(db, outcome("york", [LOCAL]), outcome("nspcc-2013", [YEARLY], departure="delisted"))
    assert [c[0] for c in changes(db, first)].count("linked") == 1
    # The library's record arrives, dated to the day: the better record of the same review.
    library = day("nspcc-library:NC1", "2013-10-11", source="nspcc-library", kind="national", title="Baby A")
    second = run(db, outcome("york", [LOCAL]), outcome("nspcc-2013", [YEARLY], departure="delisted"),
                 outcome("nspcc-library", [library], departure="delisted"))
    assert rows(db, "SELECT entry_b FROM links WHERE decision = 'auto'") == [{"entry_b": library["id"]}]
    assert changes(db, second) == [
        ("added", library["id"], None, None, "Baby A"),
        ("changed", LOCAL["id"], "link", YEARLY["id"], library["id"]),  # a note of the better record
    ]
    assert db["runs"].get(second)["counts"] == '{"added": 1, "changed": 1}'
    assert new_links_feed(db) == ["Baby A (york) linked to Baby A (nspcc-2013, 2013-10)"]  # announced once


def test_a_new_review_under_an_old_title_is_a_new_entry(db) -> None:
    old = day("york:baby-a", "2025-03-04", title="Baby A", report_url="https://example.org/2025-baby-a.pdf")
    national = day("nspcc-recent:york-baby-a", "2025-03-04", source="nspcc-recent", kind="national",
                   title="Baby A")
    run(db, outcome("york", [old]), outcome("nspcc-recent", [national], departure="rolled-off"),
        decisions=[link.Decision(old["id"], national["id"], "accepted", "2025-04-01T00:00:00+00:00")])
    run(db, outcome("york", []))  # the 2025 review leaves the page
    assert db["entries"].get("york:baby-a")["status"] == "expired"

    # Two years on, another child called Baby A: its id from the page is the old one's.
    new = day("york:baby-a", "2027-06-01", title="Baby A", report_url="https://example.org/2027-baby-a.pdf")
    third = run(db, outcome("york", [dict(new)]))
    assert changes(db, third) == [("added", "york:baby-a@2027-06-01", None, None, "Baby A")]
    both = rows(db, "SELECT id, published, status FROM entries WHERE source = 'york' ORDER BY id")
    assert both == [{"id": "york:baby-a", "published": "2025-03-04", "status": "expired"},
                    {"id": "york:baby-a@2027-06-01", "published": "2027-06-01", "status": "listed"}]
    # The person's decision stays with the 2025 review; the new one is linked to nothing.
    assert rows(db, "SELECT entry_a, decision FROM links") == [{"entry_a": "york:baby-a", "decision": "accepted"}]
    assert db["entries"].get("york:baby-a@2027-06-01")["review_id"] != db["entries"].get("york:baby-a")["review_id"]

    fourth = run(db, outcome("york", [dict(new)]))  # the same id every night
    assert changes(db, fourth) == []
    # The 2025 review coming back (its date agrees) is the old entry reappearing, beside the new one.
    fifth = run(db, outcome("york", [dict(new), dict(old)]))
    assert changes(db, fifth) == [("reappeared", "york:baby-a", "status", "expired", "listed")]


def test_a_departed_entry_back_with_a_finer_date_or_a_moved_report_is_the_same_entry(db) -> None:
    old = entry("york:child-b", year=2013, report_url="https://example.org/b.pdf")
    run(db, outcome("york", [old]))
    run(db, outcome("york", []))
    back = day("york:child-b", "2013-10-10", report_url="https://example.org/moved/b.pdf")
    third = run(db, outcome("york", [back]))
    assert [c[0] for c in changes(db, third)][0] == "reappeared"
    assert [r["id"] for r in rows(db, "SELECT id FROM entries")] == ["york:child-b"]


def test_review_ids_are_never_given_twice(db) -> None:
    local = entry("york:child-z", title="Child Z")
    national = entry("nspcc-2013:york-child-q", source="nspcc-2013", kind="national", title="Child Q")
    run(db, outcome("york", [local]), outcome("nspcc-2013", [national], departure="delisted"))
    ids = {r["id"]: r["review_id"] for r in rows(db, "SELECT id, review_id FROM entries")}
    assert sorted(ids.values()) == [1, 2]
    # A person says they are one review: the two reviews merge, the older id stays, the other is deleted.
    run(db, outcome("york", [local]), outcome("nspcc-2013", [national], departure="delisted"),
        decisions=[link.Decision(local["id"], national["id"], "accepted", "2026-01-01T00:00:00+00:00")])
    assert [r["id"] for r in rows(db, "SELECT id FROM reviews")] == [1]
    # A review new on the next sync gets an id no review ever had.
    other = entry("nspcc-2013:derbyshire-bds12", source="nspcc-2013", kind="national", title="BDS12",
                  codes=["E10000007"])
    run(db, outcome("york", [local]), outcome("nspcc-2013", [national, other], departure="delisted"),
        decisions=[link.Decision(local["id"], national["id"], "accepted", "2026-01-01T00:00:00+00:00")])
    assert db["entries"].get(other["id"])["review_id"] == 3
    assert rows(db, "SELECT last_id FROM id_sequences WHERE name = 'reviews'") == [{"last_id": 3}]
