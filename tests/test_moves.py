"""Pages that move (issue 20, point 3): live syncs through the CLI against loopback sites, each its own host
(127.0.21.x). A page that moves within its site is read there with nothing departing and the report says so; a
page that moves to another site is read there but departs nothing until a person records the move; a page that
is gone fails its source (65, nothing departs) and the sync names where its site lists reviews now, found from
the site's home page once a night; ``sources move`` writes the new address and nothing churns after it.
The pages are synthetic (tests/fixtures/moves/README.md).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from conftest import FIXTURES, ROOT
from mockserver import MockServer, Resource
from reposync.cli.main import cli
from reposync.crawl.moves import may_follow
from test_discover import Site, filler, text

REVIEWS = (FIXTURES / "discover" / "moved" / "reviews.html").read_bytes()  # three reviews
HOME = (FIXTURES / "moves" / "home.html").read_bytes()
OLD, NEW = "/safeguarding/serious-case-reviews", "/learning/case-reviews"
UA = "reposync/0.1 (+https://github.com/reposync/reposync; tests)"
IDS = {"synthcaster:child-w-local-child-safeguarding-practice-review", "synthcaster:child-x-serious-case-review",
       "synthcaster:baby-y-serious-case-review"}


def partnership_site() -> Site:
    """The partnership's site: its page of reviews at OLD, a home page linking NEW, other pages of information."""
    return Site({"/robots.txt": text("User-agent: *\nDisallow: /private/\n"), "/": Resource(HOME),
                 OLD: Resource(REVIEWS)},
                lambda target: filler(target.strip("/").capitalize()) if "." not in target and "?" not in target
                and target not in (OLD, NEW) else None)


