"""`reposync sync --offline` over the bundled snapshots: the first thing a new user runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from conftest import CONFIG, FIXTURES, ROOT, SNAPSHOTS
from reposync.cli.main import cli
from reposync.archive.snapshots import Archive

YORK = {
    "Child A, B and C": ("2011-01-31", "day"),
    "Child B": ("2013-10-10", "day"),
    "Baby A": ("2013-10-11", "day"),
    "Thematic review of child neglect": ("2013-01-24", "day"),
    "Messages from reviews": ("2014", "year"),
}


def sync(tmp_path: Path, *args: str, snapshots: Path = SNAPSHOTS):
    return CliRunner().invoke(
        cli,
        ["sync", "--offline", "--config", str(CONFIG), "--db", str(tmp_path / "catalogue.db"),
         "--snapshots", str(snapshots), "--reports", str(tmp_path / "reports"), *args],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp_path = tmp_path_factory.mktemp("offline")
    result = sync(tmp_path)
    assert result.exit_code == 0, result.output
    return tmp_path, result.output


def expected_entries() -> dict[str, int]:
    """Entries per source in the parsers' expected JSON of every snapshot page."""
    counts: dict[str, int] = {}
    for path in sorted((FIXTURES / "snapshots").glob("*/*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))["result"]["entries"]
        counts[path.parent.name] = counts.get(path.parent.name, 0) + len(entries)
    return counts


def test_every_snapshot_entry_is_in_the_catalogue(built: tuple[Path, str]) -> None:
    tmp_path, _ = built
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    per_source = {r["source"]: r["n"] for r in db.query("SELECT source, count(*) AS n FROM entries GROUP BY source")}
    assert per_source == {source: n for source, n in expected_entries().items() if n}  # a page may list none yet
    assert all(r["status"] == "listed" for r in db.query("SELECT status FROM entries"))


def test_york_seed_entries_have_their_exact_dates(built: tuple[Path, str]) -> None:
    tmp_path, _ = built
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    york = {r["title"]: (r["published"], r["published_precision"]) for r in
            db.query("SELECT title, published, published_precision FROM entries WHERE source = 'york'")}
    assert york == YORK
    codes = {r["la_codes"] for r in db.query("SELECT la_codes FROM entries WHERE source = 'york'")}
    assert codes == {'["E06000014"]'}


def test_the_contract_tables_and_a_summary(built: tuple[Path, str]) -> None:
    tmp_path, output = built
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    assert {"entries", "entries_fts", "reviews", "links", "runs", "changes", "entry_versions"} <= set(db.table_names())
    assert db["reviews"].count > 0 and db["runs"].count == 1
    assert "york" in output and "5 entries" in output
    assert "reviews:" in output and "links:" in output and str(tmp_path / "catalogue.db") in output
    assert (tmp_path / "reports" / "1.md").exists() and (tmp_path / "reports" / "1.json").exists()


def test_national_areas_resolve_or_are_anonymous(built: tuple[Path, str]) -> None:
    tmp_path, _ = built
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    unresolved = list(db.query(
        "SELECT id, area_text FROM entries WHERE la_codes = '[]' AND area_text NOT IN "
        "('Anonymous', 'NSPCC on behalf of unnamed LSCB')"))
    assert unresolved == []


def test_the_same_review_in_several_listings_shares_one_review(built: tuple[Path, str]) -> None:
    tmp_path, _ = built
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    # Keanu Williams: the 2013 list and two library documents (overview report, executive summary).
    rows = list(db.query("SELECT source, review_id FROM entries WHERE title LIKE '%Keanu Williams%'"))
    assert len(rows) >= 2 and len({r["review_id"] for r in rows}) == 1
    # Baby A of York and Baby A of Birmingham are different reviews.
    baby_a = {r["area"]: r["review_id"] for r in db.query(
        "SELECT area, review_id FROM entries WHERE pseudonyms = '[\"baby a\"]'")}
    assert baby_a["York"] != baby_a["Birmingham"]


def test_a_second_sync_changes_nothing(tmp_path: Path) -> None:
    assert sync(tmp_path).exit_code == 0
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    entries_before = list(db.query("SELECT * FROM entries ORDER BY id"))
    result = sync(tmp_path, "--quiet")
    assert result.exit_code == 0
    assert result.output == ""  # quiet: nothing changed, nothing printed
    assert db.execute("SELECT count(*) FROM changes WHERE run_id = 2").fetchone()[0] == 0
    after = list(db.query("SELECT * FROM entries ORDER BY id"))
    assert [dict(e, last_seen_run=None) for e in after] == [dict(e, last_seen_run=None) for e in entries_before]


def test_a_page_that_no_longer_parses_fails_its_source_only(tmp_path: Path) -> None:
    archive_dir = tmp_path / "snapshots"
    shutil.copytree(SNAPSHOTS, archive_dir)
    archive = Archive(archive_dir)
    york_url = next(s["url"] for s in tomllib.loads(CONFIG.read_text())["source"] if s["id"] == "york")
    archive.add(york_url, b"<html><body><h1>Page not found</h1><p>Sorry.</p></body></html>")
    result = sync(tmp_path, snapshots=archive_dir)
    assert result.exit_code == 65
    assert "FAILED york" in result.output and york_url in result.output
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    assert db["entries"].count_where("source = 'york'") == 0  # nothing written for the failed source
    assert db["entries"].count_where("source != 'york'") == sum(
        n for s, n in expected_entries().items() if s != "york")


def test_a_missing_snapshot_needs_a_person(tmp_path: Path) -> None:
    empty = tmp_path / "empty-archive"
    empty.mkdir()
    result = sync(tmp_path, "--source", "york", snapshots=empty)
    assert result.exit_code == 65
    assert "york" in result.output and "snapshot" in result.output


def test_config_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    """Cron runs from anywhere: a config with relative paths works from another directory."""
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    text = CONFIG.read_text(encoding="utf-8").replace('db = "../catalogue.db"', 'db = "../var/catalogue.db"')
    text = text.replace('snapshots = "../snapshots"', f'snapshots = "{os.path.relpath(SNAPSHOTS, config_dir)}"')
    text = text.replace('reports = "../reports"', 'reports = "../var/reports"')
    (config_dir / "sources.toml").write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "config" / "areas.toml", config_dir / "areas.toml")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "reposync", "sync", "--offline", "--source", "york",
         "--config", str(config_dir / "sources.toml")],
        cwd=elsewhere, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "catalogue.db").exists() and (tmp_path / "var" / "reports" / "1.md").exists()
    assert not list(elsewhere.iterdir())
