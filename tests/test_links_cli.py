"""`reposync links`: the review queue, the unmatched, and people's decisions that survive every rebuild."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from conftest import CONFIG, ROOT, SNAPSHOTS
from reposync.catalogue import decisions
from reposync import link
from reposync.catalogue import open_db
from reposync.cli.main import cli

SOURCES = ("york", "nspcc-2013", "nspcc-2014", "nspcc-library")
BABY_A = ("york:baby-a", "nspcc-2013:city-of-york-baby-a")
CHILD_B_C = ("york:child-b", "nspcc-library:NC90023")  # York's Child B and an anonymous Child C: not a pair


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    """The project's config with its catalogue, reports and decisions in a folder of their own."""
    folder = tmp_path / "config"
    folder.mkdir()
    text = CONFIG.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^db = .*$', 'db = "../catalogue.db"', text)
    text = re.sub(r'(?m)^snapshots = .*$', f'snapshots = "{SNAPSHOTS}"', text)
    text = re.sub(r'(?m)^reports = .*$', 'reports = "../reports"', text)
    (folder / "sources.toml").write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    return folder / "sources.toml"


def reposync(config: Path, *args: str):
    return CliRunner().invoke(cli, [*args[:1], "--config", str(config), *args[1:]])


def sync(config: Path):
    args = ["sync", "--config", str(config), "--offline", "--quiet"]
    for source in SOURCES:
        args += ["--source", source]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result


