"""Completeness and lag: how much of each partnership's work reached the national repository, and how fast.

The definitions (README "Completeness, lag and the submission pack", and the views' descriptions in
config/metadata.yml, say the same):

- a *local review* is a local entry whose review type is a review (``LOCAL_REVIEW_TYPES``); briefings,
  learning summaries, 7 minute briefings, annual reports and other documents (``briefing``, ``other``)
  are counted apart as *other local documents*;
- a local review is *in the national repository* when it has an automatic or accepted link; one whose
  only links wait in the review queue is *queued* (and still missing);
- its *lag* is the days from its local publication to the earliest national listing of the same review
  (a national entry's published interval, or the day of the run that first saw it when that is earlier).
  A year-only or month-only date makes the lag an interval ``[low, high]``; a figure built on intervals is
  an interval too (the median of the lows and the median of the highs bound the true median).

The SQL lives in two views (``catalogue/views.py``), created by the catalogue migration ``m004_completeness``: ``review_lag`` (one
row per local review in the national repository) and ``completeness`` (one row per local source in the
catalogue). This module reads them for ``reposync completeness`` and ``reposync pack``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from .markdown import md_escape
from ..catalogue.views import (  # noqa: F401 - their names here too
    _LINKED, _REVIEWS, LOCAL_REVIEW_TYPES, OTHER_DOCUMENT_TYPES, REVIEW_KEY, create_views, document_rank, refresh_views,
)
from ..errors import did_you_mean
from ..urls import web_url
from ..wording import plural

if TYPE_CHECKING:
    from ..archive.snapshots import Archive
    from ..config import Config

TYPE_NAMES = {
    "scr": "serious case review",
    "cspr": "child safeguarding practice review",
    "lcspr": "local child safeguarding practice review",
    "thematic": "thematic review",
    "welsh-cpr": "child practice review",
    "scottish-scr": "significant case review",
    "ni-cmr": "case management review",
    "briefing": "briefing",
    "other": "other document",
}
# The JSON keys of `reposync completeness --format json`, in order (the issue fixes them).
KEYS = ("area", "source", "local_reviews", "in_national", "share", "queued", "other_documents", "missing",
        "median_lag_days", "p90_lag_days", "national_not_local", "anonymous_share", "partnership", "page")
# A register partnership's page (issue 20, point 4): what its row's figures stand on. Only "read" has figures of
# its own; the others are never 0%.
PAGE_STATES = ("read", "not read last night", "page known, not configured", "no page known")
FORMATS = ("table", "md", "csv", "json")
# A placeholder a person replaces (README, "Completeness, lag and the submission pack"): reposync keeps no
# address, which would go stale, and sends nothing.
EMAIL_TO = "[address of the NSPCC national case review repository]"
PACK_COLUMNS = ("entry_id", "title", "date_as_written", "date_read", "review_type", "report_url", "page_url")

# --- reading them ----------------------------------------------------------------------------------


class UnknownArea(LookupError):
    pass


def _lag(value: Any) -> int | float | list[int | float] | None:
    if isinstance(value, str):  # an interval, as a JSON array
        return json.loads(value)
    return value


def rows(db: sqlite_utils.Database, config: Config | None = None, area: str | None = None) -> list[dict[str, Any]]:
    """The completeness rows, one per configured local source (all local sources in the catalogue without a
    config), and one per partnership of the register (as the last sync read it) none of those reads, whose
    figures are empty (``page`` says why); optionally of one area. A configured source with no entries yet
    gets a row of zeros."""
    found, unread = {}, []
    for row in db.query("SELECT * FROM completeness"):
        row = dict(row)
        row["missing"] = json.loads(row["missing"] or "[]")
        row["median_lag_days"] = _lag(row["median_lag_days"])
        row["p90_lag_days"] = _lag(row["p90_lag_days"])
        if row["source"] is None:  # a register partnership no configured source reads
            unread.append(row)
        else:
            found[row["source"]] = row
    if config is not None:
        out = []
        for source in config.sources:
            if source.kind != "local":
                continue
            row = found.get(source.id)
            if row is None or row["local_reviews"] is None:  # no entries yet: zeros, its page as the view says
                empty = _empty_row(db, source.id, source.area.name if source.area else None,
                                   source.area.codes if source.area else ())
                row = empty | ({"partnership": row["partnership"], "page": row["page"]} if row else {})
            out.append(row)
        out += unread
    else:
        out = list(found.values()) + unread
    if area is not None:
        out = [row for row in out if row["area"] == area]
    return sorted(out, key=lambda row: (row["area"] or "", row["source"] or "", row["partnership"] or ""))


def coverage(found: list[dict[str, Any]]) -> dict[str, int] | None:
    """How much of the register the rows cover: partnerships, how many by page state, and of those read, their
    local reviews and how many are in the national repository. None when no row is a register partnership."""
    register = [row for row in found if row.get("partnership")]
    if not register:
        return None
    read = [row for row in register if row["page"] == "read"]
    counts = {state: sum(row["page"] == state for row in register) for state in PAGE_STATES}
    return {"partnerships": len(register), **counts, "local_reviews": sum(r["local_reviews"] or 0 for r in read),
            "in_national": sum(r["in_national"] or 0 for r in read)}


def coverage_text(found: list[dict[str, Any]], scope: str) -> list[str]:
    """The national picture in a sentence: how much of ``scope`` the figures cover, then their share."""
    cover = coverage(found)
    if cover is None:
        return []
    total, read = cover["partnerships"], cover["read"]
    unread = ", ".join(f"{state}: {cover[state]}" for state in PAGE_STATES[1:] if cover[state])
    line = f"{scope}: {read} of {plural(total, 'partnership')} read last night ({_share(read / total)})"
    line += f"; {unread}." if unread else "."
    if cover["local_reviews"]:
        line += (f" Of the local reviews of the partnerships read, {cover['in_national']} of {cover['local_reviews']} "
                 f"({_share(cover['in_national'] / cover['local_reviews'])}) are in the national repository.")
    return [line]


def _empty_row(db: sqlite_utils.Database, source: str, area: str | None, codes: tuple[str, ...]) -> dict[str, Any]:
    """A configured partnership whose page gave no entries yet: nothing local, the area's national reviews."""
    reviews = anonymous = 0
    if codes:
        marks = ", ".join("?" for _ in codes)
        reviews = db.execute(
            f"SELECT count(DISTINCT n.review_id) FROM entries n, json_each(n.la_codes) c "
            f"WHERE n.kind = 'national' AND c.value IN ({marks})", list(codes)).fetchone()[0]
    return {"area": area, "source": source, "partnership": None, "page": None, "local_reviews": 0, "in_national": 0,
            "share": None, "queued": 0,
            "other_documents": 0, "missing": [], "oldest_missing": None, "median_lag_days": None,
            "p90_lag_days": None, "lags": 0, "lag_intervals": 0, "national_not_local": reviews,
            "anonymous_share": round(anonymous / reviews, 3) if reviews else None, "national_reviews": reviews}


