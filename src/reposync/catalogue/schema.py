"""The catalogue's tables and their migrations, and opening it (WAL, busy timeout, migrated)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .. import settings
from ..errors import CatalogueUnreadable, NotACatalogue
from ..link import explain
from ..normalise.documents import document_kind
from .views import _SHARES_CODE, REVIEW_QUEUE_SQL, create_views, refresh_views

migrations = Migrations("reposync")


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
            "counts": str,  # JSON: changes by kind, and report_links (what the link check asked)
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
    create_views(db)


@migrations()
def m005_link_explain(db: sqlite_utils.Database) -> None:
    """links.explanation: each feature, its value and points, and the decision, in words (reposync.explain);
    the review_queue view shows it. Rows already there are explained from their stored features."""

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


@migrations()
def m008_document_kind(db: sqlite_utils.Database) -> None:
    """entries.document_kind (issue 25): which document of its review an entry is (report, summary, briefing,
    action-plan, statement, other), so a review listed as several documents is counted once and linked through
    its report. Derived from the title and review type, like title_key: rows already there are read the same."""
    if "document_kind" not in db["entries"].columns_dict:
        db["entries"].add_column("document_kind", str)
    db.conn.executemany("UPDATE entries SET document_kind = ? WHERE rowid = ?", (
        (document_kind(title, review_type), rowid)
        for rowid, title, review_type in db.execute("SELECT rowid, title, review_type FROM entries").fetchall()))
    create_views(db)  # the views that read it


@migrations()
def m009_documents(db: sqlite_utils.Database) -> None:
    """The report documents (issue 21): one row per document URL, what it says and its status, searchable
    (``documents_fts``); entries join it by ``report_url``. An entry dated by its document says so
    (``entries.published_from``). Added tables and a column: every row already there stays."""
    db["documents"].create(
        {"url": str, "sha256": str, "bytes": int, "kind": str, "content_type": str, "pages": int, "text": str,
         "title_read": str, "review_type_read": str, "pseudonym_read": str, "partnership_read": str,
         "published_read": str, "published_precision": str, "fetched_at": str, "checked_at": str,
         "status": str, "reason": str, "run_id": int},
        pk="url", if_not_exists=True,
    )
    db["documents"].create_index(["sha256"], if_not_exists=True)
    db["documents"].create_index(["status"], if_not_exists=True)
    if not db["documents_fts"].exists():
        db["documents"].enable_fts(["title_read", "text"], create_triggers=True, tokenize="porter")
    if "published_from" not in db["entries"].columns_dict:
        db["entries"].add_column("published_from", str)


@migrations()
def m010_source_moves(db: sqlite_utils.Database) -> None:
    """Per source, where its configured page went, as the last walk of it found (``catalogue/moves.py``): moved
    (a permanent redirect within its site), moved off its site, or gone (404, 410) with the pages of its site
    that list reviews now. A new table: an existing catalogue gains it empty."""
    db["source_moves"].create(
        {
            "source": str,
            "state": str,  # moved, moved-off-site or gone
            "old_url": str,  # the page as configured
            "new_url": str,  # where the redirect led (moved); the best candidate (gone), if any
            "status": int,  # the HTTP status the configured page answered
            "candidates": str,  # gone: JSON [{url, entries, reviews}], best first, as discovery found them
            "checked_at": str,  # gone: when discovery last read its site (once a night, settings.REDISCOVER_HOURS)
            "error": str,  # gone: why its site could not be read, when it could not
            "first_run": int,  # the first run that found the page so
            "last_run": int,
        },
        pk="source",
        if_not_exists=True,
    )


@migrations()
def m011_register_partnerships(db: sqlite_utils.Database) -> None:
    """The register of every partnership (config/partnerships.toml) as the last sync read it
    (``catalogue/register.py``): the completeness view's rows for partnerships whose page is not read."""
    db["register_partnerships"].create(
        {"id": str, "name": str, "area": str, "la_codes": str, "home": str, "reviews": str, "source": str},
        pk="id",
        if_not_exists=True,
    )
    create_views(db)  # the completeness view reads it


@migrations()
def m012_fts_on_text_changes(db: sqlite_utils.Database) -> None:
    """The full-text index is written again only when an entry's title or summary changes: sqlite-utils'
    update trigger re-indexed an entry on every UPDATE (its review id, the run that last saw it, its report
    link's health), 220,000 entries a night at 100x the national collection, for the same index."""
    db.execute("DROP TRIGGER IF EXISTS entries_au")
    db.execute(FTS_UPDATE_TRIGGER)


FTS_UPDATE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS "entries_au" AFTER UPDATE OF "title", "summary" ON "entries" BEGIN
  INSERT INTO "entries_fts" ("entries_fts", rowid, "title", "summary") VALUES('delete', old.rowid, old."title", old."summary");
  INSERT INTO "entries_fts" (rowid, "title", "summary") VALUES (new.rowid, new."title", new."summary");
END"""


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


SQLITE_HEADER = b"SQLite format 3\x00"


def refuse_non_sqlite(path: Path | str) -> None:
    """NotACatalogue (exit 2) for a --db that is some other file: a mistyped path, not a damaged catalogue
    (a SQLite file that no longer reads is CatalogueUnreadable, 65). Nothing is created beside it."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except (FileNotFoundError, IsADirectoryError):
        return
    if head and head != SQLITE_HEADER:
        raise NotACatalogue(path)


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if need be) the catalogue, migrated, in WAL mode."""
    path = Path(path)
    refuse_non_sqlite(path)
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
    refresh_views(db)  # views of m004 from an earlier version of it are re-created (they hold no data)
    return db