@pytest.fixture
def sites() -> Iterator[dict[str, MockServer]]:
    servers = {name: MockServer(host=f"127.0.21.{n}").start() for n, name in enumerate(("site", "other"), 1)}
    servers["site"].pages = partnership_site()
    servers["other"].pages = Site({"/robots.txt": text("User-agent: *\n")})
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def config(tmp_path: Path, sites: dict[str, MockServer]) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    path = folder / "sources.toml"
    path.write_text(f"""# A comment that `sources move` keeps.
[crawl]
delay = 0.0   # loopback sites
timeout = 2.0
retries = 0
check_links_days = 0
user_agent = "{UA}"

[paths]
db = "../catalogue.db"
snapshots = "../snapshots"
reports = "../reports"

[[source]]
id = "synthcaster"   # the partnership's page of reviews
kind = "local"
parser = "generic"
area = "Wakefield"
url = "{sites['site'].url(OLD)}"   # as first configured
""", encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def sync(config: Path) -> Result:
    return run("sync", "--config", str(config))


def db_of(config: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(config.parent.parent / "catalogue.db")


def statuses(config: Path) -> dict[str, str]:
    return {r["id"]: r["status"] for r in db_of(config).query("SELECT id, status FROM entries")}


def kinds(config: Path, run_id: int) -> list[str]:
    return [r["kind"] for r in db_of(config).query("SELECT kind FROM changes WHERE run_id = ? ORDER BY id", [run_id])]


def report(config: Path, run_id: int, fmt: str = "md") -> str:
    return (config.parent.parent / "reports" / f"{run_id}.{fmt}").read_text(encoding="utf-8")


def first_night(config: Path) -> None:
    result = sync(config)
    assert result.exit_code == 0, result.output
    assert set(statuses(config)) == IDS and set(statuses(config).values()) == {"listed"}


def test_a_page_that_moves_within_its_site_is_read_there_and_nothing_departs(config: Path, sites):
    site = sites["site"]
    first_night(config)
    written = config.read_bytes()
    del site.pages[OLD]
    site.pages[NEW] = Resource(REVIEWS)
    site.moved[OLD] = NEW  # a permanent redirect (301) within the site
    moved = sync(config)
    assert moved.exit_code == 0, moved.output
    assert kinds(config, 2) == []  # nothing added, changed or departed
    assert set(statuses(config).values()) == {"listed"}
    assert config.read_bytes() == written  # a sync never rewrites the config
    old, new = site.url(OLD), site.url(NEW)
    command = f"reposync sources move synthcaster {new}"
    assert f"moved: {old} → {new}" in moved.output and command in moved.output
    md = report(config, 2)
    assert "## Pages that moved or are gone (1)" in md
    assert f"moved: {old} → {new} (HTTP 301)" in md and f"`{command}`" in md
    assert json.loads(report(config, 2, "json"))["moves"] == [
        {"source": "synthcaster", "state": "moved", "from": old, "to": new, "status": 301, "held": 0}]
    assert "Pages that moved or are gone" in report(config, 2, "html")
    listed = run("sources", "list", "--config", str(config))
    assert f"synthcaster: moved: {old} → {new} (HTTP 301, since run 2)" in listed.output
    assert f"record it: {command}" in listed.output

    # Recorded: only the url's value changes in the file; the next sync reads the page there and nothing churns.
    recorded = run("sources", "move", "synthcaster", new, "--config", str(config))
    assert recorded.exit_code == 0, recorded.output
    assert config.read_bytes() == written.replace(old.encode(), new.encode())
    asked = len(site.log)
    after = sync(config)
    assert after.exit_code == 0, after.output
    assert kinds(config, 3) == [] and "moved" not in after.output
    assert [entry.target for entry in site.log[asked:]].count(OLD) == 0
    assert set(statuses(config)) == IDS  # every entry keeps its id
    assert db_of(config)["source_moves"].count == 0
    assert "Pages that moved" not in run("sources", "list", "--config", str(config)).output


def test_a_gone_page_exits_65_departs_nothing_and_names_its_new_address(config: Path, sites):
    site = sites["site"]
    first_night(config)
    del site.pages[OLD]  # answers 404 now
    site.pages[NEW] = Resource(REVIEWS)
    gone = sync(config)
    assert gone.exit_code == 65, gone.output
    assert kinds(config, 2) == ["source-failed"]
    assert set(statuses(config).values()) == {"listed"}  # nothing departs
    old, new = site.url(OLD), site.url(NEW)
    md = report(config, 2)
    assert f"gone: {old}; on its site now: {new} (3 reviews)" in md
    assert f"`reposync sources move synthcaster {new}`" in md
    asked = [entry.target for entry in site.log]
    assert "/" in asked and NEW in asked and len(asked) <= 3 + 60  # the walk's, then discovery's budget
    row = next(db_of(config).query("SELECT * FROM source_moves"))
    assert (row["state"], row["old_url"], row["new_url"], row["status"]) == ("gone", old, new, 404)
    assert json.loads(row["candidates"]) == [{"url": new, "entries": 3, "reviews": 3}]
    listed = run("sources", "list", "--config", str(config))
    assert f"synthcaster: gone: {old} (HTTP 404, since run 2)" in listed.output
    assert f"on its site now: {new} (3 reviews, 3 entries)" in listed.output

    # The same night again: the site is not searched twice; the candidates are named all the same.
    before = len(site.log)
    again = sync(config)
    assert again.exit_code == 65
    assert [entry.target for entry in site.log[before:] if entry.target != "/robots.txt"] == [OLD]
    assert f"on its site now: {new} (3 reviews)" in report(config, 3)

    recorded = run("sources", "move", "synthcaster", new, "--config", str(config))
    assert recorded.exit_code == 0, recorded.output
    after = sync(config)
    assert after.exit_code == 0, after.output
    assert kinds(config, 4) == []  # nothing churns: every entry keeps its id
    assert set(statuses(config)) == IDS and set(statuses(config).values()) == {"listed"}


def test_a_redirect_to_another_site_is_read_but_holds_departures_until_the_move_is_recorded(config: Path, sites):
    site, other = sites["site"], sites["other"]
    first_night(config)
    fewer = REVIEWS.replace(b'<p><a href="/files/scr-baby-y.pdf">Baby Y - Serious Case Review</a> - published '
                            b'2 October 2017</p>', b"")
    assert fewer != REVIEWS
    other.pages["/case-reviews"] = Resource(fewer)
    site.moved[OLD] = other.url("/case-reviews")
    held = sync(config)
    assert held.exit_code == 65, held.output
    assert "held-move" in kinds(config, 2) and not {"expired", "delisted", "added"} & set(kinds(config, 2))
    assert statuses(config)["synthcaster:baby-y-serious-case-review"] == "listed"
    assert "HELD synthcaster: its page moved to another site" in held.output
    md = report(config, 2)
    assert "## Held: the page moved to another site (1)" in md
    assert f"moved to another site: {site.url(OLD)} → {other.url('/case-reviews')}" in md

    recorded = run("sources", "move", "synthcaster", other.url("/case-reviews"), "--config", str(config))
    assert recorded.exit_code == 0, recorded.output
    after = sync(config)
    assert after.exit_code == 0, after.output
    assert "expired" in kinds(config, 3) and "added" not in kinds(config, 3)  # recorded: the departure applies
    assert statuses(config)["synthcaster:baby-y-serious-case-review"] == "expired"


@pytest.mark.parametrize(("args", "words"), [
    (["nobody", "http://127.0.21.1/x"], "no source with id 'nobody'"),
    (["synthcaster", "ftp://127.0.21.1/x"], "must be an http(s) URL"),
])
def test_sources_move_refuses_bad_input_and_writes_nothing(config: Path, args: list[str], words: str):
    before = config.read_bytes()
    result = run("sources", "move", *args, "--config", str(config))
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert config.read_bytes() == before


@pytest.mark.parametrize(("source", "target", "followed"), [
    ("www.council.example", "www.partnership.example", True),
    ("www.council.example", "203.0.113.9", False),  # documentation range: not global
    ("www.council.example", "8.8.8.8", True),
    ("www.council.example", "169.254.169.254", False),  # a cloud's metadata service
    ("www.council.example", "10.0.0.1", False),
    ("www.council.example", "localhost", False),
    ("www.council.example", "[::1]", False),
    ("www.council.example", "", False),
    ("127.0.21.1", "127.0.21.2", True),  # a loopback site to another: these tests' sites
])
def test_a_redirect_off_the_site_is_never_followed_to_a_private_address(source: str, target: str, followed: bool):
    assert may_follow(source, target) is followed
