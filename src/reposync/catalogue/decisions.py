"""People's link decisions: kept in the catalogue's links table and in ``config/decisions.toml``.

The file is what survives a rebuild from snapshots: every sync reads it and applies its decisions,
and writes back the merge of the file and the catalogue (a decision made in Datasette, straight
in the links table, reaches the file this way). Per pair the newest ``decided_at`` wins. The file
is written atomically, under a lock of its own, and only when its content would change.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
import tomli_w

from .. import catalogue, link
from ..archive.snapshots import atomic_write, utc_now
from ..errors import EXIT_USAGE, ConfigError, ReposyncError
from ..link.explain import text as explanation_text

HEADER = """\
# Link decisions people made with `reposync links accept|reject` (or in Datasette); `reposync links undo`
# takes one back out.
# reposync rewrites this file after each decision and each sync; every sync and every rebuild
# from snapshots reads it, so no decision is lost. Per pair, the newest decided_at wins.
# local = the local entry id, national = the national entry id; the titles are for reading only;
# decided_by and decided_via say who decided and how (cli, datasette), where known.

"""


class DecisionError(ReposyncError):
    """A decision that cannot be recorded: unknown entry ids, or not a local-national pair."""

    exit_code = EXIT_USAGE


class NeedsForce(DecisionError):
    """An accept the evidence contradicts: recorded only with --force (the Datasette form: force = yes)."""

    def __init__(self, local: str, national: str, concerns: list[str]) -> None:
        self.local, self.national, self.concerns = local, national, concerns
        super().__init__(f"not accepted: {local} <-> {national} goes against the evidence (above); "
                         "to accept it anyway, add --force")


def load(path: Path) -> list[link.Decision]:
    """The decisions in the file ([] when there is none); a malformed file is a config error."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    items = data.get("decision", [])
    if not isinstance(items, list):
        raise ConfigError(path, "decision", "must be an array of tables ([[decision]])")
    decisions = []
    for number, item in enumerate(items, 1):
        where = f"decision[{number}]"
        if not isinstance(item, dict):
            raise ConfigError(path, where, "must be a table")
        for key in ("local", "national", "decision", "decided_at"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(path, f"{where}.{key}", "is required (text)")
        if item["decision"] not in link.PERSON_DECISIONS:
            raise ConfigError(path, f"{where}.decision", f"must be accepted or rejected, got {item['decision']!r}")
        who = {key: item[key] if isinstance(item.get(key), str) and item[key] else None
               for key in ("decided_by", "decided_via")}  # optional: files written before they were kept
        decisions.append(catalogue.PersonDecision(item["local"], item["national"], item["decision"],
                                                  item["decided_at"], **who))
    return decisions


def dumps(decisions: Iterable[link.Decision], titles: dict[str, str] | None = None) -> str:
    titles = titles or {}
    items: list[dict[str, Any]] = []
    for d in sorted(decisions, key=lambda d: (d.entry_a, d.entry_b)):
        item: dict[str, Any] = {"local": d.entry_a, "national": d.entry_b, "decision": d.decision,
                                "decided_at": d.decided_at}
        for key in ("decided_by", "decided_via"):
            if getattr(d, key, None):
                item[key] = getattr(d, key)
        for key, entry_id in (("local_title", d.entry_a), ("national_title", d.entry_b)):
            if titles.get(entry_id):
                item[key] = titles[entry_id]
        items.append(item)
    return HEADER + tomli_w.dumps({"decision": items})


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """One writer of the decisions file at a time (a sync's export, a person's decision)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def export(db: sqlite_utils.Database, path: Path) -> int:
    """Merge the catalogue's decisions into the file (newest wins); returns how many the file holds.

    Decisions on entries this catalogue does not hold stay in the file untouched.
    """
    with _file_lock(path):
        merged = link.merge_decisions(catalogue.person_decisions(db), load(path))
        text = dumps(merged.values(), _titles(db, merged))
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if merged and text != old:  # no decisions, no file: a sync without any writes nothing
            atomic_write(path, text.encode("utf-8"))
        return len(merged)


def _titles(db: sqlite_utils.Database, pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The titles of the entries the pairs name, for reading in the file."""
    titles: dict[str, str] = {}
    ids = sorted({i for pair in pairs for i in pair})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        titles.update({r["id"]: r["title"] for r in db.query(
            f"SELECT id, title FROM entries WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)})
    return titles


def pair_entries(db: sqlite_utils.Database, first: str, second: str,
                 columns: str = "id, kind") -> dict[str, dict]:
    """The two entries a person names (for a decision or an explanation), by id; DecisionError naming the
    ids the catalogue does not have."""
    found = {r["id"]: dict(r) for r in db.query(f"SELECT {columns} FROM entries WHERE id IN (?, ?)", [first, second])}
    unknown = [i for i in dict.fromkeys((first, second)) if i not in found]
    if unknown:
        ids = " and ".join(map(repr, unknown))
        raise DecisionError(f"no {'entry' if len(unknown) == 1 else 'entries'} with id {ids} in the catalogue "
                            "(ids are in `reposync links review` or the entries table)")
    return found


def _local_national(db: sqlite_utils.Database, first: str, second: str) -> tuple[str, str]:
    """The pair a person names (in either order) as (local, national); DecisionError when it is not one."""
    kinds = {id: row["kind"] for id, row in pair_entries(db, first, second).items()}
    if {kinds[first], kinds[second]} != {"local", "national"}:
        raise DecisionError(f"a link joins a local entry and a national entry; {first!r} is {kinds[first]} "
                            f"and {second!r} is {kinds[second]}")
    return (first, second) if kinds[first] == "local" else (second, first)


def accept_concerns(db: sqlite_utils.Database, local: str, national: str, score: float) -> list[str]:
    """Why accepting this pair goes against the evidence, and what it would undo ([] when nothing does).

    Two things make an accept need --force: a score below the review band, and a national review already
    linked from the local entry's page (the next sync would take that link away, as issue 24 saw for York).
    """
    concerns = []
    if score < link.REVIEW:
        concerns.append(f"its score {score:.2f} is below the review band ({link.REVIEW:g}): the evidence says "
                        "they are not the same review")
    taken = list(db.query(
        """SELECT o.entry_a, o.entry_b, o.decision, a.source FROM links o
           JOIN entries a ON a.id = o.entry_a JOIN entries b ON b.id = o.entry_b
           JOIN entries me ON me.id = ? JOIN entries them ON them.id = ?
           WHERE o.decision IN ('auto', 'accepted') AND a.source = me.source AND a.id <> me.id
             AND b.review_id = them.review_id ORDER BY o.entry_a, o.entry_b""", [local, national]))
    if not taken:
        return concerns
    concerns.append(f"its national review is already linked from {taken[0]['source']}'s page")
    own = list(db.query(
        """SELECT o.entry_a, o.entry_b, o.decision FROM links o JOIN entries b ON b.id = o.entry_b
           JOIN entries them ON them.id = ? WHERE o.entry_a = ? AND o.decision IN ('auto', 'accepted')
             AND b.review_id IS NOT them.review_id ORDER BY o.entry_b""", [national, local]))
    for row in taken + own:
        concerns.append(f"accepting it undoes {row['entry_a']} <-> {row['entry_b']} ({row['decision']}): "
                        "the next sync unlinks it")
    return concerns


def record(db: sqlite_utils.Database, path: Path, first: str, second: str, decision: str,
           force: bool = False) -> link.Decision:
    """Record a person's decision on a pair (given in either order) in the catalogue, then export.

    An accept that ``accept_concerns`` finds against the evidence raises NeedsForce unless ``force``.
    """
    if decision not in link.PERSON_DECISIONS:
        raise DecisionError(f"a decision is accepted or rejected, not {decision!r}")
    local, national = _local_national(db, first, second)
    rows = list(db.query(catalogue.LINK_ROWS_SQL))
    score, features = link.score_pair(rows, local, national)
    if decision == "accepted" and not force:
        concerns = accept_concerns(db, local, national, score)
        if concerns:
            raise NeedsForce(local, national, concerns)
    features["decided_by"] = "person"
    now = utc_now()
    who = _user()
    db.execute("BEGIN IMMEDIATE")
    try:
        # The trigger on links logs the decision with who, how and when (link_decisions).
        db.execute(
            """
            INSERT INTO links (entry_a, entry_b, score, features, decision, decided_at, explanation, decided_by,
                               decided_via)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'cli')
            ON CONFLICT(entry_a, entry_b) DO UPDATE SET decision = excluded.decision,
                decided_at = excluded.decided_at, explanation = excluded.explanation,
                decided_by = excluded.decided_by, decided_via = excluded.decided_via
            """,
            [local, national, score, json.dumps(features, sort_keys=True), decision, now,
             explanation_text(score, features, decision), who],
        )
        db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    export(db, path)
    return catalogue.PersonDecision(local, national, decision, now, who, "cli")


def undo(db: sqlite_utils.Database, path: Path, first: str, second: str) -> str:
    """Take a person's decision on a pair back out of the catalogue and the file, so the evidence decides
    again at the next sync; logged in link_decisions as ``undone``. Returns the decision undone."""
    local, national = _local_national(db, first, second)
    with _file_lock(path):
        row = db.execute("SELECT decision FROM links WHERE entry_a = ? AND entry_b = ?", [local, national]).fetchone()
        in_file = {d.pair: d for d in load(path)}
        if (row is None or row[0] not in link.PERSON_DECISIONS) and (local, national) not in in_file:
            raise DecisionError(f"no decision on {local} <-> {national} to undo (`reposync links explain` says "
                                "what the evidence decides)")
        previous = row[0] if row is not None and row[0] in link.PERSON_DECISIONS else in_file[(local, national)].decision
        db.execute("BEGIN IMMEDIATE")
        try:
            # The row goes: the next sync proposes the pair again, or not, from the evidence alone.
            db.execute("DELETE FROM links WHERE entry_a = ? AND entry_b = ? AND decision IN ('accepted', 'rejected')",
                       [local, national])
            db.execute("INSERT INTO link_decisions (entry_a, entry_b, decision, previous, decided_at, decided_by, "
                       "decided_via) VALUES (?, ?, 'undone', ?, ?, ?, 'cli')",
                       [local, national, previous, utc_now(), _user()])
            db.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        if (local, national) in in_file:
            del in_file[(local, national)]
            atomic_write(path, dumps(in_file.values(), _titles(db, in_file)).encode("utf-8"))
    return previous


def _user() -> str | None:
    """Who runs the command: the login name, as the system knows it (None when it cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return None


# --- what a person looks at ------------------------------------------------------------------------------


def review_queue(db: sqlite_utils.Database, partnership: str | None = None) -> list[dict[str, Any]]:
    """The review queue (the ``review_queue`` view), optionally for one local source."""
    sql = "SELECT * FROM review_queue"
    params: list[Any] = []
    if partnership:
        sql += " WHERE partnership = ?"
        params.append(partnership)
    rows = []
    for row in db.query(sql, params):
        row = dict(row)
        row["features"] = json.loads(row["features"]) if row.get("features") else {}
        rows.append(row)
    return rows


def unmatched(db: sqlite_utils.Database, partnerships: Iterable[str]) -> dict[str, dict[str, list[dict]]]:
    """Per local source: its reviews with no national record, and its area's national reviews it lacks."""
    out: dict[str, dict[str, list[dict]]] = {}
    for source in partnerships:
        # Oldest first, undated last: the order of `completeness --area` and `pack`.
        out[source] = {
            "local_missing_from_national": list(db.query(
                "SELECT v.* FROM local_missing_from_national v JOIN entries e ON e.id = v.id "
                "WHERE v.partnership = ? ORDER BY e.published_start IS NULL, e.published_start, e.id", [source])),
            "national_missing_from_local": list(db.query(
                "SELECT * FROM national_missing_from_local WHERE partnership = ? "
                "ORDER BY published IS NULL, published, review_id", [source])),
        }
    return out


def explain(features: dict[str, Any]) -> str:
    """A link's features in a few words: why the machine proposes it."""
    parts = [f"area {features.get('area')}", f"dates {features.get('date')}"]
    if features.get("date_gap_days"):
        parts[-1] += f" ({features['date_gap_days']} days apart)"
    if features.get("names_shared"):
        parts.append(f"names {', '.join(features['names_shared'])} ({features.get('names_bits')} bits)")
    extra = features.get("names_local_only", []) + features.get("names_national_only", [])
    if extra:
        parts.append(f"unshared {', '.join(extra)}")
    parts.append(f"title {features.get('title_similarity')}")
    return "; ".join(parts)
