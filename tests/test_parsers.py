"""Every parser against example pages with expected JSON beside them.

Two kinds of example:
- ``tests/fixtures/pages/<parser>/<name>.html`` with ``<name>.json`` beside it;
  the JSON names the page's ``url`` (authored), any config overrides the page
  needs (``entry_selector``, ``date_pattern``; authored) and holds the parse ``result``.
- every page of the bundled ``snapshots/``, walked per source from its start URL
  as a sync walks it, against ``tests/fixtures/snapshots/<source>/<n>.json``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from conftest import CONFIG, FIXTURES, ROOT, SNAPSHOTS, WRITE_EXPECTED, check_expected
from reposync.parsers import PARSERS, get_parser
from reposync.archive.snapshots import Archive

PAGES = FIXTURES / "pages"
OVERRIDES = ("entry_selector", "date_pattern")  # per-source config a parser may take


def _page_cases() -> list[Path]:
    return sorted(PAGES.glob("*/*.html"))


@pytest.mark.parametrize("html_path", _page_cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_page(html_path: Path) -> None:
    parser_name = html_path.parent.name
    assert parser_name in PARSERS, f"{html_path.parent} is not named after a parser"
    expected_path = html_path.with_suffix(".json")
    if not expected_path.exists():
        pytest.fail(f"missing expected file {expected_path.relative_to(ROOT)}: write it with its 'url'")
    authored = json.loads(expected_path.read_text(encoding="utf-8"))
    options = {key: authored.get(key) for key in OVERRIDES}
    result = get_parser(parser_name, **options)(html_path.read_text(encoding="utf-8"), authored["url"])
    check_expected(expected_path, {"result": result.to_dict()})


def _sources() -> list[dict]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))["source"]


@pytest.mark.parametrize("source", _sources(), ids=lambda s: s["id"])
def test_snapshot_walk(source: dict) -> None:
    archive = Archive(SNAPSHOTS)
    parse = get_parser(source["parser"], **{key: source.get(key) for key in OVERRIDES})
    url: str | None = source["url"]
    seen: set[str] = set()
    number = 0
    while url is not None:
        assert url not in seen, f"{source['id']}: the walk loops at {url}"
        seen.add(url)
        row = archive.latest(url)
        assert row is not None, f"{source['id']}: no snapshot of {url}"
        number += 1
        result = parse(archive.body(row.sha256).decode("utf-8"), url)
        expected = FIXTURES / "snapshots" / source["id"] / f"{number:03d}.json"
        check_expected(expected, {"url": url, "sha256": row.sha256, "result": result.to_dict()})
        url = result.next_url
    stale = sorted((FIXTURES / "snapshots" / source["id"]).glob("*.json"))[number:]
    if WRITE_EXPECTED:
        for path in stale:
            path.unlink()
    else:
        assert not stale, f"expected files for pages the walk no longer reaches: {stale}"
