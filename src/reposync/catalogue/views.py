"""Views the catalogue keeps for people: the review queue, the pieces the link views share, and completeness and lag
per partnership (``review_lag``, ``completeness``: what ``reports/completeness.py`` reads; its docstring defines them)."""

from __future__ import annotations

import sqlite_utils

from ..normalise.documents import DOCUMENT_KINDS

# Two entries' ONS code sets share a code (JSON arrays of text).
_SHARES_CODE = (
    "EXISTS (SELECT 1 FROM json_each({a}) ca JOIN json_each({b}) cb ON ca.value = cb.value)"
)


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


# --- completeness and lag ------------------------------------------------------------------------

# Review types that are a case review; every other type (briefing, other) is another local document.
LOCAL_REVIEW_TYPES = ("scr", "cspr", "lcspr", "thematic", "welsh-cpr", "scottish-scr", "ni-cmr")
OTHER_DOCUMENT_TYPES = ("briefing", "other")
_REVIEWS = ", ".join(f"'{t}'" for t in LOCAL_REVIEW_TYPES)
_LINKED = "('auto', 'accepted')"


def document_rank(column: str) -> str:
    """SQL: a document's place in the order a review is read through (its report first: DOCUMENT_KINDS)."""
    whens = " ".join(f"WHEN '{kind}' THEN {rank}" for rank, kind in enumerate(DOCUMENT_KINDS))
    return f"(CASE {column} {whens} ELSE {len(DOCUMENT_KINDS)} END)"


# A local review is counted once however many documents its page lists (the linker gives one review's
# documents one review id: link.linkrules, one-review-many-documents); an entry not yet grouped is its own.
REVIEW_KEY = "coalesce('review:' || {e}.review_id, 'entry:' || {e}.id)"


def _whole(expr: str) -> str:
    """A day count as an integer when it is whole, else rounded to one decimal (a median of two)."""
    return f"(CASE WHEN ({expr}) = CAST(({expr}) AS INTEGER) THEN CAST(({expr}) AS INTEGER) ELSE round(({expr}), 1) END)"


