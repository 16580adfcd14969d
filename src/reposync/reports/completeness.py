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

The SQL lives in two views, created by the catalogue migration ``m004_completeness``: ``review_lag`` (one
row per local review in the national repository) and ``completeness`` (one row per local source in the
catalogue). This module reads them for ``reposync completeness`` and ``reposync pack``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from ..urls import web_url

if TYPE_CHECKING:
    from ..config import Config

# Review types that are a case review; every other type (briefing, other) is another local document.
LOCAL_REVIEW_TYPES = ("scr", "cspr", "lcspr", "thematic", "welsh-cpr", "scottish-scr", "ni-cmr")
OTHER_DOCUMENT_TYPES = ("briefing", "other")
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
        "median_lag_days", "p90_lag_days", "national_not_local", "anonymous_share")
FORMATS = ("table", "md", "csv", "json")
PACK_COLUMNS = ("entry_id", "title", "date_as_written", "date_read", "review_type", "report_url", "page_url")

_REVIEWS = ", ".join(f"'{t}'" for t in LOCAL_REVIEW_TYPES)
_LINKED = "('auto', 'accepted')"


def _whole(expr: str) -> str:
    """A day count as an integer when it is whole, else rounded to one decimal (a median of two)."""
    return f"(CASE WHEN ({expr}) = CAST(({expr}) AS INTEGER) THEN CAST(({expr}) AS INTEGER) ELSE round(({expr}), 1) END)"


# One row per local review with an automatic or accepted link: the earliest national listing of its
# review and the lag to it, in days, as an interval [lag_low, lag_high] (equal when both dates are days).
# A listing cannot come before publication unless the dates say it surely did: a low bound below zero is
# raised to zero when the high bound is not below zero.
REVIEW_LAG_SQL = f"""
WITH linked AS (
    SELECT DISTINCT e.id AS local_id, n.review_id
    FROM entries e
    JOIN links l ON l.entry_a = e.id AND l.decision IN {_LINKED}
    JOIN entries n ON n.id = l.entry_b
    WHERE e.kind = 'local' AND e.review_type IN ({_REVIEWS})
),
listing AS (  -- each national entry of a linked review: listed from/by its date, or the day a run first saw it
    SELECT k.local_id, n.id, n.source, n.title, n.published, n.published_precision,
           min(coalesce(n.published_start, date(r.started_at)), coalesce(date(r.started_at), n.published_start))
             AS listed_from,
           min(coalesce(n.published_end, date(r.started_at)), coalesce(date(r.started_at), n.published_end))
             AS listed_by
    FROM linked k
    JOIN entries n ON n.review_id = k.review_id AND n.kind = 'national'
    LEFT JOIN runs r ON r.id = n.first_seen_run
),
earliest AS (  -- per local review, the national entry listed first, and the earliest day any can have been
    SELECT *, row_number() OVER (PARTITION BY local_id ORDER BY listed_by, listed_from, id) AS rank,
           min(listed_from) OVER (PARTITION BY local_id) AS first_from
    FROM listing
),
raw AS (
    SELECT e.source AS partnership, e.area, e.id AS entry, e.title, e.published, e.published_precision,
           x.id AS national_entry, x.source AS national_source, x.title AS national_title,
           x.published AS national_published, x.published_precision AS national_precision,
           x.first_from AS national_from, x.listed_by AS national_by,
           CAST(julianday(x.first_from) - julianday(e.published_end) AS INTEGER) AS low,
           CAST(julianday(x.listed_by) - julianday(e.published_start) AS INTEGER) AS high
    FROM earliest x JOIN entries e ON e.id = x.local_id
    WHERE x.rank = 1
)
SELECT partnership, area, entry, title, published, published_precision,
       national_entry, national_source, national_title, national_published, national_precision,
       national_from, national_by,
       CASE WHEN low < 0 AND high >= 0 THEN 0 ELSE low END AS lag_low,
       high AS lag_high,
       (CASE WHEN low < 0 AND high >= 0 THEN 0 ELSE low END) = high AS exact,
       CASE WHEN (CASE WHEN low < 0 AND high >= 0 THEN 0 ELSE low END) = high THEN 'exact'
            ELSE 'interval: ' || CASE WHEN published_precision != 'day' THEN published_precision || '-only local date'
                                      ELSE '' END
                 || CASE WHEN published_precision != 'day' AND national_precision != 'day' THEN ', ' ELSE '' END
                 || CASE WHEN national_precision != 'day' THEN national_precision || '-only national date'
                         ELSE '' END
       END AS lag_basis
FROM raw
WHERE low IS NOT NULL AND high IS NOT NULL
ORDER BY partnership, published, entry
"""

