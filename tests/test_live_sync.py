"""Live syncs through ``run_sync`` against the loopback server: failures leave the catalogue as it was.

Each test writes a config to tmp_path (config/areas.toml copied beside it) whose
sources point at the loopback server; delays are 0 and backoff is 0, so the
only real waiting is the few tenths of a second of the timeout tests.
"""

from __future__ import annotations

import re
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlite_utils
import tomli_w
from click.testing import CliRunner

from conftest import CONFIG, FIXTURES, ROOT, SNAPSHOTS
from mockserver import MockServer, Resource
from reposync import parsers, settings
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.errors import EXIT_DATA, EXIT_OK, EXIT_TEMPORARY, EXIT_USAGE
from reposync.archive.snapshots import Archive
from reposync.sync import SyncResult, run_sync

pytestmark = pytest.mark.usefixtures("no_backoff")  # retries at once

YORK_PAGE = (FIXTURES / "pages" / "generic" / "york-entries-in-li.html").read_bytes()  # synthetic, four entries
YORK_TITLES = {"Child XA, XB and XC", "Baby XD", "Child XE", "Messages from reviews"}
RETRIES = 2


@pytest.fixture
def server() -> Iterator[MockServer]:
    mock = MockServer().start()
    mock.page = Resource(YORK_PAGE)  # what the recovering endpoints serve once they stop failing
    mock.pages["/york"] = Resource(YORK_PAGE, etag='"york-1"', last_modified="Wed, 03 Jul 2024 09:14:52 GMT")
    yield mock
    mock.stop()

