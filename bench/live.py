"""Benchmarks 3 and 4: live syncs against a loopback mirror of the 1x synthetic collection.

3. An unchanged night: a first live sync into a new catalogue and archive, then the next night's, when every
   page answers 304 (the mirror honours ETag and Last-Modified) and the library is walked incrementally;
   then the night a full walk is due (crawl.full_walk_days later: the runs are moved back in time). Wall
   time, page requests and body bytes as shares of the first sync's. Targets: bytes under 10%, requests
   under 25% on an ordinary night.
4. Crawl throughput with the politeness delay at 0: pages per second of reposync's first live sync (the
   walk: fetch, robots.txt, archive with fsync, parse, normalise; and the whole sync with its catalogue
   write) against Scrapy crawling the same pages at the same concurrency (one request at a time to the one
   host, robots.txt obeyed, no delay; bench/scrapy_crawl.py, in bench/.venv). Best of a few alternating
   rounds. Target: not slower than Scrapy.

    python bench/live.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate, mirror_target  # noqa: E402
from mirror import Mirror, point_config_at  # noqa: E402
from sync import run_child  # noqa: E402

TARGET_BYTES_SHARE = 0.10
TARGET_REQUESTS_SHARE = 0.25


def _sync(config: Path, folder: Path) -> dict:
    return run_child([str(config), str(folder / "catalogue.db"), "--live", "--delay", "0"])


def _age_runs(db: Path, days: int) -> None:
    conn = sqlite3.connect(db)
    for run_id, started in conn.execute("SELECT id, started_at FROM runs").fetchall():
        moved = (datetime.fromisoformat(started) - timedelta(days=days)).isoformat()
        conn.execute("UPDATE runs SET started_at = ? WHERE id = ?", [moved, run_id])
    conn.commit()
    conn.close()


def nightly(out: Path | None = None) -> dict:
    folder = (out or ROOT / "bench" / "out") / "scale-1"
    config = generate(folder, 1)
    full_walk_days = tomllib.loads(config.read_text())["crawl"]["full_walk_days"]
    with Mirror(folder / "snapshots") as base, tempfile.TemporaryDirectory(dir=folder) as work:
        work_path = Path(work)
        mirrored = point_config_at(config, base, work_path)
        first = _sync(mirrored, work_path)
        second = _sync(mirrored, work_path)
        _age_runs(work_path / "catalogue.db", full_walk_days)
        full = _sync(mirrored, work_path)
    return {"first": first, "unchanged": second, "full_walk_night": full}


def crawl(rounds: int = 2, out: Path | None = None) -> dict:
    folder = (out or ROOT / "bench" / "out") / "scale-1"
    config = generate(folder, 1)
    sources = tomllib.loads(config.read_text())["source"]
    python = str(ROOT / "bench" / ".venv" / "bin" / "python")
    best: dict[str, dict] = {}
    with Mirror(folder / "snapshots") as base:
        urls = [base + mirror_target(s["url"]) for s in sources]
        for _ in range(rounds):
            with tempfile.TemporaryDirectory(dir=folder) as work:
                ours = _sync(point_config_at(config, base, Path(work)), Path(work))
            ours["pages_per_s"] = ours["pages"] / ours["walk"]
            ours["pages_per_s_whole"] = ours["pages"] / ours["wall"]
            if ours["pages_per_s"] > best.get("reposync", {}).get("pages_per_s", 0):
                best["reposync"] = ours
            if Path("/dev/shm").is_dir():  # the same, with the archive and catalogue in memory (tmpfs)
                with tempfile.TemporaryDirectory(dir="/dev/shm") as work:
                    shm = _sync(point_config_at(config, base, Path(work)), Path(work))
                shm["pages_per_s"] = shm["pages"] / shm["walk"]
                shm["pages_per_s_whole"] = shm["pages"] / shm["wall"]
                if shm["pages_per_s"] > best.get("reposync_tmpfs", {}).get("pages_per_s", 0):
                    best["reposync_tmpfs"] = shm
            done = subprocess.run([python, str(ROOT / "bench" / "scrapy_crawl.py"), *urls], capture_output=True,
                                  text=True, check=True)
            theirs = json.loads(done.stdout.strip().splitlines()[-1])
            theirs["pages_per_s"] = theirs["pages"] / theirs["seconds"]
            theirs["pages_per_s_whole"] = theirs["pages"] / theirs["wall"]
            if theirs["pages_per_s"] > best.get("scrapy", {}).get("pages_per_s", 0):
                best["scrapy"] = theirs
    return best


def nightly_table(r: dict) -> str:
    first = r["first"]
    lines = ["Unchanged nightly sync against the loopback mirror (1x: 1,509 pages), shares of the first sync",
             f"{'night':16} {'requests':>8} {'share':>6} {'bytes':>10} {'share':>6} {'wall s':>7} {'share':>6} "
             f"{'library walk':>12} {'changes':>8}"]
    for name in ("first", "unchanged", "full_walk_night"):
        n = r[name]
        lines.append(
            f"{name:16} {n['requests']:8d} {n['requests'] / first['requests']:6.1%} {n['bytes']:10d} "
            f"{n['bytes'] / first['bytes']:6.1%} {n['wall']:7.2f} {n['wall'] / first['wall']:6.1%} "
            f"{n['walks'].get('nspcc-library', '-'):>12} {sum(n['counts'].values()):8d}"
        )
    u = r["unchanged"]
    lines.append(f"  bytes under {TARGET_BYTES_SHARE:.0%}: "
                 f"{'met' if u['bytes'] / first['bytes'] < TARGET_BYTES_SHARE else 'MISSED'}; "
                 f"requests under {TARGET_REQUESTS_SHARE:.0%}: "
                 f"{'met' if u['requests'] / first['requests'] < TARGET_REQUESTS_SHARE else 'MISSED'}")
    return "\n".join(lines)


def crawl_table(r: dict) -> str:
    ours, theirs = r["reposync"], r["scrapy"]
    lines = ["Crawl throughput against the loopback mirror, delay 0, one request at a time (best round)",
             f"{'crawler':10} {'pages':>6} {'crawl s':>8} {'pages/s':>8} {'whole s':>8} {'pages/s':>8}  what the time holds",
             f"{'reposync':10} {ours['pages']:6d} {ours['walk']:8.2f} {ours['pages_per_s']:8.0f} {ours['wall']:8.2f} "
             f"{ours['pages_per_s_whole']:8.0f}  walk: fetch, archive (fsync), parse, normalise; whole: + catalogue",
             *([f"{'(tmpfs)':10} {r['reposync_tmpfs']['pages']:6d} {r['reposync_tmpfs']['walk']:8.2f} "
                f"{r['reposync_tmpfs']['pages_per_s']:8.0f} {r['reposync_tmpfs']['wall']:8.2f} "
                f"{r['reposync_tmpfs']['pages_per_s_whole']:8.0f}  the same, archive and catalogue on tmpfs "
                "(/dev/shm): the disk's file creation left out"] if "reposync_tmpfs" in r else []),
             f"{'scrapy':10} {theirs['pages']:6d} {theirs['seconds']:8.2f} {theirs['pages_per_s']:8.0f} "
             f"{theirs['wall']:8.2f} {theirs['pages_per_s_whole']:8.0f}  crawl: engine start to finish; "
             f"whole: the process (Scrapy {theirs.get('scrapy', '?')})"]
    ratio = ours["pages_per_s"] / theirs["pages_per_s"]
    lines.append(f"  not slower than Scrapy: {'met' if ratio >= 1 else 'MISSED'} ({ratio:.2f}x Scrapy's pages/s)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("nightly", "crawl"))
    args = parser.parse_args()
    if args.only != "crawl":
        print(nightly_table(nightly()))
    if args.only != "nightly":
        print(crawl_table(crawl(args.rounds)))


if __name__ == "__main__":
    main()
