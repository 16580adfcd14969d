"""Cron safety: a crash at any point, or a second sync at the same time, loses nothing."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import CONFIG, ROOT
from nights import make_night_two

# Runs a sync in a child process that SIGKILLs itself after N ticks of SQLite's
# progress handler (one tick per 200 virtual-machine steps): a crash at a chosen
# point of the real code, from outside it.
KILLER = textwrap.dedent(
    """
    import atexit, os, signal, sys
    from reposync import catalogue
    limit, ticks, real_open = int(sys.argv[1]), [0], catalogue.open_db

    def open_db(path):
        db = real_open(path)
        def tick():
            ticks[0] += 1
            if ticks[0] == limit:
                os.kill(os.getpid(), signal.SIGKILL)
            if ticks[0] == -limit:
                import time; time.sleep(3)  # a slow writer, holding the transaction
            return 0
        db.conn.set_progress_handler(tick, 200)
        return db

    catalogue.open_db = open_db
    atexit.register(lambda: print(f"TICKS {ticks[0]}", file=sys.stderr))
    from reposync.cli.main import cli
    cli(sys.argv[2:], prog_name="reposync")
    """
)

TABLES = ("entries", "reviews", "links", "entry_versions", "changes")


def sync_command(db: Path, snapshots: Path, limit: int, tmp_path: Path) -> list[str]:
    return [sys.executable, "-c", KILLER, str(limit), "sync", "--offline", "--config", str(CONFIG),
            "--db", str(db), "--snapshots", str(snapshots), "--reports", str(tmp_path / "reports"), "--quiet"]


def run_sync(db: Path, snapshots: Path, tmp_path: Path, limit: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run(sync_command(db, snapshots, limit, tmp_path), capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def state(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("nights")
    night_one = tmp / "night1.db"
    first = run_sync(night_one, ROOT / "snapshots", tmp)
    assert first.returncode == 0, first.stderr
    archive = make_night_two(tmp / "archive2")
    after = tmp / "after.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{night_one}{suffix}").exists():
            shutil.copy(f"{night_one}{suffix}", f"{after}{suffix}")
    second = run_sync(after, archive, tmp)
    assert second.returncode == 0, second.stderr
    ticks = int(second.stderr.rsplit("TICKS", 1)[1].split()[0])
    return {"night1": night_one, "archive": archive, "after": after, "ticks": ticks, "tmp": tmp}


def copy_db(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


def test_night_two_really_changes_something(nights: dict) -> None:
    assert state(nights["night1"]) != state(nights["after"])


def test_a_sync_killed_at_any_of_24_points_leaves_before_or_after(nights: dict, tmp_path: Path) -> None:
    before, after = state(nights["night1"]), state(nights["after"])
    total = nights["ticks"]
    assert total >= 24, f"only {total} progress ticks: the kill points would repeat"
    points = sorted({max(1, round(total * k / 24)) for k in range(24)})
    outcomes = {"before": 0, "after": 0}
    for point in points:
        db = tmp_path / f"kill-{point}.db"
        copy_db(nights["night1"], db)
        killed = run_sync(db, nights["archive"], tmp_path, limit=point)
        assert killed.returncode == -9, f"kill point {point} of {total} did not kill: {killed.stderr}"
        now = state(db)  # integrity_check passes, or this raises
        assert now in (before, after), f"a kill at {point} of {total} ticks left a third state"
        outcomes["before" if now == before else "after"] += 1
        # The next sync finishes the job, as if the crash had not happened.
        again = run_sync(db, nights["archive"], tmp_path)
        assert again.returncode == 0, again.stderr
        assert content(db) == content(nights["after"])
    assert len(points) >= 20 and outcomes["before"] > 0


# Without the run numbers a crashed run used up, what the catalogue holds.
CONTENT = {
    "entries": "SELECT id, title, summary, published, status, review_id, content_hash, version FROM entries",
    "reviews": "SELECT * FROM reviews",
    "links": "SELECT entry_a, entry_b, score, decision FROM links",
    "entry_versions": "SELECT entry_id, version, content_hash, changed FROM entry_versions",
    "changes": "SELECT entry_id, kind, field, old, new FROM changes",
}


def content(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {t: sorted(conn.execute(sql).fetchall(), key=repr) for t, sql in CONTENT.items()}
    finally:
        conn.close()


def test_two_syncs_at_once_one_runs_the_other_exits_75(nights: dict, tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    copy_db(nights["night1"], db)
    # The first sync pauses inside its write transaction (a slow writer), holding the lock.
    slow = subprocess.Popen(sync_command(db, nights["archive"], -3, tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    lock = Path(f"{db}.lock")
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = run_sync(db, nights["archive"], tmp_path)
    out, err = slow.communicate(timeout=120)
    assert second.returncode == 75, second.stderr
    assert "another sync holds" in second.stderr
    assert slow.returncode == 0, err
    assert state(db) == state(nights["after"])
