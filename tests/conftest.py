from __future__ import annotations

import json
import os
from pathlib import Path

from collections.abc import Iterator

import pytest

from mockserver import MockServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CONFIG = ROOT / "config" / "sources.toml"
SNAPSHOTS = ROOT / "snapshots"

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


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A real HTTP server on 127.0.0.1 (tests/mockserver.py), one endpoint per way a site fails."""
    mock = MockServer().start()
    yield mock
    mock.stop()
