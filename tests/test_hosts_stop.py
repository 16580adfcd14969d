"""A failing host, or Ctrl-C, stops the night at once: the other hosts end at their next wait, nothing is applied.

The library's chain of record pages (the bundled snapshots) is served on a loopback server of its own and
walked with a politeness delay, so its full walk takes many seconds; another host's worker fails (a bug)
or the sync gets SIGINT while the library walks. The night must end long before the library's walk would,
with exit 1, and the catalogue as it was.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from conftest import CONFIG, ROOT, SNAPSHOTS
from mockserver import MockServer, Resource
from reposync import sync as sync_module
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.archive.snapshots import Archive
from reposync.sync import run_sync
from test_hosts import dump, write_config

pytestmark = pytest.mark.usefixtures("no_backoff")  # retries at once

DELAY = 0.3  # seconds between two of a host's requests: the library's 36 records take over 10 s

@pytest.fixture
def hosts() -> Iterator[dict[str, MockServer]]:
    """The library's record pages on one host (127.0.1.1), a York partnership page on another (127.0.1.2)."""
    library, york = MockServer("127.0.1.1").start(), MockServer("127.0.1.2").start()
    bundled = Archive(SNAPSHOTS)
    for row in bundled.rows():
        parts = urlsplit(row.url)
        if row.sha256 is not None and parts.hostname == "library.nspcc.org.uk":
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            library.pages[target] = Resource(bundled.body(row.sha256), row.content_type or "text/html")
    york.pages["/reviews"] = Resource((ROOT / "tests/fixtures/pages/generic/york-entries-in-li.html").read_bytes())
    yield {"library": library, "york": york}
    library.stop()
    york.stop()


def sources(hosts: dict[str, MockServer]) -> list[dict]:
    source = next(s for s in load_config(CONFIG).sources if s.id == "nspcc-library")
    parts = urlsplit(source.url)
    return [
        {"id": "nspcc-library", "kind": "national", "parser": "nspcc-library",
         "url": hosts["library"].url(f"{parts.path}?{parts.query}")},
        {"id": "york", "kind": "local", "parser": "generic", "area": "York", "url": hosts["york"].url("/reviews")},
    ]


def assert_kept(db_path: Path, before: dict[str, list[tuple]]) -> None:
    """Every table as the first night left it; the stopped run is only on record as not finished."""
    after = dump(db_path)
    assert {t: rows for t, rows in after.items() if t != "runs"} == {t: rows for t, rows in before.items()
                                                                      if t != "runs"}
    assert after["runs"][:-1] == before["runs"] and len(after["runs"]) == len(before["runs"]) + 1
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone() == ("running",)
    finally:
        conn.close()


def records(hosts: dict[str, MockServer]) -> int:
    return len(hosts["library"].pages)


def test_a_bug_in_one_hosts_walk_ends_the_night_while_the_library_still_walks(
        tmp_path: Path, hosts: dict[str, MockServer], monkeypatch: pytest.MonkeyPatch) -> None:
    config_path = write_config(tmp_path / "config", sources(hosts), check_links_days=0)
    first = run_sync(load_config(config_path))  # a night that went well: the catalogue to keep
    assert first.exit_code == 0 and len(first.outcomes[0].entries) == records(hosts) >= 30
    before = dump(first.db_path)
    hosts["library"].reset_counts()

    real_guard = sync_module.guard_layout

    def guard_with_a_bug(outcome, previous):  # a bug after York's walk, in York's worker thread
        if outcome.source == "york":
            raise RuntimeError("a bug in york's worker")
        return real_guard(outcome, previous)

    monkeypatch.setattr(sync_module, "guard_layout", guard_with_a_bug)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["sync", "--config", str(config_path), "--delay", str(DELAY)])
    elapsed = time.monotonic() - started

    full_walk = records(hosts) * DELAY  # what waiting for the library (submitted first) would take
    assert result.exit_code == 1, result.output
    assert "unexpected error (a bug): RuntimeError: a bug in york's worker" in result.output
    assert elapsed < full_walk / 3, f"the night took {elapsed:.1f} s; the library's walk alone takes {full_walk:.1f} s"
    assert hosts["library"].count("/HeritageScripts") < records(hosts) / 3  # stopped at its next wait
    assert_kept(first.db_path, before)


def test_ctrl_c_ends_the_night_while_the_library_still_walks(tmp_path: Path, hosts: dict[str, MockServer]) -> None:
    config_path = write_config(tmp_path / "config", sources(hosts), check_links_days=0)
    first = run_sync(load_config(config_path))
    assert first.exit_code == 0
    before = dump(first.db_path)
    hosts["library"].reset_counts()

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen([sys.executable, "-m", "reposync", "sync", "--config", str(config_path),
                                "--delay", str(DELAY)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30  # a bounded gate: the library's walk is under way
        while hosts["library"].count("/HeritageScripts") < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert hosts["library"].count("/HeritageScripts") >= 3
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        elapsed = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    full_walk = records(hosts) * DELAY
    assert code == 1, process.stderr.read().decode()
    assert elapsed < full_walk / 3, f"Ctrl-C took {elapsed:.1f} s to end the night"
    assert hosts["library"].count("/HeritageScripts") < records(hosts) / 2
    assert_kept(first.db_path, before)