def as_json(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: row[key] for key in KEYS} for row in found]


def lag_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return f"{_num(value[0])} to {_num(value[1])}"
    return _num(value)


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _share(value: Any) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


# The columns a person reads (table and Markdown): the figures, then the oldest missing review.
_HEADERS = ("area", "source", "local reviews", "in national", "share", "queued", "other documents",
            "median lag (days)", "p90 lag (days)", "national not local", "anonymous share", "oldest missing",
            "page", "partnership")


def _count(value: Any) -> str:
    return "-" if value is None else str(value)  # a partnership whose page is not read: nothing counted


def _cells(row: dict[str, Any]) -> list[str]:
    return [row["area"] or "-", row["source"] or "-", _count(row["local_reviews"]), _count(row["in_national"]),
            _share(row["share"]), _count(row["queued"]), _count(row["other_documents"]),
            lag_text(row["median_lag_days"]), lag_text(row["p90_lag_days"]), _count(row["national_not_local"]),
            _share(row["anonymous_share"]), row["oldest_missing"] or "-", row.get("page") or "-",
            row.get("partnership") or "-"]


# The table on a terminal: the figures a person compares, within 100 columns (--wide: every column above).
# With a register, a page column says what a partnership's row stands on, in a word (PAGE_STATES, shortened).
_NARROW = ("area", "local", "in national", "share", "queued", "other", "median lag", "not local")
_LEGEND = ["local: local reviews; other: other local documents; median lag: days from local publication to",
           "the national listing; not local: national reviews of the area its page lacks. --wide: every column."]