def write_config(tmp_path: Path, sources: list[dict], **crawl: object) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    table = {
        "crawl": {"delay": 0.0, "timeout": 0.3, "retries": RETRIES, "max_bytes": 1_000_000,
                  "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; tests)",
                  "check_links_days": 0, **crawl},  # report links: tests/test_linkcheck.py
        "documents": {"fetch": False},  # report documents: tests/test_documents_sync.py
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": sources,
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def york(server: MockServer, target: str = "/york") -> dict:
    return {"id": "york", "kind": "local", "parser": "york", "area": "York", "url": server.url(target)}


def sync(config_path: Path, **kwargs: object) -> SyncResult:
    return run_sync(load_config(config_path), **kwargs)


def entries(tmp_path: Path) -> list[dict]:
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    try:
        return list(db.query("SELECT * FROM entries ORDER BY id"))
    finally:
        db.close()


def changes(tmp_path: Path, run_id: int) -> list[dict]:
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    try:
        return list(db.query("SELECT kind, source, entry_id, field, new FROM changes WHERE run_id = ?", [run_id]))
    finally:
        db.close()


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count parser calls: a 304 must cost none."""
    calls: list[str] = []
    for name, parse in list(parsers.PARSERS.items()):
        def counted(html: str, url: str, _parse=parse, _name=name, **options):  # options: entry_selector, ...
            calls.append(_name)
            return _parse(html, url, **options)

        monkeypatch.setitem(parsers.PARSERS, name, counted)
    return calls


# -- the ordinary nights -------------------------------------------------------------------------------------------
def test_a_live_sync_then_an_unchanged_night_of_304s(tmp_path: Path, server: MockServer, parse_calls: list[str]):
    config = write_config(tmp_path, [york(server)])
    first = sync(config)
    assert first.exit_code == EXIT_OK and first.counts == {"added": 4}
    assert {e["title"] for e in entries(tmp_path)} == YORK_TITLES
    assert server.count("/robots.txt") == 1 and server.statuses("/york") == [200]
    assert parse_calls == ["york"] and first.requests == 2

    second = sync(config)
    assert second.exit_code == EXIT_OK and second.counts == {} and changes(tmp_path, second.run_id) == []
    assert server.statuses("/york") == [200, 304] and server.count("/robots.txt") == 2
    assert parse_calls == ["york"]  # the 304 reused the stored parse
    assert second.requests == first.requests and second.bytes < first.bytes
    rows = entries(tmp_path)
    assert all(r["status"] == "listed" and r["last_seen_run"] == second.run_id for r in rows)  # counted as seen
    manifest = [r for r in Archive(tmp_path / "snapshots").rows() if r.url == server.url("/york")]
    assert [(r.status, r.run) for r in manifest] == [(200, first.run_id), (304, second.run_id)]
    assert manifest[0].sha256 == manifest[1].sha256


def test_the_same_bytes_without_validators_are_not_parsed_again(tmp_path: Path, server: MockServer,
                                                              parse_calls: list[str]):
    config = write_config(tmp_path, [york(server, "/ok")])  # /ok sends no ETag or Last-Modified
    sync(config)
    second = sync(config)
    assert server.statuses("/ok") == [200, 200] and parse_calls == ["york"] and second.counts == {}


def test_a_changed_page_is_parsed_and_its_changes_applied(tmp_path: Path, server: MockServer, parse_calls: list[str]):
    config = write_config(tmp_path, [york(server)])
    sync(config)
    server.pages["/york"] = Resource(YORK_PAGE.replace(b"- Executive Summary", b"- Executive Summary and full report"), etag='"york-2"')
    second = sync(config)
    assert server.statuses("/york") == [200, 200] and parse_calls == ["york", "york"]
    assert second.exit_code == EXIT_OK and second.counts == {"changed": 1}, second.counts


def test_robots_txt_once_per_host_per_run_and_the_delay_override(tmp_path: Path, server: MockServer):
    server.pages["/york2"] = Resource(YORK_PAGE)
    other = {"id": "york-two", "kind": "local", "parser": "york", "area": "York", "url": server.url("/york2")}
    config = write_config(tmp_path, [york(server), other], delay=30.0)
    started = time.monotonic()
    result = sync(config, delay=0.0)  # --delay 0 overrides the configured 30 s
    assert time.monotonic() - started < 5
    assert result.exit_code == EXIT_OK and server.count("/robots.txt") == 1 and result.requests == 3


def test_robots_txt_crawl_delay_still_applies_over_delay_zero(tmp_path: Path, server: MockServer):
    server.robots = (200, "User-agent: *\nCrawl-delay: 0.2\n")
    server.pages["/york2"] = Resource(YORK_PAGE)
    other = {"id": "york-two", "kind": "local", "parser": "york", "area": "York", "url": server.url("/york2")}
    config = write_config(tmp_path, [york(server), other])
    started = time.monotonic()
    assert sync(config, delay=0.0).exit_code == EXIT_OK
    assert time.monotonic() - started >= 0.4  # robots.txt, 0.2 s, /york, 0.2 s, /york2


# -- failures: the source fails cleanly, its entries stay exactly as they were --------------------------------------
FAILURES = [
    # target, exit code, requests to the target, words of the recorded reason
    ("/status/500", EXIT_TEMPORARY, RETRIES + 1, "HTTP 500"),
    ("/status/503", EXIT_TEMPORARY, RETRIES + 1, "HTTP 503"),
    ("/too-many?after=0", EXIT_TEMPORARY, RETRIES + 1, "HTTP 429"),
    ("/too-many?after=3600", EXIT_TEMPORARY, 1, "over the 120 s cap"),
    ("/slow?seconds=2", EXIT_TEMPORARY, RETRIES + 1, "ReadTimeout"),
    ("/truncated", EXIT_TEMPORARY, RETRIES + 1, "RemoteProtocolError"),
    ("/trickle?every=0.05", EXIT_TEMPORARY, RETRIES + 1, "no whole answer within 0.3 s"),  # 50 s if let run
    ("/reset", EXIT_TEMPORARY, RETRIES + 1, f"gave up after {RETRIES + 1} attempts"),
    ("/huge", EXIT_DATA, 1, "cap"),
    ("/huge?chunked=1", EXIT_DATA, 1, "cap"),
    ("/loop/0", EXIT_DATA, settings.MAX_REDIRECTS + 1, "redirects"),
    # (/offsite, a redirect to another site, is read there with its departures held: tests/test_moves.py)
    ("/status/404", EXIT_DATA, 1, "HTTP 404"),
    ("/status/410", EXIT_DATA, 1, "HTTP 410"),
    ("/empty", EXIT_DATA, 1, "empty page"),
    ("/garbage", EXIT_DATA, 1, "not a page of reviews"),
    ("/private/york", EXIT_DATA, 0, "robots.txt forbids"),
]


@pytest.mark.parametrize(("target", "exit_code", "requests", "reason"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_failing_source_leaves_its_entries_as_they_were(tmp_path: Path, server: MockServer, target: str,
                                                          exit_code: int, requests: int, reason: str):
    server.robots = (200, "User-agent: *\nDisallow: /private/\n")
    assert sync(write_config(tmp_path, [york(server)])).counts == {"added": 4}
    before = entries(tmp_path)
    server.reset_counts()

    result = sync(write_config(tmp_path, [york(server, target)]))
    assert result.exit_code == exit_code
    assert entries(tmp_path) == before  # not one field moved, not even last_seen_run
    path = "/loop/" if target.startswith("/loop/") else urlsplit(target).path  # a loop walks /loop/0, /loop/1, ...
    assert server.count(path) == requests and server.count("/robots.txt") == 1
    # nothing else was asked for; but a page gone (404, 410) is looked for on its site (tests/test_moves.py)
    searched = result.outcomes[0].gone.get("requests", 0) if result.outcomes[0].gone else 0
    assert searched == (0 if "/status/4" not in target else server.count() - requests - 1)
    assert server.count() == requests + 1 + searched
    [failed] = changes(tmp_path, result.run_id)
    assert failed["kind"] == "source-failed" and failed["source"] == "york" and failed["entry_id"] is None
    assert failed["field"].startswith(server.base) and reason in failed["new"]
    [outcome] = result.outcomes
    assert outcome.error and not outcome.complete and not outcome.entries


RECOVERIES = [
    ("/status/503?fail=2", 3),
    ("/too-many?after=0&fail=1", 2),
    ("/slow?seconds=2&fail=1", 2),
    ("/truncated?fail=2", 3),
    ("/reset?fail=1", 2),
    ("/redirect", 2),
]


@pytest.mark.parametrize(("target", "requests"), RECOVERIES, ids=[r[0] for r in RECOVERIES])
def test_a_temporary_fault_is_retried_and_the_source_syncs(tmp_path: Path, server: MockServer, target: str,
                                                          requests: int):
    server.pages.pop("/york")  # /redirect leads to /ok, which serves the York page too
    result = sync(write_config(tmp_path, [york(server, target)]))
    assert result.exit_code == EXIT_OK and result.counts == {"added": 4}
    assert server.count() == requests + 1 and result.requests == requests + 1  # and robots.txt


def test_one_failing_source_does_not_stop_the_others(tmp_path: Path, server: MockServer):
    broken = {"id": "nspcc-2014", "kind": "national", "parser": "nspcc-yearly", "url": server.url("/status/500")}
    config = write_config(tmp_path, [broken, york(server)])
    result = sync(config)
    assert result.exit_code == EXIT_TEMPORARY
    assert {e["title"] for e in entries(tmp_path)} == YORK_TITLES
    failed = [c for c in changes(tmp_path, result.run_id) if c["kind"] == "source-failed"]
    assert failed == [{"kind": "source-failed", "source": "nspcc-2014", "entry_id": None,
                       "field": server.url("/status/500"), "new": failed[0]["new"]}]
    assert "HTTP 500" in failed[0]["new"] and server.count("/status/500") == RETRIES + 1
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    assert db["runs"].get(result.run_id)["status"] == "partial"


def test_the_exit_code_is_the_highest_that_applies(tmp_path: Path, server: MockServer):
    needs_person = {"id": "nspcc-2014", "kind": "national", "parser": "nspcc-yearly", "url": server.url("/status/404")}
    temporary = {"id": "nspcc-2015", "kind": "national", "parser": "nspcc-yearly", "url": server.url("/status/503")}
    assert sync(write_config(tmp_path, [needs_person, york(server)])).exit_code == EXIT_DATA
    assert sync(write_config(tmp_path, [needs_person, temporary, york(server)])).exit_code == EXIT_TEMPORARY


def test_robots_txt_5xx_fails_every_source_on_the_host_as_temporary(tmp_path: Path, server: MockServer):
    server.robots = (503, "busy")
    server.pages["/york2"] = Resource(YORK_PAGE)
    other = {"id": "york-two", "kind": "local", "parser": "york", "area": "York", "url": server.url("/york2")}
    result = sync(write_config(tmp_path, [york(server), other]))
    assert result.exit_code == EXIT_TEMPORARY and entries(tmp_path) == []
    assert server.count("/robots.txt") == RETRIES + 1 and server.count() == RETRIES + 1  # asked once for the run
    assert all("robots.txt" in o.error for o in result.outcomes)


def test_the_cli_exits_75_for_a_temporary_failure(tmp_path: Path, server: MockServer):
    broken = {"id": "nspcc-2014", "kind": "national", "parser": "nspcc-yearly", "url": server.url("/status/503")}
    config = write_config(tmp_path, [broken, york(server)])
    result = CliRunner().invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == EXIT_TEMPORARY, result.output
    assert server.count("/status/503") == RETRIES + 1


# -- --as-of replays what a run saw ----------------------------------------------------------------------------------
def test_offline_as_of_replays_what_each_live_run_saw(tmp_path: Path, server: MockServer):
    config = write_config(tmp_path, [york(server)])
    sync(config)
    server.pages["/york"] = Resource(re.sub(rb"<li>[^\n]*Messages from reviews.*?</li>", b"", YORK_PAGE), etag='"2"')
    second = sync(config)
    assert second.counts == {"expired": 1}
    sync(config)  # run 3: a 304
    served = server.count()

    def titles(as_of: int | None) -> set[str]:
        db = tmp_path / f"as-of-{as_of}.db"
        result = run_sync(load_config(config), offline=True, as_of=as_of, db_path=db)
        assert result.exit_code == EXIT_OK
        return {r["title"] for r in sqlite_utils.Database(db).query("SELECT title FROM entries")}

    assert titles(1) == YORK_TITLES
    assert titles(2) == titles(3) == titles(None) == YORK_TITLES - {"Messages from reviews"}
    assert server.count() == served  # offline asked the server nothing
    # A run that has not happened is an error, not the newest pages under its name; nothing is written.
    def files() -> dict[str, int]:  # (SQLite's -shm and -wal come and go with the connections above)
        return {p.name: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if not p.name.endswith(("-shm", "-wal"))}

    before = files()
    result = CliRunner().invoke(cli, ["sync", "--config", str(config), "--offline", "--as-of", "4"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--as-of 4: there is no such run (the newest run is 3)" in result.output
    assert files() == before


# -- the end-to-end mirror of the bundled snapshots -------------------------------------------------------------------
def test_a_loopback_mirror_of_the_snapshots_syncs_then_gets_only_304s(tmp_path: Path, server: MockServer,
                                                                      parse_calls: list[str]):
    bundled = Archive(SNAPSHOTS)
    newest = {row.url: row for row in bundled.rows() if row.sha256 is not None}
    if not newest:
        pytest.skip("snapshots/manifest.jsonl holds no pages yet")
    # The mirror is a static server: each page at its real path and query, with the recorded
    # validators, and an ETag made from its hash where none was recorded (as static servers do).
    server.pages.clear()
    for url, row in newest.items():
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        assert target not in server.pages, f"two mirrored URLs share the target {target}"
        server.pages[target] = Resource(bundled.body(row.sha256), row.content_type or "text/html",
                                        row.etag or f'"{row.sha256[:16]}"', row.last_modified)

    # Which sources can be mirrored: a start page in the snapshots, and an offline sync of the
    # bundled snapshots that succeeds (else the pages themselves are unfinished, not the crawler).
    real = load_config(CONFIG)
    offline = run_sync(real, offline=True, dry_run=True, db_path=tmp_path / "offline" / "catalogue.db")
    usable, skipped = [], []
    for source, outcome in zip(real.sources, offline.outcomes, strict=True):
        if source.url not in newest:
            skipped.append(f"{source.id}: no snapshot of its start URL")
        elif outcome.error:
            skipped.append(f"{source.id}: its bundled pages do not sync offline either ({outcome.error})")
        else:
            usable.append(source.id)
    for message in skipped:
        warnings.warn(f"mirror test skips source {message}", stacklevel=1)
    if not usable:
        pytest.skip("no source has a complete snapshot yet: " + "; ".join(skipped))

    # The config, with only its url lines pointed at the mirror.
    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("areas.toml", "decisions.toml"):
        if (CONFIG.parent / name).exists():
            shutil.copy(CONFIG.parent / name, folder / name)
    text = re.sub(r'(?m)^(url\s*=\s*")https?://[^/"]+', lambda m: m.group(1) + server.base,
                  CONFIG.read_text(encoding="utf-8"))
    # The report links stay on the real hosts: none is asked about here (tests/test_linkcheck.py asks the mirror).
    text = re.sub(r"(?m)^check_links_days\s*=.*$", "check_links_days = 0", text)
    text = re.sub(r"(?m)^fetch\s*=.*$", "fetch = false", text)  # the documents too (tests/test_documents_sync.py)
    changed = [a for a, b in zip(CONFIG.read_text(encoding="utf-8").splitlines(), text.splitlines()) if a != b]
    assert changed and all(line.startswith(("url", "check_links_days", "fetch")) for line in changed)
    (folder / "sources.toml").write_text(text, encoding="utf-8")
    config = load_config(folder / "sources.toml")
    assert config.paths.snapshots == tmp_path / "snapshots" and config.paths.db == tmp_path / "catalogue.db"

    started = time.perf_counter()
    first = run_sync(config, source_ids=tuple(usable), delay=0.0)
    first_time = time.perf_counter() - started
    assert first.exit_code == EXIT_OK, [o.error for o in first.outcomes if o.error]
    expected = {o.source: len(o.entries) for o in offline.outcomes if o.source in usable}
    assert {o.source: len(o.entries) for o in first.outcomes} == expected
    ids = {e["id"] for e in entries(tmp_path)}
    assert len(ids) == len({e["id"] for o in offline.outcomes if o.source in usable for e in o.entries})
    assert first.requests == server.count() and set(server.statuses()) <= {200, 404}  # 404: robots.txt
    parsed_first = len(parse_calls)
    first_bytes, first_requests = first.bytes, first.requests

    server.reset_counts()
    started = time.perf_counter()
    second = run_sync(config, source_ids=tuple(usable), delay=0.0)
    second_time = time.perf_counter() - started
    assert second.exit_code == EXIT_OK
    assert second.counts == {} and changes(tmp_path, second.run_id) == []  # nothing changed
    assert second.requests == first_requests == server.count()
    pages = [s for entry, s in zip(server.log, server.statuses()) if entry.target != "/robots.txt"]
    assert pages and set(pages) == {304}  # only 304s
    assert len(parse_calls) == parsed_first  # and no page parsed again
    assert second.bytes * 20 < first_bytes
    assert {e["id"] for e in entries(tmp_path)} == ids
    assert all(e["last_seen_run"] == second.run_id for e in entries(tmp_path))

    print(f"\nloopback mirror of snapshots/ ({len(usable)} sources: {', '.join(usable)}; "
          f"{len(newest)} pages served; skipped: {skipped or 'none'})")
    print(f"  first sync:  {first_requests} requests, {first_bytes} bytes, {first_time * 1000:.0f} ms")
    print(f"  second sync: {second.requests} requests, {second.bytes} bytes, {second_time * 1000:.0f} ms "
          f"({second_time / first_time:.0%} of the first's wall time)")
