"""The change report of a run: what a maintainer reads each morning.

``build`` gathers a run from the catalogue into plain data; ``render`` turns it
into Markdown (what cron mails), JSON or HTML. Page text is escaped in every
format: a title is shown as text, never as markup or a link.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from . import settings
from .snapshots import atomic_write

FORMATS = ("md", "json", "html")
# Sections in the order a maintainer wants them: failures first, then what moved.
KINDS = ("source-failed", "link-broken", "added", "changed", "rolled-off", "expired", "delisted", "reappeared", "linked",
         "unlinked", "link-fixed")
TITLES = {
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
        raise NoSuchRun(f"no run {run_id}" if run_id is not None else "no run yet")
    sections: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    rows = db.query(
        """
        SELECT c.kind, c.source, c.entry_id, c.field, c.old, c.new,
               e.title, e.url, e.page_url, e.area, e.published, e.source AS entry_source
        FROM changes c LEFT JOIN entries e ON e.id = c.entry_id
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
        elif kind in ("linked", "unlinked"):
            item = _item(row) | {"other": row["new"] or row["old"]}
        elif kind in ("link-broken", "link-fixed"):
            item = _item(row) | {"link": row["new"], "was": row["old"]}
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
    }


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
    return bool(report["counts"]) or (report["exit_code"] or 0) != 0


# --- Markdown ---------------------------------------------------------------

# Markdown's punctuation, and an & that would start an entity ("&lt;" would show as "<").
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~]|&(?=#|[A-Za-z][A-Za-z0-9]*;))")
# What a link destination keeps as it is: printable ASCII but <, >, \ and space (the rest is percent-encoded,
# so a URL from a page cannot end the link, or the line, and start markup of its own).
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]^_`{|}~"


def md_escape(text: Any) -> str:
    """Page text as literal Markdown text: no links, emphasis, entities or HTML from a title."""
    if text is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_link(text: Any, url: str | None) -> str:
    label = md_escape(text) or "(untitled)"
    if url and url.startswith(("http://", "https://")):
        return f"[{label}](<{quote(url, safe=_URL_SAFE)}>)"
    return label


def summary_line(report: dict[str, Any]) -> str:
    counts = report["counts"]
    parts = [f"{counts[k]} {k}" for k in KINDS if k in counts]
    return f"reposync run {report['run']} ({report['mode']}, {report['status']}): " + (", ".join(parts) or "no changes")


def render_md(report: dict[str, Any]) -> str:
    lines = [f"# {summary_line(report)}", ""]
    lines.append(f"Started {report['started_at']}, finished {report['finished_at']}; exit code {report['exit_code']}.")
    sections = report["sections"]
    for kind in KINDS:
        items = sections.get(kind)
        if not items:
            continue
        lines += ["", f"## {TITLES[kind]} ({report['counts'].get(kind, len(items))})", ""]
        for item in items:
            lines.append(_md_item(kind, item))
        if report.get("omitted", {}).get(kind):
            lines.append(f"- … and {report['omitted'][kind]} more (the `changes` table has them all)")
    if not report["sources"]:  # a link check walks no source
        return "\n".join(lines) + "\n"
    lines += ["", "## Sources", "", "| source | entries | pages | complete | error |", "|---|---|---|---|---|"]
    for name, outcome in report["sources"].items():
        lines.append(
            f"| {md_escape(name)} | {outcome.get('entries', 0)} | {outcome.get('pages', 0)} | "
            f"{'yes' if outcome.get('complete') else 'no'} | {md_escape(outcome.get('error'))} |"
        )
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
        head += f" {'↔' if kind == 'linked' else '↮'} {md_escape(item['other'])}"
    elif kind in ("link-broken", "link-fixed"):
        head += f": {md_escape(item['link'])}" + (f", was {md_escape(item['was'])}" if item.get("was") else "")
    return head


def _short(value: Any, limit: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- HTML ---------------------------------------------------------------------


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(summary_line(report))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        ".failed{color:#a00}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}</style>",
        "</head><body>",
        f"<h1>{e(summary_line(report))}</h1>",
        f"<p>Started {e(str(report['started_at']))}, finished {e(str(report['finished_at']))}; "
        f"exit code {e(str(report['exit_code']))}.</p>",
    ]
    for kind in KINDS:
        items = report["sections"].get(kind)
        if not items:
            continue
        cls = ' class="failed"' if kind in ("source-failed", "link-broken") else ""
        out.append(f"<h2{cls}>{e(TITLES[kind])} ({report['counts'].get(kind, len(items))})</h2><ul>")
        for item in items:
            out.append(f"<li>{_html_item(kind, item)}</li>")
        if report.get("omitted", {}).get(kind):
            out.append(f"<li>… and {report['omitted'][kind]} more (the <code>changes</code> table has them all)</li>")
        out.append("</ul>")
    out.append("<h2>Sources</h2><table><tr><th>source</th><th>entries</th><th>pages</th><th>complete</th>"
               "<th>error</th></tr>")
    for name, outcome in report["sources"].items():
        out.append(
            f"<tr><td>{e(name)}</td><td>{outcome.get('entries', 0)}</td><td>{outcome.get('pages', 0)}</td>"
            f"<td>{'yes' if outcome.get('complete') else 'no'}</td><td>{e(str(outcome.get('error') or ''))}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def _html_link(text: Any, url: str | None) -> str:
    label = html.escape(str(text)) if text else "(untitled)"
    if url and url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'
    return label


def _html_item(kind: str, item: dict[str, Any]) -> str:
    e = html.escape
    if kind == "source-failed":
        return f"<strong>{e(item['source'])}</strong>: {e(str(item['reason']))} {_html_link(item.get('url'), item.get('url'))}"
    text = f"{_html_link(item['title'], item.get('url'))} ({e(item['source'])}"
    text += f", {e(item['area'])}" if item.get("area") else ", area withheld"
    text += f", {e(item['published'])})" if item.get("published") else ")"
    if kind == "changed":
        text += "<ul>" + "".join(
            f"<li>{e(f['field'])}: {e(_short(f['old']))} → {e(_short(f['new']))}</li>" for f in item["fields"]
        ) + "</ul>"
    elif kind in ("linked", "unlinked"):
        text += f" {'↔' if kind == 'linked' else '↮'} {e(str(item['other']))}"
    elif kind in ("link-broken", "link-fixed"):
        text += f": {e(str(item['link']))}" + (f", was {e(str(item['was']))}" if item.get("was") else "")
    return text


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
