"""The night's report: "Linked" lines name the national entry (title, source, date, link), a completeness
section appears when a partnership's figures moved, and the HTML comes from an autoescaped Jinja2 template."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import SNAPSHOTS
from datasette_server import build_catalogue, tmp_config
from reposync.reports import night as report
from reposync.catalogue import open_db
from reposync.sync import run_sync

BABY_A_NATIONAL = "https://library.nspcc.org.uk/HeritageScripts/Hapi.dll/filetransfer/2013CityOfYorkBabyAExecutiveSummary.pdf"


@pytest.fixture(scope="module")
def first_night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_catalogue(tmp_path_factory.mktemp("night"))[1]


def built(db_path: Path, run: int | None = None) -> dict[str, Any]:
    db = open_db(db_path)
    try:
        return report.build(db, run)
    finally:
        db.close()


def test_a_linked_line_names_the_national_entry(first_night: Path) -> None:
    data = built(first_night)
    [linked] = data["sections"]["linked"]
    assert linked["entry"] == "york:baby-a" and linked["other"] == "nspcc-2013:city-of-york-baby-a"
    assert linked["national"] == {"entry": "nspcc-2013:city-of-york-baby-a", "title": "Baby A", "source": "nspcc-2013",
                                  "area": "York", "published": "2013-10", "url": BABY_A_NATIONAL}
    md = report.render_md(data)
    line = next(l for l in md.splitlines() if "↔" in l)
    assert line.endswith(f"↔ [Baby A](<{BABY_A_NATIONAL}>) (nspcc-2013, York, 2013-10)")
    assert "nspcc-2013:city-of-york-baby-a" not in line  # a title, not a bare id
    page = report.render_html(data)
    item = re.search(r"<li>(.*?↔.*?)</li>", page, re.S).group(1)
    assert f'<a href="{BABY_A_NATIONAL}">Baby A</a> <span class="meta">(nspcc-2013, York, 2013-10)</span>' in item


def test_a_national_entry_gone_from_the_catalogue_is_named_by_its_id(first_night: Path) -> None:
    data = built(first_night)
    data["sections"]["linked"][0]["national"] = None
    assert report.render_md(data).count("↔ nspcc-2013:city-of-york-baby-a") == 1
    assert "nspcc-2013:city-of-york-baby-a" in report.render_html(data)


def test_the_completeness_section_shows_the_partnerships_that_moved(first_night: Path) -> None:
    data = built(first_night)
    assert data["completeness"] == [{"area": "York", "source": "york", "local_reviews": 4, "in_national": 1,
                                     "share": 0.25, "queued": 0, "median_lag_days": [0, 20],
                                     "moved": {"linked": 1, "unlinked": 0, "queued": 0}}]
    md = report.render_md(data)
    assert "## Completeness of the partnerships that moved (1)" in md
    assert "| York | york | 4 | 1 | 25% | 0 | 0 to 20 | \\+1 linked |" in md
    assert json.loads(report.render(data, "json"))["completeness"] == data["completeness"]
    page = report.render_html(data)
    assert '<td data-label="this run">+1 linked</td>' in page


def test_a_newly_queued_review_moves_the_figures_too(first_night: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "catalogue.db"
    db_path.write_bytes(first_night.read_bytes())
    with sqlite3.connect(db_path) as conn:  # as if run 1 had proposed a link for York's Child B and Essex's Child PP
        conn.execute("INSERT INTO links (entry_a, entry_b, features, decision, first_run) VALUES "
                     "('york:child-b', 'nspcc-library:NC90023', '{}', 'review', 1), "
                     "('essex:child-pp', 'nspcc-library:NC90023', '{}', 'review', 1)")
    moved = {row["source"]: row for row in built(db_path, 1)["completeness"]}
    assert moved["york"]["queued"] == 1 and moved["york"]["moved"] == {"linked": 1, "unlinked": 0, "queued": 1}
    assert moved["essex"]["moved"] == {"linked": 0, "unlinked": 0, "queued": 1}
    assert set(moved) == {"york", "essex"}


def test_a_night_that_moved_nothing_has_no_completeness_section(first_night: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "catalogue.db"
    db_path.write_bytes(first_night.read_bytes())
    config = tmp_config(tmp_path)
    second = run_sync(config, offline=True, db_path=db_path, snapshots_path=SNAPSHOTS)
    data = built(db_path, second.run_id)
    assert data["completeness"] == [] and "Completeness" not in report.render_md(data)
    assert "Completeness" not in report.render_html(data)


def test_the_html_report_is_the_autoescaped_template(first_night: Path) -> None:
    data = built(first_night)
    data["sections"]["added"][0]["title"] = "<b>Child</b> & {{ 7 * 7 }} {% raw %}"
    data["sections"]["added"][0]["url"] = "javascript:alert(1)"
    page = report.render_html(data)
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "&lt;b&gt;Child&lt;/b&gt; &amp; {{ 7 * 7 }} {% raw %}" in page  # text, not markup nor template
    assert "javascript:" not in page
    assert page.count("<h2") == len(data["sections"]) + 2  # the sections, completeness, sources