# One row per local source in the catalogue. Medians and 90th percentiles (nearest rank) of the lag are
# taken of the low bounds and of the high bounds apart: a whole number of days when the two agree, else
# the JSON array [low, high].
COMPLETENESS_SQL = f"""
WITH partnerships AS MATERIALIZED (
    SELECT source, max(area) AS area, max(la_codes) AS la_codes FROM entries WHERE kind = 'local' GROUP BY source
),
local AS MATERIALIZED (
    SELECT e.source, e.id, e.title, e.published, e.published_start, e.review_type IN ({_REVIEWS}) AS is_review,
           EXISTS (SELECT 1 FROM links k WHERE k.entry_a = e.id AND k.decision IN {_LINKED}) AS in_national,
           EXISTS (SELECT 1 FROM links q WHERE q.entry_a = e.id AND q.decision = 'review') AS in_queue
    FROM entries e WHERE e.kind = 'local'
),
counts AS (
    SELECT source, sum(is_review) AS local_reviews, sum(is_review AND in_national) AS in_national,
           sum(is_review AND NOT in_national AND in_queue) AS queued, sum(NOT is_review) AS other_documents
    FROM local GROUP BY source
),
missing_rows AS MATERIALIZED (  -- the reviews not in national, oldest first
    SELECT source, id, title, published,
           row_number() OVER (PARTITION BY source ORDER BY published_start IS NULL, published_start, id) AS k
    FROM local WHERE is_review AND NOT in_national
),
missing AS (
    SELECT source, json_group_array(id) AS ids,
           max(CASE WHEN k = 1 THEN title || coalesce(' (' || published || ')', '') END) AS oldest
    FROM (SELECT * FROM missing_rows ORDER BY source, k) GROUP BY source
),
ranked AS (
    SELECT partnership AS source, lag_low AS low, lag_high AS high, exact,
           row_number() OVER (PARTITION BY partnership ORDER BY lag_low) AS low_rank,
           row_number() OVER (PARTITION BY partnership ORDER BY lag_high) AS high_rank,
           count(*) OVER (PARTITION BY partnership) AS n
    FROM review_lag
),
stats AS (
    SELECT source, max(n) AS lags, sum(NOT exact) AS lag_intervals,
           avg(CASE WHEN low_rank IN ((n + 1) / 2, (n + 2) / 2) THEN low END) AS median_low,
           avg(CASE WHEN high_rank IN ((n + 1) / 2, (n + 2) / 2) THEN high END) AS median_high,
           max(CASE WHEN low_rank = (9 * n + 9) / 10 THEN low END) AS p90_low,
           max(CASE WHEN high_rank = (9 * n + 9) / 10 THEN high END) AS p90_high
    FROM ranked GROUP BY source
),
codes AS MATERIALIZED (
    SELECT p.source, c.value AS code FROM partnerships p, json_each(p.la_codes) c
),
national_codes AS MATERIALIZED (  -- each national entry's codes read once (not once per partnership)
    SELECT DISTINCT n.review_id, c.value AS code
    FROM entries n, json_each(n.la_codes) c
    WHERE n.kind = 'national' AND n.review_id IS NOT NULL
),
area_national AS MATERIALIZED (  -- the national reviews of each partnership's area: by ONS code, or linked
    SELECT codes.source, nc.review_id
    FROM national_codes nc JOIN codes ON codes.code = nc.code
    UNION
    SELECT e.source, n.review_id
    FROM entries e JOIN links l ON l.entry_a = e.id AND l.decision IN {_LINKED} JOIN entries n ON n.id = l.entry_b
    WHERE e.kind = 'local' AND n.review_id IS NOT NULL
),
named AS MATERIALIZED (  -- per review, whether any of its national entries names an area
    SELECT review_id, max(area IS NOT NULL) AS named FROM entries
    WHERE kind = 'national' AND review_id IS NOT NULL GROUP BY review_id
),
listed_locally AS MATERIALIZED (
    SELECT DISTINCT source, review_id FROM entries WHERE kind = 'local' AND review_id IS NOT NULL
),
national AS (
    SELECT a.source, count(*) AS reviews, sum(l.review_id IS NULL) AS not_local,
           sum(NOT coalesce(m.named, 0)) AS anonymous
    FROM area_national a
    LEFT JOIN listed_locally l ON l.source = a.source AND l.review_id = a.review_id
    LEFT JOIN named m ON m.review_id = a.review_id
    GROUP BY a.source
)
SELECT p.area, p.source, c.local_reviews, c.in_national,
       CASE WHEN c.local_reviews > 0 THEN round(1.0 * c.in_national / c.local_reviews, 3) END AS share,
       c.queued, c.other_documents, coalesce(m.ids, '[]') AS missing, m.oldest AS oldest_missing,
       CASE WHEN s.median_low = s.median_high THEN {_whole('s.median_low')}
            WHEN s.median_low IS NOT NULL THEN json_array({_whole('s.median_low')}, {_whole('s.median_high')})
       END AS median_lag_days,
       CASE WHEN s.p90_low = s.p90_high THEN s.p90_low
            WHEN s.p90_low IS NOT NULL THEN json_array(s.p90_low, s.p90_high)
       END AS p90_lag_days,
       coalesce(s.lags, 0) AS lags, coalesce(s.lag_intervals, 0) AS lag_intervals,
       coalesce(x.not_local, 0) AS national_not_local,
       CASE WHEN x.reviews > 0 THEN round(1.0 * x.anonymous / x.reviews, 3) END AS anonymous_share,
       coalesce(x.reviews, 0) AS national_reviews
FROM partnerships p
JOIN counts c ON c.source = p.source
LEFT JOIN missing m ON m.source = p.source
LEFT JOIN stats s ON s.source = p.source
LEFT JOIN national x ON x.source = p.source
ORDER BY p.area, p.source
"""