def db_of(config: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(config.parent.parent / "catalogue.db")


def decision_of(config: Path, pair: tuple[str, str]) -> str | None:
    found = list(db_of(config).query("SELECT decision FROM links WHERE entry_a = ? AND entry_b = ?", list(pair)))
    return found[0]["decision"] if found else None


def same_review(config: Path, a: str, b: str) -> bool:
    ids = {r["id"]: r["review_id"] for r in db_of(config).query("SELECT id, review_id FROM entries")}
    return ids[a] == ids[b]


def file_decisions(config: Path) -> dict[tuple[str, str], str]:
    path = config.parent / "decisions.toml"
    return {d.pair: d.decision for d in decisions.load(path)}


def test_a_sync_without_decisions_writes_no_decisions_file(config: Path) -> None:
    sync(config)
    assert decision_of(config, BABY_A) == "auto" and same_review(config, *BABY_A)
    assert not (config.parent / "decisions.toml").exists()


def test_review_and_unmatched_per_partnership(config: Path) -> None:
    sync(config)
    result = reposync(config, "links")
    assert result.exit_code == 0, result.output
    assert "Review queue: empty." in result.output
    york = result.output.split("york (York)", 1)[1]
    # The list to send holds York's reviews, as `reposync pack` does; Messages from reviews (a review of
    # reviews, another document) is listed apart.
    reviews, others = york.split("Other local documents with no national record (1)", 1)
    assert "Local reviews with no national record (3)" in reviews
    for entry in ("york:child-b", "york:child-a-b-and-c", "york:thematic-review-of-child-neglect"):
        assert entry in reviews
    assert "york:messages-from-reviews" in others.split("National reviews of York", 1)[0]
    assert "york:baby-a " not in york  # linked: not missing
    assert "National reviews of York missing from its page (0)" in york
    review = reposync(config, "links", "review")
    assert review.exit_code == 0 and review.output.startswith("Review queue")
    unmatched = reposync(config, "links", "unmatched")
    assert unmatched.exit_code == 0 and unmatched.output == result.output.split("\n\n", 1)[1]


def test_the_subcommand_takes_db_and_config_too(config: Path) -> None:
    sync(config)
    result = CliRunner().invoke(cli, ["links", "unmatched", "--config", str(config),
                                      "--db", str(config.parent.parent / "catalogue.db")])
    assert result.exit_code == 0 and "york (York)" in result.output


def test_no_catalogue_is_a_usage_error(config: Path) -> None:
    result = reposync(config, "links", "review")
    assert result.exit_code == 2 and "no catalogue" in result.output


def test_unknown_entry_ids_are_a_clean_usage_error(config: Path) -> None:
    sync(config)
    result = reposync(config, "links", "accept", "york:nobody", BABY_A[1])
    assert result.exit_code == 2
    assert "no entry with id 'york:nobody'" in result.output and "Traceback" not in result.output
    two_local = reposync(config, "links", "reject", "york:baby-a", "york:child-b")
    assert two_local.exit_code == 2 and "a local entry and a national entry" in two_local.output
    assert not (config.parent / "decisions.toml").exists()


def test_reject_unlinks_and_survives_syncs_and_a_rebuild(config: Path) -> None:
    sync(config)
    result = reposync(config, "links", "reject", *BABY_A)
    assert result.exit_code == 0, result.output
    assert decision_of(config, BABY_A) == "rejected"
    assert file_decisions(config) == {BABY_A: "rejected"}
    text = (config.parent / "decisions.toml").read_text(encoding="utf-8")
    assert text.startswith("# Link decisions") and 'local_title = "Baby A"' in text
    decided_at = tomllib.loads(text)["decision"][0]["decided_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", decided_at)

    sync(config)  # never re-proposed, never auto-linked
    assert decision_of(config, BABY_A) == "rejected" and not same_review(config, *BABY_A)
    york_links = list(db_of(config).query("SELECT * FROM links WHERE entry_a = 'york:baby-a'"))
    assert [(r["entry_b"], r["decision"]) for r in york_links] == [(BABY_A[1], "rejected")]

    (config.parent.parent / "catalogue.db").unlink()  # a rebuild from snapshots
    sync(config)
    assert decision_of(config, BABY_A) == "rejected" and not same_review(config, *BABY_A)
    row = next(db_of(config).query("SELECT decided_at FROM links WHERE entry_a = ? AND entry_b = ?", list(BABY_A)))
    assert row["decided_at"] == decided_at


def test_accept_links_whatever_the_score_in_either_order_and_survives_a_rebuild(config: Path) -> None:
    sync(config)
    assert decision_of(config, CHILD_B_C) is None  # not even a candidate: only with --force
    result = reposync(config, "links", "accept", CHILD_B_C[1], CHILD_B_C[0], "--force")  # national first: put right
    assert result.exit_code == 0, result.output
    assert decision_of(config, CHILD_B_C) == "accepted"
    sync(config)
    assert decision_of(config, CHILD_B_C) == "accepted" and same_review(config, *CHILD_B_C)
    missing = {r["id"] for r in db_of(config).query("SELECT id FROM local_missing_from_national")}
    assert "york:child-b" not in missing
    (config.parent.parent / "catalogue.db").unlink()
    sync(config)
    assert decision_of(config, CHILD_B_C) == "accepted" and same_review(config, *CHILD_B_C)
    assert file_decisions(config) == {CHILD_B_C: "accepted"}


def test_a_decision_set_in_the_database_reaches_the_file(config: Path) -> None:
    """Datasette's canned queries set links.decision directly, perhaps without decided_at."""
    sync(config)
    db_of(config).execute("UPDATE links SET decision = 'accepted' WHERE entry_a = ? AND entry_b = ?", list(BABY_A))
    db_of(config).conn.commit()
    sync(config)
    assert file_decisions(config) == {BABY_A: "accepted"}
    row = next(db_of(config).query("SELECT decided_at FROM links WHERE entry_a = ? AND entry_b = ?", list(BABY_A)))
    assert row["decided_at"]  # stamped when the sync first saw it
    (config.parent.parent / "catalogue.db").unlink()
    sync(config)
    assert decision_of(config, BABY_A) == "accepted"


def test_the_newest_decision_wins_between_the_file_and_the_database(config: Path) -> None:
    sync(config)
    path = config.parent / "decisions.toml"
    path.write_text(decisions.dumps([link.Decision(*BABY_A, "rejected", "2026-01-01T00:00:00+00:00")]),
                    encoding="utf-8")
    db = db_of(config)
    db.execute("UPDATE links SET decision = 'accepted', decided_at = '2026-02-01T00:00:00+00:00' "
               "WHERE entry_a = ? AND entry_b = ?", list(BABY_A))
    db.conn.commit()
    sync(config)
    assert decision_of(config, BABY_A) == "accepted" and file_decisions(config) == {BABY_A: "accepted"}
    # and a newer word in the file beats an older one in the catalogue
    path.write_text(decisions.dumps([link.Decision(*BABY_A, "rejected", "2026-03-01T00:00:00+00:00")]),
                    encoding="utf-8")
    sync(config)
    assert decision_of(config, BABY_A) == "rejected" and file_decisions(config) == {BABY_A: "rejected"}


def test_decisions_about_entries_this_catalogue_lacks_stay_in_the_file(config: Path) -> None:
    path = config.parent / "decisions.toml"
    elsewhere = link.Decision("essex:child-pp", "nspcc-recent:essex-child-pp", "accepted", "2026-01-01T00:00:00+00:00")
    path.write_text(decisions.dumps([elsewhere]), encoding="utf-8")
    sync(config)
    reposync(config, "links", "reject", *BABY_A)
    assert file_decisions(config) == {elsewhere.pair: "accepted", BABY_A: "rejected"}


def test_a_malformed_decisions_file_stops_the_sync_before_any_fetch(config: Path) -> None:
    (config.parent / "decisions.toml").write_text('[[decision]]\nlocal = "york:baby-a"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["sync", "--config", str(config), "--offline", "--source", "york"])
    assert result.exit_code == 2 and "decisions.toml" in result.output and "national" in result.output
    assert not (config.parent.parent / "catalogue.db").exists()


def test_a_dry_run_exports_nothing(config: Path) -> None:
    sync(config)
    db = db_of(config)
    db.execute("UPDATE links SET decision = 'rejected' WHERE entry_a = ? AND entry_b = ?", list(BABY_A))
    db.conn.commit()
    result = CliRunner().invoke(cli, ["sync", "--config", str(config), "--offline", "--dry-run", "--source", "york"])
    assert result.exit_code == 0, result.output
    assert not (config.parent / "decisions.toml").exists()


def test_the_review_queue_lists_candidates_with_their_evidence(config: Path, tmp_path: Path) -> None:
    sync(config)
    db = open_db(config.parent.parent / "catalogue.db")
    # A Baby A of York as a library record dated 2011 (synthetic): two years before York's, a candidate for a
    # person. (Were it titled an executive summary, the dedupe would put it in York's review: the only one it
    # can be of.)
    db.execute("BEGIN")
    db["entries"].insert({
        "id": "nspcc-library:SYN001", "source": "nspcc-library", "kind": "national",
        "title": "Serious case review: Baby A", "title_key": "baby a",
        "published": "2011", "published_precision": "year", "published_start": "2011-01-01",
        "published_end": "2011-12-31", "published_year": 2011, "area": "York", "la_codes": '["E06000014"]',
        "pseudonyms": '["baby a"]', "review_type": "scr", "status": "listed"})
    db.execute("COMMIT")
    db.close()
    sync(config)
    result = reposync(config, "links", "review")
    assert result.exit_code == 0, result.output
    assert "Review queue: 1 proposed link. " in result.output
    assert "york:baby-a" in result.output and "? nspcc-library:SYN001" in result.output
    assert "dates within-3-years" in result.output and "names baby a" in result.output
    unmatched = reposync(config, "links", "unmatched")
    assert "review" in unmatched.output and "[1 in the review queue]" in unmatched.output


def test_an_accept_against_the_evidence_says_why_and_needs_force(config: Path) -> None:
    """Issue 24: York's Child B with the 2013 list's Baby A (−5.73, no name in common, Baby A already York's
    Baby A's) printed only "accepted" and the next sync undid the right link."""
    sync(config)
    wrong = ("york:child-b", BABY_A[1])
    refused = reposync(config, "links", "accept", *wrong)
    assert refused.exit_code == 2
    assert refused.stdout == ""  # the refusal is an error: all of it on standard error
    assert "names     no name in common (child b, baby a)" in refused.stderr  # the same table as links explain
    assert "its score -5.73 is below the review band (6)" in refused.stderr
    assert "its national review is already linked from york's page" in refused.stderr
    assert f"accepting it undoes {BABY_A[0]} <-> {BABY_A[1]} (auto): the next sync unlinks it" in refused.stderr
    assert refused.stderr.rstrip().endswith("to accept it anyway, add --force")
    assert decision_of(config, wrong) is None and decision_of(config, BABY_A) == "auto"
    assert not (config.parent / "decisions.toml").exists()

    in_band = reposync(config, "links", "reject", *BABY_A)  # a reject never needs --force
    assert in_band.exit_code == 0, in_band.output
    forced = reposync(config, "links", "accept", *wrong, "--force")
    assert forced.exit_code == 0, forced.output
    assert decision_of(config, wrong) == "accepted"


def test_undo_takes_a_decision_back_and_the_evidence_decides_again(config: Path) -> None:
    sync(config)
    assert reposync(config, "links", "reject", *BABY_A).exit_code == 0
    sync(config)
    assert decision_of(config, BABY_A) == "rejected" and not same_review(config, *BABY_A)

    undone = reposync(config, "links", "undo", BABY_A[1], BABY_A[0])  # either order
    assert undone.exit_code == 0, undone.output
    assert undone.stdout.startswith(f"undone: {BABY_A[1]} <-> {BABY_A[0]} was rejected")
    assert decision_of(config, BABY_A) is None and file_decisions(config) == {}
    logged = list(db_of(config).query("SELECT decision, previous, decided_via FROM link_decisions "
                                      "WHERE entry_a = ? AND entry_b = ? ORDER BY id", list(BABY_A)))
    assert [tuple(r.values()) for r in logged] == [("rejected", "auto", "cli"), ("undone", "rejected", "cli")]
    sync(config)  # the evidence decides: York's Baby A is linked again
    assert decision_of(config, BABY_A) == "auto" and same_review(config, *BABY_A)
    (config.parent.parent / "catalogue.db").unlink()  # and a rebuild does not bring the decision back
    sync(config)
    assert decision_of(config, BABY_A) == "auto"

    again = reposync(config, "links", "undo", *BABY_A)
    assert again.exit_code == 2 and "no decision on york:baby-a <-> nspcc-2013:city-of-york-baby-a" in again.stderr
