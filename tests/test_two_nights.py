"""Two nights from the snapshots: the change report a maintainer reads, and the layout guard."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from conftest import CONFIG, FIXTURES, SNAPSHOTS
from nights import make_night_two, source_url
from reposync.cli.main import cli
from reposync.archive.snapshots import Archive

EXPECTED = json.loads((FIXTURES / "nights" / "night2-expected.json").read_text(encoding="utf-8"))


def sync(tmp_path: Path, snapshots: Path, *args: str):
    return CliRunner().invoke(cli, ["sync", "--offline", "--config", str(CONFIG), "--db", str(tmp_path / "c.db"),
                                    "--snapshots", str(snapshots), "--reports", str(tmp_path / "reports"), *args])


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("two-nights")
    assert sync(tmp, SNAPSHOTS).exit_code == 0
    night_two = make_night_two(tmp / "archive2")
    result = sync(tmp, night_two, "--quiet")
    assert result.exit_code == 0, result.output
    (tmp / "night2-stdout.md").write_text(result.output, encoding="utf-8")
    return tmp


def test_the_night_two_report_says_what_changed(two_nights: Path) -> None:
    report = json.loads((two_nights / "reports" / "2.json").read_text(encoding="utf-8"))
    assert report["status"] == EXPECTED["status"] and report["exit_code"] == EXPECTED["exit_code"]
    assert report["counts"] == EXPECTED["counts"]
    sections = report["sections"]
    assert [i["entry"] for i in sections["added"]] == EXPECTED["added"]
    assert {i["entry"]: [f["field"] for f in i["fields"]] for i in sections["changed"]} == EXPECTED["changed"]
    assert [i["entry"] for i in sections["rolled-off"]] == EXPECTED["rolled-off"]
    assert [i["entry"] for i in sections["expired"]] == EXPECTED["expired"]


def test_quiet_prints_the_markdown_report_cron_mails(two_nights: Path) -> None:
    printed = (two_nights / "night2-stdout.md").read_text(encoding="utf-8")
    written = (two_nights / "reports" / "2.md").read_text(encoding="utf-8")
    assert printed.strip() == written.strip()
    assert printed.startswith("# reposync run 2 (offline, ok): 1 added, 2 changed, 1 rolled-off, 1 expired")
    headings = re.findall(r"^## (.+?) \(\d+\)$", printed, re.M)
    assert headings == ["Added", "Changed", "Rolled off a rolling page", "Expired from a local page"]
    # Links to the source pages, so a maintainer can check each change.
    assert f"(<{source_url('york')}>)" in printed
    assert "title: Thematic review of child neglect → Thematic review of child neglect in York" in printed


def test_a_corrected_title_and_a_moved_link_keep_the_entry(two_nights: Path) -> None:
    db = sqlite_utils.Database(two_nights / "c.db")
    thematic = db["entries"].get("york:thematic-review-of-child-neglect")
    assert thematic["title"] == "Thematic review of child neglect in York" and thematic["version"] == 2
    child_b = db["entries"].get("york:child-b")
    assert child_b["report_url"].endswith("/documents/Child%20B%20SCR%20findings%20and%20recommendations.pdf")
    assert db["entries"].get("york:messages-from-reviews")["status"] == "expired"
    assert db["entries"].get("nspcc-recent:cambridgeshire-and-peterborough-gabriel")["status"] == "rolled-off"


def test_past_runs_render_again_in_every_format(two_nights: Path) -> None:
    runner = CliRunner()
    for fmt in ("md", "json", "html"):
        result = runner.invoke(cli, ["report", "--db", str(two_nights / "c.db"), "--run", "2", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert result.output == (two_nights / "reports" / f"2.{fmt}").read_text(encoding="utf-8")
    missing = runner.invoke(cli, ["report", "--db", str(two_nights / "c.db"), "--run", "99"])
    assert missing.exit_code == 2 and "no run 99" in missing.output


def test_a_changed_layout_trips_the_guard_and_deletes_nothing(tmp_path: Path) -> None:
    assert sync(tmp_path, SNAPSHOTS).exit_code == 0
    db = sqlite_utils.Database(tmp_path / "c.db")
    before = list(db.query("SELECT * FROM entries WHERE source = 'york' ORDER BY id"))
    archive_dir = tmp_path / "archive"
    shutil.copytree(SNAPSHOTS, archive_dir)
    archive = Archive(archive_dir)
    url = source_url("york")
    html = archive.body(archive.latest(url).sha256).decode("utf-8")
    # A redesign: four of the five entries lose the "(published ...)" the parser knows them by.
    redesigned, count = re.subn(r"\((?:published|Published) [^)]*\)", "", html, count=4)
    assert count == 4
    archive.add(url, redesigned.encode("utf-8"))
    result = sync(tmp_path, archive_dir, "--quiet")
    assert result.exit_code == 65
    first_section = re.search(r"^## (.+)$", result.output, re.M)
    assert first_section is not None and first_section.group(1).startswith("Failed sources")
    assert "layout guard" in result.output
    assert list(db.query("SELECT * FROM entries WHERE source = 'york' ORDER BY id")) == before


def test_dry_run_prints_the_report_and_changes_nothing(tmp_path: Path) -> None:
    assert sync(tmp_path, SNAPSHOTS).exit_code == 0
    db = sqlite_utils.Database(tmp_path / "c.db")
    before = {t: list(db.query(f"SELECT * FROM {t}")) for t in ("entries", "changes", "runs", "reviews", "links")}
    night_two = make_night_two(tmp_path / "archive2")
    result = sync(tmp_path, night_two, "--dry-run")
    assert result.exit_code == 0
    assert "1 added, 2 changed, 1 rolled-off, 1 expired" in result.output
    after = {t: list(db.query(f"SELECT * FROM {t}")) for t in ("entries", "changes", "runs", "reviews", "links")}
    assert after == before
    assert not (tmp_path / "reports" / "2.md").exists()


def test_a_first_sync_report_lists_a_few_and_counts_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reposync.reports import night as report
    from reposync import settings

    assert sync(tmp_path, SNAPSHOTS).exit_code == 0
    monkeypatch.setattr(settings, "REPORT_MAX_ITEMS", 3)
    db = sqlite_utils.Database(tmp_path / "c.db")
    added = db["changes"].count_where("run_id = 1 AND kind = 'added'")
    built = report.build(db, 1)
    assert built["counts"]["added"] == added and len(built["sections"]["added"]) == 3
    assert built["omitted"] == {"added": added - 3}
    assert f"## Added ({added})" in report.render_md(built)
    assert f"… and {added - 3} more" in report.render_md(built)
