"""All four benchmarks in one run, printed side by side with their targets.

    python3 bench/run.py                 # 1x, 10x and 100x (about 10 minutes on 2 cores)
    python3 bench/run.py --quick         # 1x and 10x, fewer rounds
    python3 bench/run.py --json out.json # the figures as JSON too

Runs in bench/.venv, which it makes on first use (``python -m venv``; reposync installed editable, and the
baselines of bench/requirements.txt: Scrapy, BeautifulSoup), then re-runs itself there. Generated archives go
to bench/out/ (git-ignored) and are reused. Figures are ratios against baselines measured in the same run:
the machine is shared and noisy, so absolute times move from run to run.

1. parse (bench/parse.py)  2. full offline sync (bench/sync.py)  3. unchanged night and 4. crawl (bench/live.py)
5. many hosts at once: a live sync of 150 partnership hosts and the national ones, with the bundled defaults'
   link check, vs the politeness floor, the same sync sequential and Scrapy (its crawl and a HEAD per report
   link) (bench/hosts.py; ``--only hosts`` runs it alone, about 10 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv"


def ensure_venv() -> None:
    """Re-run this script in bench/.venv, making it first if need be."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        print("making bench/.venv (reposync + the baselines of bench/requirements.txt) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(ROOT),
                        "-r", str(ROOT / "bench" / "requirements.txt")], check=True)
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def machine() -> str:
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; "
            f"Python {platform.python_version()}; {platform.system()} {platform.machine()}; "
            f"load {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default=None, help="sync benchmark scales (default 1,10,100; --quick: 1,10)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--only", choices=("hosts",), default=None, help="run only this benchmark")
    args = parser.parse_args()
    ensure_venv()
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT / "src"))
    import hosts
    import live
    import parse
    import sync

    if args.only == "hosts":
        figures = {"machine": machine(), "hosts": hosts.run()}
        print(f"reposync benchmarks: {machine()}\n\n{hosts.table(figures['hosts'])}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str))
        return
    scales = [int(s) for s in (args.scales or ("1,10" if args.quick else "1,10,100")).split(",")]
    started = time.perf_counter()
    print(f"reposync benchmarks: {machine()}\n")
    figures: dict = {"machine": machine()}

    figures["parse"] = parse.run(seconds=0.3 if args.quick else 0.5, rounds=2 if args.quick else 3)
    print(parse.table(figures["parse"]), "\n", flush=True)
    figures["sync"] = sync.run(scales)
    print(sync.table(figures["sync"]), "\n", flush=True)
    figures["nightly"] = live.nightly()
    print(live.nightly_table(figures["nightly"]), "\n", flush=True)
    figures["crawl"] = live.crawl(rounds=2 if args.quick else 3)
    print(live.crawl_table(figures["crawl"]), "\n", flush=True)
    figures["hosts"] = hosts.run()
    print(hosts.table(figures["hosts"]), "\n", flush=True)

    print(summary(figures))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))


def summary(f: dict) -> str:
    import hosts
    import live
    import parse
    import sync

    rows = []
    for family, r in f["parse"]["families"].items():
        rows.append((f"1 parse {family}", f"{r['over_bare']:.1f}x the bare parse",
                     f"<= {parse.TARGET_OVER_BARE}x", r["over_bare"] <= parse.TARGET_OVER_BARE))
        rows.append((f"1 parse {family}", f"BeautifulSoup {r['bs4_factor']:.1f}x slower",
                     f">= {parse.TARGET_BS4_FACTOR:.0f}x", r["bs4_factor"] >= parse.TARGET_BS4_FACTOR))
    s = f["sync"]
    if 1 in s:
        one_x = statistics.median(sync.smallest_walls(s[1]))  # its runs spread over the larger scales' time
        rows.append(("2 sync 1x", f"{one_x:.2f} s (median)", f"< {sync.TARGET_1X_SECONDS} s",
                     one_x < sync.TARGET_1X_SECONDS))
    if 100 in s:
        rows.append(("2 sync 100x", f"peak {s[100]['peak_mb']:.0f} MB", f"< {sync.TARGET_100X_MB} MB",
                     s[100]["peak_mb"] < sync.TARGET_100X_MB))
    scales = sorted(s)
    if len(scales) > 1:
        per = sync.per_entry(s)
        growth = per[-1] / per[0]
        rows.append((f"2 sync {scales[0]}x->{scales[-1]}x", f"time per entry x{growth:.2f}",
                     f"linear (<= {sync.TARGET_LINEAR})", growth <= sync.TARGET_LINEAR))
    n = f["nightly"]
    share_b = n["unchanged"]["bytes"] / n["first"]["bytes"]
    share_r = n["unchanged"]["requests"] / n["first"]["requests"]
    rows.append(("3 unchanged night", f"bytes {share_b:.1%}", f"< {live.TARGET_BYTES_SHARE:.0%}",
                 share_b < live.TARGET_BYTES_SHARE))
    rows.append(("3 unchanged night", f"requests {share_r:.1%}", f"< {live.TARGET_REQUESTS_SHARE:.0%}",
                 share_r < live.TARGET_REQUESTS_SHARE))
    c = f["crawl"]
    ratio = c["reposync"]["pages_per_s"] / c["scrapy"]["pages_per_s"]
    rows.append(("4 crawl", f"{c['reposync']['pages_per_s']:.0f} vs Scrapy {c['scrapy']['pages_per_s']:.0f} pages/s",
                 ">= Scrapy", ratio >= 1))
    h = f["hosts"]
    over = h["reposync"]["wall"] / h["floor"]["floor"]
    rows.append(("5 hosts at once", f"{over:.2f}x the politeness floor", f"<= {hosts.TARGET_OVER_FLOOR}x",
                 over <= hosts.TARGET_OVER_FLOOR))
    if "wall" in h["scrapy"]:
        ratio = h["reposync"]["wall"] / h["scrapy"]["wall"]
        rows.append(("5 hosts at once", f"{ratio:.2f}x Scrapy's wall time", "< 1x", ratio < 1))
    lines = ["Targets", f"{'benchmark':28} {'figure':36} {'target':15} result"]
    lines += [f"{a:28} {b:36} {c_:15} {'met' if ok else 'MISSED'}" for a, b, c_, ok in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
