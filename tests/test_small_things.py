"""Small things a new user notices (issue 24, point 7): plurals, file modes, the email's To: line, one order
across the commands, no report files for a quiet night, `report --run 99`, a bare `reposync`, what next."""

from __future__ import annotations

import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONFIG, ROOT
from reposync.cli import cli
from reposync.reports.completeness import EMAIL_TO

REPOSYNC = Path(sys.executable).with_name("reposync")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, object]:
    """Two offline syncs of the bundled snapshots: the first builds the catalogue, the second is quiet."""
    folder = tmp_path_factory.mktemp("nights")
    args = ["sync", "--offline", "--config", str(CONFIG), "--db", str(folder / "c.db"),
            "--reports", str(folder / "reports")]
    first, second = run(*args), run(*args)
    assert first.exit_code == second.exit_code == 0, (first.output, second.output)
    return folder, first, second


def test_counts_of_one_are_singular(nights: tuple, tmp_path: Path) -> None:
    folder, first, _ = nights
    # The ids are padded to the longest source id in the config: match the counts, not the padding.
    assert re.search(r"^  north-tyneside +1 entry, 1 page$", first.stdout, re.M), first.stdout
    assert re.search(r"^  york +5 entries, 1 page$", first.stdout, re.M), first.stdout
    db = tmp_path / "c.db"
    db.write_bytes((folder / "c.db").read_bytes())
    with sqlite3.connect(db) as conn:  # one link in the queue
        conn.execute("UPDATE links SET decision = 'review' WHERE entry_a = 'york:baby-a'")
    review = run("links", "review", "--config", str(CONFIG), "--db", str(db))
    assert review.stdout.startswith("Review queue: 1 proposed link. Decide with")


def test_the_first_sync_says_what_to_try_next_and_only_the_first(nights: tuple) -> None:
    _, first, second = nights
    assert first.stdout.rstrip().splitlines()[-1] == (
        "Next: `reposync completeness` (what reached the national repository), `reposync serve` (Datasette).")
    assert "Next:" not in second.stdout


def test_a_quiet_night_writes_no_report_files_and_report_renders_it_still(nights: tuple) -> None:
    folder, _, second = nights
    assert "no changes" in second.stdout
    assert sorted(p.name for p in (folder / "reports").iterdir()) == ["1.html", "1.json", "1.md"]
    again = run("report", "--run", "2", "--config", str(CONFIG), "--db", str(folder / "c.db"))
    assert again.exit_code == 0 and again.stdout.startswith("# reposync run 2")


def test_report_of_a_run_that_never_was_names_the_newest(nights: tuple) -> None:
    folder, _, _ = nights
    result = run("report", "--run", "99", "--config", str(CONFIG), "--db", str(folder / "c.db"))
    assert result.exit_code == 2 and "no run 99: the newest is run 2" in result.stderr


def test_a_bare_reposync_shows_its_help_and_exits_0() -> None:
    done = subprocess.run([str(REPOSYNC)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("Usage: reposync") and "completeness" in done.stdout


def test_the_pack_and_reports_are_readable_by_the_group_as_the_catalogue_is(nights: tuple, tmp_path: Path) -> None:
    folder, _, _ = nights
    db = tmp_path / "c.db"
    db.write_bytes((folder / "c.db").read_bytes())
    script = (f"umask 027 && {REPOSYNC} pack --area York --out {tmp_path / 'packs'} --config {CONFIG} --db {db} "
              f"&& {REPOSYNC} sync --offline --config {CONFIG} --db {tmp_path / 'new.db'} --reports {tmp_path / 'r'}")
    done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = [*(tmp_path / "packs").iterdir(), *(tmp_path / "r").iterdir(), tmp_path / "new.db"]
    assert len(written) == 6
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: 0o640 for p in written}


def test_the_email_has_a_to_placeholder_the_readme_explains(nights: tuple, tmp_path: Path) -> None:
    folder, _, _ = nights
    result = run("pack", "--area", "York", "--out", str(tmp_path), "--config", str(CONFIG), "--db",
                 str(folder / "c.db"))
    assert result.exit_code == 0, result.output
    email = (tmp_path / "york-email.txt").read_text(encoding="utf-8")
    assert email.splitlines()[0] == f"To: {EMAIL_TO}" and EMAIL_TO.startswith("[")
    assert f"`To: {EMAIL_TO}`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_one_order_for_partnerships_and_undated_entries(nights: tuple, tmp_path: Path) -> None:
    """By area then source id; within a partnership oldest first, undated last: links unmatched, completeness
    and pack agree (Croydon has two undated reviews)."""
    folder, _, _ = nights
    common = ["--config", str(CONFIG), "--db", str(folder / "c.db")]
    table = run("completeness", "--wide", *common).stdout.splitlines()  # --wide: area names uncut
    rows = [re.split(r"\s{2,}", line) for line in table[1:] if line[:1].isupper() and "  " in line]
    areas = [cells[0] for cells in rows if cells[1] != "-"]  # a register partnership no source reads: no entries
    unmatched = run("links", "unmatched", *common).stdout
    heads = [line for line in unmatched.splitlines() if line and not line.startswith(" ")]
    assert [h.split(" (", 1)[1].rstrip(")") for h in heads] == areas

    def ids(text: str, prefix: str) -> list[str]:
        return [w for w in text.split() if w.startswith(prefix)]

    croydon_unmatched = unmatched.split("croydon (Croydon)")[1].split("National reviews of Croydon")[0]
    pack = run("pack", "--area", "Croydon", "--out", str(tmp_path), *common).stdout
    area = run("completeness", "--area", "Croydon", *common).stdout.split("local reviews (")[1]
    order = ids(pack, "croydon:")
    assert order[-2:] == ["croydon:child-q-scr-where-were-you-when-i-was-six", "croydon:child-y-scr"]  # undated
    assert ids(croydon_unmatched, "croydon:") == order
    assert ids(area.split("croydon: other local documents")[0], "croydon:") == order
