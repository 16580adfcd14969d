"""The change report of a run: what a maintainer reads each morning.

``build`` gathers a run from the catalogue into plain data; ``render`` turns it
into Markdown (what cron mails), JSON or HTML (templates/report.html, Jinja2 with
autoescaping). Page text is escaped in every format: a title is shown as text,
never as markup or a link.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from .. import settings
from ..archive.snapshots import atomic_write
from ..catalogue import documents
from ..urls import web_url
from . import completeness
from .markdown import md_escape

FORMATS = ("md", "json", "html")
# Sections in the order a maintainer wants them: what waits for a person first, then what moved.
KINDS = ("held", "held-move", "source-failed", "link-broken", "added", "changed", "rolled-off", "expired", "delisted", "reappeared",
         "linked", "unlinked", "link-fixed")
TITLES = {
    "held": "Held: the page's layout changed",
    "held-move": "Held: the page moved to another site",
    "source-failed": "Failed sources",
    "added": "Added",
    "changed": "Changed",
    "rolled-off": "Rolled off a rolling page",
    "expired": "Expired from a local page",
    "delisted": "Delisted",
    "reappeared": "Reappeared",
    "linked": "Linked",
    "unlinked": "Unlinked",
    "link-broken": "Report links that broke",
    "link-fixed": "Report links that work again",
}


HELD_NOTE = ("Nothing was marked gone: these entries were not found on a walk whose page is laid out anew. Look "
             "at the page (`reposync sources check SOURCE --live`); if they really are gone, "
             "`reposync sources accept-layout SOURCE`, and the next sync applies them.")

HELD_MOVE_NOTE = ("Nothing was marked gone: these entries were not found on the page another site's redirect led to. "
                  "When the move is right, record it (`reposync sources move SOURCE NEW_URL`, as the section on "
                  "moved pages says): the next sync reads the page there and applies what departed.")
MOVES_TITLE = "Pages that moved or are gone"
PERMANENT_NOTE = "A sync never rewrites the config: a person records a move (`reposync sources move`)."


def moves_of(sources: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's sources whose configured page moved or is gone, from their outcomes (``crawl/moves.py``)."""
    found = []
    for name, outcome in sources.items():
        moved, gone = outcome.get("moved"), outcome.get("gone")
        if moved:
            found.append({"source": name, "state": "moved-off-site" if moved.get("off_site") else "moved",
                          "from": moved["from"], "to": moved["to"], "status": moved.get("status"),
                          "held": outcome.get("held", 0)})
        elif gone:
            found.append({"source": name, "state": "gone", "from": gone["url"], "status": gone.get("status"),
                          "candidates": gone.get("candidates") or [], "searched": "home" in gone or bool(gone.get("again")),
                          "pages": gone.get("pages"), "error": gone.get("error")})
    return found


def move_parts(item: dict[str, Any], esc: Callable[[Any], str] = str) -> tuple[str, str | None]:
    """What a moved or gone page's line says (what came from the site, URLs and errors, through ``esc``), and
    the command that records the move (None: nowhere known to move to)."""
    status = f"HTTP {item['status']}" if item.get("status") else "no status"
    old = esc(item["from"])
    if item["state"] in ("moved", "moved-off-site"):
        text = f"moved: {old} → {esc(item['to'])} ({status}); read there"
        if item["state"] == "moved-off-site":
            text = (f"moved to another site: {old} → {esc(item['to'])} ({status}); read there, its departures "
                    f"held ({item.get('held', 0)}) until the move is recorded")
        return text + ".", f"reposync sources move {item['source']} {item['to']}"
    found = item.get("candidates") or []
    text = f"gone: {old} ({status}); nothing departs"
    if found:
        text = f"gone: {old}; on its site now: " + ", ".join(
            f"{esc(c['url'])} ({c['reviews']} reviews)" if c.get("reviews") else f"{esc(c['url'])} "
            f"({c['entries']} entries)" for c in found) + f" ({status}; nothing departs)"
    elif item.get("error"):
        text += f"; its site could not be read: {esc(item['error'])}"
    elif item.get("searched"):
        text += f"; nothing on its site lists children's case reviews ({item.get('pages') or 0} pages read)"
    return text + ".", (f"reposync sources move {item['source']} {found[0]['url']}" if found else None)


def move_lines(source: str, outcome: dict[str, Any]) -> list[str]:
    """A sync's summary lines for a source whose page moved or is gone (plain text)."""
    lines = []
    for item in moves_of({source: outcome}):
        text, command = move_parts(item)
        lines.append(f"{item['state'].upper().replace('-', ' ')} {source}: {text}"
                     + (f" Record it: `{command}`" if command else ""))
    return lines