_PAGE_WORDS = dict(zip(PAGE_STATES, ("read", "not read", "known", "none")))
_PAGE_NOTES = dict(zip(PAGE_STATES, ("read (by last night's sync)", "not read (not last night: its figures are "
                                     "its last reading)", "known (its page is known, not configured)",
                                     "none (no page known)")))
WIDTH = 100


def _narrow_cells(row: dict[str, Any]) -> list[str]:
    return [row["area"] or row["source"], _count(row["local_reviews"]), _count(row["in_national"]),
            _share(row["share"]), _count(row["queued"]), _count(row["other_documents"]),
            lag_text(row["median_lag_days"]), _count(row["national_not_local"])]


def _narrow(found: list[dict[str, Any]]) -> list[str]:
    """The 100-column table: an area name cut to the room the figures leave; the page column with a register."""
    headers, cells, legend = _NARROW, [_narrow_cells(row) for row in found], list(_LEGEND)
    if coverage(found) is not None:
        headers = headers[:1] + ("page",) + headers[1:]
        cells = [[c[0], _PAGE_WORDS.get(row.get("page"), "-"), *c[1:]] for c, row in zip(cells, found)]
        states = [state for state in PAGE_STATES if any(row.get("page") == state for row in found)]
        unread = " A page known or none has no figures (-), never 0%." if set(states) & set(PAGE_STATES[2:]) else ""
        legend += _wrapped(["page: " + "; ".join(_PAGE_NOTES[state] for state in states) + "." + unread])
    rest = sum(max(len(h), *(len(c[i]) for c in cells)) + 2 if cells else len(h) + 2
               for i, h in enumerate(headers) if i)
    cells = [[_fit(c[0], max(WIDTH - rest, len(headers[0]))), *c[1:]] for c in cells]
    return _table(headers, cells) + legend


def _wrapped(lines: list[str]) -> list[str]:
    return [part for line in lines for part in textwrap.wrap(line, WIDTH)]


def _footnote(found: list[dict[str, Any]]) -> list[str]:
    if any(row["lag_intervals"] for row in found):
        return ["A lag shown as LOW to HIGH is an interval: a year-only or month-only date leaves the day open."]
    return []


