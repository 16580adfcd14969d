"""`reposync doctor`: healthy on a catalogue just synced from the bundled snapshots, and each failure on its own,
with the line that says what to do and the exit code (65 a person must act, 75 temporary)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import CONFIG, ROOT, SNAPSHOTS
from reposync import settings
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.sync import sync_lock


@pytest.fixture
def replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled config beside a copy of the bundled snapshots, synced offline into tmp_path."""
    monkeypatch.setattr(settings, "DOCTOR_MIN_FREE_BYTES", 1)  # whatever the disk of the machine running this
    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("sources.toml", "areas.toml", "decisions.toml"):
        if (CONFIG.parent / name).exists():
            shutil.copy(CONFIG.parent / name, folder / name)
    shutil.copytree(SNAPSHOTS, tmp_path / "snapshots")
    config = folder / "sources.toml"
    result = CliRunner().invoke(cli, ["sync", "--offline", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture
def setup(replayed: Path) -> Path:
    """The same catalogue with its run marked live: as a server's nightly walk leaves it."""
    sql(replayed, "UPDATE runs SET mode = 'live'")
    return replayed


def doctor(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["doctor", "--config", str(config), *args])


def lines(result: Result) -> dict[str, list[str]]:
    """Check name -> its lines' states (a source has a line each)."""
    found: dict[str, list[str]] = {}
    for line in result.output.splitlines():
        state, name = line.split()[:2]
        found.setdefault(name, []).append(state)
    return found


def line(result: Result, name: str) -> str:
    return next(text for text in result.output.splitlines() if text.split()[1] == name)


def sql(config: Path, statement: str, *params: object) -> None:
    db = sqlite3.connect(config.parent.parent / "catalogue.db")
    with db:
        db.execute(statement, params)
    db.close()


def test_healthy_after_a_sync(setup: Path) -> None:
    result = doctor(setup, "--full")
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert set(found) == {"config", "catalogue", "migrations", "lock", "last", "held", "source", "archive", "disk"}
    assert all(state == ["OK"] * len(state) for state in found.values()), result.output
    assert len(found["source"]) == len(load_config(setup).sources)  # one line per configured source
    assert "quick_check ok" in line(result, "catalogue") and "all" in line(result, "archive")


def test_a_config_that_does_not_load(setup: Path) -> None:
    setup.write_text("[crawl\n", encoding="utf-8")
    result = doctor(setup)
    assert result.exit_code == 65
    assert line(result, "config").startswith("ACT") and "not valid TOML" in line(result, "config")
    assert set(lines(result)["catalogue"]) == {"SKIP"}


def test_no_catalogue(setup: Path) -> None:
    (setup.parent.parent / "catalogue.db").unlink()
    result = doctor(setup)
    assert result.exit_code == 65
    assert line(result, "catalogue").startswith("ACT") and "run `reposync sync`" in line(result, "catalogue")


def test_a_catalogue_that_fails_quick_check(setup: Path) -> None:
    path = setup.parent.parent / "catalogue.db"
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page:6 * page] = b"\xa5" * (3 * page)  # three pages of the middle of the file overwritten
    path.write_bytes(bytes(data))
    result = doctor(setup)
    assert result.exit_code == 65
    assert line(result, "catalogue").startswith("ACT") and "restore it from a backup" in line(result, "catalogue")


def test_pending_and_unknown_migrations(setup: Path) -> None:
    sql(setup, "DELETE FROM _sqlite_migrations WHERE name = 'm006_link_health'")
    result = doctor(setup)
    assert result.exit_code == 75 and line(result, "migrations").startswith("WAIT")
    assert "m006_link_health" in line(result, "migrations")
    sql(setup, "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('reposync', "
               "'m999_from_the_future', '2030-01-01')")
    result = doctor(setup)
    assert result.exit_code == 65 and "upgrade reposync" in line(result, "migrations")


def test_a_lock_held_by_a_live_sync_is_fine(setup: Path) -> None:
    with sync_lock((setup.parent.parent / "catalogue.db").resolve()):
        result = doctor(setup)
    assert result.exit_code == 0, result.output
    assert f"live process (pid {os.getpid()})" in line(result, "lock")


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="reads /proc/locks (Linux)")
def test_a_lock_whose_holder_died_leaving_a_child_holding_it(setup: Path) -> None:
    lock = (setup.parent.parent / "catalogue.db.lock").resolve()
    # A process takes the lock, starts a child that inherits it, and exits: the lock stays, its pid is dead.
    script = ("import fcntl, subprocess, sys\n"
              f"h = open({str(lock)!r}, 'a+')\n"
              "fcntl.flock(h, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], pass_fds=[h.fileno()],\n"
              "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)\n"
              "print(child.pid, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    child = int(out.stdout.split()[0])
    try:
        result = doctor(setup)
        assert result.exit_code == 65, result.output
        assert line(result, "lock").startswith("ACT") and "not running" in line(result, "lock")
    finally:
        os.kill(child, 9)
        for _ in range(100):  # reaped by init: wait until it is gone, so the lock is free again
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def test_a_run_that_never_finished_or_ended_temporary(setup: Path) -> None:
    sql(setup, "UPDATE runs SET status = 'running', finished_at = NULL WHERE id = (SELECT max(id) FROM runs)")
    result = doctor(setup)
    assert result.exit_code == 65 and "never finished" in line(result, "last")
    sql(setup, "UPDATE runs SET status = 'partial', finished_at = started_at, exit_code = 75 "
               "WHERE id = (SELECT max(id) FROM runs)")
    result = doctor(setup)
    assert result.exit_code == 75 and line(result, "last").startswith("WAIT")


def test_a_source_not_walked_within_max_age(setup: Path) -> None:
    sql(setup, "UPDATE runs SET started_at = '2020-01-01T02:15:00+00:00'")
    result = doctor(setup)
    assert result.exit_code == 65
    assert set(lines(result)["source"]) == {"ACT"} and "over --max-age 2 days" in line(result, "source")
    assert doctor(setup, "--max-age", "100000").exit_code == 0


def test_a_missing_or_damaged_object(setup: Path) -> None:
    objects = sorted((setup.parent.parent / "snapshots" / "objects").iterdir())
    objects[0].unlink()
    objects[1].write_bytes(b"rot")
    result = doctor(setup, "--full")
    assert result.exit_code == 65
    assert line(result, "archive").startswith("ACT") and "2 of all" in line(result, "archive")
    assert "reposync snapshots verify" in line(result, "archive")


def test_too_little_disk(setup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DOCTOR_MIN_FREE_BYTES", 1 << 60)
    result = doctor(setup)
    assert result.exit_code == 65 and line(result, "disk").startswith("ACT")
    assert "snapshots prune" in line(result, "disk")


def test_the_bundled_catalogue_is_read_only_to_the_doctor(setup: Path) -> None:
    folder = setup.parent.parent
    sql(setup, "DELETE FROM _sqlite_migrations WHERE name = 'm006_link_health'")
    before = (folder / "catalogue.db").read_bytes()
    assert doctor(setup).exit_code == 75
    assert (folder / "catalogue.db").read_bytes() == before  # no migration applied, nothing written
    wal = folder / "catalogue.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_source_that_needs_a_person_beside_a_host_that_was_down(setup: Path) -> None:
    first, second = (source.id for source in load_config(setup).sources[:2])
    sources = {first: {"entries": 0, "error": "HTTP 404", "exit_code": 65},
               second: {"entries": 0, "error": "timed out", "exit_code": 75}}
    sql(setup, "INSERT INTO runs (started_at, finished_at, mode, status, exit_code, sources) "
               "SELECT started_at, finished_at, 'live', 'partial', 75, ? FROM runs WHERE id = 1", json.dumps(sources))
    result = doctor(setup)
    assert result.exit_code == 65, result.output  # not 75: the 404 needs a person whatever the other's timeout
    assert line(result, "last").startswith("ACT") and f"needs a person: {first} (HTTP 404)" in line(result, "last")


def test_the_servers_sign_in_secrets(setup: Path, tmp_path: Path) -> None:
    example = doctor(setup, "--serve-env", str(ROOT / "deploy" / "serve.env.example"))
    assert example.exit_code == 65 and line(example, "secrets").startswith("ACT")
    assert "DATASETTE_SECRET is set but empty" in line(example, "secrets")
    placeholder = CliRunner().invoke(cli, ["doctor", "--config", str(setup)], env={"DATASETTE_SECRET": "replace-me"})
    assert placeholder.exit_code == 65 and "DATASETTE_SECRET is a placeholder" in line(placeholder, "secrets")
    good = tmp_path / "serve.env"
    good.write_text("REPOSYNC_LIBRARIAN_PASSWORD_HASH='pbkdf2_sha256$480000$Vx2eY1c9$Qm8Zr3T'\n"
                    f"DATASETTE_SECRET={'ab12' * 16}\n", encoding="utf-8")
    fine = doctor(setup, "--serve-env", str(good))
    assert fine.exit_code == 0 and line(fine, "secrets").startswith("OK"), fine.output
    assert "secrets" not in lines(doctor(setup))  # a machine that serves no one: nothing to check


def test_a_catalogue_that_only_replayed_the_snapshots_says_so_and_what_to_run(replayed: Path) -> None:
    """Issue 24: after `reposync sync --offline` every source read 'last successful walk 38 s ago (run 1,
    offline)' as OK; a replay says nothing of the sites."""
    result = doctor(replayed)
    assert result.exit_code == 65, result.output
    [source] = [text for text in result.output.splitlines() if text.split()[1] == "source"]
    assert source.startswith("ACT") and "no live walk yet" in source and "only replayed the snapshot archive" in source
    assert "run `reposync sync` (no --offline" in source
    assert line(result, "last").startswith("OK")  # the run itself finished well


def test_a_source_walked_live_counts_and_one_only_replayed_does_not(replayed: Path) -> None:
    first, second = (source.id for source in load_config(replayed).sources[:2])
    sources = {first: {"entries": 5, "pages": 1, "complete": True, "exit_code": 0}}  # a live run of one source
    sql(replayed, "INSERT INTO runs (started_at, finished_at, mode, status, exit_code, sources) "
                  "SELECT started_at, finished_at, 'live', 'ok', 0, ? FROM runs WHERE id = 1", json.dumps(sources))
    result = doctor(replayed)
    by_source = {text.split()[2]: text for text in result.output.splitlines() if text.split()[1] == "source"}
    assert by_source[first].startswith("OK") and "(run 2, live)" in by_source[first]
    assert by_source[second].startswith("ACT") and "no successful live walk on record" in by_source[second]