class NoSuchRun(LookupError):
    pass


def last_run_id(db: sqlite_utils.Database) -> int | None:
    row = db.execute("SELECT max(id) FROM runs WHERE status != 'running'").fetchone()
    return row[0] if row else None


def build(db: sqlite_utils.Database, run_id: int | None = None) -> dict[str, Any]:
    """A run's report as plain data (the JSON format is exactly this)."""
    if run_id is None:
        run_id = last_run_id(db)
    run = db["runs"].get(run_id) if run_id is not None and db["runs"].count_where("id = ?", [run_id]) else None
    if run is None:
        newest = last_run_id(db)
        if run_id is None or newest is None:
            raise NoSuchRun("no run yet: run `reposync sync` first")
        raise NoSuchRun(f"no run {run_id}: the newest is run {newest}")
    sections: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    rows = db.query(
        """
        SELECT c.kind, c.source, c.entry_id, c.field, c.old, c.new,
               e.title, e.url, e.page_url, e.area, e.published, e.source AS entry_source,
               n.id AS n_id, n.title AS n_title, n.source AS n_source, n.area AS n_area, n.published AS n_published,
               n.url AS n_url
        FROM changes c LEFT JOIN entries e ON e.id = c.entry_id
        LEFT JOIN entries n ON c.kind IN ('linked', 'unlinked') AND n.id = coalesce(c.new, c.old)
        WHERE c.run_id = ? ORDER BY c.id
        """,
        [run_id],
    )
    counts: dict[str, int] = {}
    last_changed: str | None = None  # a changed entry's field rows are written together
    item: dict[str, Any] = {}
    for row in rows:
        kind = row["kind"]
        if kind == "changed" and row["entry_id"] == last_changed:
            if item.get("entry") == row["entry_id"]:
                item["fields"].append({"field": row["field"], "old": row["old"], "new": row["new"]})
            continue
        counts[kind] = counts.get(kind, 0) + 1
        listed = sections.setdefault(kind, [])
        # A first sync adds every entry: list the first few hundred, count the rest.
        if len(listed) >= settings.REPORT_MAX_ITEMS and kind != "source-failed":
            last_changed = row["entry_id"] if kind == "changed" else last_changed
            continue
        if kind == "changed":  # one item per entry, with every field that changed
            last_changed = row["entry_id"]
            item = _item(row) | {"fields": [{"field": row["field"], "old": row["old"], "new": row["new"]}]}
        elif kind == "source-failed":
            item = {"source": row["source"], "url": row["field"], "reason": row["new"]}
        elif kind in ("linked", "unlinked"):  # the national entry by title, source and date, not a bare id
            national = None
            if row["n_id"] is not None:
                national = {"entry": row["n_id"], "title": row["n_title"], "source": row["n_source"],
                            "area": row["n_area"], "published": row["n_published"], "url": row["n_url"]}
            item = _item(row) | {"other": row["new"] or row["old"], "national": national}
        elif kind in ("link-broken", "link-fixed"):
            item = _item(row) | {"link": row["new"], "was": row["old"]}
        elif kind in ("held", "held-move"):  # still listed; what it would have become had it not been held
            item = _item(row) | {"would_be": row["new"]}
        else:
            item = _item(row)
        listed.append(item)
    omitted = {kind: counts[kind] - len(sections[kind]) for kind in counts if counts[kind] > len(sections[kind])}
    return {
        "run": run["id"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "mode": run["mode"],
        "status": run["status"],
        "exit_code": run["exit_code"],
        "counts": {kind: counts[kind] for kind in KINDS if kind in counts},
        "omitted": omitted,  # items counted but not listed, by kind (the changes table has them all)
        "sources": json.loads(run["sources"] or "{}"),
        "sections": {kind: items for kind, items in sections.items() if items},
        "completeness": completeness_moves(db, run["id"]),
        "documents": documents.run_counts(db, run["id"]),  # read (or refused) this run, by status
        "moves": moves_of(json.loads(run["sources"] or "{}")),
        # what the run's report-link check asked, by status, and what it did not ask, by why (None: no check)
        "report_links": json.loads(run["counts"] or "{}").get("report_links"),
    }


def completeness_moves(db: sqlite_utils.Database, run_id: int) -> list[dict[str, Any]]:
    """The completeness rows of the partnerships whose figures this run moved: a local review newly linked
    or unlinked, or newly waiting in the review queue; with what moved. [] when nothing did."""
    reviews = ", ".join("?" for _ in completeness.LOCAL_REVIEW_TYPES)
    moved: dict[str, dict[str, int]] = {}
    for source, what, count in db.execute(
        f"""
        SELECT e.source, c.kind, count(*) FROM changes c JOIN entries e ON e.id = c.entry_id
        WHERE c.run_id = ? AND c.kind IN ('linked', 'unlinked') AND e.kind = 'local' AND e.review_type IN ({reviews})
        GROUP BY e.source, c.kind
        UNION ALL
        SELECT e.source, 'queued', count(DISTINCT e.id) FROM links l JOIN entries e ON e.id = l.entry_a
        WHERE l.first_run = ? AND l.decision = 'review' AND e.kind = 'local' AND e.review_type IN ({reviews})
        GROUP BY e.source
        """,
        [run_id, *completeness.LOCAL_REVIEW_TYPES, run_id, *completeness.LOCAL_REVIEW_TYPES],
    ):
        moved.setdefault(source, {})[what] = count
    if not moved:
        return []
    rows = []
    for row in completeness.rows(db):
        if row["source"] in moved:
            rows.append({key: row[key] for key in ("area", "source", "local_reviews", "in_national", "share",
                                                   "queued", "median_lag_days")}
                        | {"moved": {"linked": 0, "unlinked": 0, "queued": 0} | moved[row["source"]]})
    return rows


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "entry": row["entry_id"],
        "source": row["entry_source"] or row["source"],
        "title": row["title"],
        "area": row["area"],
        "published": row["published"],
        "url": row["url"],
        "page": row["page_url"],
    }


