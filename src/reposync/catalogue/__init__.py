"""The SQLite catalogue: schema and migrations, applying a run atomically, history.

One connection per process, in autocommit mode, so transactions are ours:
``apply_run`` writes a whole sync inside one ``BEGIN IMMEDIATE`` ... ``COMMIT``
(sqlite-utils nests its own work as savepoints inside it). WAL lets Datasette
read while a sync writes.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import sqlite3
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..link import explain
from .. import link, settings
from ..errors import EXIT_DATA, CatalogueUnreadable
from ..archive.snapshots import utc_now

from ..archive.spool import Spool

migrations = Migrations("reposync")

# Fields whose change makes a new version of an entry (git-history style).
CONTENT_FIELDS = (
    "title",
    "heading",
    "summary",
    "published",
    "published_precision",
    "date_text",
    "area_text",
    "area",
    "la_codes",
    "pseudonyms",
    "review_type",
    "report_url",
    "copy_number",
    "keywords",
    "note",
    "details",
)
JSON_FIELDS = ("la_codes", "pseudonyms", "keywords", "details")
DEPARTURES = ("rolled-off", "expired", "delisted")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "mode": str,
            "status": str,
            "exit_code": int,
            "sources": str,  # JSON: per source, entries seen, complete, error
            "counts": str,  # JSON: changes by kind
        },
        pk="id",
    )
    db["reviews"].create(
        {
            "id": int,
            "title": str,
            "area": str,
            "la_codes": str,
            "pseudonyms": str,
            "published": str,
            "published_year": int,
            "review_type": str,
            "local_entries": int,
            "national_entries": int,
        },
        pk="id",
    )
    db["entries"].create(
        {
            "id": str,
            "source": str,
            "kind": str,
            "title": str,
            "title_key": str,
            "heading": str,
            "summary": str,
            "published": str,
            "published_precision": str,
            "published_start": str,
            "published_end": str,
            "published_year": int,
            "date_text": str,
            "area_text": str,
            "area": str,
            "la_codes": str,
            "pseudonyms": str,
            "review_type": str,
            "url": str,
            "report_url": str,
            "page_url": str,
            "copy_number": str,
            "keywords": str,
            "note": str,
            "details": str,
            "review_id": int,
            "status": str,
            "first_seen_run": int,
            "last_seen_run": int,
            "content_hash": str,
            "version": int,
        },
        pk="id",
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["entries"].create_index(["source", "status"])
    db["entries"].create_index(["review_id"])
    db["entries"].create_index(["published_year"])
    db["entries"].enable_fts(["title", "summary"], create_triggers=True, tokenize="porter")
    db["entry_versions"].create(
        {"entry_id": str, "version": int, "run_id": int, "content_hash": str, "changed": str, "fields": str},
        pk=("entry_id", "version"),
        foreign_keys=[("entry_id", "entries", "id"), ("run_id", "runs", "id")],
    )
    db["links"].create(
        {
            "entry_a": str,
            "entry_b": str,
            "score": float,
            "features": str,
            "decision": str,
            "decided_at": str,
            "first_run": int,
        },
        pk=("entry_a", "entry_b"),
        foreign_keys=[("entry_a", "entries", "id"), ("entry_b", "entries", "id")],
    )
    db["changes"].create(
        {
            "id": int,
            "run_id": int,
            "source": str,
            "entry_id": str,
            "kind": str,
            "field": str,
            "old": str,
            "new": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("entry_id", "entries", "id")],
    )
    db["changes"].create_index(["run_id"])
    db["changes"].create_index(["entry_id"])


# Two entries' ONS code sets share a code (JSON arrays of text).
_SHARES_CODE = (
    "EXISTS (SELECT 1 FROM json_each({a}) ca JOIN json_each({b}) cb ON ca.value = cb.value)"
)


@migrations()
def m002_link_views(db: sqlite_utils.Database) -> None:
    """Views for Datasette: the review queue and what each side is missing."""
    db.create_view(
        "review_queue",
        """
        SELECT a.source AS partnership, l.entry_a AS local_id, a.title AS local_title,
               a.published AS local_published, l.entry_b AS national_id, b.source AS national_source,
               b.title AS national_title, coalesce(b.area, 'Anonymous') AS national_area,
               b.published AS national_published, b.review_id AS national_review_id,
               b.la_codes = '[]' AND b.area IS NULL AS anonymous,
               l.score, l.features, l.first_run
        FROM links l
        JOIN entries a ON a.id = l.entry_a
        JOIN entries b ON b.id = l.entry_b
        WHERE l.decision = 'review'
        ORDER BY a.source, anonymous, l.score DESC, l.entry_a, l.entry_b
        """,
    )
    db.create_view(
        "local_missing_from_national",
        """
        SELECT e.source AS partnership, e.area, e.id, e.title, e.published, e.review_type, e.url, e.status,
               (SELECT count(*) FROM links q WHERE q.entry_a = e.id AND q.decision = 'review') AS in_review_queue
        FROM entries e
        WHERE e.kind = 'local'
          AND NOT EXISTS (SELECT 1 FROM links k WHERE k.entry_a = e.id AND k.decision IN ('auto', 'accepted'))
        ORDER BY e.source, e.published_start, e.id
        """,
    )
    db.create_view(
        "national_missing_from_local",
        f"""
        WITH partnerships AS (
            SELECT source, max(area) AS area, max(la_codes) AS la_codes FROM entries
            WHERE kind = 'local' GROUP BY source
        )
        SELECT p.source AS partnership, p.area AS partnership_area, r.id AS review_id, r.title, r.area,
               r.published, r.review_type, group_concat(n.id, ' ') AS national_ids,
               (SELECT count(*) FROM links q JOIN entries qa ON qa.id = q.entry_a
                 WHERE qa.source = p.source AND q.decision = 'review'
                   AND q.entry_b IN (SELECT id FROM entries WHERE review_id = r.id)) AS in_review_queue
        FROM partnerships p
        JOIN entries n ON n.kind = 'national' AND {_SHARES_CODE.format(a="n.la_codes", b="p.la_codes")}
        JOIN reviews r ON r.id = n.review_id
        WHERE NOT EXISTS (SELECT 1 FROM entries x WHERE x.review_id = r.id AND x.source = p.source)
        GROUP BY p.source, r.id
        ORDER BY p.source, r.published, r.id
        """,
    )


@migrations()
def m003_sources_layout(db: sqlite_utils.Database) -> None:
    """Per source, the layout of its last good walk, and a changed one whose departures are held.

    A new table: an existing catalogue gains it empty, and a source's first walk after it records its layout.
    """
    db["sources_layout"].create(
        {
            "source": str,
            "layout": str,  # fingerprint of the last good walk: how its entries were laid out, never text
            "layout_run": int,  # the run of that walk
            "held_layout": str,  # a changed layout whose departures are held until a person accepts it
            "held_run": int,  # the first run that held them
            "held_entries": int,  # how many the last holding run held
            "accepted_layout": str,  # the held layout a person accepted (`reposync sources accept-layout`)
            "accepted_at": str,
        },
        pk="source",
        if_not_exists=True,
    )


@migrations()
def m004_completeness(db: sqlite_utils.Database) -> None:
    """Views for completeness and lag per partnership (reposync completeness, pack, Datasette)."""
    from ..reports import completeness

    completeness.create_views(db)


@migrations()
def m005_link_explain(db: sqlite_utils.Database) -> None:
    """links.explanation: each feature, its value and points, and the decision, in words (reposync.explain);
    the review_queue view shows it. Rows already there are explained from their stored features."""
    from ..link import explain

    if "explanation" not in db["links"].columns_dict:
        db["links"].add_column("explanation", str)
    for row in list(db.query("SELECT entry_a, entry_b, score, features, decision FROM links")):
        features = json.loads(row["features"]) if row["features"] else {}
        if "points" in features:
            db.execute("UPDATE links SET explanation = ? WHERE entry_a = ? AND entry_b = ?",
                       [explain.text(row["score"] or 0.0, features, row["decision"]), row["entry_a"], row["entry_b"]])
    db.execute("DROP VIEW IF EXISTS review_queue")
    db.create_view("review_queue", REVIEW_QUEUE_SQL)


@migrations()
def m006_link_health(db: sqlite_utils.Database) -> None:
    """Report-link health per entry (``linkcheck.py``): added columns, so an existing catalogue keeps every row."""
    columns = db["entries"].columns_dict
    for name in ("link_status", "link_detail", "link_url", "link_checked_at"):
        if name not in columns:
            db["entries"].add_column(name, str)
    db["entries"].create_index(["link_status"], if_not_exists=True)


@migrations()
def m007_decision_history(db: sqlite_utils.Database) -> None:
    """History that tells the truth (issue 26): a person's link decision is logged on its own, with who made
    it, how and when (``link_decisions``, filled by triggers on ``links`` whoever writes it: the CLI, a
    Datasette query, a sync applying decisions.toml), and is never a change a sync made; ``links`` keeps the
    decision as of the last sync apart (``synced_decision``); review ids have a high-water mark
    (``id_sequences``) so an id a deleted review had is never given again."""
    columns = db["links"].columns_dict
    for name in ("decided_by", "decided_via", "synced_decision"):
        if name not in columns:
            db["links"].add_column(name, str)
    db.execute("UPDATE links SET synced_decision = decision WHERE synced_decision IS NULL")
    db["link_decisions"].create(
        {"id": int, "entry_a": str, "entry_b": str, "decision": str, "previous": str, "decided_at": str,
         "decided_by": str, "decided_via": str},
        pk="id", if_not_exists=True,
    )
    db["link_decisions"].create_index(["entry_a", "entry_b"], if_not_exists=True)
    # Decisions made before the log was kept: when, but not who nor how.
    db.execute("INSERT INTO link_decisions (entry_a, entry_b, decision, decided_at) "
               "SELECT entry_a, entry_b, decision, decided_at FROM links WHERE decision IN ('accepted', 'rejected') "
               "ORDER BY decided_at, entry_a, entry_b")
    for statement in DECISION_TRIGGERS:
        db.execute(statement)
    db["id_sequences"].create({"name": str, "last_id": int}, pk="name", if_not_exists=True)
    db.execute("INSERT OR IGNORE INTO id_sequences (name, last_id) SELECT 'reviews', max("
               "(SELECT coalesce(max(id), 0) FROM reviews), (SELECT coalesce(max(review_id), 0) FROM entries))")


_LOG_DECISION = """
    INSERT INTO link_decisions (entry_a, entry_b, decision, previous, decided_at, decided_by, decided_via)
    VALUES (NEW.entry_a, NEW.entry_b, NEW.decision, {previous},
            coalesce(NEW.decided_at, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')), NEW.decided_by, NEW.decided_via);
"""
# Every person's decision reaches the log, whoever writes it to links. A row the sync rewrites with the same
# decision and time logs nothing, nor does the sync stamping a time on a decision that lacked one.
DECISION_TRIGGERS = (
    f"""CREATE TRIGGER IF NOT EXISTS links_decision_inserted AFTER INSERT ON links
        WHEN NEW.decision IN ('accepted', 'rejected')
        BEGIN {_LOG_DECISION.format(previous="NULL")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS links_decision_updated AFTER UPDATE OF decision, decided_at ON links
        WHEN NEW.decision IN ('accepted', 'rejected') AND (NEW.decision IS NOT OLD.decision
             OR (NEW.decided_at IS NOT OLD.decided_at AND OLD.decided_at IS NOT NULL))
        BEGIN {_LOG_DECISION.format(previous="OLD.decision")} END""",
)


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if need be) the catalogue, migrated, in WAL mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=settings.BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {settings.BUSY_TIMEOUT_MS}")
    db = sqlite_utils.Database(conn)
    try:
        if db.journal_mode != "wal":
            db.enable_wal()
    except sqlite3.OperationalError:
        raise  # busy or locked: not damage
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed": nothing here can mend it
        conn.close()
        raise CatalogueUnreadable(path, str(exc)) from None
    conn.execute("PRAGMA foreign_keys = ON")
    migrations.apply(db)
    from ..reports.completeness import refresh_views

    refresh_views(db)  # views of m004 from an earlier version of it are re-created (they hold no data)
    return db


def content_hash(row: dict[str, Any]) -> str:
    content = {name: row.get(name) for name in CONTENT_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _stored(value: Any) -> Any:
    """Lists and dicts are kept as JSON text, as sqlite-utils would."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _loaded(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in JSON_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = json.loads(out[name])
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass
class SourceOutcome:
    """What one source's walk gave: entries (normalised rows), or an error."""

    source: str
    departure: str  # the status an entry takes when a complete walk no longer finds it
    entries: list[dict[str, Any]] | Spool = field(default_factory=list)  # a walk's are a Spool
    complete: bool = False
    error: str | None = None
    error_url: str | None = None
    exit_code: int = 0
    pages: int = 0
    walk: str = "full"  # or "incremental": stopped at a run of known, unchanged records (never complete)
    newest_first: bool | None = None  # the walk found publication years non-increasing (None: not walked)
    layout: str | None = None  # fingerprint of how the walk's pages lay out their entries (None: none given)
    held: int = 0  # departures held because the layout changed (set when the run is applied)
    cut_short: bool = False  # the walk ended before the end its listing declares (``error`` says where)

    def as_json(self) -> dict[str, Any]:
        return {
            "entries": len(self.entries),
            "pages": self.pages,
            "complete": self.complete,
            "error": self.error,
            "exit_code": self.exit_code,  # the source's own (doctor: a 65 beside another source's 75)
            "url": self.error_url,
            "walk": self.walk,
            "newest_first": self.newest_first,
            "layout": self.layout,
            "held": self.held,
            "cut_short": self.cut_short,
        }


def start_run(db: sqlite_utils.Database, mode: str) -> int:
    """Record a run as started. Call it holding the sync lock: any run still
    'running' then is one whose process died."""
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE runs SET status = 'crashed' WHERE status = 'running'")
    cursor = db.execute(
        "INSERT INTO runs (started_at, mode, status) VALUES (?, ?, 'running')", [utc_now(), mode]
    )
    db.execute("COMMIT")
    return int(cursor.lastrowid)


def _disagree(old: Sequence[Any], entry: dict[str, Any]) -> bool:
    """Whether an entry is surely not the row ``old`` (published_start, published_end, report_url): both have a
    date and the two never meet, and both have a report link and the two differ. A finer date of the same
    review, or a moved report alone, is the same entry."""
    old_start, old_end, old_report = old
    start, end, report = entry.get("published_start"), entry.get("published_end"), entry.get("report_url")
    dates_apart = bool(old_start and old_end and start and end) and (end < old_start or start > old_end)
    reports_apart = bool(old_report and report) and old_report != report
    return dates_apart and reports_apart


class DuplicateEntryId(RuntimeError):
    """Two entries of one walk with one id: one would silently replace the other (a bug, exit 1)."""


class _Writer:
    """The writes of one run, inside the run's transaction."""

    def __init__(self, db: sqlite_utils.Database, run_id: int) -> None:
        self.db = db
        self.run_id = run_id
        self.counts: dict[str, int] = {}
        self.changed: set[str] = set()  # entries counted as changed this run

    def _count_changed(self, entry_id: str) -> None:
        if entry_id not in self.changed:
            self.changed.add(entry_id)
            self.counts["changed"] = self.counts.get("changed", 0) + 1

    def change(self, source: str | None, entry_id: str | None, kind: str, field: str | None = None,
               old: Any = None, new: Any = None) -> None:
        self.db.execute(
            "INSERT INTO changes (run_id, source, entry_id, kind, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [self.run_id, source, entry_id, kind, field, _text(old), _text(new)],
        )
        if field is None or kind != "changed":
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def version(self, entry_id: str, version: int, digest: str, changed: list[str], row: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO entry_versions (entry_id, version, run_id, content_hash, changed, fields) VALUES (?, ?, ?, ?, ?, ?)",
            [entry_id, version, self.run_id, digest, json.dumps(changed),
             json.dumps({name: row.get(name) for name in CONTENT_FIELDS}, ensure_ascii=False)],
        )

    def apply_source(self, outcome: SourceOutcome) -> None:
        # What the catalogue holds of the source, compactly (150,000 whole rows would not fit in memory):
        # id -> content hash of a listed entry ("" for one in another status); report link -> id.
        # A whole row is read only for an entry that changed or comes back.
        known: dict[str, str] = {}
        by_report: dict[str, str] = {}
        for entry_id, digest, status, report_url in self.db.execute(
                "SELECT id, content_hash, status, report_url FROM entries WHERE source = ?", [outcome.source]):
            known[entry_id] = (digest or "-") if status == "listed" else ""
            if report_url:
                by_report[report_url] = entry_id
        seen: set[str] = set()
        own: set[str] | None = None  # the walk's own ids, read once, only when an id may be carried over
        for entry in outcome.entries:
            entry = dict(entry)
            # A corrected title changes the derived id; the report link says it is the same entry
            # (unless another entry of this walk has that id of its own: then both are kept as they are).
            if entry["id"] not in known and entry.get("report_url") in by_report:
                old_id = by_report[entry["report_url"]]
                if own is None:
                    own = {row["id"] for row in outcome.entries}
                if old_id not in seen and old_id not in own:
                    entry["id"] = old_id
            # A title an entry that left had ("Baby A" of 2027 after the 2025 one rolled off) is a new entry
            # when its date and its report both disagree with that row's: it takes an id of its own.
            elif known.get(entry["id"]) == "" and not entry.get("copy_number"):
                if own is None:
                    own = {row["id"] for row in outcome.entries}
                entry["id"] = self._new_under_old_title(entry, known, seen | own)
            if entry["id"] in seen:
                if entry.get("copy_number"):
                    continue  # one library record shown twice on a walk (the catalogue shifted under it)
                # normalise.unique_ids makes a walk's ids unique: this is a bug, and the run lands nothing.
                raise DuplicateEntryId(f"{outcome.source}: two entries of one walk have the id {entry['id']!r}")
            seen.add(entry["id"])
            digest = content_hash(entry)
            state = known.get(entry["id"])
            if state is None:
                self._insert(outcome.source, entry, digest)
            elif state == digest:  # listed and unchanged: seen again, nothing else
                self.db.execute("UPDATE entries SET last_seen_run = ? WHERE id = ?", [self.run_id, entry["id"]])
            else:
                old = _loaded(next(self.db.query("SELECT * FROM entries WHERE id = ?", [entry["id"]])))
                self._update(outcome.source, old, entry, digest)
        if outcome.complete:
            departing = [entry_id for entry_id, state in known.items() if entry_id not in seen and state]  # listed
            if self._hold(outcome, departing):
                for entry_id in departing:  # still listed: nothing is marked on this walk
                    self.change(outcome.source, entry_id, "held", "status", "listed", outcome.departure)
                return
            for entry_id in departing:
                self.db.execute("UPDATE entries SET status = ? WHERE id = ?", [outcome.departure, entry_id])
                self.change(outcome.source, entry_id, outcome.departure, "status", "listed", outcome.departure)

    def _new_under_old_title(self, entry: dict[str, Any], known: dict[str, str], taken: set[str]) -> str:
        """The id for an entry whose id is a departed entry's: that id when it is the same entry coming back,
        else the id with ``@`` and its date, as ``normalise.unique_ids`` would give two such entries of one page
        (so a rebuild from the snapshots gives the same ids), and a count should that be taken too."""
        base = entry["id"]
        old = self.db.execute("SELECT published_start, published_end, report_url FROM entries WHERE id = ?",
                              [base]).fetchone()
        if not _disagree(old, entry):
            return base
        wanted = f"{base}@{entry.get('published')}"
        candidate, number = wanted, 1
        while candidate in taken:
            number += 1
            candidate = f"{wanted}-{number}"
        return candidate

    def _hold(self, outcome: SourceOutcome, departing: list[str]) -> bool:
        """Whether a complete walk's departures wait for a person: its layout is not the last good walk's.

        A redesign read by heuristics can lose entries that are still on the page; they would be marked
        gone. Additions and changes are applied all the same. A new layout becomes the good one when nothing
        departs, or once a person has accepted it (``accept_layout``). A walk with no fingerprint (a
        parser that gives none) holds nothing and leaves the state as it was.
        """
        if outcome.layout is None:
            return False
        state = layout_state(self.db, outcome.source)
        good = state.get("layout")
        if good is not None and outcome.layout != good and departing and outcome.layout != state.get(
                "accepted_layout"):
            first = state.get("held_run") if state.get("held_layout") == outcome.layout else None
            self.db.execute(
                "INSERT INTO sources_layout (source, held_layout, held_run, held_entries) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(source) DO UPDATE SET held_layout = excluded.held_layout, "
                "held_run = excluded.held_run, held_entries = excluded.held_entries",
                [outcome.source, outcome.layout, first or self.run_id, len(departing)],
            )
            outcome.held = len(departing)
            outcome.exit_code = max(outcome.exit_code, EXIT_DATA)
            return True
        self.db.execute(
            "INSERT INTO sources_layout (source, layout, layout_run) VALUES (?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET layout = excluded.layout, layout_run = excluded.layout_run, "
            "held_layout = NULL, held_run = NULL, held_entries = NULL, accepted_layout = NULL, accepted_at = NULL",
            [outcome.source, outcome.layout, self.run_id],
        )
        return False

    def _insert(self, source: str, entry: dict[str, Any], digest: str) -> None:
        row = {name: _stored(value) for name, value in entry.items()}
        row.update(status="listed", first_seen_run=self.run_id, last_seen_run=self.run_id,
                   content_hash=digest, version=1)
        columns = ", ".join(row)
        self.db.execute(
            f"INSERT INTO entries ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
        )
        self.version(entry["id"], 1, digest, list(CONTENT_FIELDS), entry)
        self.change(source, entry["id"], "added", None, None, entry.get("title"))

    def _update(self, source: str, old: dict[str, Any], entry: dict[str, Any], digest: str) -> None:
        updates: dict[str, Any] = {"last_seen_run": self.run_id}
        if old["status"] != "listed":
            updates["status"] = "listed"
            self.change(source, entry["id"], "reappeared", "status", old["status"], "listed")
        if old["content_hash"] != digest:
            changed = [name for name in CONTENT_FIELDS if old.get(name) != entry.get(name)]
            for name in changed:
                self.change(source, entry["id"], "changed", name, old.get(name), entry.get(name))
            self._count_changed(entry["id"])
            version = (old.get("version") or 1) + 1
            updates.update({name: _stored(value) for name, value in entry.items() if name != "id"})
            updates.update(content_hash=digest, version=version)
            self.version(entry["id"], version, digest, changed, entry)
        assignments = ", ".join(f"{name} = ?" for name in updates)
        self.db.execute(f"UPDATE entries SET {assignments} WHERE id = ?", [*updates.values(), entry["id"]])

    def relink(self, decisions: Iterable[link.Decision] = ()) -> None:
        """Regroup every entry into reviews and refresh the links, keeping every person's decision.

        ``decisions`` (from decisions.toml) are merged with those already in the links table (set by
        ``reposync links`` or in Datasette): per pair, the newest ``decided_at`` wins.
        """
        release_memory()  # the walk's and the entry writes' freed memory, before the linker's records
        merged = link.merge_decisions(person_decisions(self.db, stamp=True), decisions)
        # rows read from SQL in passes, one area's national records held at a time
        linkage = link.link_all(LinkRows(self.db), merged.values())
        # Past the highest id ever given, not just the highest there is: a deleted review's id is never reused.
        next_id = self.db.execute(
            "SELECT max((SELECT coalesce(max(id), 0) FROM reviews), "
            "(SELECT coalesce(max(last_id), 0) FROM id_sequences WHERE name = 'reviews')) + 1").fetchone()[0]
        # Each entry's review id now, read from the catalogue when asked: not a dict of every entry beside
        # the linker's groups (the review ids are not changed until every group has its id).
        assigned = link.assign_review_ids(linkage.groups, ReviewIds(self.db), next_id)
        self.db.conn.executemany("UPDATE entries SET review_id = ? WHERE id = ? AND review_id IS NOT ?",
                                 ((review_id, entry_id, review_id) for entry_id, review_id in assigned.items()))
        del assigned
        self.db.execute(
            "INSERT INTO id_sequences (name, last_id) VALUES ('reviews', (SELECT coalesce(max(review_id), 0) "
            "FROM entries)) ON CONFLICT(name) DO UPDATE SET last_id = max(last_id, excluded.last_id)")
        self._write_reviews()
        self._write_links(linkage.links, merged)

    def _write_reviews(self) -> None:
        # Reviews are derived from their entries: rebuild the rows, keeping ids.
        self.db.execute("DELETE FROM reviews WHERE id NOT IN (SELECT review_id FROM entries WHERE review_id IS NOT NULL)")
        self.db.execute(
            """
            INSERT INTO reviews (id, title, area, la_codes, pseudonyms, published, published_year, review_type,
                                 local_entries, national_entries)
            SELECT review_id,
                   -- a national title when there is one: it names the case the way the repository does
                   (SELECT e2.title FROM entries e2 WHERE e2.review_id = e.review_id
                     ORDER BY e2.kind = 'national' DESC, e2.published_start, e2.id LIMIT 1),
                   max(area), max(la_codes),
                   (SELECT e3.pseudonyms FROM entries e3 WHERE e3.review_id = e.review_id
                     ORDER BY json_array_length(e3.pseudonyms) DESC, e3.id LIMIT 1),
                   (SELECT e4.published FROM entries e4 WHERE e4.review_id = e.review_id
                     AND e4.published_start IS NOT NULL ORDER BY e4.published_start, e4.published_end LIMIT 1),
                   min(published_year),
                   (SELECT e5.review_type FROM entries e5 WHERE e5.review_type IS NOT NULL
                     AND e5.review_id = e.review_id ORDER BY e5.kind = 'national' DESC, e5.id LIMIT 1),
                   sum(kind = 'local'), sum(kind = 'national')
            FROM entries e WHERE review_id IS NOT NULL GROUP BY review_id
            ON CONFLICT(id) DO UPDATE SET title = excluded.title, area = excluded.area,
                la_codes = excluded.la_codes, pseudonyms = excluded.pseudonyms, published = excluded.published,
                published_year = excluded.published_year, review_type = excluded.review_type,
                local_entries = excluded.local_entries, national_entries = excluded.national_entries
            """
        )

    def _write_links(self, proposed: list[link.Link], decided: Mapping[tuple[str, str], link.Decision]) -> None:
        """Refresh the links; what a sync changed is compared with the links as people left them (a person's
        decision is in ``link_decisions``, not a change of the run), and per national review."""
        current = {(r["entry_a"], r["entry_b"]): r for r in self.db.query("SELECT * FROM links")}
        wanted = {(l.entry_a, l.entry_b): l for l in proposed}
        applied: dict[tuple[str, str], str] = {}  # people's decisions from decisions.toml this run applies
        for pair, row in current.items():
            # Only machine rows (auto, review) come and go; a person's decision stays.
            if row["decision"] not in link.PERSON_DECISIONS and pair not in wanted:
                self.db.execute("DELETE FROM links WHERE entry_a = ? AND entry_b = ?", list(pair))
        for pair, proposal in wanted.items():
            row = current.get(pair)
            features = json.dumps(proposal.features, sort_keys=True)
            explanation = explain.text(proposal.score, proposal.features, proposal.decision)
            by, via = (row["decided_by"], row["decided_via"]) if row is not None else (None, None)
            if proposal.decision in link.PERSON_DECISIONS and (row is None or (
                    row["decision"], row["decided_at"]) != (proposal.decision, proposal.decided_at)):
                made = decided.get(pair)  # a decision from decisions.toml, newer than the row's
                applied[pair] = proposal.decision
                by, via = getattr(made, "decided_by", None), getattr(made, "decided_via", None) or "decisions.toml"
            values = (proposal.score, features, proposal.decision, proposal.decided_at, explanation, by, via,
                      proposal.decision)
            if row is None:
                self.db.execute(
                    "INSERT INTO links (score, features, decision, decided_at, explanation, decided_by, "
                    "decided_via, synced_decision, entry_a, entry_b, first_run) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [*values, *pair, self.run_id],
                )
            elif tuple(row[k] for k in ("score", "features", "decision", "decided_at", "explanation", "decided_by",
                                        "decided_via", "synced_decision")) != values:
                self.db.execute(
                    "UPDATE links SET score = ?, features = ?, decision = ?, decided_at = ?, explanation = ?, "
                    "decided_by = ?, decided_via = ?, synced_decision = ? WHERE entry_a = ? AND entry_b = ?",
                    [*values, *pair],
                )
        self._log_links(current, wanted, applied)

    def _log_links(self, current: Mapping[tuple[str, str], Mapping[str, Any]],
                   wanted: Mapping[tuple[str, str], link.Link], applied: Mapping[tuple[str, str], str]) -> None:
        """``linked`` and ``unlinked`` per local entry and national review: a local entry that stays linked to
        the same review through a better record of it (the library's, dated to the day) is one ``changed``
        row (field ``link``), not an unlink and a link that did not happen. A person's decision the file brings
        (``applied``) counts as made before the run, as one made in the catalogue does."""
        as_left = {pair: row["decision"] for pair, row in current.items()} | dict(applied)
        before = [pair for pair, decision in as_left.items() if decision in LINKING]
        after = [pair for pair, proposal in wanted.items() if proposal.decision in LINKING]
        was_linked, now_linked = set(before), set(after)
        gone = [pair for pair in before if pair not in now_linked]
        new = [pair for pair in after if pair not in was_linked]
        if not gone and not new:
            return
        nationals = sorted({b for _, b in before + after})
        review_of: dict[str, Any] = {}
        for start in range(0, len(nationals), 500):
            chunk = nationals[start:start + 500]
            review_of.update(self.db.execute(
                f"SELECT id, review_id FROM entries WHERE id IN ({', '.join('?' * len(chunk))})", chunk).fetchall())

        def reviews(pairs: list[tuple[str, str]]) -> dict[str, set[Any]]:
            out: dict[str, set[Any]] = defaultdict(set)
            for a, b in pairs:
                out[a].add(review_of.get(b) or b)
            return out

        had, has = reviews(before), reviews(after)
        for local, national in gone:
            review = review_of.get(national) or national
            if review not in has[local]:
                self.change(None, local, "unlinked", "link", national, None)
                continue
            better = [b for a, b in new if a == local and (review_of.get(b) or b) == review]
            if better:  # the same review, through another of its records
                self.change(None, local, "changed", "link", national, better[0])
                self._count_changed(local)
        for local, national in new:
            if (review_of.get(national) or national) not in had[local]:
                self.change(None, local, "linked", "link", None, national)


# Link decisions that join a local entry to a national review.
LINKING = ("auto", "accepted")
# The review queue as m005 leaves it (m002's, with the explanation in words).
REVIEW_QUEUE_SQL = """
    SELECT a.source AS partnership, l.entry_a AS local_id, a.title AS local_title,
           a.published AS local_published, l.entry_b AS national_id, b.source AS national_source,
           b.title AS national_title, coalesce(b.area, 'Anonymous') AS national_area,
           b.published AS national_published, b.review_id AS national_review_id,
           b.la_codes = '[]' AND b.area IS NULL AS anonymous,
           l.score, l.explanation, l.features, l.first_run
    FROM links l
    JOIN entries a ON a.id = l.entry_a
    JOIN entries b ON b.id = l.entry_b
    WHERE l.decision = 'review'
    ORDER BY a.source, anonymous, l.score DESC, l.entry_a, l.entry_b
"""
# What linking reads of an entry.
class ReviewIds(Mapping[str, "int | None"]):
    """Entry id -> its review id, looked up in the catalogue one at a time (``link.assign_review_ids``)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn

    def __getitem__(self, entry_id: str) -> int | None:
        row = self.conn.execute("SELECT review_id FROM entries WHERE id = ?", [entry_id]).fetchone()
        if row is None:
            raise KeyError(entry_id)
        return row[0]

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self.conn.execute("SELECT id FROM entries"))

    def __len__(self) -> int:
        return self.conn.execute("SELECT count(*) FROM entries").fetchone()[0]


def release_memory() -> None:
    """Hand memory freed by earlier phases back to the system (glibc's malloc_trim), so the next phase's
    peak does not stand on top of it; a no-op where there is no glibc."""
    gc.collect()
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


LINK_ROWS_SQL = (
    "SELECT id, kind, source, area, la_codes, pseudonyms, title_key, published_start, published_end, "
    "published_precision, published_year, review_type, review_id, title, summary, note, keywords FROM entries"
)


class LinkRows:
    """The entry rows linking reads (``link.Rows``): every row in rowid order, and again the rows at some
    positions of that order (by the rowids the first read kept), so the linker holds one area at a time."""

    CHUNK = 500  # rowids a query

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn
        self.rowids = array("q")
        self.select = LINK_ROWS_SQL.replace("SELECT ", "SELECT rowid, ", 1)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rowids = self.rowids = array("q")
        cursor = self.conn.execute(self.select + " ORDER BY rowid")
        columns = [d[0] for d in cursor.description][1:]
        for rowid, *values in cursor:
            rowids.append(rowid)
            yield dict(zip(columns, values))

    def at(self, positions: Sequence[int]) -> Iterator[dict[str, Any]]:
        rowids = self.rowids
        wanted = [rowids[p] for p in positions]
        for start in range(0, len(wanted), self.CHUNK):
            chunk = wanted[start:start + self.CHUNK]
            cursor = self.conn.execute(
                f"{self.select} WHERE rowid IN ({', '.join('?' * len(chunk))}) ORDER BY rowid", chunk)
            columns = [d[0] for d in cursor.description][1:]
            for _, *values in cursor:
                yield dict(zip(columns, values))


@dataclass(frozen=True)
class PersonDecision(link.Decision):
    """A person's decision with who made it (an actor id, a user name) and how (``cli``, ``datasette``), where
    known: what the catalogue's links and decisions.toml keep beside the decision."""

    decided_by: str | None = None
    decided_via: str | None = None


def person_decisions(db: sqlite_utils.Database, *, stamp: bool = False) -> list[link.Decision]:
    """The accepted and rejected pairs in the links table.

    A decision set directly in the table (a Datasette canned query) may lack ``decided_at``: with
    ``stamp`` it gets the current time, written back, so it counts as the newest word on its pair.
    """
    decisions: list[link.Decision] = []
    now = utc_now()
    for row in db.query("SELECT entry_a, entry_b, decision, decided_at, decided_by, decided_via FROM links "
                        "WHERE decision IN (?, ?)", list(link.PERSON_DECISIONS)):
        decided_at = row["decided_at"]
        if not decided_at:
            decided_at = now
            if stamp:
                db.execute("UPDATE links SET decided_at = ? WHERE entry_a = ? AND entry_b = ?",
                           [now, row["entry_a"], row["entry_b"]])
        decisions.append(PersonDecision(row["entry_a"], row["entry_b"], row["decision"], decided_at,
                                        row["decided_by"], row["decided_via"]))
    return decisions


@dataclass
class RunResult:
    run_id: int
    counts: dict[str, int]
    status: str
    inspected: Any = None  # what ``inspect`` returned, seen inside the transaction
    exit_code: int = 0  # the run's, with 65 for a walk whose departures were held


def apply_run(
    db: sqlite_utils.Database,
    run_id: int,
    outcomes: Iterable[SourceOutcome],
    *,
    exit_code: int,
    dry_run: bool = False,
    mode: str = "offline",
    inspect: Callable[[sqlite_utils.Database, int], Any] | None = None,
    decisions: Iterable[link.Decision] = (),
) -> RunResult:
    """Write a whole sync in one transaction: all of it lands, or none of it.

    ``inspect(db, run_id)`` runs just before the end, seeing the run as written
    (a dry run rolls back after it: that is how it shows what it would do).
    ``decisions`` are people's link decisions from decisions.toml, applied with those in the catalogue.
    """
    outcomes = list(outcomes)
    writer = _Writer(db, run_id)
    inspected = None
    db.execute("BEGIN IMMEDIATE")
    # Entries point at reviews that are (re)built later in the same transaction.
    db.execute("PRAGMA defer_foreign_keys = ON")
    try:
        if dry_run:  # a dry run has no run row of its own outside this transaction
            db.execute("INSERT INTO runs (id, started_at, mode, status) VALUES (?, ?, ?, 'running')",
                       [run_id, utc_now(), mode])
        for outcome in outcomes:
            if outcome.error is not None:
                writer.change(outcome.source, None, "source-failed", outcome.error_url, None, outcome.error)
            else:
                writer.apply_source(outcome)
                if isinstance(outcome.entries, Spool):
                    outcome.entries.spill()  # written: its rows wait on disk, not in memory, while relinking
        writer.relink(decisions)
        exit_code = max([exit_code] + [o.exit_code for o in outcomes])  # a held walk needs a person too
        failed = sum(o.error is not None for o in outcomes)
        status = "ok" if not failed else "failed" if failed == len(outcomes) else "partial"
        db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, exit_code = ?, sources = ?, counts = ? WHERE id = ?",
            [utc_now(), status, exit_code, json.dumps({o.source: o.as_json() for o in outcomes}),
             json.dumps(writer.counts), run_id],
        )
        if inspect is not None:
            inspected = inspect(db, run_id)
        if dry_run:
            db.execute("ROLLBACK")
        else:
            db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    return RunResult(run_id=run_id, counts=writer.counts, status=status, inspected=inspected, exit_code=exit_code)


def stored_hash(db: sqlite_utils.Database, entry_id: str) -> str | None:
    """The content hash of a listed entry (None when there is no such listed entry)."""
    row = db.execute("SELECT content_hash FROM entries WHERE id = ? AND status = 'listed'", [entry_id]).fetchone()
    return row[0] if row else None


def last_complete_walk(db: sqlite_utils.Database, source: str) -> dict[str, Any] | None:
    """When the last complete walk of a source started, and whether it found it newest first (runs.sources).

    Only a full walk that reached its end without an error is one: an incremental walk, or one cut short,
    would put off the next full walk that finds what it missed.
    """
    path = f'$."{source}"'  # source ids are [a-z0-9_-]: safe inside a quoted JSON path
    row = db.execute(
        "SELECT started_at, json_extract(sources, ? || '.newest_first') FROM runs "
        "WHERE finished_at IS NOT NULL AND json_valid(sources) AND json_extract(sources, ? || '.complete') = 1 "
        "AND coalesce(json_extract(sources, ? || '.walk'), 'full') = 'full' "
        "AND json_extract(sources, ? || '.error') IS NULL "
        "AND NOT coalesce(json_extract(sources, ? || '.cut_short'), 0) "
        "ORDER BY id DESC LIMIT 1",
        [path] * 5,
    ).fetchone()
    if row is None:
        return None
    return {"started_at": row[0], "newest_first": bool(row[1])}


def nights_cut_short(db: sqlite_utils.Database, source: str, limit: int) -> int:
    """How many of a source's last walks in a row (up to ``limit``) ended before their listing's end."""
    path = f'$."{source}"'  # source ids are [a-z0-9_-]: safe inside a quoted JSON path
    rows = db.execute(
        "SELECT coalesce(json_extract(sources, ? || '.cut_short'), 0) FROM runs "
        "WHERE finished_at IS NOT NULL AND json_valid(sources) AND json_type(sources, ?) IS NOT NULL "
        "ORDER BY id DESC LIMIT ?",
        [path, path, limit],
    ).fetchall()
    nights = 0
    for (cut_short,) in rows:
        if not cut_short:
            break
        nights += 1
    return nights


def last_pages(db: sqlite_utils.Database, source: str) -> int | None:
    """Pages the last finished walk of a source took (runs.sources), whether it succeeded or not."""
    path = f'$."{source}".pages'  # source ids are [a-z0-9_-]: safe inside a quoted JSON path
    row = db.execute(
        "SELECT json_extract(sources, ?) FROM runs WHERE finished_at IS NOT NULL AND json_valid(sources) "
        "AND json_extract(sources, ?) > 0 ORDER BY id DESC LIMIT 1",
        [path, path],
    ).fetchone()
    return int(row[0]) if row else None


def listed_count(db: sqlite_utils.Database, source: str) -> int:
    return db.execute("SELECT count(*) FROM entries WHERE source = ? AND status = 'listed'", [source]).fetchone()[0]


def last_walks(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """Per source, its last walk in a finished run: the run, when it started, and the outcome it recorded."""
    walks: dict[str, dict[str, Any]] = {}
    rows = db.execute(
        "SELECT r.id, r.started_at, j.key, j.value FROM runs r, json_each(r.sources) j "
        "WHERE r.finished_at IS NOT NULL AND json_valid(r.sources) ORDER BY r.id DESC"
    )
    for run_id, started_at, source, value in rows:
        if source not in walks:
            walks[source] = {"run": run_id, "started_at": started_at, **json.loads(value)}
    return walks


def layout_state(db: sqlite_utils.Database, source: str) -> dict[str, Any]:
    """A source's row of ``sources_layout`` ({} before its first walk with a fingerprint)."""
    rows = list(db.query("SELECT * FROM sources_layout WHERE source = ?", [source]))
    return rows[0] if rows else {}


def layout_states(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    return {row["source"]: row for row in db.query("SELECT * FROM sources_layout")}


def accept_layout(db: sqlite_utils.Database, source: str) -> dict[str, Any] | None:
    """A person looked at a source whose departures are held: the next sync applies them.

    Returns the source's state as accepted, or None when nothing is held.
    """
    state = layout_state(db, source)
    if not state.get("held_layout"):
        return None
    now = utc_now()
    db.execute("UPDATE sources_layout SET accepted_layout = held_layout, accepted_at = ? WHERE source = ?",
               [now, source])
    return layout_state(db, source)
