"""`reposync links explain ENTRY_A ENTRY_B`: each feature of a pair, its value and its points, and the decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import sqlite_utils

from ... import catalogue, link
from ...link import explain
from ..options import _options, _sub_options, handle_errors, open_catalogue
from ...catalogue.decisions import DecisionError, pair_entries


def _entry(row: dict[str, Any]) -> str:
    area = row.get("area") or "area withheld"
    return f"{row['id']}  {row['title']} ({row.get('published') or 'undated'}, {area}, {row['source']})"


def explain_pair(db: sqlite_utils.Database, first: str, second: str) -> str:
    """The explanation of a pair as ``links explain`` prints it (ids in either order)."""
    found = pair_entries(db, first, second, "id, kind, source, title, area, published, review_id")
    if first == second:
        raise DecisionError("give two different entries")
    rows = list(db.query(catalogue.LINK_ROWS_SQL))
    shared: dict = {}
    records = {r.id: r for r in (link.Record.from_row(row, shared) for row in rows)}
    weights = link.Weights.from_records(r for r in records.values() if r.kind == "national")
    kinds = {found[first]["kind"], found[second]["kind"]}
    if kinds == {"local", "national"}:
        local, national = (first, second) if found[first]["kind"] == "local" else (second, first)
        return _local_national(db, found[local], found[national], records, weights)
    if kinds == {"national"}:
        return _national_pair(found[first], found[second], records, weights)
    raise DecisionError(f"links join a local entry to a national one, and the dedupe two national ones; "
                        f"{first!r} and {second!r} are both local")


def _local_national(db: sqlite_utils.Database, local: dict, national: dict, records: dict[str, link.Record],
                    weights: link.Weights) -> str:
    score, features = link.compare(records[local["id"]], records[national["id"]], weights)
    stored = db.execute("SELECT decision FROM links WHERE entry_a = ? AND entry_b = ?",
                        [local["id"], national["id"]]).fetchone()
    decision = stored[0] if stored else None
    lines = [f"local     {_entry(local)}", f"national  {_entry(national)}", "",
             f"{'feature':9} {'value':62} {'points':>7}"]
    for name, value, points in explain.feature_rows(features):
        lines.append(f"{name:9} {value:62} {points:>+7.2f}")
    lines.append(f"{'total':9} {'':62} {score:>7.2f}")
    lines.append("")
    words = explain.decision_words(score, features, decision)
    if decision is None and local["review_id"] is not None and local["review_id"] == national["review_id"]:
        words = (f"linked through another entry of the same review (review {local['review_id']}): the links "
                 "table names the review's best-matching entry")
    elif decision is None:
        via = db.execute("SELECT l.entry_b, l.decision FROM links l JOIN entries b ON b.id = l.entry_b "
                         "WHERE l.entry_a = ? AND b.review_id = ? AND b.review_id IS NOT NULL",
                         [local["id"], national["review_id"]]).fetchone()
        if via:
            words = f"{explain.decision_words(score, features, via[1])} (through {via[0]}, same review)"
    lines.append(f"decision: {words}")
    return "\n".join(lines) + "\n"


def _national_pair(a: dict, b: dict, records: dict[str, link.Record], weights: link.Weights) -> str:
    ra, rb = records[a["id"]], records[b["id"]]
    verdict, reason = link.same_review_reason(ra, rb, weights)
    relation, gap = link.date_relation(ra, rb)
    text = weights.text_similarity(ra.text, rb.text)
    shared = sorted(ra.names & rb.names)
    rows = [
        ("area", "same" if ra.codes & rb.codes else "anonymous" if ra.anonymous and rb.anonymous
         else "different" if ra.codes and rb.codes else "not comparable"),
        ("date", relation if gap in (0, None) else f"{relation}, {gap} days apart"),
        ("names", f"{', '.join(sorted(ra.names)) or '-'} / {', '.join(sorted(rb.names)) or '-'}"
                  + (f" (shared {weights.shared_bits(shared):.1f} bits)" if shared else "")),
        ("title", f"similarity {link.title_similarity(ra.title_key, rb.title_key):.3f}"),
        ("type", f"{ra.review_type or '?'} / {rb.review_type or '?'}"),
        ("summary", "no text beyond boilerplate on one side" if text is None else f"TF-IDF cosine {text:.3f}"
                    f" (the same review's particulars from {link.DEDUPE_TEXT_SAME_YEAR:g} the same year,"
                    f" {link.DEDUPE_TEXT:g} otherwise; two stories under {link.DEDUPE_TEXT_AGAINST:g})"),
        ("listings", "the same listing" if ra.source == rb.source else "two listings"),
        ("document", "not read on one side" if not (ra.report_sha256 and rb.report_sha256)
                     else f"the same report document (SHA-256 {ra.report_sha256[:12]}...)"
                     if ra.report_sha256 == rb.report_sha256 else "two different report documents"),
    ]
    lines = [f"national  {_entry(a)}", f"national  {_entry(b)}", "", f"{'feature':9} value"]
    lines += [f"{name:9} {value}" for name, value in rows]
    same_now = a["review_id"] is not None and a["review_id"] == b["review_id"]
    lines.append("")
    apart = "; in the catalogue they are different reviews"
    if verdict and not same_now:
        apart += (" (kept apart by what the rest of each review says: a record of one describes a different "
                  "story than a record of the other, or a title naming several children matches several reviews)")
    lines.append(f"dedupe: {'the same review' if verdict else 'not joined directly'}: {reason}"
                 + (f"; in the catalogue they share review {a['review_id']}" if same_now else apart))
    return "\n".join(lines) + "\n"


@click.command("explain")
@click.argument("entry_a")
@click.argument("entry_b")
@_sub_options
@click.pass_context
@handle_errors
def explain_command(ctx: click.Context, entry_a: str, entry_b: str, config_path: Path | None = None,
                    db_path: Path | None = None) -> None:
    """Each feature of a pair of entries, its value and its points, and the decision they sum to.

    A local and a national entry: the linker's features and points. Two national entries: the dedupe's.
    """
    config, db = open_catalogue(*_options(ctx, config_path, db_path))
    try:
        click.echo(explain_pair(db, entry_a, entry_b), nl=False)
    finally:
        db.close()