def is_eventful(report: dict[str, Any]) -> bool:
    return bool(report["counts"]) or (report["exit_code"] or 0) != 0 or bool(report.get("moves"))


# --- Markdown ---------------------------------------------------------------

# What a link destination keeps as it is: printable ASCII but <, >, \ and space (the rest is percent-encoded,
# so a URL from a page cannot end the link, or the line, and start markup of its own).
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]^_`{|}~"


def _md_link(text: Any, url: str | None) -> str:
    label = md_escape(text) or "(untitled)"
    url = _safe_url(url)
    if url:
        return f"[{label}](<{quote(url, safe=_URL_SAFE)}>)"
    return label


# The last line of everything a dry run prints: what it found was never written anywhere.
DRY_RUN_NOTE = "Dry run: nothing was written (the catalogue, the reports, the snapshots and decisions.toml are as they were)."


def summary_line(report: dict[str, Any]) -> str:
    counts = report["counts"]
    parts = [f"{counts[k]} {k}" for k in KINDS if k in counts]
    run = "dry run, nothing written" if report.get("dry_run") else f"run {report['run']}"
    return f"reposync {run} ({report['mode']}, {report['status']}): " + (", ".join(parts) or "no changes")


def documents_line(counts: dict[str, int]) -> str:
    """The run's documents in one line: how many read, how many scans without a text layer (no OCR)."""
    words = {"ok": "read", "no-text": "without a text layer (scans: counted, not read by OCR)",
             "not-a-pdf": "not a PDF", "too-big": "over [documents] max_bytes", "encrypted": "encrypted",
             "forbidden": "forbidden by robots.txt", "error": "unreadable or not fetched"}
    parts = [f"{n} {words.get(status, status)}" for status, n in counts.items()]
    return f"{sum(counts.values())} documents new or changed this run: " + ", ".join(parts) + "."


def report_links_line(found: dict[str, Any]) -> str:
    """``12 asked: 10 ok, 2 gone; 40 not checked: 35 not due, 3 off-site, 2 robots``."""
    asked, why = found.get("asked", {}), found.get("not_checked", {})
    said = f"{sum(asked.values())} asked" + (": " + ", ".join(f"{n} {s}" for s, n in asked.items()) if asked else "")
    if why:
        said += f"; {sum(why.values())} not checked: " + ", ".join(f"{n} {reason}" for reason, n in why.items())
    return md_escape(said)


def render_md(report: dict[str, Any]) -> str:
    lines = [f"# {summary_line(report)}", ""]
    lines.append(f"Started {report['started_at']}, finished {report['finished_at']}; exit code {report['exit_code']}.")
    sections = report["sections"]
    if report.get("moves"):
        lines += ["", f"## {MOVES_TITLE} ({len(report['moves'])})", "", PERMANENT_NOTE, ""]
        for item in report["moves"]:
            text, command = move_parts(item, md_escape)
            code = f" Record it: `{command}`" if command and "`" not in command else (
                f" Record it: {md_escape(command)}" if command else "")
            lines.append(f"- **{md_escape(item['source'])}**: {text}{code}")
    for kind in KINDS:
        items = sections.get(kind)
        if not items:
            continue
        lines += ["", f"## {TITLES[kind]} ({report['counts'].get(kind, len(items))})", ""]
        if kind in ("held", "held-move"):
            lines += [HELD_NOTE if kind == "held" else HELD_MOVE_NOTE, ""]
        for item in items:
            lines.append(_md_item(kind, item))
        if report.get("omitted", {}).get(kind):
            lines.append(f"- … and {report['omitted'][kind]} more (the `changes` table has them all)")
    if report.get("completeness"):
        lines += ["", f"## Completeness of the partnerships that moved ({len(report['completeness'])})", "",
                  COMPLETENESS_NOTE, "", "| " + " | ".join(COMPLETENESS_HEADINGS) + " |",
                  "|" + "---|" * len(COMPLETENESS_HEADINGS)]
        for row in report["completeness"]:
            lines.append("| " + " | ".join(md_escape(cell) for cell in _completeness_cells(row)) + " |")
    if report.get("documents"):
        lines += ["", "## Report documents", "", documents_line(report["documents"])]
    if report.get("report_links"):
        lines += ["", "## Report links checked", "", report_links_line(report["report_links"])]
    if report["sources"]:  # a link check walks no source
        lines += ["", "## Sources", "", "| source | entries | pages | complete | error |", "|---|---|---|---|---|"]
        for name, outcome in report["sources"].items():
            lines.append(
                f"| {md_escape(name)} | {outcome.get('entries', 0)} | {outcome.get('pages', 0)} | "
                f"{'yes' if outcome.get('complete') else 'no'} | {md_escape(_trouble(outcome))} |"
            )
    if report.get("dry_run"):
        lines += ["", DRY_RUN_NOTE]
    return "\n".join(lines) + "\n"


