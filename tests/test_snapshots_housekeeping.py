"""`reposync snapshots prune` keeps every page a kept run's --as-of replay reads, and only those;
`reposync snapshots verify` rehashes every object."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conftest import CONFIG, FIXTURES, SNAPSHOTS, copy_bundled_config, local_source, loopback_config
from mockserver import MockServer, Resource
from reposync.archive import housekeeping
from reposync.catalogue import open_db
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.archive.snapshots import Archive, ManifestRow, ReplayTransport, archive_lock, utc_now
from reposync.sync import run_sync, sync_lock

NOW = datetime.now(timezone.utc)
BUNDLED = "https://example.org/bundled"  # synthetic URLs throughout
PAGE_A = "https://example.org/a"
PAGE_B = "https://example.org/b"
PAGE_C = "https://example.org/c"
MOVED = "https://example.org/old"
LIST_PAGE = (FIXTURES / "pages" / "generic" / "york-entries-in-li.html").read_bytes()


def day(n: int) -> str:
    """n days ago, ISO UTC."""
    return (NOW - timedelta(days=n)).isoformat(timespec="seconds")


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """A config (the bundled one, copied) whose archive has four runs over ten days, and a catalogue of them."""
    config = copy_bundled_config(tmp_path / "config")
    archive = Archive(tmp_path / "snapshots")
    archive.add(BUNDLED, b"bundled page", fetched_at=day(30), note="synthetic bundled page")
    # run 1, 10 days ago: a, b, c; the old URL redirects to b
    archive.add(PAGE_A, b"a version 1", fetched_at=day(10), run=1, etag='"a1"')
    archive.add(PAGE_B, b"b version 1", fetched_at=day(10), run=1)
    archive.add(PAGE_C, b"c version 1", fetched_at=day(10), run=1)
    archive.record(ManifestRow(MOVED, day(10), 301, None, 0, None, None, None, 1, location=PAGE_B))
    # run 2, 6 days ago: b and c change
    archive.add(PAGE_B, b"b version 2", fetched_at=day(6), run=2)
    archive.add(PAGE_C, b"c version 2", fetched_at=day(6), run=2)
    # run 3, 2 days ago: a unchanged (a 304 standing for version 1), b changes again
    a1 = archive.newest(PAGE_A)
    archive.record(ManifestRow(PAGE_A, day(2), 304, a1.content_type, 0, '"a1"', None, a1.sha256, 3))
    archive.add(PAGE_B, b"b version 3", fetched_at=day(2), run=3)
    # run 4 is offline (fetches nothing); run 5, today: c changes
    archive.add(PAGE_C, b"c version 5", fetched_at=day(0), run=5)
    db = open_db(tmp_path / "catalogue.db")
    for run, (ago, mode) in enumerate([(10, "live"), (6, "live"), (2, "live"), (1, "offline"), (0, "live")], 1):
        db.execute("INSERT INTO runs (id, started_at, finished_at, mode, status, exit_code) "
                   "VALUES (?, ?, ?, ?, 'ok', 0)", [run, day(ago), day(ago), mode])
    db.close()
    text = config.read_text(encoding="utf-8")
    return config if "../snapshots" in text else pytest.fail("bundled config moved its paths")


def replay(root: Path, as_of: int | None) -> dict[str, tuple[int, bytes, str | None]]:
    """What ``sync --offline --as-of`` would get for each URL."""
    client = httpx.Client(transport=ReplayTransport(Archive(root), as_of))
    try:
        answers = {}
        for url in (BUNDLED, PAGE_A, PAGE_B, PAGE_C, MOVED):
            response = client.get(url)
            answers[url] = (response.status_code, response.content, response.headers.get("Location"))
        return answers
    finally:
        client.close()


def prune(config: Path, *args: str):
    return CliRunner().invoke(cli, ["snapshots", "prune", "--config", str(config), *args])


def test_prune_keeps_what_every_kept_run_replays(place: Path) -> None:
    root = place.parent.parent / "snapshots"
    before = {run: replay(root, run) for run in (1, 2, 3, 4, 5, None)}
    objects_before = len(list((root / "objects").iterdir()))

    dry = prune(place, "--keep-days", "3", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and len(list((root / "objects").iterdir())) == objects_before

    result = prune(place, "--keep-days", "3")  # runs 3 (2 days ago), 4 and 5 are kept
    assert result.exit_code == 0, result.output
    assert "kept every run from 3 on" in result.output
    for run in (3, 4, 5, None):
        assert replay(root, run) == before[run], run
    # b and c version 1 were read by run 1 only: gone. c version 2 is what runs 3 and 4 read of c; b version 2,
    # b's last page before run 3, stays too (the rule keeps each URL's last page before the first kept run).
    archive = Archive(root)
    bodies = {archive.body(row.sha256) for row in archive.rows() if row.sha256}
    assert bodies == {b"bundled page", b"a version 1", b"b version 2", b"b version 3", b"c version 2",
                      b"c version 5"}
    assert len(list((root / "objects").iterdir())) == len(bodies)
    assert "removed 2 of 10 manifest rows" in result.output
    # Nothing is left that verify would call missing.
    verified = CliRunner().invoke(cli, ["snapshots", "verify", "--config", str(place)])
    assert verified.exit_code == 0 and "all match" in verified.output


def test_prune_keeps_the_newest_run_however_old(place: Path) -> None:
    root = place.parent.parent / "snapshots"
    newest = replay(root, None)
    db = open_db(place.parent.parent / "catalogue.db")
    db.execute("UPDATE runs SET started_at = '2020-01-01T00:00:00+00:00'")
    db.close()
    result = prune(place, "--keep-days", "1")
    assert result.exit_code == 0 and "kept every run from 5 on" in result.output
    assert replay(root, None) == newest == replay(root, 5)


def test_prune_waits_for_a_running_sync(place: Path) -> None:
    with sync_lock((place.parent.parent / "catalogue.db").resolve()):
        result = prune(place, "--keep-days", "0")
    assert result.exit_code == 75
    assert len(Archive(place.parent.parent / "snapshots").rows()) == 10


def test_prune_removes_nothing_from_a_manifest_that_does_not_read(place: Path) -> None:
    root = place.parent.parent / "snapshots"
    with (root / "manifest.jsonl").open("a") as handle:
        handle.write("{not json\n" + Archive(root).rows()[0].to_json() + "\n")
    count = len(list((root / "objects").iterdir()))
    result = prune(place, "--keep-days", "0")
    assert result.exit_code != 0 and "nothing pruned" in result.output
    assert len(list((root / "objects").iterdir())) == count


def test_verify_finds_missing_damaged_and_unnamed_objects(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    shutil.copytree(SNAPSHOTS, root)
    ok = CliRunner().invoke(cli, ["snapshots", "verify", "--config", str(CONFIG), "--snapshots", str(root)])
    assert ok.exit_code == 0 and "all match" in ok.output, ok.output
    objects = sorted((root / "objects").iterdir())
    objects[0].unlink()
    objects[1].write_bytes(b"rot")
    Archive(root).store(b"a body no row names")
    result = CliRunner().invoke(cli, ["snapshots", "verify", "--config", str(CONFIG), "--snapshots", str(root)])
    assert result.exit_code == 65
    assert f"missing: objects/{objects[0].name}" in result.output
    assert f"damaged: objects/{objects[1].name}" in result.output
    assert "1 missing, 1 damaged; 1 no row names" in result.output


def test_the_bundled_archive_verifies() -> None:
    verified = housekeeping.verify(Archive(SNAPSHOTS))
    assert verified.ok and verified.objects > 0 and not verified.unnamed
    assert utc_now()


def test_a_mistyped_archive_is_a_usage_error_not_an_archive_that_matches(place: Path, tmp_path: Path) -> None:
    nowhere = tmp_path / "snapshotz"
    for args in (["verify"], ["prune", "--keep-days", "3"]):
        result = CliRunner().invoke(cli, ["snapshots", *args, "--config", str(place), "--snapshots", str(nowhere)])
        assert result.exit_code == 2, result.output
        assert f"no snapshot archive at {nowhere}" in result.output and "all match" not in result.output


def test_prune_keeping_every_run_does_not_warn_of_earlier_ones(place: Path) -> None:
    result = prune(place, "--keep-days", "30", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "kept every run (from 1 on)" in result.output and "may no longer replay" not in result.output


def _sharing(place: Path, server: MockServer) -> Path:
    """A second catalogue's config whose live sync archives into the same snapshot archive as ``place``'s."""
    paths = {"db": "catalogue.db", "snapshots": str(place.parent.parent / "snapshots"), "reports": "reports"}
    return loopback_config(place.parent.parent / "other", local_source("york", server.url("/york")),
                           crawl={"timeout": 5.0}, paths=paths)


def test_prune_waits_for_a_sync_of_another_catalogue_that_shares_the_archive(place: Path, server: MockServer) -> None:
    other = _sharing(place, server)
    walking, release = threading.Event(), threading.Event()

    def gate() -> None:  # the other sync is mid-walk, appending to the shared archive
        walking.set()
        release.wait(10)

    server.pages["/york"] = Resource(LIST_PAGE, before=gate)
    results: list = []
    thread = threading.Thread(target=lambda: results.append(run_sync(load_config(other))))
    thread.start()
    try:
        assert walking.wait(10)
        root = place.parent.parent / "snapshots"
        objects = sorted(p.name for p in (root / "objects").iterdir())
        result = prune(place, "--keep-days", "0")
        assert result.exit_code == 75, result.output
        assert "archive.lock is held" in result.output
        assert sorted(p.name for p in (root / "objects").iterdir()) == objects  # nothing removed under it
    finally:
        release.set()
        thread.join(20)
    assert results and results[0].exit_code == 0
    assert prune(place, "--keep-days", "0").exit_code == 0  # once the sync is done


def test_a_sync_waits_for_prune_of_the_archive_it_shares(place: Path, server: MockServer) -> None:
    other = _sharing(place, server)
    server.pages["/york"] = Resource(LIST_PAGE)
    with archive_lock(place.parent.parent / "snapshots", exclusive=True):  # as `snapshots prune` holds it
        result = CliRunner().invoke(cli, ["sync", "--config", str(other)])
    assert result.exit_code == 75, result.output
    assert "archive.lock is held" in result.output and server.count() == 0
