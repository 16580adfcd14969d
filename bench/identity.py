"""Byte identity: a sha256 of everything a sync and the linker make, one line "name sha256" an item.

Run it on two versions of the code that should change nothing (a move, a rename, a faster loop) and diff
the outputs: every line the same is the check.

    python bench/identity.py                  # the bundled sync, the gold set, bench collections at 1x and 10x
    python bench/identity.py --scales 1       # without the 10x collection (its sync: 2-3 minutes, shared 2 cores)
    python bench/identity.py --out DIR        # where the bench collections are generated (default bench/out)

The items:

- the bundled snapshots' offline sync (``reposync sync --offline`` into a temporary catalogue): every table
  and view, rows in primary-key order (a view in the order of all its columns), and the full-text index's
  content apart from its pages' layout (``fts-index:``, every occurrence of every term: two versions that
  write the index in another order differ in ``entries_fts_data`` and ``_idx`` alone); the reports it wrote (md,
  json, html); the output of ``sync``, ``report`` (md, json, html), ``completeness`` (every format),
  ``links``, ``links review``, ``links unmatched``, ``links explain`` (a linked pair and a national pair);
  and every table again after a second sync of the same snapshots;
- the bench collection (bench/generate.py) at each scale, synced offline the same way: every table, the
  sync's output and its report;
- the gold set's figures on every half (``bench/linkage.py --blind --final --last --check``, as text and
  as JSON);
- the Linkage (groups, links with their features, national groups) of ``bench/linkage.py``'s synthetic
  collection of 20,000 national records and 1,000 local entries, which the gold set is too small to load.

The run's own times are not compared: the columns that hold them (``TIME_COLUMNS``) are left out, and any
date-time of the run's own minutes in a text (a report's "Started ...") reads ``<time>``; the temporary
folder's path reads ``<tmp>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

# The columns that hold the time a run happened (the clock, not the data): left out of the tables' digests.
TIME_COLUMNS = {("runs", "started_at"), ("runs", "finished_at"), ("_sqlite_migrations", "applied_at")}
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
STARTED = datetime.now(timezone.utc)


def _mask(text: str, tmp: str | None = None) -> str:
    """The text without this run's own date-times (and the temporary folder's path)."""
    window = (STARTED - timedelta(minutes=2), datetime.now(timezone.utc) + timedelta(minutes=2))

    def clock(match: re.Match) -> str:
        try:
            when = datetime.fromisoformat(match[0].replace("Z", "+00:00"))
        except ValueError:
            return match[0]
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return "<time>" if window[0] <= when <= window[1] else match[0]

    if tmp:
        text = text.replace(tmp, "<tmp>")
    return _DATETIME.sub(clock, text)


def digest(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _value(value: object) -> object:
    return _mask(value) if isinstance(value, str) else value


def table_digests(db_path: Path) -> dict[str, str]:
    """Each table's and view's rows, in primary-key order (rowid without one; a view by all its columns)."""
    db = sqlite3.connect(db_path)
    out: dict[str, str] = {}
    for kind, name in db.execute("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
                                 "ORDER BY type, name"):
        info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
        columns = [row[1] for row in info if (name, row[1]) not in TIME_COLUMNS]
        keys = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
        if kind == "view":
            order = ", ".join(f'"{c}"' for c in columns)
        elif keys:
            order = ", ".join(f'"{c}"' for c in keys)
        else:
            order = "rowid"
        select = ", ".join(f'"{c}"' for c in columns)
        hasher = hashlib.sha256(repr(columns).encode())
        for row in db.execute(f'SELECT {select} FROM "{name}" ORDER BY {order}'):
            hasher.update(repr(tuple(_value(v) for v in row)).encode("utf-8", "surrogatepass"))
            hasher.update(b"\n")
        out[f"{kind}:{name}"] = hasher.hexdigest()
    # A full-text index's content whatever the layout of its pages (its _data and _idx tables hold segments
    # whose bytes depend on the order it was written in): every occurrence of every term, by fts5vocab.
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND sql LIKE 'CREATE VIRTUAL TABLE%USING FTS5%' ORDER BY name").fetchall():
        db.execute(f'CREATE VIRTUAL TABLE temp."{name}_terms" USING fts5vocab(main, "{name}", instance)')
        hasher = hashlib.sha256()
        for row in db.execute(f'SELECT term, doc, col, offset FROM temp."{name}_terms" ORDER BY term, doc, col, offset'):
            hasher.update(repr(row).encode("utf-8", "surrogatepass") + b"\n")
        out[f"fts-index:{name}"] = hasher.hexdigest()
    db.close()
    return out


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench"), env.get("PYTHONPATH", "")])
    env["PYTHONHASHSEED"] = env.get("PYTHONHASHSEED", "0")
    env.setdefault("COLUMNS", "120")
    return env


def run(args: list[str], tmp: str, cwd: str | None = None) -> str:
    """A command's exit code, output and errors, masked: what a user sees of it."""
    done = subprocess.run(args, capture_output=True, text=True, env=_env(), cwd=cwd or tmp)
    return _mask(f"exit {done.returncode}\n{done.stdout}\n--- stderr\n{done.stderr}", tmp)