def _md_item(kind: str, item: dict[str, Any]) -> str:
    if kind == "source-failed":
        where = f" at {_md_link(item['url'], item['url'])}" if item.get("url") else ""
        return f"- **{md_escape(item['source'])}**: {md_escape(item['reason'])}{where}"
    head = f"- {_md_link(item['title'], item.get('url'))} ({md_escape(item['source'])}"
    head += f", {md_escape(item['area'])}" if item.get("area") else ", area withheld"
    head += f", {md_escape(item['published'])})" if item.get("published") else ")"
    if item.get("page"):
        head += f" on {_md_link('its page', item['page'])}"
    if kind == "changed":
        changes = "; ".join(
            f"{md_escape(f['field'])}: {md_escape(_short(f['old']))} → {md_escape(_short(f['new']))}"
            for f in item["fields"]
        )
        head += f": {changes}"
    elif kind in ("linked", "unlinked"):
        arrow = "↔" if kind == "linked" else "↮"
        national = item.get("national")
        if national:
            head += f" {arrow} {_md_link(national['title'], national.get('url'))} ({_md_meta(national)})"
        else:  # no longer in the catalogue: its id is all there is
            head += f" {arrow} {md_escape(item['other'])}"
    elif kind in ("link-broken", "link-fixed"):
        head += f": {md_escape(item['link'])}" + (f", was {md_escape(item['was'])}" if item.get("was") else "")
    elif kind in ("held", "held-move"):
        head += f": not found on this walk, still listed (would be {md_escape(item['would_be'])})"
    return head


def _meta(item: dict[str, Any]) -> str:
    """source, area (or that it is withheld), date: how the report names where an entry comes from."""
    parts = [str(item["source"]), str(item["area"]) if item.get("area") else "area withheld"]
    if item.get("published"):
        parts.append(str(item["published"]))
    return ", ".join(parts)


def _md_meta(item: dict[str, Any]) -> str:
    return ", ".join(md_escape(part) for part in _meta(item).split(", "))


COMPLETENESS_NOTE = ("Local reviews in the national repository (an automatic or accepted link), for each partnership "
                     "whose figures this run moved; figures as the catalogue stood when the report was made "
                     "(`reposync completeness` for all).")
COMPLETENESS_HEADINGS = ("area", "source", "local reviews", "in national", "share", "queued", "median lag (days)",
                         "this run")


def _completeness_cells(row: dict[str, Any]) -> list[str]:
    from .completeness import lag_text

    moved = row["moved"]
    what = [f"+{moved['linked']} linked" if moved["linked"] else "",
            f"{moved['unlinked']} unlinked" if moved["unlinked"] else "",
            f"+{moved['queued']} queued" if moved["queued"] else ""]
    share = "-" if row["share"] is None else f"{round(row['share'] * 100)}%"
    return [str(row["area"] or "-"), str(row["source"]), str(row["local_reviews"]), str(row["in_national"]), share,
            str(row["queued"]), lag_text(row["median_lag_days"]), ", ".join(w for w in what if w)]