VIEWS = {"review_lag": REVIEW_LAG_SQL, "completeness": COMPLETENESS_SQL}


def create_views(db: sqlite_utils.Database) -> None:
    """(Re)create the two views: they hold no data, so replacing them loses nothing."""
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)


def refresh_views(db: sqlite_utils.Database) -> None:
    """Re-create a view whose stored SQL is not this version's (a catalogue migrated by an earlier m004):
    a write only when one differs, so opening a current catalogue writes nothing."""
    stored = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' AND name IN (?, ?)",
                             list(VIEWS)).fetchall())
    if stored and any(name in stored and sql.strip() not in stored[name] for name, sql in VIEWS.items()):
        create_views(db)


# --- reading them ----------------------------------------------------------------------------------


class UnknownArea(LookupError):
    pass


def _lag(value: Any) -> int | float | list[int | float] | None:
    if isinstance(value, str):  # an interval, as a JSON array
        return json.loads(value)
    return value


def rows(db: sqlite_utils.Database, config: Config | None = None, area: str | None = None) -> list[dict[str, Any]]:
    """The completeness rows, one per configured local source (all local sources in the catalogue without a
    config), optionally of one area. A configured source with no entries yet gets a row of zeros."""
    found = {}
    for row in db.query("SELECT * FROM completeness"):
        row = dict(row)
        row["missing"] = json.loads(row["missing"] or "[]")
        row["median_lag_days"] = _lag(row["median_lag_days"])
        row["p90_lag_days"] = _lag(row["p90_lag_days"])
        found[row["source"]] = row
    if config is not None:
        out = []
        for source in config.sources:
            if source.kind != "local":
                continue
            out.append(found.get(source.id) or _empty_row(db, source.id, source.area.name if source.area else None,
                                                          source.area.codes if source.area else ()))
    else:
        out = list(found.values())
    if area is not None:
        out = [row for row in out if row["area"] == area]
    return sorted(out, key=lambda row: (row["area"] or "", row["source"]))


