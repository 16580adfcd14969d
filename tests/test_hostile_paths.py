"""Nothing is written outside the configured paths, and no name from a page or a manifest becomes a path.

- snapshot objects are named by the hash of their bytes, never by URL; parse
  files by hash and parser name; reports by run number;
- a manifest row whose sha256 is not a hash, or that carries a path-like key,
  is refused with a clear error (the source fails, exit 65); a redirect row's
  ``location`` is a URL the fetcher site-checks, never a file;
- config paths are the user's choice, but one that cannot be what it names (a
  snapshots "folder" that is a file, a catalogue "file" that is a folder) is a
  config error naming the key (exit 2), found before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from conftest import ROOT
from mockserver import MockServer, Resource
from reposync import parsers
from reposync.reports import night as report
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.errors import EXIT_DATA, EXIT_OK, EXIT_USAGE, ConfigError
from reposync.archive.snapshots import Archive, ManifestRow
from reposync.sync import run_sync

GENERIC = "generic" if "generic" in parsers.PARSERS else "york"
HEX64 = re.compile(r"[0-9a-f]{64}")
PAGE = (b"<html><head><title>Safeguarding practice reviews</title></head><body><main><ul>"
        b"<li><a href='/r/child-a.pdf'>Child A</a> (published 10/10/13)</li></ul></main></body></html>")
ODD_URLS = [
    "https://www.example.org/../../../../etc/passwd",
    "https://www.example.org/reviews/..%2F..%2F..%2Fetc%2Fpasswd%00.html",
    "https://www.example.org/a b/<c>|d?e=*\"f\":g#h",
    "file:///etc/passwd",
    "../../outside",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "https://www.example.org/" + "a" * 5000,
    "https://www.example.org/\u202egnp.exe",
    "",
]


# Every file a sync may write, relative to a tmp_path laid out as offline_config lays it out.
WRITTEN = re.compile(r"catalogue\.db(-wal|-shm|-journal|\.lock)?|config/decisions\.toml(\.lock)?"
                     r"|reports/\d+\.(md|json|html)|snapshots/manifest\.jsonl|snapshots/archive\.lock"
                     r"|snapshots/objects/[0-9a-f]{64}"
                     r"|snapshots/parses/[0-9a-f]{64}-[a-z0-9_-]+\.json")


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


# --- snapshot and parse files are named by hashes ---------------------------------------------------------------------

@pytest.mark.parametrize("url", ODD_URLS, ids=range(len(ODD_URLS)))
def test_a_snapshot_is_named_by_its_hash_whatever_its_url(tmp_path: Path, url: str) -> None:
    archive = Archive(tmp_path / "snapshots")
    body = PAGE + url.encode("utf-8", "surrogatepass")
    row = archive.add(url, body)
    digest = hashlib.sha256(body).hexdigest()
    assert row.sha256 == digest and row.url == url
    assert files_under(tmp_path) == {"snapshots/manifest.jsonl", f"snapshots/objects/{digest}"}
    archive.save_parse(digest, GENERIC, url, "code", {"entries": [], "next_url": None, "meta": {}})
    assert files_under(tmp_path) == {"snapshots/manifest.jsonl", f"snapshots/objects/{digest}",
                                     f"snapshots/parses/{digest}-{GENERIC}.json"}
    assert archive.load_parse(digest, GENERIC, url, "code") == {"entries": [], "next_url": None, "meta": {}}
    assert [r.url for r in archive.rows()] == [url]  # the URL is kept as text, in the manifest


@pytest.mark.parametrize("sha256, parser", [
    ("../../../../tmp/evil", GENERIC), ("a" * 64 + "/../../evil", GENERIC), ("a" * 64 + "\n", GENERIC),
    ("A" * 64, GENERIC), ("a" * 63, GENERIC), ("a" * 64, "../../evil"), ("a" * 64, "generic/../../x"),
    ("a" * 64, "Generic"), ("a" * 64, ""),
])
def test_a_parse_file_name_that_is_not_a_hash_and_a_parser_name_is_refused(tmp_path: Path, sha256: str,
                                                                          parser: str) -> None:
    archive = Archive(tmp_path / "snapshots")
    with pytest.raises(ValueError, match="bad parse key"):
        archive.save_parse(sha256, parser, "https://e.org/", "code", {})
    assert archive.load_parse(sha256, parser, "https://e.org/", "code") is None
    assert not (tmp_path / "snapshots").exists() and files_under(tmp_path) == set()


@pytest.mark.parametrize("sha256", ["../../../etc/passwd", "/etc/passwd", "a" * 64 + "\n", "a" * 64 + "/x", "",
                                    "A" * 64, "a" * 65])
def test_reading_an_object_by_anything_but_a_hash_is_refused(tmp_path: Path, sha256: str) -> None:
    with pytest.raises(ValueError, match="not a content hash"):
        Archive(tmp_path).body(sha256)


# --- a hostile manifest ---------------------------------------------------------------------------------------------------

def offline_config(tmp_path: Path, url: str = "https://a.example.org/reviews") -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    table = {
        "crawl": {"user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; tests)"},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": [{"id": "a", "kind": "local", "parser": GENERIC, "area": "York", "url": url}],
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def row(url: str = "https://a.example.org/reviews", **changes: object) -> str:
    data = {"url": url, "fetched_at": "2026-11-20T02:00:00+00:00", "status": 200, "content_type": "text/html",
            "bytes": 10, "etag": None, "last_modified": None, "sha256": "0" * 64, "run": None, "note": None}
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize("bad, problem", [
    (row(sha256="../../../../etc/passwd"), "sha256 is not a hash"),
    (row(sha256="/etc/passwd"), "sha256 is not a hash"),
    (row(sha256="0" * 64 + "\n"), "sha256 is not a hash"),
    (row(sha256="0" * 64 + "/../../../etc/passwd"), "sha256 is not a hash"),
    (row(path="../../../etc/passwd"), "bad manifest row"),
    (row(object="/etc/passwd"), "bad manifest row"),
], ids=["traversal", "absolute", "newline", "hash-then-traversal", "path-key", "object-key"])
def test_a_manifest_row_naming_a_path_is_refused_with_a_clear_error(tmp_path: Path, bad: str, problem: str) -> None:
    snapshots = tmp_path / "snapshots"
    Archive(snapshots).add("https://a.example.org/other", PAGE)
    with (snapshots / "manifest.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(bad + "\n")
        handle.write(row(url="https://a.example.org/later", sha256=None, status=301,
                         location="https://a.example.org/reviews") + "\n")
    with pytest.raises(ValueError, match=problem) as caught:
        Archive(snapshots).rows()
    assert ":2:" in str(caught.value)  # names the file and the line
    config = offline_config(tmp_path)
    before = files_under(tmp_path)

    result = CliRunner().invoke(cli, ["sync", "--config", str(config), "--offline"])
    assert result.exit_code == EXIT_DATA, result.output
    assert problem in result.output and "manifest.jsonl:2" in result.output
    written = files_under(tmp_path) - before
    assert all(WRITTEN.fullmatch(name) for name in written), sorted(written)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "../../../../etc/passwd", "/etc/passwd",
                                      "https://evil.example/reviews"])
def test_a_redirect_row_location_is_a_url_to_site_check_never_a_file(tmp_path: Path, location: str) -> None:
    archive = Archive(tmp_path / "snapshots")
    archive.record(ManifestRow("https://a.example.org/reviews", "2026-11-20T02:00:00+00:00", 302, None, 0, None,
                               None, None, None, location=location))
    result = run_sync(load_config(offline_config(tmp_path)), offline=True)
    [outcome] = result.outcomes
    assert result.exit_code == EXIT_DATA and outcome.entries == []
    assert "off the source's site" in outcome.error or "no usable snapshot" in outcome.error, outcome.error
    assert "root:" not in json.dumps(result.report)  # /etc/passwd was never read


# --- a live sync writes where it was told, and only there -----------------------------------------------------------------

def test_a_live_sync_of_an_odd_url_writes_only_under_its_paths(tmp_path: Path, server: MockServer) -> None:
    target = "/reviews/..%2F..%2F..%2Fetc%2Fpasswd%00/a%20b%3C%3E%7C?x=..%2F..%2F&y=%2Fetc%2Fpasswd"
    server.pages[target] = Resource(PAGE, etag='"v1"')
    config = offline_config(tmp_path, server.url(target))
    before = files_under(tmp_path)
    result = CliRunner().invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output
    assert server.count(target) == 1
    written = files_under(tmp_path) - before
    assert written and all(WRITTEN.fullmatch(name) for name in written), sorted(written)
    objects = [name for name in written if name.startswith("snapshots/objects/")]
    assert all(HEX64.fullmatch(name.rsplit("/", 1)[1]) for name in objects)
    assert {r.url for r in Archive(tmp_path / "snapshots").rows()} >= {server.url(target)}


# --- reports are named by run number only -------------------------------------------------------------------------------

def a_report(run: object) -> dict:
    return {"run": run, "started_at": "2026-11-20T02:00:00+00:00", "finished_at": "2026-11-20T02:01:00+00:00",
            "mode": "live", "status": "done", "exit_code": 0, "counts": {}, "sources": {}, "sections": {}}


def test_reports_are_written_in_their_folder_named_by_run(tmp_path: Path) -> None:
    paths = report.write_reports(a_report(7), tmp_path / "reports")
    assert files_under(tmp_path) == {"reports/7.md", "reports/7.json", "reports/7.html"}
    assert all(p.parent == tmp_path / "reports" for p in paths)


@pytest.mark.parametrize("run", ["../../evil", "/tmp/evil", "7/../../x", None, 1.5, True])
def test_a_report_whose_run_is_not_a_number_is_not_written(tmp_path: Path, run: object) -> None:
    with pytest.raises(ValueError, match="not a run number"):
        report.write_reports(a_report(run), tmp_path / "reports")
    assert files_under(tmp_path) == set()


# --- config paths that cannot be what they name ---------------------------------------------------------------------------

def config_with_paths(tmp_path: Path, **paths: str) -> Path:
    path = offline_config(tmp_path)
    table = {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports", **paths}
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\[paths\]\n(?:.+\n)+?\n", "[paths]\n" + tomli_w.dumps(table) + "\n", text)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("key, value, make, problem", [
    ("snapshots", "../snap-file", "file", "is a file, not a folder"),
    ("reports", "../reports-file", "file", "is a file, not a folder"),
    ("db", "../db-folder", "folder", "is a folder, not a file"),
    ("areas", "areas-folder", "folder", "is a folder, not a file"),
    ("decisions", "decisions-folder", "folder", "is a folder, not a file"),
    ("db", "../a-file/catalogue.db", "file:a-file", "cannot be made"),
    ("snapshots", "../a-file/deeper/snapshots", "file:a-file", "cannot be made"),
], ids=["snapshots-is-a-file", "reports-is-a-file", "db-is-a-folder", "areas-is-a-folder",
        "decisions-is-a-folder", "db-under-a-file", "snapshots-under-a-file"])
def test_a_config_path_that_cannot_be_what_it_names_is_a_config_error(tmp_path: Path, key: str, value: str,
                                                                     make: str, problem: str) -> None:
    path = config_with_paths(tmp_path, **{key: value})
    if make == "file":
        (path.parent / value).write_text("not a folder")
    elif make == "folder":
        (path.parent / value).mkdir()
    else:  # "file:NAME": a file where a folder on the way should be
        (tmp_path / make.split(":", 1)[1]).write_text("a file")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == f"paths.{key}" and problem in caught.value.problem
    before = files_under(tmp_path)
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline"])
    assert result.exit_code == EXIT_USAGE
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and f"paths.{key}" in lines[0]
    assert files_under(tmp_path) == before  # nothing written


@pytest.mark.parametrize("option, make", [("--db", "folder"), ("--snapshots", "file"), ("--reports", "file")])
def test_a_command_line_path_that_cannot_be_what_it_names_is_a_usage_error(tmp_path: Path, option: str,
                                                                           make: str) -> None:
    path = offline_config(tmp_path)
    place = tmp_path / "odd"
    place.mkdir() if make == "folder" else place.write_text("x")
    before = files_under(tmp_path)
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline", option, str(place)])
    assert result.exit_code == EXIT_USAGE
    assert option in result.output.strip().splitlines()[-1]  # click's "Error: Invalid value for '--db': ..."
    assert files_under(tmp_path) == before
