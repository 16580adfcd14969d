"""The snapshot archive: atomic writes, torn manifests, damaged objects, replay as of a run, stored parses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from reposync.archive.snapshots import Archive, DamagedSnapshot, ManifestRow, ReplayTransport, atomic_write, utc_now

URL = "https://example.org/list"


def replay(archive: Archive, url: str = URL, as_of: int | None = None) -> httpx.Response:
    with httpx.Client(transport=ReplayTransport(archive, as_of)) as client:
        return client.get(url)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "snapshots")


# -- replay, and --as-of -----------------------------------------------------------------------------------------------
def test_as_of_replays_what_each_run_saw(archive: Archive) -> None:
    bundled = archive.add(URL, b"bundled", etag='"a"')  # run None: the bundled page, seen by every run
    one = archive.add(URL, b"night one", etag='"b"', run=1)
    archive.add(URL, b"night two", etag='"c"', run=2)
    # run 3 got a 304: it saw night two's body again
    archive.record(ManifestRow(URL, utc_now(), 304, "text/html", 0, '"c"', None,
                               archive.newest(URL).sha256, run=3))
    archive.add("https://example.org/other", b"other, night two", run=2)
    assert replay(archive, as_of=0).content == b"bundled"
    assert replay(archive, as_of=1).content == b"night one"
    assert replay(archive, as_of=2).content == b"night two"
    three = replay(archive, as_of=3)
    assert (three.status_code, three.content, three.headers["etag"]) == (200, b"night two", '"c"')
    assert replay(archive).content == b"night two"  # default: the newest
    assert replay(archive, "https://example.org/other", as_of=1).status_code == 404  # run 1 never saw it
    assert archive.latest(URL, as_of_run=1) == one and archive.latest(URL, as_of_run=0) == bundled


def test_replay_answers_a_missing_url_as_404_missing(archive: Archive) -> None:
    response = replay(archive, "https://example.org/never")
    assert response.status_code == 404 and response.headers["X-Reposync-Replay"] == "missing"


def test_replay_repeats_a_recorded_redirect(archive: Archive) -> None:
    archive.record(ManifestRow(URL, utc_now(), 301, None, 0, None, None, None, run=1,
                               location="https://example.org/list/"))
    archive.add("https://example.org/list/", b"moved here", run=1)
    response = replay(archive)
    assert response.status_code == 301 and response.headers["location"] == "https://example.org/list/"


def test_location_is_written_on_redirect_rows_only(archive: Archive) -> None:
    archive.add(URL, b"body")
    archive.record(ManifestRow(URL + "/old", utc_now(), 302, None, 0, None, None, None, location=URL))
    first, second = (json.loads(line) for line in archive.manifest.read_text().splitlines())
    assert "location" not in first and second["location"] == URL
    assert [row.location for row in archive.rows()] == [None, URL]


# -- atomic writes -------------------------------------------------------------------------------------------------------
def test_a_stray_temp_file_in_objects_is_never_read(archive: Archive) -> None:
    row = archive.add(URL, b"the whole page")
    (archive.objects / ".tmp-k2j3h4").write_bytes(b"the who")  # a crash mid-write
    assert archive.rows() == [row] and archive.body(row.sha256) == b"the whole page"
    assert replay(archive).content == b"the whole page"
    with pytest.raises(ValueError, match="not a content hash"):
        archive.body(".tmp-k2j3h4")


def test_a_failed_atomic_write_leaves_neither_temp_nor_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "objects" / "target", b"data")
    assert list((tmp_path / "objects").iterdir()) == []


def test_a_damaged_object_is_never_read_back(archive: Archive) -> None:
    row = archive.add(URL, b"the whole page")
    (archive.objects / row.sha256).write_bytes(b"the whole")  # truncated in place, somehow
    with pytest.raises(DamagedSnapshot, match="does not match its hash"):
        archive.body(row.sha256)
    response = replay(archive)
    assert response.status_code == 404 and response.headers["X-Reposync-Replay"] == "damaged"
    archive.store(b"the whole page")  # fetching the same bytes again repairs it
    assert archive.body(row.sha256) == b"the whole page"


def test_a_torn_last_manifest_line_is_skipped_then_cut_off(archive: Archive) -> None:
    first = archive.add(URL, b"one")
    with archive.manifest.open("a", encoding="utf-8") as handle:
        handle.write('{"url": "https://example.org/torn", "fetched_at": "2026-')  # a crash mid-append
    assert Archive(archive.root).rows() == [first]
    second = archive.add(URL + "/2", b"two")
    assert Archive(archive.root).rows() == [first, second]
    assert archive.manifest.read_text(encoding="utf-8").count("torn") == 0


def test_a_bad_line_in_the_middle_is_an_error(archive: Archive) -> None:
    archive.add(URL, b"one")
    with archive.manifest.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    archive.add(URL + "/2", b"two")
    with pytest.raises(ValueError, match="bad manifest row"):
        Archive(archive.root).rows()


def test_newest_follows_new_rows(archive: Archive) -> None:
    assert archive.newest(URL) is None
    archive.add(URL, b"one")
    second = archive.add(URL, b"two")
    assert archive.newest(URL) == second and Archive(archive.root).newest(URL) == second
    archive.forget(URL)
    assert archive.newest(URL) is None


# -- stored parses ---------------------------------------------------------------------------------------------------------
def test_a_stored_parse_is_reused_only_for_the_same_url_and_code(archive: Archive) -> None:
    sha = archive.add(URL, b"<p>page</p>").sha256
    result = {"entries": [], "next_url": None, "meta": {"year": "2014"}}
    archive.save_parse(sha, "nspcc-yearly", URL, "code1", result)
    assert archive.load_parse(sha, "nspcc-yearly", URL, "code1") == result
    assert archive.load_parse(sha, "nspcc-yearly", URL, "code2") is None  # the parser changed since
    assert archive.load_parse(sha, "nspcc-yearly", URL + "?page=2", "code1") is None  # links resolve differently
    assert archive.load_parse(sha, "york", URL, "code1") is None
    (archive.parses / f"{sha}-nspcc-yearly.json").write_text('{"url": ', encoding="utf-8")  # torn
    assert archive.load_parse(sha, "nspcc-yearly", URL, "code1") is None
    assert [p.name for p in archive.parses.iterdir()] == [f"{sha}-nspcc-yearly.json"]  # no temp files left
