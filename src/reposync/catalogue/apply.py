"""One run written to the catalogue in one transaction: entries, versions, departures, reviews, links and
their history.

One connection per process, in autocommit mode, so transactions are ours:
``apply_run`` writes a whole sync inside one ``BEGIN IMMEDIATE`` ... ``COMMIT``
(sqlite-utils nests its own work as savepoints inside it). WAL lets Datasette
read while a sync writes.
"""

from __future__ import annotations

import ctypes
import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .. import link
from ..archive.snapshots import utc_now
from ..archive.spool import Spool
from ..errors import EXIT_DATA
from ..link import explain
from ..models import CONTENT_FIELDS, SourceOutcome, content_hash
from . import moves
from .batch import Batches
from .documents import record as record_documents
from .register import write_register
from .rows import LinkRows, person_decisions
from .schema import JSON_FIELDS
from .state import layout_state
from .views import LINKING


# json.dumps(value, ensure_ascii=False) makes an encoder each call: this one is made once, the same output.
_JSON = json.JSONEncoder(ensure_ascii=False).encode
_LISTS: dict[tuple[str, ...], str] = {}  # a list of strings -> its JSON: codes, pseudonyms, keywords repeat
_ALL_CHANGED = json.dumps(list(CONTENT_FIELDS))  # a new entry's version: every field


