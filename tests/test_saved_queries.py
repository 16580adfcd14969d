"""The saved queries of config/metadata.yml as SQL on a catalogue: "National reviews missing from the local page"
gives the right rows and does work that grows with the catalogue, not with its square (Datasette stops a query
at 1 s; bench/queries.py times every query with every partnership configured); "What the last sync changed"
never shows a `reposync links check` run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from datasette_server import METADATA, build_catalogue
from reposync.catalogue import open_db

yaml = pytest.importorskip("yaml")


def query(name: str) -> str:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["catalogue"]["queries"][name]["sql"]


def partnerships(path: Path, areas: int, per_area: int) -> dict[str, set[str]]:
    """A SYNTHETIC catalogue: per area, ``per_area`` national entries (each its own review) and a partnership
    page listing every other one, half of those linked (auto or accepted), a quarter only proposed; one
    national entry in ten shares its review with a linked one. Returns the partnership -> the national entry
    ids the query must give."""
    open_db(path).close()
    conn = sqlite3.connect(path)
    expected: dict[str, set[str]] = {}
    entries, links, reviews = [], [], []
    for area in range(areas):
        codes = json.dumps([f"E0900{area:04d}"])
        partnership = f"local-{area}"
        expected[partnership] = set()
        linked_review = None
        for number in range(per_area):
            national = f"nspcc:{area}-{number}"
            review = area * per_area + number + 1
            if number % 10 == 9 and linked_review is not None:
                review = linked_review  # a second national entry of a review already linked
            else:
                reviews.append((review,))
            entries.append((national, "nspcc-library", "national", f"Child {area}-{number}", codes, review))
            if number % 2 == 0:
                local = f"{partnership}:{number}"
                entries.append((local, partnership, "local", f"Child {area}-{number}", codes, None))
                decision = ("auto", "accepted", "review", "rejected")[number // 2 % 4]
                links.append((local, national, decision))
                if decision in ("auto", "accepted"):
                    linked_review = review
                    continue
            if review != linked_review:
                expected[partnership].add(national)
    conn.executemany("INSERT OR IGNORE INTO reviews (id) VALUES (?)", reviews)
    conn.executemany("INSERT INTO entries (id, source, kind, title, la_codes, review_id, status) "
                     "VALUES (?, ?, ?, ?, ?, ?, 'listed')", entries)
    conn.executemany("INSERT INTO links (entry_a, entry_b, decision) VALUES (?, ?, ?)", links)
    conn.commit()
    conn.close()
    return expected


def steps(path: Path, sql: str) -> tuple[int, list[sqlite3.Row]]:
    """The rows, and the thousands of SQLite VM instructions it took (the same on any machine)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    conn.set_progress_handler(tick, 1000)
    rows = conn.execute(sql).fetchall()
    conn.close()
    return count[0], rows


def test_national_reviews_missing_from_the_local_page_are_found_in_linear_work(tmp_path: Path) -> None:
    sql = query("national_not_in_local")
    small, large = tmp_path / "small.db", tmp_path / "large.db"
    expected = partnerships(small, areas=20, per_area=20)
    partnerships(large, areas=40, per_area=40)  # four times the entries and links
    small_steps, rows = steps(small, sql)
    found: dict[str, set[str]] = {name: set() for name in expected}
    for row in rows:
        found[row["partnership"]].add(row["entry"])
    assert found == expected
    large_steps, large_rows = steps(large, sql)
    assert len(large_rows) > 3 * len(rows)
    # Four times the catalogue: about four times the work. The query before issue 26 compared every national
    # entry with every link (16 times the work here; 1.95 s, "SQL Interrupted", at 2,260 entries and 915 links).
    assert large_steps < 6 * max(small_steps, 1), (small_steps, large_steps)


def test_what_the_last_sync_changed_never_shows_a_link_check_run(tmp_path: Path) -> None:
    _, db_path = build_catalogue(tmp_path)
    conn = sqlite3.connect(db_path)
    sync_run = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
    entry = conn.execute("SELECT id FROM entries ORDER BY id LIMIT 1").fetchone()[0]
    with conn:  # a `reposync links check` after the sync: a run of its own, mode link-check, with a change
        check = conn.execute("INSERT INTO runs (started_at, finished_at, mode, status, exit_code) VALUES "
                             "('2030-01-01T00:00:00+00:00', '2030-01-01T00:01:00+00:00', 'link-check', 'ok', 0)"
                             ).lastrowid
        conn.execute("INSERT INTO changes (run_id, source, entry_id, kind, field, old, new) "
                     "VALUES (?, 'york', ?, 'link-broken', 'link_status', 'ok', 'gone')", [check, entry])
    sql = query("last_sync")
    last = conn.execute(sql, {"run": ""}).fetchall()
    asked = conn.execute(sql, {"run": str(check)}).fetchall()
    conn.close()
    assert last and {row[0] for row in last} == {sync_run}
    assert [row[2] for row in asked] == ["link-broken"]  # asked for by number, it is shown
