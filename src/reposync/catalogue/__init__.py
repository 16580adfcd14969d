"""The catalogue: the users' record in SQLite.

Takes a run's normalised entries and the linker's result; gives tables (``entries``, ``reviews``, ``links``,
``runs``, ``changes``, ``entry_versions``, ``sources_layout``, ``source_moves``) and the views librarians query. ``schema``: the
tables and their migrations; ``apply``: one run written in one transaction, with its history (its row writes
sent in batches by ``batch``); ``rows``: what the linker reads back; ``views``: the review queue and the
completeness views; ``decisions``: a person's accept and reject, kept and exported; ``state``: what earlier
walks left (last complete walk, layouts).
"""

from __future__ import annotations

from ..models import CONTENT_FIELDS, SourceOutcome, content_hash
from ..archive.snapshots import utc_now  # noqa: F401 - 0.1 callers read the run's time here
from .apply import DuplicateEntryId, ReviewIds, RunResult, apply_run, release_memory, start_run
from .moves import recent_discoveries, source_moves
from .rows import LINK_ROWS_SQL, LinkRows, PersonDecision, person_decisions
from .schema import DEPARTURES, JSON_FIELDS, migrations, open_db, refuse_non_sqlite
from .state import (
    accept_layout,
    last_complete_walk,
    last_pages,
    last_walks,
    layout_state,
    layout_states,
    listed_count,
    nights_cut_short,
    stored_hash,
)
from .views import LINKING, REVIEW_QUEUE_SQL

__all__ = [
    "CONTENT_FIELDS", "DEPARTURES", "JSON_FIELDS", "LINKING", "LINK_ROWS_SQL", "REVIEW_QUEUE_SQL", "DuplicateEntryId",
    "LinkRows", "PersonDecision", "ReviewIds", "RunResult", "SourceOutcome", "accept_layout", "apply_run",
    "content_hash", "last_complete_walk", "last_pages", "last_walks", "layout_state", "layout_states",
    "listed_count", "migrations", "nights_cut_short", "open_db", "person_decisions", "recent_discoveries",
    "refuse_non_sqlite", "release_memory", "source_moves", "start_run", "stored_hash",
]