def _trouble(outcome: dict[str, Any]) -> str:
    """A source's error, or its held departures, for the sources table."""
    if outcome.get("error"):
        return str(outcome["error"])
    if outcome.get("held"):
        why = "its page moved to another site" if (outcome.get("moved") or {}).get("off_site") else \
            "the page's layout changed"
        return f"{outcome['held']} departures held: {why}"
    return ""


def _short(value: Any, limit: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- HTML ---------------------------------------------------------------------


@functools.cache
def _templates() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,  # every value is text unless the template says otherwise (it never does)
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _safe_url(url: Any) -> str | None:
    """Only an http(s) URL becomes a link (``urls.web_url``); anything else (javascript:, data:) stays text."""
    return web_url(url) if isinstance(url, str) else None


def _entry_view(item: dict[str, Any]) -> dict[str, Any]:
    return {"title": item.get("title") or "(untitled)", "url": _safe_url(item.get("url")), "meta": _meta(item)}


def _item_view(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """What the template shows of one item: text, and links that are known to be http(s)."""
    if kind == "source-failed":
        return {"strong": item["source"], "text": str(item["reason"]), "link": _safe_url(item.get("url"))}
    view = _entry_view(item) | {"page": _safe_url(item.get("page")), "other": None, "arrow": "", "details": []}
    if kind == "changed":
        view["details"] = [f"{f['field']}: {_short(f['old'])} → {_short(f['new'])}" for f in item["fields"]]
    elif kind in ("linked", "unlinked"):
        view["arrow"] = "↔" if kind == "linked" else "↮"
        national = item.get("national")
        view["other"] = _entry_view(national) if national else {"title": str(item["other"]), "url": None,
                                                                "meta": "no longer in the catalogue"}
    elif kind in ("link-broken", "link-fixed"):
        view["details"] = [str(item["link"]) + (f", was {item['was']}" if item.get("was") else "")]
    elif kind in ("held", "held-move"):
        view["details"] = [f"not found on this walk, still listed (would be {item['would_be']})"]
    return view


def render_html(report: dict[str, Any]) -> str:
    sections = []
    if report.get("moves"):
        views = []
        for item in report["moves"]:
            text, command = move_parts(item)
            views.append({"strong": item["source"], "text": text + (f" Record it: {command}" if command else ""),
                          "link": None})
        sections.append({"title": MOVES_TITLE, "count": len(views), "failed": True, "views": views,
                         "note": PERMANENT_NOTE.replace("`", ""), "omitted": None})
    for kind in KINDS:
        items = report["sections"].get(kind)
        if not items:
            continue
        sections.append({
            "title": TITLES[kind], "count": report["counts"].get(kind, len(items)),
            "failed": kind in ("source-failed", "link-broken"),
            "note": {"held": HELD_NOTE, "held-move": HELD_MOVE_NOTE}.get(kind, "").replace("`", "") or None,
            "views": [_item_view(kind, item) for item in items], "omitted": report.get("omitted", {}).get(kind),
        })
    source_headings = ("source", "entries", "pages", "complete", "error")
    sources = [list(zip(source_headings, (name, str(o.get("entries", 0)), str(o.get("pages", 0)),
                                          "yes" if o.get("complete") else "no", _trouble(o))))
               for name, o in report["sources"].items()]
    completeness = [list(zip(COMPLETENESS_HEADINGS, _completeness_cells(row))) for row in report.get("completeness") or []]
    return _templates().get_template("report.html").render(
        report=report, summary=summary_line(report), sections=sections,
        completeness=completeness, completeness_headings=COMPLETENESS_HEADINGS,
        completeness_note=COMPLETENESS_NOTE.replace("`", ""),
        sources=sources, source_headings=source_headings,
    )


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "md":
        return render_md(report)
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown report format {fmt!r}")


def write_reports(report: dict[str, Any], directory: Path) -> list[Path]:
    """``<run>.md``, ``.json`` and ``.html``, each written atomically."""
    run = report["run"]
    if not isinstance(run, int) or isinstance(run, bool):  # the file name is the run's number, nothing else
        raise ValueError(f"not a run number: {run!r}")
    paths = []
    for fmt in FORMATS:
        path = Path(directory) / f"{run}.{fmt}"
        atomic_write(path, render(report, fmt).encode("utf-8"))
        paths.append(path)
    return paths
