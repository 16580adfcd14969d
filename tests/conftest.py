from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from collections.abc import Callable, Iterator

import pytest
import sqlite_utils
import tomli_w

from mockserver import MockServer
from reposync import settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CONFIG = ROOT / "config" / "sources.toml"
SNAPSHOTS = ROOT / "snapshots"
UA = "reposync/0.1 (+https://github.com/reposync/reposync; tests)"
# [paths] of a test's config folder: catalogue, snapshots and reports beside it, in the test's tmp_path
BESIDE_CONFIG = {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"}

# Set REPOSYNC_WRITE_EXPECTED=1 to (re)write expected JSON from the parsers'
# output; review the diff before committing. Without it a missing file fails.
WRITE_EXPECTED = os.environ.get("REPOSYNC_WRITE_EXPECTED") == "1"


def check_expected(path: Path, actual: dict) -> None:
    """Compare ``actual`` with the JSON at ``path``, keeping its authored keys."""
    if WRITE_EXPECTED:
        existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        existing.update(actual)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(f"missing expected file {path.relative_to(ROOT)} (write it with REPOSYNC_WRITE_EXPECTED=1)")
    expected = json.loads(path.read_text(encoding="utf-8"))
    for key, value in actual.items():
        assert expected.get(key) == value, f"{path.relative_to(ROOT)}: {key} differs"


def local_source(source_id: str, url: str) -> dict:
    """A [[source]]: one partnership page read by the generic parser, its area York."""
    return {"id": source_id, "kind": "local", "parser": "generic", "area": "York", "url": url}


def loopback_config(folder: Path, *sources: dict, crawl: dict | None = None, paths: dict | None = None,
                    **tables: dict) -> Path:
    """``folder``/sources.toml with ``sources`` for a sync against the loopback server, beside the bundled areas.toml.

    [crawl] waits for nothing and tries once (2 s timeout, the tests' user agent), ``crawl`` over it; [paths] is
    BESIDE_CONFIG unless ``paths`` is given; ``tables`` are any others, such as documents={...}.
    """
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFIG.parent / "areas.toml", folder / "areas.toml")
    table = {"crawl": {"delay": 0.0, "timeout": 2.0, "retries": 0, "user_agent": UA, **(crawl or {})},
             "paths": paths or BESIDE_CONFIG, **tables, "source": list(sources)}
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def age_runs(db_path: Path, days: int) -> None:
    """Move every run of the catalogue at ``db_path`` back ``days`` days: the last full walk was that long ago."""
    database = sqlite_utils.Database(db_path)
    for run in list(database.query("SELECT id, started_at FROM runs")):
        started = datetime.fromisoformat(run["started_at"]) - timedelta(days=days)
        database.execute("UPDATE runs SET started_at = ? WHERE id = ?", [started.isoformat(), run["id"]])
    database.conn.commit()
    database.close()


def copy_bundled_config(folder: Path) -> Path:
    """The bundled sources.toml and areas.toml copied into ``folder`` (made here); returns the sources.toml."""
    folder.mkdir()
    for name in ("sources.toml", "areas.toml"):
        shutil.copy(CONFIG.parent / name, folder / name)
    return folder / "sources.toml"


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A real HTTP server on 127.0.0.1 (tests/mockserver.py), one endpoint per way a site fails."""
    mock = MockServer().start()
    yield mock
    mock.stop()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries at once: a test module that retries against the loopback server marks itself with this."""
    monkeypatch.setattr(settings, "BACKOFF_INITIAL", 0.0)


def fake_time() -> tuple[list[float], Callable[[float], None], Callable[[], float]]:
    """A clock that moves only when the fetcher sleeps, and the list of its sleeps (rounded to the ms)."""
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    return slept, sleep, lambda: now[0]
