"""The national picture (issue 20, point 4): with a register of every partnership, `completeness` (the CLI, the
view Datasette shows, the dashboard) has a row for every partnership of it; one whose page is not read has no
figures and says why ("no page known"), never 0%, and a line says how much of England the figures cover.

A live sync against a loopback server: York's page is read, Leeds's fails, Bradford's page is known to the
register but not configured, Wakefield's is not known (tests/fixtures/national/partnerships.toml, synthetic).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import BESIDE_CONFIG, FIXTURES, ROOT, local_source, loopback_config
from mockserver import MockServer, Resource
from reposync.cli.main import cli
from reposync.config import load_config

YORK_PAGE = (FIXTURES / "pages" / "generic" / "york-entries-in-li.html").read_bytes()
REGISTER = FIXTURES / "national" / "partnerships.toml"
yaml = pytest.importorskip("yaml")


def write_config(tmp_path: Path, server: MockServer, paths: dict | None = None) -> Path:
    """York's page and a Leeds page that answers 503, link checks off; ``paths`` over [paths] beside the config."""
    leeds = {**local_source("leeds-page", server.url("/status/503")), "area": "Leeds"}
    server.pages["/york"] = Resource(YORK_PAGE)
    return loopback_config(tmp_path / "config", local_source("york", server.url("/york")), leeds,
                           crawl={"check_links_days": 0}, paths={**BESIDE_CONFIG, **(paths or {})})


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def synced(tmp_path: Path, server: MockServer) -> Path:
    config = write_config(tmp_path, server)
    shutil.copy(REGISTER, config.parent / "partnerships.toml")  # [paths] register's default
    result = run("sync", "--config", str(config))
    assert result.exit_code == 75, result.output  # Leeds's page is down for now
    return config


def test_every_partnership_of_the_register_has_a_row_and_no_page_is_never_0_percent(synced: Path):
    result = run("completeness", "--config", str(synced), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["partnership"]: row for row in json.loads(result.output)}
    assert set(rows) == {"City of York Safeguarding Children Partnership", "Leeds Safeguarding Children Partnership",
                         "Bradford Children and Families Safeguarding Partnership",
                         "Wakefield Safeguarding Children Partnership"}
    york, leeds = rows["City of York Safeguarding Children Partnership"], rows["Leeds Safeguarding Children Partnership"]
    bradford, wakefield = (rows["Bradford Children and Families Safeguarding Partnership"],
                           rows["Wakefield Safeguarding Children Partnership"])
    assert (york["source"], york["page"], york["local_reviews"]) == ("york", "read", 3)
    assert (leeds["source"], leeds["page"], leeds["local_reviews"]) == ("leeds-page", "not read last night", 0)
    assert (bradford["source"], bradford["page"]) == (None, "page known, not configured")
    assert (wakefield["source"], wakefield["page"]) == (None, "no page known")
    for row in (bradford, wakefield):
        assert row["local_reviews"] is None and row["in_national"] is None and row["share"] is None
        assert row["area"] in ("Bradford", "Wakefield")


def test_the_table_says_how_much_of_england_it_covers(synced: Path):
    table = run("completeness", "--config", str(synced)).output
    assert max(len(line) for line in table.splitlines()) <= 100  # the page state in a word, as the figures fit
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines()[1:5]}
    assert lines["Wakefield"] == ["none"] + ["-"] * 7 and lines["Bradford"] == ["known"] + ["-"] * 7
    assert lines["York"][:2] == ["read", "3"] and lines["Leeds"][:2] == ["not", "read"]
    assert ("England: 1 of 4 partnerships read last night (25%); not read last night: 1, page known, not "
            "configured: 1, no page known: 1.") in " ".join(table.split())  # wrapped at 100 columns
    wide = run("completeness", "--config", str(synced), "--wide").output
    wakefield = next(line for line in wide.splitlines() if line.startswith("Wakefield"))
    assert "no page known" in wakefield and "%" not in wakefield and " 0 " not in wakefield
    md = run("completeness", "--config", str(synced), "--format", "md").output
    assert "England: 1 of 4 partnerships read last night (25%)" in md
    one = run("completeness", "--config", str(synced), "--area", "Wakefield").output
    assert "Wakefield: 0 of 1 partnership read last night (0%); no page known: 1." in one


def test_the_view_and_the_dashboard_show_coverage(synced: Path):
    db = sqlite3.connect(synced.parent.parent / "catalogue.db")
    db.row_factory = sqlite3.Row
    pages = dict(db.execute("SELECT partnership, page FROM completeness WHERE partnership IS NOT NULL").fetchall())
    assert sorted(pages.values()) == ["no page known", "not read last night", "page known, not configured", "read"]
    metadata = yaml.safe_load((ROOT / "config" / "metadata.yml").read_text(encoding="utf-8"))
    charts = metadata["plugins"]["datasette-dashboards"]["reviews"]["charts"]
    coverage = {r["state"]: (r["partnerships"], r["of"]) for r in db.execute(charts["coverage"]["query"])}
    assert coverage == {"read": (1, 4), "not read last night": (1, 4), "page known, not configured": (1, 4),
                        "no page known": (1, 4)}
    bars = [dict(r) for r in db.execute(charts["completeness"]["query"])]
    assert {r["partnership"] for r in bars} == {"York"}  # only partnerships with figures (Leeds: none yet)


def test_the_register_path_comes_from_the_config(tmp_path: Path, server: MockServer):
    config = write_config(tmp_path, server, paths={"register": "../elsewhere/register.toml"})
    assert load_config(config).paths.register == (tmp_path / "elsewhere" / "register.toml").resolve()
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(REGISTER, tmp_path / "elsewhere" / "register.toml")
    assert run("sync", "--config", str(config)).exit_code == 75
    rows = json.loads(run("completeness", "--config", str(config), "--format", "json").output)
    assert len([row for row in rows if row["partnership"]]) == 4


def test_without_a_register_nothing_changes_and_a_bad_one_stops_the_sync_first(tmp_path: Path, server: MockServer):
    config = write_config(tmp_path, server)
    assert run("sync", "--config", str(config)).exit_code == 75
    table = run("completeness", "--config", str(config)).output
    assert "England" not in table
    assert [row["partnership"] for row in json.loads(run("completeness", "--config", str(config), "--format",
                                                         "json").output)] == [None, None]
    (config.parent / "partnerships.toml").write_text('[[partnership]]\nid = "x"\nname = "X"\narea = "Atlantis"\n',
                                                    encoding="utf-8")
    asked = len(server.log)
    bad = run("sync", "--config", str(config))
    assert bad.exit_code == 2 and "Atlantis" in bad.output
    assert len(server.log) == asked  # nothing fetched
