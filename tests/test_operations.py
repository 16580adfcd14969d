"""Operations tell the truth: a run that landed has its report even when what follows the commit fails, and a
dry run leaves nothing behind that a later run could take for its own (no catalogue made or migrated, no page
archived under the run id the next real run gets)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, SNAPSHOTS, copy_bundled_config, local_source, loopback_config
from mockserver import MockServer, Resource
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.archive.snapshots import Archive

LIST_PAGE = (FIXTURES / "pages" / "generic" / "york-entries-in-li.html").read_bytes()


def sync(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["sync", "--config", str(config), *args])


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """The bundled config beside a copy of the bundled snapshots; no catalogue yet."""
    config = copy_bundled_config(tmp_path / "config")
    shutil.copytree(SNAPSHOTS, tmp_path / "snapshots")
    return config


@pytest.fixture
def live(tmp_path: Path, server: MockServer) -> Path:
    """One partnership page on the loopback server; catalogue, snapshots and reports in tmp_path."""
    server.pages["/york"] = Resource(LIST_PAGE)
    return loopback_config(tmp_path / "config", local_source("york", server.url("/york")))


def test_a_failure_after_the_commit_still_writes_the_runs_report(bundled: Path) -> None:
    # The decisions export runs after the commit; its lock file cannot be opened (a folder stands there).
    decisions = load_config(bundled).paths.decisions
    decisions.with_name(decisions.name + ".lock").mkdir(parents=True)
    result = sync(bundled, "--offline", "--quiet")
    assert result.exit_code == 1, result.output  # the failure is still a failure
    assert "IsADirectoryError" in result.output
    db = sqlite3.connect(bundled.parent.parent / "catalogue.db")
    run, status = db.execute("SELECT id, status FROM runs").fetchone()
    db.close()
    assert (run, status) == (1, "ok")  # the run landed
    reports = bundled.parent.parent / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["1.html", "1.json", "1.md"]
    assert "## Added" in (reports / "1.md").read_text(encoding="utf-8")
    assert f"run 1 was committed to the catalogue before this failure; its report is {reports / '1.md'}" in (
        result.output)


def test_a_dry_run_with_no_catalogue_makes_none(bundled: Path) -> None:
    result = sync(bundled, "--offline", "--dry-run")
    assert result.exit_code == 0, result.output
    # it shows what a run would do, as a sync prints it (issue 24: a dry run's summary says it is one)
    assert re.match(r"reposync dry run, nothing written: [1-9]\d* added", result.stdout), result.stdout
    assert sorted(p.name for p in bundled.parent.parent.iterdir()) == ["config", "snapshots"]


def test_a_dry_run_archives_no_page_and_migrates_nothing(live: Path, server: MockServer) -> None:
    root = live.parent.parent
    assert sync(live, "--quiet").exit_code == 0
    db_path = root / "catalogue.db"
    with sqlite3.connect(db_path) as db:  # as if a migration were pending: a later reposync's first sync
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_link_health'")
    db.close()
    manifest = (root / "snapshots" / "manifest.jsonl").read_bytes()
    objects = sorted(p.name for p in (root / "snapshots" / "objects").iterdir())
    server.pages["/york"] = Resource(LIST_PAGE.replace(b"</body>", b"<!-- night two --></body>"))

    dry = sync(live, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert server.statuses("/york") == [200, 200]  # it did walk the page, and fetched it whole
    assert (root / "snapshots" / "manifest.jsonl").read_bytes() == manifest
    assert sorted(p.name for p in (root / "snapshots" / "objects").iterdir()) == objects
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM _sqlite_migrations WHERE name = 'm006_link_health'").fetchone() == (0,)
    assert db.execute("SELECT id FROM runs").fetchall() == [(1,)]
    db.close()

    assert sync(live, "--quiet").exit_code == 0  # the real run 2: the pages under its id are its own
    runs = [row.run for row in Archive(root / "snapshots").rows()]
    assert runs.count(2) == runs.count(1)  # robots.txt and the page, once each: none left by the dry run