def _empty_row(db: sqlite_utils.Database, source: str, area: str | None, codes: tuple[str, ...]) -> dict[str, Any]:
    """A configured partnership whose page gave no entries yet: nothing local, the area's national reviews."""
    reviews = anonymous = 0
    if codes:
        marks = ", ".join("?" for _ in codes)
        reviews = db.execute(
            f"SELECT count(DISTINCT n.review_id) FROM entries n, json_each(n.la_codes) c "
            f"WHERE n.kind = 'national' AND c.value IN ({marks})", list(codes)).fetchone()[0]
    return {"area": area, "source": source, "local_reviews": 0, "in_national": 0, "share": None, "queued": 0,
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
            "median lag (days)", "p90 lag (days)", "national not local", "anonymous share", "oldest missing")


def _cells(row: dict[str, Any]) -> list[str]:
    return [row["area"] or "-", row["source"], str(row["local_reviews"]), str(row["in_national"]),
            _share(row["share"]), str(row["queued"]), str(row["other_documents"]),
            lag_text(row["median_lag_days"]), lag_text(row["p90_lag_days"]), str(row["national_not_local"]),
            _share(row["anonymous_share"]), row["oldest_missing"] or "-"]


def _footnote(found: list[dict[str, Any]]) -> list[str]:
    if any(row["lag_intervals"] for row in found):
        return ["A lag shown as LOW to HIGH is an interval: a year-only or month-only date leaves the day open."]
    return []


def render(found: list[dict[str, Any]], fmt: str) -> str:
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
        from .night import md_escape

        lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
        lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in cells]
        notes = _footnote(found)
        return "\n".join(lines + ([""] + notes if notes else [])) + "\n"
    if fmt == "table":
        widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(_HEADERS)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADERS, widths)).rstrip()]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        return "\n".join(lines + _footnote(found)) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


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
    """The local reviews of these sources that are not in the national repository, oldest first; their links
    only when http(s) (a catalogue written before links were checked so may hold another scheme)."""
    marks = ", ".join("?" for _ in sources)
    found = db.query(
        f"""
        SELECT e.id AS entry_id, e.title, e.date_text AS date_as_written, e.published AS date_read,
               e.review_type, coalesce(e.report_url, e.url) AS report_url, e.page_url, e.source,
               EXISTS (SELECT 1 FROM links q WHERE q.entry_a = e.id AND q.decision = 'review') AS queued
        FROM entries e
        WHERE e.kind = 'local' AND e.source IN ({marks}) AND e.review_type IN ({_REVIEWS})
          AND NOT EXISTS (SELECT 1 FROM links k WHERE k.entry_a = e.id AND k.decision IN {_LINKED})
        ORDER BY e.published_start IS NULL, e.published_start, e.id
        """, sources)
    return [dict(r) | {"report_url": web_url(r["report_url"]), "page_url": web_url(r["page_url"])} for r in found]


def email_text(area: str, missing: list[dict[str, Any]], csv_name: str) -> str:
    """A short plain message to the national repository, ready to paste (reposync sends nothing)."""
    count = len(missing)
    noun = "review" if count == 1 else "reviews"
    lines = [
        "To: NSPCC Library and Information Service (national case review repository)",
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
        raise UnknownArea(f"no area named {name!r} in {config.areas.path}")
    sources = [s.id for s in config.sources if s.kind == "local" and s.area is not None and s.area.name == area.name]
    if not sources:
        raise UnknownArea(f"no local source is configured for {area.name} in {config.path}")
    return area.name, sources


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: page text starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_pack(db: sqlite_utils.Database, area: str, sources: list[str], out: Path) -> Pack:
    """``<area>-missing.csv`` and ``<area>-email.txt`` in ``out``; nothing at all when nothing is missing."""
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
    return Pack(area, missing, queued, [csv_path, email_path])
