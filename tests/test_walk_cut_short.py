"""A walk is complete only when it reaches the end its listing declares (issue 26, point 1).

The library's record pages say "Record N of M". A live sync against the loopback server walks a small
catalogue of SYNTHETIC records (invented titles and copy numbers, the Heritage full-display markup, one
record a page linked by ``navNext``); on a later night the chain breaks part-way: a page with no next
link (a result set whose session expired), or a next link turned from http to https (off the site).
Nothing departs, the source fails with 75, 65 on the third walk in a row, and the report says where.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from conftest import CONFIG, SNAPSHOTS, age_runs, loopback_config
from mockserver import MockServer, Resource
from reposync import catalogue, settings
from reposync.reports import night as report
from reposync.cli.main import cli
from reposync.config import load_config
from reposync.errors import EXIT_DATA, EXIT_OK, EXIT_TEMPORARY
from reposync.archive.snapshots import Archive
from reposync.sync import SyncResult, full_walk_due, run_sync

RECORDS = 12
LIBRARY = "nspcc-library"


def target(offset: int) -> str:
    return f"/lib/retrieve2?SetID=SYN&Offset={offset}"


def record_page(offset: int, total: int, next_href: str | None) -> bytes:
    nav = f'<a class="navNext" href="{next_href}">Next</a>' if next_href else ""
    fields = [("Title", f"Serious case review: Child W{offset}"), ("Copy number", f"SYW{100 + offset}"),
              ("LSCB", "Synthetic Safeguarding Children Board"), ("Date of publication", str(2025 - offset // 2)),
              ("Other format", f'<a href="/files/SYW{offset}.pdf">Full text (PDF)</a>')]
    rows = "".join(f'<tr><td class="fulllabel">{label}:</td><td class="fulltext">{value}</td></tr>'
                   for label, value in fields)
    return (f"<!DOCTYPE html><html><body><!-- synthetic record -->"
            f'<table class="navbar"><tr><td class="navPosition">Record <b>{offset}</b> of <b>{total}</b></td>'
            f'<td>{nav}</td></tr></table><table class="fullDisplay">{rows}</table></body></html>').encode()


def serve(server: MockServer, *, broken_at: int | None = None, next_href: str | None = None) -> None:
    """The catalogue of RECORDS records; at ``broken_at`` the next link is ``next_href`` (None: no next link)."""
    for offset in range(1, RECORDS + 1):
        href = f"retrieve2?SetID=SYN&amp;Offset={offset + 1}" if offset < RECORDS else None
        if offset == broken_at:
            href = next_href
        server.pages[target(offset)] = Resource(record_page(offset, RECORDS, href))


@pytest.fixture
def config(tmp_path: Path, server: MockServer) -> Path:
    library = {"id": LIBRARY, "kind": "national", "parser": "nspcc-library", "url": server.url(target(1))}
    return loopback_config(tmp_path / "config", library, crawl={"full_walk_days": 7, "check_links_days": 0})


def db(tmp_path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(tmp_path / "catalogue.db")


def full_night(tmp_path: Path, config: Path) -> SyncResult:
    """A night on which the library's full walk is due (the last one was a week ago)."""
    age_runs(tmp_path / "catalogue.db", 7)
    return run_sync(load_config(config))


