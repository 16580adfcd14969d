"""`reposync sources add|list|check` against the real loopback server: preview, write only with --write, keep
the config's comments, and the next sync reads the new source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from conftest import FIXTURES, ROOT, UA
from mockserver import MockServer, Resource
from reposync.cli.main import cli
from reposync.config import load_config

PAGE = (FIXTURES / "pages" / "generic" / "york-entries-in-li.html").read_bytes()  # synthetic, four entries
TITLES = ("Child XA, XB and XC", "Baby XD", "Child XE", "Messages from reviews")
NO_ENTRIES = (b"<html><head><title>Safeguarding practice reviews</title></head><body>"
              b"<h1>Safeguarding practice reviews</h1><p>There are no reviews to publish at present.</p></body></html>")
NOT_REVIEWS = b"<html><head><title>Bus timetable</title></head><body><h1>Timetable</h1><p>Route 4</p></body></html>"


def config_text(server: MockServer) -> str:
    """A config as a person writes one: comments above and beside keys, blank lines, a source already in it."""
    return f"""# reposync sources for the tests: comments and layout must survive `sources add --write`.

[crawl]
delay = 0.0     # no pause: a loopback server
timeout = 2.0
retries = 0
user_agent = "{UA}"

[paths]
db = "../catalogue.db"          # beside the config's folder
snapshots = "../snapshots"
reports = "../reports"