def _table(headers: tuple[str, ...], cells: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    return lines + ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


def render(found: list[dict[str, Any]], fmt: str, wide: bool = False, scope: str = "England") -> str:
    """``found`` in a format; the table and Markdown end on the coverage line of ``scope`` (England, or the
    area asked for) when the rows are the register's."""
    if fmt == "json":
        return json.dumps(as_json(found), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(KEYS)
        for row in as_json(found):
            writer.writerow([" ".join(row[k]) if k == "missing" else
                             lag_text(row[k]) if k.endswith("_lag_days") and row[k] is not None else
                             "" if row[k] is None else row[k] for k in KEYS])
        return out.getvalue()
    cells = [_cells(row) for row in found]
    if fmt == "md":
        lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
        lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in cells]
        notes = _footnote(found) + coverage_text(found, scope)
        return "\n".join(lines + ([""] + notes if notes else [])) + "\n"
    if fmt == "table" and wide:
        return "\n".join(_table(_HEADERS, cells) + _footnote(found) + coverage_text(found, scope)) + "\n"
    if fmt == "table":
        return "\n".join(_narrow(found) + _footnote(found) + _wrapped(coverage_text(found, scope))) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[:max(room - 1, 1)] + "…"


def area_entries(db: sqlite_utils.Database, sources: list[str], width: int = 100) -> str:
    """One area's entries with their ids, for `completeness --area`: each local review, in national (with the
    national ids it is linked to), queued (with the proposed national ids) or missing; its other documents;
    and the area's national reviews its page lacks, with their national ids. The ids are what
    `reposync links explain|accept|reject` take."""
    lines: list[str] = []
    for source in sources:
        marks = [source]
        entries = [dict(r) for r in db.query(
            f"""SELECT e.id, e.title, e.published, e.review_type IN ({_REVIEWS}) AS is_review,
                   (SELECT group_concat(l.entry_b, ' ') FROM links l
                     WHERE l.entry_a = e.id AND l.decision IN {_LINKED}) AS linked,
                   (SELECT group_concat(l.entry_b, ' ') FROM links l
                     WHERE l.entry_a = e.id AND l.decision = 'review') AS queued
                FROM entries e WHERE e.kind = 'local' AND e.source = ?
                ORDER BY e.published_start IS NULL, e.published_start, e.id""", marks)]
        reviews = [e for e in entries if e["is_review"]]
        others = [e for e in entries if not e["is_review"]]
        lines.append("")
        lines.append(f"{source}: local reviews ({len(reviews)})")
        # An id and what became of it on one line, the title under it: ids are long, titles longer.
        for e in reviews:
            state = (f"in national: {e['linked']}" if e["linked"] else
                     f"missing; queued with {e['queued']}" if e["queued"] else "missing")
            lines += [f"  {e['id']}  {state}", _titled(e, width)]
        lines.append(f"{source}: other local documents ({len(others)})")
        for e in others:
            lines += [f"  {e['id']}", _titled(e, width)]
        absent = list(db.query("SELECT * FROM national_missing_from_local WHERE partnership = ? "
                               "ORDER BY published IS NULL, published, review_id", marks))
        lines.append(f"{source}: national reviews of its area not on its page ({len(absent)})")
        for item in absent:
            lines += [f"  {item['national_ids']}", _titled(item, width)]
    return "\n".join(lines) + "\n"


def _titled(item: dict[str, Any], width: int) -> str:
    when = f" ({item['published']})" if item["published"] else ""
    return "      " + _fit(f"{item['title']}{when}", width - 6)


# --- the submission pack -------------------------------------------------------------------------------


@dataclass
class Pack:
    area: str
    missing: list[dict[str, Any]]
    queued: list[str]  # ids among the missing whose proposed links wait for a person
    paths: list[Path]


def area_slug(area: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", area.lower()).strip("-") or "area"


def missing_reviews(db: sqlite_utils.Database, sources: list[str]) -> list[dict[str, Any]]:
    """The local reviews of these sources that are not in the national repository, oldest first: a review
    listed as several documents once, by its report (or its first document: ``DOCUMENT_KINDS``); their links
    only when http(s) (a catalogue written before links were checked so may hold another scheme)."""
    marks = ", ".join("?" for _ in sources)
    found = db.query(
        f"""
        WITH documents AS (
            SELECT e.*, {REVIEW_KEY.format(e="e")} AS review,
                   EXISTS (SELECT 1 FROM links k WHERE k.entry_a = e.id AND k.decision IN {_LINKED}) AS linked,
                   EXISTS (SELECT 1 FROM links q WHERE q.entry_a = e.id AND q.decision = 'review') AS asked
            FROM entries e
            WHERE e.kind = 'local' AND e.source IN ({marks}) AND e.review_type IN ({_REVIEWS})
        ),
        ranked AS (
            SELECT d.*, max(linked) OVER review AS in_national, max(asked) OVER review AS queued,
                   row_number() OVER (review ORDER BY {document_rank("d.document_kind")}, d.published_start,
                                      d.title, d.id) AS first
            FROM documents d
            WINDOW review AS (PARTITION BY d.source, d.review)
        )
        SELECT id AS entry_id, title, date_text AS date_as_written, published AS date_read, review_type,
               coalesce(report_url, url) AS report_url, page_url, source, queued
        FROM ranked WHERE first = 1 AND NOT in_national
        ORDER BY published_start IS NULL, published_start, id
        """, sources)
    return [dict(r) | {"report_url": web_url(r["report_url"]), "page_url": web_url(r["page_url"])} for r in found]


def email_text(area: str, missing: list[dict[str, Any]], csv_name: str) -> str:
    """A short plain message to the national repository, ready to paste (reposync sends nothing)."""
    count = len(missing)
    noun = "review" if count == 1 else "reviews"
    lines = [
        f"To: {EMAIL_TO}",
        f"Subject: {area}: {count} published case {noun} for the national case review repository",
        "",
        "Dear colleagues,",
        "",
        f"The {area} safeguarding children partnership has published the following case {noun}, which we "
        "could not find in the national case review repository. Could you add "
        f"{'it' if count == 1 else 'them'}, please?",
        "",
    ]
    for number, item in enumerate(missing, 1):
        kind = TYPE_NAMES.get(item["review_type"], item["review_type"] or "case review")
        when = item["date_as_written"] or item["date_read"] or "date not given"
        lines.append(f"{number}. {' '.join(str(item['title']).split())} ({kind}), {' '.join(when.split())}")
        if item["report_url"]:
            lines.append(f"   Report: {item['report_url']}")
        if item["page_url"]:
            lines.append(f"   Listed on: {item['page_url']}")
    lines += [
        "",
        f"The same list is in the attached {csv_name}. The reports' copyright stays with the partnership.",
        "",
        "With thanks,",
        "",
        f"[name], {area} safeguarding children partnership",
    ]
    return "\n".join(lines) + "\n"


def resolve_area(config: Config, name: str) -> tuple[str, list[str]]:
    """The canonical area and the ids of its configured local sources; UnknownArea when there are none."""
    area = config.areas.lookup(name)
    if area is None:
        raise UnknownArea(f"no area named {name!r} in {config.areas.path}{config.areas.suggest(name)}")
    local = [s for s in config.sources if s.kind == "local" and s.area is not None]
    sources = [s.id for s in local if s.area.name == area.name]
    if not sources:
        hint = did_you_mean(area.name, [s.area.name for s in local])
        raise UnknownArea(f"no local source is configured for {area.name} in {config.path}{hint}")
    return area.name, sources


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: page text starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_pack(db: sqlite_utils.Database, area: str, sources: list[str], out: Path,
               archive: Archive | None = None) -> Pack:
    """``<area>-missing.csv`` and ``<area>-email.txt`` in ``out``, and ``<area>-documents.zip`` of the reports
    ``archive`` holds for them (what a partnership may since have taken down); nothing at all when nothing is
    missing."""
    from ..archive.snapshots import atomic_write

    missing = missing_reviews(db, sources)
    queued = [item["entry_id"] for item in missing if item["queued"]]
    if not missing:
        return Pack(area, [], [], [])
    slug = area_slug(area)
    csv_path, email_path = out / f"{slug}-missing.csv", out / f"{slug}-email.txt"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PACK_COLUMNS)
    for item in missing:
        writer.writerow([_cell(item[c]) for c in PACK_COLUMNS])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(csv_path, buffer.getvalue().encode("utf-8"), durable=False)
    atomic_write(email_path, email_text(area, missing, csv_path.name).encode("utf-8"), durable=False)
    paths = [csv_path, email_path]
    if archive is not None and write_documents_zip(db, archive, [item["entry_id"] for item in missing],
                                                   out / f"{slug}-documents.zip"):
        paths.append(out / f"{slug}-documents.zip")
    return Pack(area, missing, queued, paths)


def write_documents_zip(db: sqlite_utils.Database, archive: Archive, entry_ids: list[str], path: Path) -> int:
    """A zip of the report documents the archive holds for these entries, one file each named by its entry and
    its own file name; written beside and renamed, never half a zip. Returns how many went in (0: no zip)."""
    import os
    import tempfile
    import zipfile
    from urllib.parse import unquote, urlsplit

    from ..archive.snapshots import DamagedSnapshot
    from ..catalogue import documents

    held = []
    for row in documents.for_entries(db, entry_ids):
        if row["sha256"] and row["status"] != "too-big":
            name = unquote(urlsplit(row["url"]).path.rsplit("/", 1)[-1]) or "report"
            held.append((f"{row['entry_id'].replace(':', '-')}-{name}", row["sha256"]))
    if not held:
        return 0
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as packed:
            for name, sha256 in held:
                try:
                    packed.writestr(name, archive.body(sha256))  # one document in memory at a time
                except DamagedSnapshot:
                    continue  # damaged or pruned: `reposync snapshots verify` says so
                written += 1
        if written:
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return written