# One row per local review with an automatic or accepted link: the earliest national listing of its
# review and the lag to it, in days, as an interval [lag_low, lag_high] (equal when both dates are days).
# A listing cannot come before publication unless the dates say it surely did: a low bound below zero is
# raised to zero when the high bound is not below zero.
REVIEW_LAG_SQL = f"""
WITH linked AS (  -- a national review a page links to, once, through its first document (its report first)
    SELECT local_id, review_id FROM (
        SELECT e.id AS local_id, n.review_id,
               row_number() OVER (PARTITION BY e.source, n.review_id
                                  ORDER BY {document_rank("e.document_kind")}, e.published_start, e.title, e.id) AS first
        FROM entries e
        JOIN links l ON l.entry_a = e.id AND l.decision IN {_LINKED}
        JOIN entries n ON n.id = l.entry_b
        WHERE e.kind = 'local' AND e.review_type IN ({_REVIEWS})
    ) WHERE first = 1
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

# Whether a partnership's page was read by the last sync: its source walked, without an error.
_READ = ("CASE WHEN (SELECT json_type(sources, '$.\"' || {source} || '\"') FROM last_sync) IS NOT NULL "
         "AND (SELECT json_extract(sources, '$.\"' || {source} || '\".error') FROM last_sync) IS NULL "
         "THEN 'read' ELSE 'not read last night' END")

# One row per local source in the catalogue, and one per register partnership none of those stands for
# (partnership and page say which: read, not read last night, page known, not configured, no page known).
# Medians and 90th percentiles (nearest rank) of the lag are taken of the low bounds and of the high bounds
# apart: a whole number of days when the two agree, else the JSON array [low, high].
COMPLETENESS_SQL = f"""
WITH partnerships AS MATERIALIZED (
    SELECT source, max(area) AS area, max(la_codes) AS la_codes FROM entries WHERE kind = 'local' GROUP BY source
),
local AS MATERIALIZED (
    SELECT e.source, e.id, e.title, e.published, e.published_start, e.review_type IN ({_REVIEWS}) AS is_review,
           {REVIEW_KEY.format(e="e")} AS review, {document_rank("e.document_kind")} AS rank,
           EXISTS (SELECT 1 FROM links k WHERE k.entry_a = e.id AND k.decision IN {_LINKED}) AS in_national,
           EXISTS (SELECT 1 FROM links q WHERE q.entry_a = e.id AND q.decision = 'review') AS in_queue
    FROM entries e WHERE e.kind = 'local'
),
page_reviews AS MATERIALIZED (  -- one row per local review: its documents of a review's type, counted once
    SELECT source, review, max(in_national) AS in_national, max(in_queue) AS in_queue
    FROM local WHERE is_review GROUP BY source, review
),
counts AS (  -- every other entry of the page (a review's other documents, briefings, reports) is a document
    SELECT l.source, coalesce(r.reviews, 0) AS local_reviews, coalesce(r.in_national, 0) AS in_national,
           coalesce(r.queued, 0) AS queued, l.entries - coalesce(r.reviews, 0) AS other_documents
    FROM (SELECT source, count(*) AS entries FROM local GROUP BY source) l
    LEFT JOIN (SELECT source, count(*) AS reviews, sum(in_national) AS in_national,
                      sum(NOT in_national AND in_queue) AS queued
               FROM page_reviews GROUP BY source) r ON r.source = l.source
),
missing_rows AS MATERIALIZED (  -- the reviews not in national, each by its first document, oldest first
    SELECT source, id, title, published,
           row_number() OVER (PARTITION BY source ORDER BY published_start IS NULL, published_start, id) AS k
    FROM (SELECT l.*, row_number() OVER (PARTITION BY l.source, l.review
                                         ORDER BY l.rank, l.published_start, l.title, l.id) AS first
          FROM local l JOIN page_reviews r ON r.source = l.source AND r.review = l.review
          WHERE l.is_review AND NOT r.in_national)
    WHERE first = 1
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
),
base AS (
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
),
last_sync AS (  -- the sources the last sync walked, and how each walk ended (a link check walks none)
    SELECT sources FROM runs WHERE finished_at IS NOT NULL AND json_valid(sources) AND sources != '{{}}'
    ORDER BY id DESC LIMIT 1
)
SELECT b.*, r.name AS partnership,
       CASE WHEN r.id IS NULL THEN NULL ELSE {_READ.format(source="b.source")} END AS page
FROM base b LEFT JOIN register_partnerships r ON r.source = b.source
UNION ALL  -- a register partnership no row above stands for: nothing read, never 0%
SELECT r.area, r.source, NULL, NULL, NULL, NULL, NULL, '[]', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT count(DISTINCT n.review_id) FROM entries n, json_each(n.la_codes) c
         WHERE n.kind = 'national' AND n.review_id IS NOT NULL AND c.value IN (SELECT value FROM json_each(r.la_codes))),
       r.name,
       CASE WHEN r.source IS NOT NULL THEN {_READ.format(source="r.source")}
            WHEN r.reviews IS NOT NULL THEN 'page known, not configured' ELSE 'no page known' END
FROM register_partnerships r
WHERE r.source IS NULL OR r.source NOT IN (SELECT source FROM base)
ORDER BY 1, 2, 17
"""


# The local entries with no automatic or accepted link (m002's view, with each entry's review and document kind,
# so `reposync links unmatched` lists a review of several documents once).
LOCAL_MISSING_SQL = f"""
SELECT e.source AS partnership, e.area, e.id, e.title, e.published, e.review_type, e.url, e.status,
       (SELECT count(*) FROM links q WHERE q.entry_a = e.id AND q.decision = 'review') AS in_review_queue,
       {REVIEW_KEY.format(e="e")} AS review, e.document_kind
FROM entries e
WHERE e.kind = 'local'
  AND NOT EXISTS (SELECT 1 FROM links k WHERE k.entry_a = e.id AND k.decision IN ('auto', 'accepted'))
ORDER BY e.source, e.published_start, {document_rank("e.document_kind")}, e.id
"""


VIEWS = {"review_lag": REVIEW_LAG_SQL, "completeness": COMPLETENESS_SQL, "local_missing_from_national": LOCAL_MISSING_SQL}


def create_views(db: sqlite_utils.Database) -> None:
    """(Re)create the views: they hold no data, so replacing them loses nothing."""
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)


def refresh_views(db: sqlite_utils.Database) -> None:
    """Re-create a view whose stored SQL is not this version's (a catalogue migrated by an earlier m004):
    a write only when one differs, so opening a current catalogue writes nothing."""
    marks = ", ".join("?" for _ in VIEWS)
    stored = dict(db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'view' AND name IN ({marks})",
                             list(VIEWS)).fetchall())
    if stored and any(name in stored and sql.strip() not in stored[name] for name, sql in VIEWS.items()):
        create_views(db)
