"""`reposync links explain ENTRY_A ENTRY_B`: each feature, its value and points, and the decision in words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlite_utils
from test_links_cli import BABY_A, CHILD_B_C, config, db_of, reposync, sync  # noqa: F401  (config: a fixture)

from reposync.link import explain
from reposync.catalogue import migrations, open_db

_ROW = re.compile(r"^(area|date|names|title|type|summary|document)\s+(.+?)\s+([+-]\d+\.\d\d)$")


def features_of(output: str) -> dict[str, tuple[str, float]]:
    found = {}
    for line in output.splitlines():
        match = _ROW.match(line)
        if match:
            found[match[1]] = (match[2], float(match[3]))
    return found


def total_of(output: str) -> float:
    return float(re.search(r"(?m)^total\s+(-?\d+\.\d\d)$", output)[1])


def test_an_automatic_link_is_explained_feature_by_feature(config: Path) -> None:
    sync(config)
    result = reposync(config, "links", "explain", *BABY_A)
    assert result.exit_code == 0, result.output
    features = features_of(result.output)
    assert list(features) == list(explain.FEATURES)
    assert features["area"] == ("same area", 4.0) and features["date"] == ("dates overlap", 3.0)
    assert features["names"][0].startswith("shared baby a (")
    stored = db_of(config).execute("SELECT score, features, explanation FROM links WHERE entry_a = ? AND "
                                   "entry_b = ?", list(BABY_A)).fetchone()
    # The points printed add up to the total, which is the score the sync stored, and the stored points agree.
    assert round(sum(points for _, points in features.values()), 2) == total_of(result.output) == stored[0]
    assert {k: v[1] for k, v in features.items()} == json.loads(stored[1])["points"]
    assert "decision: linked automatically" in result.output
    assert stored[2] == explain.text(stored[0], json.loads(stored[1]), "auto")
    # The ids in either order.
    again = reposync(config, "links", "explain", *reversed(BABY_A))
    assert again.exit_code == 0 and again.output == result.output


def test_a_pair_the_linker_did_not_propose_says_why(config: Path) -> None:
    sync(config)
    result = reposync(config, "links", "explain", *CHILD_B_C)
    assert result.exit_code == 0, result.output
    features = features_of(result.output)
    assert features["names"] == ("no name in common (child b, child c)", -10.0)
    assert features["area"][0] == "national record anonymous (area withheld)"
    assert "decision: not proposed:" in result.output and "below the review band (6)" in result.output


def test_two_national_entries_are_explained_by_the_dedupe(config: Path) -> None:
    sync(config)
    result = reposync(config, "links", "explain", "nspcc-2013:derbyshire-bds12", "nspcc-library:NC90026")
    assert result.exit_code == 0, result.output
    assert "dedupe: the same review: same case, dates overlap; in the catalogue they share review" in result.output
    anonymous = reposync(config, "links", "explain", "nspcc-2014:nspcc-on-behalf-of-unnamed-lscb-child-c",
                         "nspcc-library:NC90023")
    assert "dedupe: not joined directly: anonymous, common pseudonym" in anonymous.output
    assert "they are different reviews" in anonymous.output


def test_a_pair_kept_apart_by_the_rest_of_its_reviews_says_so(config: Path) -> None:
    sync(config)
    db = open_db(config.parent.parent / "catalogue.db")
    stories = {  # synthetic: one anonymous name on three listings in three years, two of them described
        "nspcc-library:SYN901": ("2021", "A girl of seven neglected and missing most of a school year while her "
                                         "mother was in a psychiatric hospital and she lived with a relative."),
        "nspcc-recent:anonymous-lily-and-ava": ("2022", "Local child safeguarding practice review, published "
                                                        "anonymously."),
        "nspcc-monthly:anonymous-lily-and-ava": ("2023", "Sisters sexually exploited by a group of adults after a "
                                                         "placement out of the area; missing episodes unreported."),
    }
    db.execute("BEGIN")
    for id_, (year, summary) in stories.items():
        db["entries"].insert({
            "id": id_, "source": id_.split(":")[0], "kind": "national", "title": "Lily and Ava",
            "title_key": "lily and ava", "published": year, "published_precision": "year",
            "published_start": f"{year}-01-01", "published_end": f"{year}-12-31", "published_year": int(year),
            "pseudonyms": '["ava", "lily"]', "review_type": "cspr", "status": "listed", "summary": summary})
    db.execute("COMMIT")
    db.close()
    sync(config)
    db = open_db(config.parent.parent / "catalogue.db")
    review = {r["id"]: r["review_id"] for r in db.query("SELECT id, review_id FROM entries WHERE id IN (?, ?, ?)",
                                                         list(stories))}
    db.close()
    # 2021 and 2022 a listing's lag apart: one review; 2023 tells another story than 2021: a review of its own
    assert None not in review.values()
    assert review["nspcc-library:SYN901"] == review["nspcc-recent:anonymous-lily-and-ava"]
    assert review["nspcc-monthly:anonymous-lily-and-ava"] != review["nspcc-recent:anonymous-lily-and-ava"]
    result = reposync(config, "links", "explain", "nspcc-recent:anonymous-lily-and-ava",
                      "nspcc-monthly:anonymous-lily-and-ava")
    assert result.exit_code == 0, result.output
    assert "dedupe: the same review: distinctive case, dates a listing's lag apart" in result.output
    assert "they are different reviews (kept apart by what the rest of each review says" in result.output

def test_unknown_ids_and_two_local_entries_are_usage_errors(config: Path) -> None:
    sync(config)
    result = reposync(config, "links", "explain", "york:nobody", BABY_A[1])
    assert result.exit_code == 2 and "no entry with id 'york:nobody' in" in result.output
    result = reposync(config, "links", "explain", "york:nobody", "york:no-one")
    assert result.exit_code == 2 and "no entries with id 'york:nobody' and 'york:no-one' in" in result.output
    result = reposync(config, "links", "explain", "york:baby-a", "york:child-b")
    assert result.exit_code == 2 and "both local" in result.output


def test_migration_m005_explains_the_links_of_an_older_catalogue(tmp_path: Path) -> None:
    """A catalogue made before m005: its links gain the explanation column, filled from their features."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m005_link_explain")  # as an older reposync left it
    assert "explanation" not in db["links"].columns_dict
    features = {"area": "same", "date": "overlap", "date_gap_days": 0, "names_shared": ["child a"],
                "names_bits": 4.0, "title_similarity": 1.0, "review_types": ["scr", "scr"],
                "points": {"area": 4.0, "date": 3.0, "names": 2.0, "title": 1.5, "type": 1.0}}
    db["entries"].insert_all([{"id": "l:1", "kind": "local"}, {"id": "n:1", "kind": "national"}])
    db["links"].insert({"entry_a": "l:1", "entry_b": "n:1", "score": 11.5, "features": json.dumps(features),
                        "decision": "review"})
    db.conn.close()
    db = open_db(path)
    row = db.execute("SELECT explanation FROM links").fetchone()
    assert row[0] == explain.text(11.5, features, "review")
    assert "area same area +4.00" in row[0] and "summary no text beyond boilerplate on one side +0.00" in row[0]
    assert "explanation" in {c.name for c in db["review_queue"].columns}
    db.close()