def statuses(tmp_path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in db(tmp_path).query("SELECT status FROM entries"):
        found[row["status"]] = found.get(row["status"], 0) + 1
    return found


def failed_reasons(tmp_path: Path, run_id: int) -> list[str]:
    """What the night's report gives as each failed source's reason."""
    return [item["reason"] for item in report.build(db(tmp_path), run_id)["sections"]["source-failed"]]


def first_night(tmp_path: Path, config: Path, server: MockServer) -> None:
    serve(server)
    first = run_sync(load_config(config))
    assert first.exit_code == EXIT_OK and first.counts == {"added": RECORDS}


def test_a_result_set_that_stops_giving_next_links_departs_nothing(tmp_path: Path, server: MockServer,
                                                                   config: Path):
    first_night(tmp_path, config, server)
    serve(server, broken_at=7)  # record 7 comes without a next link: 7 of 12 is over the layout guard's half
    night = full_night(tmp_path, config)
    assert night.exit_code == EXIT_TEMPORARY
    [outcome] = night.outcomes
    assert outcome.error == "walk stopped at record 7 of 12: no next link"
    assert outcome.error_url == server.url(target(7)) and not outcome.complete and outcome.cut_short
    assert night.counts == {"source-failed": 1}  # not "5 delisted"
    assert statuses(tmp_path) == {"listed": RECORDS}
    assert failed_reasons(tmp_path, night.run_id) == ["walk stopped at record 7 of 12: no next link"]


def test_a_next_link_turned_off_the_site_departs_nothing(tmp_path: Path, server: MockServer, config: Path):
    first_night(tmp_path, config, server)
    off_site = server.url(target(8)).replace("http://", "https://")  # another scheme: another site
    serve(server, broken_at=7, next_href=off_site)
    server.reset_counts()
    night = full_night(tmp_path, config)
    assert night.exit_code == EXIT_TEMPORARY and night.counts == {"source-failed": 1}
    [outcome] = night.outcomes
    assert outcome.error == f"walk stopped at record 7 of 12: its next link points off the site ({off_site})"
    assert statuses(tmp_path) == {"listed": RECORDS}
    assert server.count(target(8)) == 0  # never fetched, on either scheme


def test_the_third_walk_in_a_row_cut_short_needs_a_person(tmp_path: Path, server: MockServer, config: Path):
    first_night(tmp_path, config, server)
    serve(server, broken_at=9)
    codes = [full_night(tmp_path, config).exit_code for _ in range(4)]
    assert codes == [EXIT_TEMPORARY, EXIT_TEMPORARY, EXIT_DATA, EXIT_DATA]
    for run_id in (4, 5):
        error = json.loads(db(tmp_path)["runs"].get(run_id)["sources"])[LIBRARY]["error"]
        assert error == ("walk stopped at record 9 of 12: no next link "
                         "(the last 3 walks in a row were cut short: look at the site)")
    assert statuses(tmp_path) == {"listed": RECORDS}
    serve(server)  # the site mended: a complete walk, and the count starts again
    assert full_night(tmp_path, config).exit_code == EXIT_OK
    serve(server, broken_at=9)
    assert full_night(tmp_path, config).exit_code == EXIT_TEMPORARY


def test_an_incremental_or_cut_short_walk_is_never_the_last_complete_walk(tmp_path: Path, server: MockServer,
                                                                          config: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(settings, "INCREMENTAL_KNOWN_RUN", 3)
    first_night(tmp_path, config, server)
    source = load_config(config).select((LIBRARY,))[0]
    complete = catalogue.last_complete_walk(db(tmp_path), LIBRARY)

    incremental = run_sync(load_config(config))  # the next night: stops at a run of 3 known records
    assert incremental.outcomes[0].walk == "incremental" and server.count("/lib/") > 0
    assert catalogue.last_complete_walk(db(tmp_path), LIBRARY) == complete

    serve(server, broken_at=2)  # an incremental walk that runs out of next links before its run of 3
    cut = run_sync(load_config(config))
    assert cut.exit_code == EXIT_TEMPORARY and cut.outcomes[0].cut_short
    assert statuses(tmp_path) == {"listed": RECORDS}
    assert catalogue.last_complete_walk(db(tmp_path), LIBRARY) == complete
    age_runs(tmp_path / "catalogue.db", 7)  # a week after the first night's full walk, it is due: nothing put it off
    assert full_walk_due(db(tmp_path), source, 7)


def test_the_bundled_archive_with_a_next_link_turned_http_at_record_25(tmp_path: Path):
    """The issue's reproduction: it gave `run 2: 11 delisted`, exit 0."""
    def sync(snapshots: Path):
        return CliRunner().invoke(cli, ["sync", "--offline", "--config", str(CONFIG), "--source", LIBRARY,
                                        "--db", str(tmp_path / "c.db"), "--snapshots", str(snapshots),
                                        "--reports", str(tmp_path / "reports")])

    assert sync(SNAPSHOTS).exit_code == EXIT_OK
    archive = Archive(shutil.copytree(SNAPSHOTS, tmp_path / "archive"))
    row = next(row for _, row in archive.scan() if row.sha256 and "retrieve2" in row.url and "Offset=25&" in row.url)
    body = archive.body(row.sha256).decode("utf-8")
    assert "Record <b>25</b> of <b>36</b>" in body or "Record 25 of 36" in body, "the snapshot changed"
    turned = body.replace('class="navNext" href="retrieve2?',
                          'class="navNext" href="http://library.nspcc.org.uk/HeritageScripts/Hapi.dll/retrieve2?')
    assert turned != body, "the snapshot's next link changed: update this test"
    archive.add(row.url, turned.encode("utf-8"), fetched_at="2026-11-27T02:10:00+00:00", content_type=row.content_type)
    night = sync(tmp_path / "archive")
    assert night.exit_code == EXIT_TEMPORARY, night.output
    assert "delisted" not in night.output and "1 source-failed" in night.output
    assert "walk stopped at record 25 of 36: its next link points off the site (http://library" in night.output
    listed = sqlite_utils.Database(tmp_path / "c.db").execute(
        "SELECT count(*) FROM entries WHERE source = ? AND status = 'listed'", [LIBRARY]).fetchone()[0]
    assert listed == 36