# --- the partnerships -----------------------------------------------------------
[[source]]
id = "york"
kind = "local"
parser = "generic"
area = "York"
url = "{server.url('/york')}"   # an old favourite
"""


@pytest.fixture
def config(tmp_path: Path, server: MockServer) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    path = folder / "sources.toml"
    path.write_text(config_text(server), encoding="utf-8")
    server.pages["/york"] = Resource(PAGE)
    server.pages["/leeds/reviews"] = Resource(PAGE)
    server.pages["/empty-list"] = Resource(NO_ENTRIES)
    server.pages["/timetable"] = Resource(NOT_REVIEWS)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_add_previews_and_writes_nothing_without_write(config: Path, server: MockServer):
    before = config.read_bytes()
    result = run("sources", "add", server.url("/leeds/reviews"), "--area", "Leeds", "--config", str(config))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4 entries" in out
    for title in TITLES:
        assert title in out
    assert "published 31/01/11" in out and "2011-01-31 (day)" in out and "2014 (year)" in out  # as written, as read
    assert "(no link)" in out  # Child XE has none
    assert f"{server.url('/docs/Baby%20XD%20summary.pdf')}" in out
    assert "Skipped (" in out and "no publication date" in out  # the repository link, and why it was not taken
    assert '[[source]]\nid = "leeds"\nkind = "local"\nparser = "generic"\narea = "Leeds"' in out
    assert "Nothing written" in out
    assert config.read_bytes() == before
    # Fetched once, politely: robots.txt first, then the page, with the configured user agent.
    assert server.count("/robots.txt") == 1 and server.count("/leeds/reviews") == 1
    assert server.log[-1].headers["user-agent"] == UA
    assert not (config.parent.parent / "catalogue.db").exists() and not (config.parent.parent / "snapshots").exists()


def test_add_with_write_keeps_comments_and_the_next_sync_reads_the_new_source(config: Path, server: MockServer):
    before = config.read_text(encoding="utf-8")
    result = run("sources", "add", server.url("/leeds/reviews"), "--area", "leeds", "--id", "leeds-scp",
                 "--config", str(config), "--write")
    assert result.exit_code == 0, result.output
    after = config.read_text(encoding="utf-8")
    assert after.startswith(before)  # every byte of the file as it was, comments and layout included
    added = after[len(before):]
    assert added.startswith("\n# Leeds: added by `reposync sources add` on ") and "(4 entries)" in added
    assert f'url = "{server.url("/leeds/reviews")}"' in added
    loaded = load_config(config)
    assert [s.id for s in loaded.sources] == ["york", "leeds-scp"]
    assert loaded.sources[1].area.name == "Leeds" and loaded.sources[1].parser == "generic"

    synced = run("sync", "--config", str(config), "--quiet")
    assert synced.exit_code == 0, synced.output
    db = sqlite_utils.Database(config.parent.parent / "catalogue.db")
    rows = list(db.query("SELECT title, area FROM entries WHERE source = 'leeds-scp' ORDER BY title"))
    assert sorted(r["title"] for r in rows) == sorted(TITLES) and {r["area"] for r in rows} == {"Leeds"}


def test_a_second_add_of_the_same_page_or_id_is_refused(config: Path, server: MockServer):
    before = config.read_bytes()
    same_url = run("sources", "add", server.url("/york"), "--area", "Leeds", "--config", str(config), "--write")
    assert same_url.exit_code == 2 and "already configured, as source 'york'" in same_url.output
    same_id = run("sources", "add", server.url("/leeds/reviews"), "--area", "York", "--config", str(config),
                  "--write")
    assert same_id.exit_code == 2 and "'york' is already a source" in same_id.output
    assert config.read_bytes() == before and server.count() == 0  # refused before anything was fetched


@pytest.mark.parametrize(("target", "area", "code", "words"), [
    ("/leeds/reviews", "Atlantis", 2, "unknown area 'Atlantis'"),
    ("ftp://example.org/reviews", "Leeds", 2, "must be an http(s) URL"),
    ("/empty-list", "Leeds", 65, "no entries found on the page"),
    ("/timetable", "Leeds", 65, "not a page of reviews"),
    ("/status/404", "Leeds", 65, "HTTP 404"),
    ("/private/reviews", "Leeds", 65, "robots.txt forbids"),
    ("/huge", "Leeds", 65, "cap"),
    ("/status/503", "Leeds", 75, "HTTP 503"),
])
def test_add_fails_in_one_line_and_writes_nothing(config: Path, server: MockServer, target: str, area: str,
                                                  code: int, words: str):
    server.robots = (200, "User-agent: *\nDisallow: /private/\n")
    before = config.read_bytes()
    url = server.url(target) if target.startswith("/") else target
    result = run("sources", "add", url, "--area", area, "--config", str(config), "--write")
    assert result.exit_code == code, result.output
    message = [line for line in result.output.splitlines() if line.startswith("reposync: ")]
    assert len(message) == 1 and words in message[0], result.output
    assert config.read_bytes() == before


def test_list_shows_each_source_with_its_last_walk(config: Path, server: MockServer):
    listed = run("sources", "list", "--config", str(config))
    assert listed.exit_code == 0 and "york" in listed.output and "never" in listed.output
    assert not (config.parent.parent / "catalogue.db").exists()  # looking makes no catalogue

    assert run("sync", "--config", str(config), "--quiet").exit_code == 0
    server.pages["/york"] = Resource(b"", content_type="text/html")
    assert run("sync", "--config", str(config), "--quiet").exit_code == 65
    server.pages["/york"] = Resource(PAGE)
    ok = run("sources", "list", "--config", str(config)).output
    [york] = [line for line in ok.splitlines() if line.startswith("york")]
    assert "run 2," in york and "failed: " in york

    assert run("sync", "--config", str(config), "--quiet").exit_code == 0
    [york] = [line for line in run("sources", "list", "--config", str(config)).output.splitlines()
              if line.startswith("york")]
    assert "run 3," in york and york.split()[-2:] == ["4", "complete"]


def test_check_reads_the_stored_page_offline_or_the_live_one(config: Path, server: MockServer):
    assert run("sync", "--config", str(config), "--quiet").exit_code == 0  # stores the page in snapshots/
    server.pages["/york"] = Resource(NO_ENTRIES)  # the live page has changed since
    server.reset_counts()
    offline = run("sources", "check", "york", "--config", str(config))
    assert offline.exit_code == 0, offline.output
    assert "the stored page, fetched " in offline.output and "4 entries" in offline.output
    assert server.count() == 0  # offline: nothing fetched
    live = run("sources", "check", "york", "--live", "--config", str(config))
    assert live.exit_code == 65 and "(live): 0 entries" in live.output  # shown, with what was skipped, then
    assert live.output.rstrip().splitlines()[-1].endswith("/york: no entries found on the page")  # the line
    assert server.count("/york") == 1
    unknown = run("sources", "check", "nowhere", "--config", str(config))
    assert unknown.exit_code == 2 and "no source with id 'nowhere'" in unknown.output


def test_check_without_a_stored_page_needs_a_person(config: Path):
    result = run("sources", "check", "york", "--config", str(config))
    assert result.exit_code == 65 and "no usable snapshot" in result.output
