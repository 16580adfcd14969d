"""A redesign is not a removal: departures on a walk whose page is laid out anew wait for a person.

Live syncs through the CLI against the loopback server. The page is first the
synthetic York page with entries in list items, then the same four entries as
cards (tests/fixtures/layout/york-redesigned-cards.html), where the generic
parser reads three: the fourth must not be marked expired until a person says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from conftest import FIXTURES, local_source, loopback_config
from mockserver import MockServer, Resource
from reposync.catalogue import open_db
from reposync.cli.main import cli
from reposync.parsers import PARSERS

LIST_PAGE = (FIXTURES / "pages" / "generic" / "york-entries-in-li.html").read_text(encoding="utf-8")
CARDS_PAGE = (FIXTURES / "layout" / "york-redesigned-cards.html").read_text(encoding="utf-8")
XE = "york:child-xe"  # the entry the cards page loses (its card gives no date the parser reads)


@pytest.fixture
def config(tmp_path: Path, server: MockServer) -> Path:
    serve(server, LIST_PAGE)
    return loopback_config(tmp_path / "config", local_source("york", server.url("/york")))


def serve(server: MockServer, html: str) -> None:
    server.pages["/york"] = Resource(html.encode("utf-8"))


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def sync(config: Path, *args: str) -> Result:
    return run("sync", "--config", str(config), *args)


def db_of(config: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(config.parent.parent / "catalogue.db")


def statuses(config: Path) -> dict[str, str]:
    return {r["id"]: r["status"] for r in db_of(config).query("SELECT id, status FROM entries")}


def kinds(config: Path, run_id: int) -> list[tuple[str, str | None]]:
    return [(r["kind"], r["entry_id"]) for r in
            db_of(config).query("SELECT kind, entry_id FROM changes WHERE run_id = ? ORDER BY id", [run_id])]


def layout_row(config: Path) -> dict:
    return next(db_of(config).query("SELECT * FROM sources_layout WHERE source = 'york'"))


def test_the_pages_are_the_case_they_stand_for():
    """The precondition of the tests below: same entries, new markup, and the parser reads one fewer."""
    before = PARSERS["generic"](LIST_PAGE, "http://127.0.0.1/york")
    after = PARSERS["generic"](CARDS_PAGE, "http://127.0.0.1/york")
    assert before.layout and after.layout and before.layout != after.layout
    titles = [e.title for e in before.entries]
    assert titles == ["Child XA, XB and XC", "Baby XD", "Child XE", "Messages from reviews"]
    assert "Child XE" in CARDS_PAGE and [e.title for e in after.entries] == [t for t in titles if t != "Child XE"], (
        "the generic parser now reads the redesigned page differently: pick another entry for it to lose")


def test_a_redesign_holds_departures_until_a_person_accepts_it(config: Path, server: MockServer):
    first = sync(config, "--quiet")
    assert first.exit_code == 0, first.output
    assert set(statuses(config).values()) == {"listed"} and len(statuses(config)) == 4
    assert layout_row(config)["layout"] == PARSERS["generic"](LIST_PAGE, server.url("/york")).layout

    # The redesign: what was found is applied, the departure is held, and the sync needs a person.
    serve(server, CARDS_PAGE)
    held = sync(config)
    assert held.exit_code == 65, held.output
    assert statuses(config)[XE] == "listed"  # not expired
    assert ("held", XE) in kinds(config, 2)
    assert not [k for k, _ in kinds(config, 2) if k in ("expired", "rolled-off", "delisted")]
    assert ("changed", "york:child-xa-xb-and-xc") in kinds(config, 2)  # date as written: published -> Published
    assert "HELD york" in held.output and "sources accept-layout york" in held.output
    report = (config.parent.parent / "reports" / "2.md").read_text(encoding="utf-8")
    sections = [line for line in report.splitlines() if line.startswith("## ")]
    assert sections[0] == "## Held: the page's layout changed (1)"  # first
    assert "Child XE" in report.split("## ", 2)[1] and "would be expired" in report
    page = (config.parent.parent / "reports" / "2.html").read_text(encoding="utf-8")
    assert page.index("Held: the page") < page.index("Changed (") and "would be expired" in page
    run2 = json.loads((config.parent.parent / "reports" / "2.json").read_text(encoding="utf-8"))
    assert run2["exit_code"] == 65 and run2["sources"]["york"]["held"] == 1
    state = layout_row(config)
    assert state["held_run"] == 2 and state["held_layout"] != state["layout"] and state["accepted_layout"] is None
    listed = run("sources", "list", "--config", str(config)).output
    assert "1 departures held: the page's layout changed" in listed
    checked = run("sources", "check", "york", "--config", str(config))  # the stored (redesigned) page
    assert checked.exit_code == 0 and "3 entries" in checked.output and "Child XE" in checked.output  # skipped
    assert ", another. 1 departures held since run 2" in checked.output and "accept-layout york" in checked.output

    # Until a person looks, every sync holds again.
    again = sync(config, "--quiet")
    assert again.exit_code == 65 and statuses(config)[XE] == "listed" and kinds(config, 3) == [("held", XE)]
    assert layout_row(config)["held_run"] == 2  # held since the first run that held

    accepted = run("sources", "accept-layout", "york", "--config", str(config))
    assert accepted.exit_code == 0, accepted.output
    assert "the next sync applies" in accepted.output and statuses(config)[XE] == "listed"

    assert "the next sync applies them" in run("sources", "check", "york", "--config", str(config)).output
    applied = sync(config, "--quiet")
    assert applied.exit_code == 0, applied.output
    assert statuses(config)[XE] == "expired" and kinds(config, 4) == [("expired", XE)]
    state = layout_row(config)
    assert state["layout"] == PARSERS["generic"](CARDS_PAGE, server.url("/york")).layout
    assert state["layout_run"] == 4 and state["held_layout"] is None and state["accepted_layout"] is None

    quiet = sync(config, "--quiet")
    assert quiet.exit_code == 0 and quiet.output == "" and kinds(config, 5) == []


def test_a_departure_in_the_same_layout_is_applied_at_once(config: Path, server: MockServer):
    assert sync(config, "--quiet").exit_code == 0
    serve(server, LIST_PAGE.replace('<li>&bull; Child XE (published 10/10/13) For legal reasons only a short '
                                    'summary can be shared. |</li>', ""))
    result = sync(config, "--quiet")
    assert result.exit_code == 0, result.output
    assert statuses(config)[XE] == "expired" and kinds(config, 2) == [("expired", XE)]


def test_a_new_layout_with_nothing_departing_becomes_the_good_one(config: Path, server: MockServer):
    assert sync(config, "--quiet").exit_code == 0
    # The cards page with Child XE's date readable: all four found, nothing departs, nothing held.
    readable = CARDS_PAGE.replace("Published in the autumn", "Published 10/10/13")
    serve(server, readable)
    result = sync(config, "--quiet")
    assert result.exit_code == 0, result.output
    assert not [k for k, _ in kinds(config, 2) if k == "held"]
    assert layout_row(config)["layout"] == PARSERS["generic"](readable, server.url("/york")).layout
    # From now on the cards are the good layout: an entry leaving them expires at once.
    serve(server, CARDS_PAGE)
    assert sync(config, "--quiet").exit_code == 0 and statuses(config)[XE] == "expired"


def test_the_layout_guard_still_trips_first(config: Path, server: MockServer):
    assert sync(config, "--quiet").exit_code == 0
    one_left = CARDS_PAGE.split('<article class="review-card">')
    serve(server, one_left[0] + '<article class="review-card">' + one_left[1] + "</div></main></body></html>")
    result = sync(config)
    assert result.exit_code == 65 and "layout guard" in result.output
    assert set(statuses(config).values()) == {"listed"} and [k for k, _ in kinds(config, 2)] == ["source-failed"]


def test_a_dry_run_shows_the_hold_and_keeps_nothing(config: Path, server: MockServer):
    assert sync(config, "--quiet").exit_code == 0
    before = layout_row(config)
    serve(server, CARDS_PAGE)
    dry = sync(config, "--dry-run", "--quiet")  # the report, as a quiet sync prints it
    assert dry.exit_code == 65 and "## Held: the page's layout changed (1)" in dry.output
    assert layout_row(config) == before and statuses(config)[XE] == "listed"


def test_accept_layout_when_nothing_is_held_or_nothing_is_known(config: Path, server: MockServer):
    missing = run("sources", "accept-layout", "york", "--config", str(config))
    assert missing.exit_code == 2 and "no catalogue" in missing.output
    assert sync(config, "--quiet").exit_code == 0
    nothing = run("sources", "accept-layout", "york", "--config", str(config))
    assert nothing.exit_code == 0 and "nothing is held" in nothing.output
    unknown = run("sources", "accept-layout", "leeds", "--config", str(config))
    assert unknown.exit_code == 2 and "no source with id 'leeds'" in unknown.output


def test_m003_migrates_a_catalogue_made_before_it(config: Path, server: MockServer):
    assert sync(config, "--quiet").exit_code == 0
    path = config.parent.parent / "catalogue.db"
    # The catalogue as an older reposync left it: no layout table, no record of the migration.
    db = sqlite_utils.Database(path)
    db.execute("DROP TABLE sources_layout")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_sources_layout'")
    db.conn.commit()
    entries_before = list(db.query("SELECT * FROM entries ORDER BY id"))
    db.close()
    reopened = open_db(path)
    assert "sources_layout" in reopened.table_names()
    assert list(reopened.query("SELECT * FROM entries ORDER BY id")) == entries_before
    reopened.close()
    # Its first walk records the layout and holds nothing, even on a redesign: there is no good walk to differ from.
    serve(server, CARDS_PAGE)
    result = sync(config, "--quiet")
    assert result.exit_code == 0, result.output
    assert statuses(config)[XE] == "expired"
    assert layout_row(config)["layout"] == PARSERS["generic"](CARDS_PAGE, server.url("/york")).layout


def test_doctor_says_act_for_held_departures_beside_a_host_that_was_down(config: Path, server: MockServer,
                                                                          monkeypatch: pytest.MonkeyPatch):
    from reposync import settings

    monkeypatch.setattr(settings, "DOCTOR_MIN_FREE_BYTES", 1)  # whatever the disk of the machine running this
    with config.open("a", encoding="utf-8") as handle:  # a second partnership, on a host of its own
        handle.write(f'\n[[source]]\nid = "leeds"\nkind = "local"\nparser = "generic"\narea = "Leeds"\n'
                     f'url = "{server.url("/leeds").replace("127.0.0.1", "localhost")}"\n')
    server.pages["/leeds"] = Resource(LIST_PAGE.encode("utf-8"))
    assert sync(config, "--quiet").exit_code == 0
    serve(server, CARDS_PAGE)  # york's departures are held (65) ...
    server.pages["/leeds"] = Resource(b"down for maintenance", status=503)  # ... and leeds' host is down (75)
    night = sync(config, "--quiet")
    assert night.exit_code == 75 and "HTTP 503" in night.output  # the run's code is the highest
    doctor = run("doctor", "--config", str(config))
    assert doctor.exit_code == 65, doctor.output
    held = next(line for line in doctor.output.splitlines() if line.split()[1] == "held")
    assert held.startswith("ACT") and "york (1 since run 2)" in held and "accept-layout" in held
    assert run("sources", "accept-layout", "york", "--config", str(config)).exit_code == 0
    accepted = run("doctor", "--config", str(config))  # a person has acted: the next sync applies them
    assert accepted.exit_code == 75, accepted.output
    held = next(line for line in accepted.output.splitlines() if line.split()[1] == "held")
    assert held.startswith("WAIT") and "york" in held