def cli(tmp: str, *args: str) -> str:
    return run([sys.executable, "-m", "reposync", *args], tmp)


def bundled(tmp: str) -> list[tuple[str, str]]:
    """The bundled snapshots' offline sync and the commands a librarian runs on its catalogue."""
    import shutil

    config = Path(tmp) / "config"
    shutil.copytree(ROOT / "config", config)  # a sync may write beside its config (decisions.toml)
    db, reports = Path(tmp) / "catalogue.db", Path(tmp) / "reports"
    where = ["--config", str(config / "sources.toml"), "--db", str(db)]
    items = [("bundled cli:sync", cli(tmp, "sync", "--offline", *where, "--snapshots", str(ROOT / "snapshots"),
                                      "--reports", str(reports)))]
    items += [(f"bundled {name}", value) for name, value in table_digests(db).items()]
    for path in sorted(reports.iterdir()):
        items.append((f"bundled report-file:{path.name}", _mask(path.read_text(encoding="utf-8"), tmp)))
    for fmt in ("md", "json", "html"):
        items.append((f"bundled cli:report --format {fmt}", cli(tmp, "report", *where, "--format", fmt)))
    for fmt in ("table", "md", "csv", "json"):
        items.append((f"bundled cli:completeness --format {fmt}", cli(tmp, "completeness", *where, "--format", fmt)))
    items.append(("bundled cli:links", cli(tmp, "links", *where)))
    for sub in ("review", "unmatched"):
        items.append((f"bundled cli:links {sub}", cli(tmp, "links", sub, *where)))
    con = sqlite3.connect(db)
    pairs = con.execute("SELECT entry_a, entry_b FROM links ORDER BY entry_a, entry_b LIMIT 1").fetchall()
    pairs += con.execute(
        "SELECT min(id), max(id) FROM entries WHERE kind = 'national' GROUP BY review_id HAVING count(*) > 1 "
        "ORDER BY min(id) LIMIT 1").fetchall()
    con.close()
    for a, b in pairs:
        items.append((f"bundled cli:links explain {a} {b}", cli(tmp, "links", "explain", a, b, *where)))
    items.append(("bundled cli:sync (second run)",
                  cli(tmp, "sync", "--offline", *where, "--snapshots", str(ROOT / "snapshots"), "--reports",
                      str(reports))))
    items.append(("bundled tables after the second sync", json.dumps(table_digests(db), sort_keys=True)))
    return items


# One offline sync of a generated collection, with the page guard raised as bench/sync.py does.
_SYNC = """
import sys
from reposync import settings
settings.MAX_PAGES_PER_SOURCE = 10**6
from reposync.cli.main import cli
cli.main(sys.argv[1:], prog_name="reposync")
"""


def collection(tmp: str, scale: int, out: Path) -> list[tuple[str, str]]:
    from generate import generate

    config = generate(out / f"scale-{scale}", scale, quiet=True)
    db, reports = Path(tmp) / f"scale-{scale}.db", Path(tmp) / f"reports-{scale}"
    output = run([sys.executable, "-c", _SYNC, "sync", "--offline", "--config", str(config), "--db", str(db),
                  "--reports", str(reports)], tmp)
    output = output.replace(str(out), "<out>")
    items = [(f"{scale}x cli:sync", output)]
    items += [(f"{scale}x {name}", value) for name, value in table_digests(db).items()]
    for path in sorted(reports.iterdir()):
        items.append((f"{scale}x report-file:{path.name}", _mask(path.read_text(encoding="utf-8"), tmp)))
    return items


def gold(tmp: str) -> list[tuple[str, str]]:
    halves = ["--blind", "--final", "--last", "--check"]
    script = str(ROOT / "bench" / "linkage.py")
    return [("gold bench/linkage.py " + " ".join(halves), run([sys.executable, script, *halves], tmp)),
            ("gold bench/linkage.py --json " + " ".join(halves), run([sys.executable, script, "--json", *halves], tmp))]


_SYNTHETIC = """
import hashlib, json
import linkage as bench
from reposync import link
result = link.link_all(bench.synthetic_collection(20000, 1000))
links = [[l.entry_a, l.entry_b, l.score, l.features, l.decision, l.decided_at] for l in result.links]
text = json.dumps([result.groups, links, result.national_groups], sort_keys=True)
print(len(result.links), hashlib.sha256(text.encode()).hexdigest())
"""


def synthetic(tmp: str) -> list[tuple[str, str]]:
    return [("synthetic 20000 national x 1000 local: Linkage", run([sys.executable, "-c", _SYNTHETIC], tmp))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="bench collections to sync (comma-separated; '' for none)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where collections are generated")
    args = parser.parse_args(argv)
    import reposync

    print(f"# reposync from {Path(reposync.__file__).parent}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp:
        steps = [("bundled", lambda: bundled(tmp)), ("gold", lambda: gold(tmp)),
                 ("synthetic", lambda: synthetic(tmp))]
        steps += [(f"{s}x", lambda s=int(s): collection(tmp, s, args.out)) for s in args.scales.split(",") if s]
        for name, step in steps:
            started = time.perf_counter()
            for item, value in step():
                print(f"{item} {value if re.fullmatch(r'[0-9a-f]{64}', value) else digest(value)}", flush=True)
            print(f"# {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