def _stored(value: Any) -> Any:
    """Lists and dicts are kept as JSON text, as sqlite-utils would (a list of strings encoded once)."""
    if type(value) is list and all(type(item) is str for item in value):
        found = _LISTS.get(key := tuple(value))
        if found is None:
            if len(_LISTS) > 20_000:
                _LISTS.clear()
            found = _LISTS[key] = _JSON(value)
        return found
    if isinstance(value, (list, dict)):
        return _JSON(value)
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
    return value if isinstance(value, str) else _JSON(value)


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
        # Entry, version and change rows go in batches (``batch``): ``flush`` before reading what they write.
        batches = Batches(db.conn)
        self.write, self.flush = batches.write, batches.flush

    def _count_changed(self, entry_id: str) -> None:
        if entry_id not in self.changed:
            self.changed.add(entry_id)
            self.counts["changed"] = self.counts.get("changed", 0) + 1

    def change(self, source: str | None, entry_id: str | None, kind: str, field: str | None = None,
               old: Any = None, new: Any = None) -> None:
        self.write("changes",
                   "INSERT INTO changes (run_id, source, entry_id, kind, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (self.run_id, source, entry_id, kind, field, _text(old), _text(new)))
        if field is None or kind != "changed":
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def version(self, entry_id: str, version: int, digest: str, changed: list[str] | None, row: dict[str, Any]) -> None:
        """``changed``: the fields that changed (None: every one, a new entry)."""
        self.write("entry_versions",
                   "INSERT INTO entry_versions (entry_id, version, run_id, content_hash, changed, fields) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (entry_id, version, self.run_id, digest, _ALL_CHANGED if changed is None else json.dumps(changed),
                    _JSON({name: row.get(name) for name in CONTENT_FIELDS})))

    def apply_source(self, outcome: SourceOutcome) -> None:
        # What the catalogue holds of the source, compactly (150,000 whole rows would not fit in memory):
        # id -> content hash of a listed entry ("" for one in another status); report link -> id.
        # A whole row is read only for an entry that changed or comes back.
        self.flush()
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
                self.write("entries", "UPDATE entries SET last_seen_run = ? WHERE id = ?", (self.run_id, entry["id"]))
            else:
                self.flush("entries")
                old = _loaded(next(self.db.query("SELECT * FROM entries WHERE id = ?", [entry["id"]])))
                self._update(outcome.source, old, entry, digest)
        if outcome.complete:
            departing = [entry_id for entry_id, state in known.items() if entry_id not in seen and state]  # listed
            # A page read on another site, where a redirect sent it, departs nothing until a person records the
            # move (``sources move``); its layout is not judged against the old site's.
            held = ("held-move" if (outcome.moved or {}).get("off_site") else
                    "held" if self._hold(outcome, departing) else None)
            if held and departing:
                for entry_id in departing:  # still listed: nothing is marked on this walk
                    self.change(outcome.source, entry_id, held, "status", "listed", outcome.departure)
                outcome.held = len(departing)
                outcome.exit_code = max(outcome.exit_code, EXIT_DATA)
                self.flush()
                return
            for entry_id in departing:
                self.write("entries", "UPDATE entries SET status = ? WHERE id = ?", (outcome.departure, entry_id))
                self.change(outcome.source, entry_id, outcome.departure, "status", "listed", outcome.departure)
        self.flush()

    def _new_under_old_title(self, entry: dict[str, Any], known: dict[str, str], taken: set[str]) -> str:
        """The id for an entry whose id is a departed entry's: that id when it is the same entry coming back,
        else the id with ``@`` and its date, as ``normalise.unique_ids`` would give two such entries of one page
        (so a rebuild from the snapshots gives the same ids), and a count should that be taken too."""
        base = entry["id"]
        self.flush("entries")
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
        self.write("entries", f"INSERT INTO entries ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                   tuple(row.values()))
        self.version(entry["id"], 1, digest, None, entry)
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
            updates.setdefault("published_from", None)  # dated by its page now, or by nothing
            updates.update(content_hash=digest, version=version)
            self.version(entry["id"], version, digest, changed, entry)
        assignments = ", ".join(f"{name} = ?" for name in updates)
        self.write("entries", f"UPDATE entries SET {assignments} WHERE id = ?", (*updates.values(), entry["id"]))

    def relink(self, decisions: Iterable[link.Decision] = ()) -> None:
        """Regroup every entry into reviews and refresh the links, keeping every person's decision.

        ``decisions`` (from decisions.toml) are merged with those already in the links table (set by
        ``reposync links`` or in Datasette): per pair, the newest ``decided_at`` wins.
        """
        self.flush()
        release_memory()  # the walk's and the entry writes' freed memory, before the linker's records
        merged = link.merge_decisions(person_decisions(self.db, stamp=True), decisions)
        # rows read from SQL once; the linker holds one area's national records at a time
        linkage = link.link_all(LinkRows(self.db), merged.values())
        # Past the highest id ever given, not just the highest there is: a deleted review's id is never reused.
        next_id = self.db.execute(
            "SELECT max((SELECT coalesce(max(id), 0) FROM reviews), "
            "(SELECT coalesce(max(last_id), 0) FROM id_sequences WHERE name = 'reviews')) + 1").fetchone()[0]
        # Each entry's review id now, read from the catalogue a chunk at a time: not a dict of every entry beside
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
        self.flush()

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


# What linking reads of an entry.
class ReviewIds:
    """Some entries' review ids, those that have one, looked up in the catalogue a chunk of ids a query
    (``link.assign_review_ids``)."""

    CHUNK = 500  # ids a query

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn

    def __call__(self, entry_ids: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(entry_ids), self.CHUNK):
            chunk = entry_ids[start:start + self.CHUNK]
            found.update(self.conn.execute(
                f"SELECT id, review_id FROM entries WHERE id IN ({', '.join('?' * len(chunk))}) "
                "AND review_id IS NOT NULL", chunk))
        return found


def release_memory() -> None:
    """Hand memory freed by earlier phases back to the system (glibc's malloc_trim), so the next phase's
    peak does not stand on top of it; a no-op where there is no glibc."""
    gc.collect()
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


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
    documents: Iterable[dict[str, Any]] = (),
    register: list[dict[str, Any]] | None = None,
) -> RunResult:
    """Write a whole sync in one transaction: all of it lands, or none of it.

    ``inspect(db, run_id)`` runs just before the end, seeing the run as written
    (a dry run rolls back after it: that is how it shows what it would do).
    ``decisions`` are people's link decisions from decisions.toml, applied with those in the catalogue;
    ``documents`` the night's document rows (``crawl.documents``), written before the linker reads them;
    ``register``, the register's partnerships (``register.register_rows``), replaces the catalogue's.
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
        record_documents(db, run_id, documents)
        for outcome in outcomes:
            moves.record(db, run_id, outcome)
            if outcome.error is not None:
                writer.change(outcome.source, None, "source-failed", outcome.error_url, None, outcome.error)
            else:
                writer.apply_source(outcome)
                if isinstance(outcome.entries, Spool):
                    outcome.entries.spill()  # written: its rows wait on disk, not in memory, while relinking
        writer.relink(decisions)
        if register is not None:  # the register as this sync read it (catalogue/register.py)
            write_register(db, register)
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
