"""Benchmark: the completeness query on the generated collection (100x by default), with a partnership page
for every area.

bench/generate.py makes a national collection only (library records, yearly and rolling lists). This script
syncs it once into ``bench/out/scale-N/catalogue.db`` (as bench/sync.py does), then copies that catalogue to
``completeness.db`` and adds SYNTHETIC local sources to the copy, one per area that national entries name: a
local entry for about half of the area's national reviews (published locally 0-120 days before the national
listing's first day), three in four of them linked automatically, one in ten waiting in the review queue, the
rest unlinked; and a briefing for about one local entry in ten. Then it times, best of ``--rounds``:

- ``SELECT * FROM completeness`` (the view, all partnerships);
- ``completeness.rows(db)``, what ``reposync completeness --format json`` reads;
- ``SELECT count(*) FROM review_lag``.

    python bench/completeness.py [--scale 100] [--rounds 3]

Nothing here asserts a time: it prints the figures (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sqlite3
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

STAMP = {"version": 1, "seed": 13}
NOTE = "SYNTHETIC benchmark entry (bench/completeness.py): an invented local copy, not a real review"


def catalogue(scale: int) -> tuple[Path, Path]:
    """The synced catalogue of the generated collection (made once), and the folder it is in."""
    from generate import generate
    from sync import run_child

    folder = ROOT / "bench" / "out" / f"scale-{scale}"
    config = generate(folder, scale)
    db = folder / "catalogue.db"
    stamp = folder / "catalogue.stamp"
    wanted = json.dumps({"archive": json.loads((folder / "stamp.json").read_text())})
    if not db.exists() or not stamp.exists() or stamp.read_text() != wanted:
        for leftover in folder.glob("catalogue.db*"):
            leftover.unlink()
        print(f"syncing the {scale}x collection into {db} (once) ...", flush=True)
        figures = run_child([str(config), str(db)])
        print(f"  synced in {figures.get('wall', figures.get('seconds', '?'))} s", flush=True)
        stamp.write_text(wanted)
    return db, folder


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def add_local_sources(source_db: Path, target: Path) -> dict[str, int]:
    """A copy of the catalogue with a SYNTHETIC partnership page per area (see the module docstring)."""
    stamp = target.with_suffix(".stamp")
    if target.exists() and stamp.exists() and json.loads(stamp.read_text()) == STAMP:
        conn = sqlite3.connect(target)
        counts = json.loads(conn.execute("SELECT value FROM bench_local WHERE key = 'counts'").fetchone()[0])
        conn.close()
        return counts
    for leftover in target.parent.glob(target.name + "*"):
        leftover.unlink()
    source = sqlite3.connect(source_db)
    source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source.close()
    shutil.copy(source_db, target)
    rng = random.Random(STAMP["seed"])
    conn = sqlite3.connect(target, isolation_level=None)
    run = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
    reviews = conn.execute(
        """
        SELECT n.review_id, max(n.area), max(n.la_codes), min(n.published_start),
               (SELECT m.id FROM entries m WHERE m.review_id = n.review_id AND m.kind = 'national' ORDER BY m.id LIMIT 1),
               max(n.review_type)
        FROM entries n WHERE n.kind = 'national' AND n.area IS NOT NULL AND n.review_id IS NOT NULL
          AND n.published_start IS NOT NULL
        GROUP BY n.review_id ORDER BY n.review_id
        """).fetchall()
    entries, links = [], []
    counts = {"local_entries": 0, "auto": 0, "review": 0, "unlinked": 0, "briefings": 0}
    for review_id, area, codes, start, national_id, review_type in reviews:
        if rng.random() >= 0.5:
            continue
        source = f"local-{slug(area)}"
        published = date.fromisoformat(start) - timedelta(days=rng.randrange(0, 121))
        entry_id = f"{source}:r{review_id}"
        draw = rng.random()
        decision = "auto" if draw < 0.75 else "review" if draw < 0.85 else None
        entries.append((entry_id, source, "local", f"Child R{review_id}", NOTE, published.isoformat(),
                        published.isoformat(), published.isoformat(), "day", published.year,
                        review_type if review_type not in ("briefing", "other") else "scr", area, codes,
                        review_id if decision == "auto" else None, "listed", run, run))
        counts["local_entries"] += 1
        counts[decision or "unlinked"] += 1
        if decision:
            links.append((entry_id, national_id, 11.0 if decision == "auto" else 7.0, "{}", decision, run))
        if rng.random() < 0.1:
            entries.append((f"{entry_id}-briefing", source, "local", f"Child R{review_id}: 7 minute briefing", NOTE,
                            published.isoformat(), published.isoformat(), published.isoformat(), "day",
                            published.year, "briefing", area, codes, None, "listed", run, run))
            counts["briefings"] += 1
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO entries (id, source, kind, title, note, published, published_start, published_end, "
        "published_precision, published_year, review_type, area, la_codes, review_id, status, first_seen_run, "
        "last_seen_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
    conn.executemany("INSERT INTO links (entry_a, entry_b, score, features, decision, first_run) "
                     "VALUES (?, ?, ?, ?, ?, ?)", links)
    counts["partnerships"] = conn.execute("SELECT count(DISTINCT source) FROM entries WHERE kind = 'local'").fetchone()[0]
    conn.execute("CREATE TABLE bench_local (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO bench_local VALUES ('counts', ?)", [json.dumps(counts)])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    stamp.write_text(json.dumps(STAMP))
    return counts


def best(rounds: int, work) -> tuple[float, object]:
    """The shortest of ``rounds`` timings of ``work()`` and what it returned (bench/queries.py times with it too)."""
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from reposync.reports import completeness
    from reposync.catalogue import open_db

    db_path, folder = catalogue(args.scale)
    target = folder / "completeness.db"
    counts = add_local_sources(db_path, target)
    db = open_db(target)  # applies m004 if the synced catalogue predates it
    conn = db.conn
    national = conn.execute("SELECT count(*) FROM entries WHERE kind = 'national'").fetchone()[0]
    view_s, rows = best(args.rounds, lambda: conn.execute("SELECT * FROM completeness").fetchall())
    python_s, found = best(args.rounds, lambda: completeness.rows(db))
    lag_s, lags = best(args.rounds, lambda: conn.execute("SELECT count(*) FROM review_lag").fetchone()[0])
    db.close()
    print(f"scale {args.scale}x: {national:,} national entries; SYNTHETIC local pages: {counts['partnerships']} "
          f"partnerships, {counts['local_entries']:,} local reviews ({counts['auto']:,} linked, "
          f"{counts['review']:,} queued, {counts['unlinked']:,} unlinked) and {counts['briefings']:,} briefings")
    print(f"  SELECT * FROM completeness        {view_s:7.2f} s  ({len(rows)} rows, best of {args.rounds})")
    print(f"  completeness.rows (CLI, json)     {python_s:7.2f} s  ({len(found)} rows)")
    print(f"  SELECT count(*) FROM review_lag   {lag_s:7.2f} s  ({lags:,} lags)")


if __name__ == "__main__":
    main()
