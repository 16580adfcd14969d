"""Benchmark 5: a whole live sync of ~150 partnership hosts and the national ones, against the politeness floor.

The mirror (its own process, one asyncio loop): 150 partnership hosts, one page each in the bundled layouts
(the four local pages of snapshots/, in turn, each under its own area), plus the national hosts of the
bundled snapshots (the rolling pages, the yearly lists, the library's chain of record pages), each host on
an address of its own (127.0.1.x: Linux answers on all of 127.0.0.0/8, and a crawler paces by host name).
Every answer, robots.txt included, comes after an injected latency (100 ms). robots.txt asks for a
Crawl-delay on every fifth partnership and on the library.

Measured, each a whole live sync in a child process (``bench/sync.py --child``: config to catalogue, report
and all) into a new catalogue and archive:

- reposync as configured (``[crawl] max_hosts = 8``);
- the same sync sequential (``max_hosts = 1``: one host after another);
- Scrapy on the same mirror with the same per-host pacing (``bench/scrapy_crawl.py``: one request at a time
  per host, ``ROBOTSTXT_OBEY``, each host's delay as a download slot, at most 8 requests at once). Scrapy's
  delay runs from one request's start to the next's, reposync's from an answer's end to the next request;
  Scrapy's slots get the delay plus the injected latency, so both leave a host the same gap;

against (a) the politeness floor computed from the same schedule: no schedule can end before the busiest
host's own requests (latency each) and pauses (its delay, or its Crawl-delay when longer) are done, nor
before the sum of every host's, spread over max_hosts at once. The mirror also checks the pacing: the
shortest gap each host saw between an answer and the next request, against its delay.

Targets: at most 1.3x the floor, and faster than Scrapy.

    python bench/hosts.py [--hosts 150] [--latency 0.1] [--delay 0.25] [--crawl-delay 1.0] [--no-sequential]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_OVER_FLOOR = 1.3
MAX_HOSTS = 8
LOCAL_PAGES = {  # the bundled local pages, and the area each is under
    "york": "York", "north-tyneside": "North Tyneside", "south-gloucestershire": "South Gloucestershire",
    "essex": "Essex",
}


# -- the schedule ------------------------------------------------------------------------------------------------------
def schedule(hosts: int = 150, delay: float = 0.25, crawl_delay: float = 1.0, every: int = 5) -> dict:
    """The mirror's hosts (address, robots.txt, pages by target) and the sources a config points at them."""
    from reposync.config import load_config
    from reposync.archive.snapshots import Archive

    archive = Archive(ROOT / "snapshots")
    real = load_config(ROOT / "config" / "sources.toml")
    newest = {row.url: row for row in archive.rows() if row.sha256 is not None}
    spec: dict = {"archive": str(archive.root), "hosts": [], "sources": [], "delay": delay}

    def robots(slow: bool) -> str:
        return "User-agent: *\nDisallow: /private/\n" + (f"Crawl-delay: {crawl_delay:g}\n" if slow else "")

    # the national hosts: every bundled page of theirs, at its own path and query
    national: dict[str, dict] = {}
    for source in real.sources:
        if source.kind != "national":
            continue
        name = urlsplit(source.url).hostname
        if name not in national:
            number = len(national) + 1
            slow = name == "library.nspcc.org.uk"
            national[name] = {"name": name, "address": f"127.0.2.{number}", "robots": robots(slow),
                              "delay": max(delay, crawl_delay) if slow else delay, "pages": {}}
        spec["sources"].append({"id": source.id, "kind": "national", "parser": source.parser,
                                "url": f"http://{national[name]['address']}{_target(source.url)}"})
    for url, row in newest.items():
        name = urlsplit(url).hostname
        if name in national:
            national[name]["pages"][_target(url)] = row.sha256
    spec["hosts"] += national.values()

    # the partnerships: one page each, the bundled local pages in turn
    local = [(s, newest[s.url].sha256) for s in real.sources if s.id in LOCAL_PAGES]
    for n in range(hosts):
        source, sha = local[n % len(local)]
        address = f"127.0.1.{n + 1}" if n < 254 else f"127.0.3.{n - 253}"
        slow = n % every == every - 1
        spec["hosts"].append({"name": f"p{n:03d}", "address": address, "robots": robots(slow),
                              "delay": max(delay, crawl_delay) if slow else delay, "pages": {"/reviews": sha}})
        spec["sources"].append({"id": f"p{n:03d}", "kind": "local", "parser": source.parser,
                                "area": LOCAL_PAGES[source.id], "url": f"http://{address}/reviews"})
    return spec


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def floor(spec: dict, latency: float, max_hosts: int) -> dict:
    """The politeness floor: per host, robots.txt and every page, one at a time, a latency each, its delay
    between two; the busiest host, and every host's time spread over max_hosts at once."""
    per_host = []
    for host in spec["hosts"]:
        requests = 1 + len(host["pages"])  # robots.txt, then its pages
        per_host.append(requests * latency + (requests - 1) * host["delay"])
    busiest, total = max(per_host), sum(per_host)
    return {"busiest": busiest, "spread": total / max_hosts, "floor": max(busiest, total / max_hosts),
            "sum": total, "hosts": len(per_host), "requests": sum(1 + len(h["pages"]) for h in spec["hosts"])}


# -- the mirror (a child process) ----------------------------------------------------------------------------------------
def serve(spec_path: str, latency: float) -> None:
    """Serve every host of the spec until stdin closes; then print what each host saw, as JSON."""
    spec = json.loads(Path(spec_path).read_text())
    objects = Path(spec["archive"]) / "objects"
    bodies = {sha: (objects / sha).read_bytes() for h in spec["hosts"] for sha in h["pages"].values()}
    seen: dict[str, dict] = {}

    async def main() -> None:
        servers = []
        for host in spec["hosts"]:
            log = seen[host["address"]] = {"requests": 0, "min_gap": None, "last_end": None, "at_once": 0, "most": 0}

            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host=host, log=log) -> None:
                try:
                    while True:
                        line = await reader.readline()
                        if not line:
                            break
                        close = False
                        while True:
                            header = await reader.readline()
                            if header in (b"\r\n", b"\n", b""):
                                break
                            if header.lower().startswith(b"connection:") and b"close" in header.lower():
                                close = True
                        arrived = time.monotonic()
                        log["requests"] += 1
                        log["at_once"] += 1
                        log["most"] = max(log["most"], log["at_once"])
                        if log["last_end"] is not None:
                            gap = arrived - log["last_end"]
                            log["min_gap"] = gap if log["min_gap"] is None else min(log["min_gap"], gap)
                        target = line.split(b" ")[1].decode("latin-1")
                        await asyncio.sleep(latency)
                        if target == "/robots.txt":
                            status, body, kind = 200, host["robots"].encode(), "text/plain"
                        elif target in host["pages"]:
                            status, body, kind = 200, bodies[host["pages"][target]], "text/html; charset=utf-8"
                        else:
                            status, body, kind = 404, b"not here", "text/plain"
                        writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                                     f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
                        await writer.drain()
                        log["at_once"] -= 1
                        log["last_end"] = time.monotonic()
                        if close:
                            break
                except (ConnectionError, asyncio.IncompleteReadError):
                    pass
                finally:
                    writer.close()

            servers.append(await asyncio.start_server(handle, host["address"], 0))
        ports = {h["address"]: s.sockets[0].getsockname()[1] for h, s in zip(spec["hosts"], servers)}
        print(json.dumps(ports), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it
        for s in servers:
            s.close()

    asyncio.run(main())
    print(json.dumps({address: {k: v for k, v in log.items() if k != "last_end"} for address, log in seen.items()}),
          flush=True)


class Mirror:
    """``with Mirror(spec, latency) as ports:`` the mirror in a child process; ``.seen`` once it has stopped."""

    def __init__(self, spec_path: Path, latency: float) -> None:
        self.args = [sys.executable, __file__, "--serve", str(spec_path), "--latency", str(latency)]
        self.process: subprocess.Popen | None = None
        self.seen: dict = {}

    def __enter__(self) -> dict[str, int]:
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        return json.loads(self.process.stdout.readline())

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.seen = json.loads(self.process.stdout.readline() or "{}")
            self.process.wait(timeout=30)
        except (subprocess.TimeoutExpired, ValueError):
            self.process.kill()
            self.process.wait()


# -- the crawlers --------------------------------------------------------------------------------------------------------
def point(spec: dict, ports: dict[str, int]) -> list[dict]:
    """The spec's sources with the mirror's ports in their URLs."""
    sources = []
    for source in spec["sources"]:
        parts = urlsplit(source["url"])
        sources.append({**source, "url": source["url"].replace(parts.netloc, f"{parts.hostname}:{ports[parts.hostname]}")})
    return sources


def write_config(folder: Path, sources: list[dict], delay: float, max_hosts: int) -> Path:
    import tomli_w

    (folder / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "config" / "areas.toml")
    table = {
        # report links are not checked here: the walk and the catalogue are measured
        "crawl": {"delay": delay, "max_hosts": max_hosts, "check_links_days": 0, "timeout": 30.0,
                  "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; benchmark)"},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": sources,
    }
    path = folder / "config" / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def reposync(spec: dict, spec_path: Path, latency: float, max_hosts: int) -> dict:
    from sync import run_child

    with tempfile.TemporaryDirectory(dir=ROOT / "bench" / "out") as work:
        mirror = Mirror(spec_path, latency)
        with mirror as ports:
            config = write_config(Path(work), point(spec, ports), spec["delay"], max_hosts)
            result = run_child([str(config), str(Path(work) / "catalogue.db"), "--live"])
        result["seen"] = mirror.seen
    return result


def scrapy(spec: dict, spec_path: Path, latency: float, max_hosts: int) -> dict:
    python = ROOT / "bench" / ".venv" / "bin" / "python"
    if not python.exists():
        return {"missing": "bench/.venv (python3 bench/run.py makes it)"}
    with tempfile.TemporaryDirectory(dir=ROOT / "bench" / "out") as work:
        mirror = Mirror(spec_path, latency)
        with mirror as ports:
            sources = point(spec, ports)
            # the library first, as reposync's plan starts it: the longest host bounds the night
            sources.sort(key=lambda s: s["parser"] != "nspcc-library")
            slots = {h["address"]: h["delay"] + latency for h in spec["hosts"]}
            (Path(work) / "slots.json").write_text(json.dumps(slots))
            done = subprocess.run([str(python), str(ROOT / "bench" / "scrapy_crawl.py"), "--concurrent",
                                   str(max_hosts), "--slots", str(Path(work) / "slots.json"),
                                   *[s["url"] for s in sources]], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["seen"] = mirror.seen
    return result


def paced(seen: dict, spec: dict) -> str:
    """Whether every host's shortest gap between an answer and the next request was at least its delay
    (within 10 ms: the mirror's clock reads an answer's end after its last write, the crawler's on reading it)."""
    names = {h["address"]: h["name"] for h in spec["hosts"]}
    delays = {h["address"]: h["delay"] for h in spec["hosts"]}
    gaps = [(log["min_gap"] - delays[a], a) for a, log in seen.items() if log["min_gap"] is not None]
    worst, where = min(gaps, default=(0.0, None))
    once = max((log["most"] for log in seen.values()), default=0)
    kept = worst >= -0.010 and once <= 1
    return (f"{'kept' if kept else 'SHORT'} (shortest gap {worst * 1000:+.0f} ms from the delay"
            f"{f' at {names[where]}' if where and not kept else ''}; at most {once} request at once a host)")


def run(hosts: int = 150, latency: float = 0.1, delay: float = 0.25, crawl_delay: float = 1.0,
        sequential: bool = True) -> dict:
    spec = schedule(hosts, delay, crawl_delay)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / "hosts-spec.json"
    spec_path.write_text(json.dumps(spec))
    figures = {"hosts": len(spec["hosts"]), "sources": len(spec["sources"]), "latency": latency, "delay": delay,
               "crawl_delay": crawl_delay, "max_hosts": MAX_HOSTS, "floor": floor(spec, latency, MAX_HOSTS)}
    figures["reposync"] = reposync(spec, spec_path, latency, MAX_HOSTS)
    figures["reposync"]["paced"] = paced(figures["reposync"].pop("seen"), spec)
    if sequential:
        figures["sequential"] = reposync(spec, spec_path, latency, 1)
        figures["sequential"]["paced"] = paced(figures["sequential"].pop("seen"), spec)
    figures["scrapy"] = scrapy(spec, spec_path, latency, MAX_HOSTS)
    if "seen" in figures["scrapy"]:
        figures["scrapy"]["paced"] = paced(figures["scrapy"].pop("seen"), spec)
    return figures


def table(f: dict) -> str:
    fl = f["floor"]
    ours = f["reposync"]
    lines = [
        f"Many hosts at once: {f['hosts']} hosts ({f['sources']} sources, {fl['requests']} requests with robots.txt), "
        f"{f['latency'] * 1000:.0f} ms a request, delay {f['delay']:g} s (Crawl-delay {f['crawl_delay']:g} s on "
        f"every fifth partnership and the library), max_hosts {f['max_hosts']}",
        f"  (a) politeness floor   {fl['floor']:7.2f} s   busiest host {fl['busiest']:.2f} s; every host's "
        f"{fl['sum']:.1f} s / {f['max_hosts']} = {fl['spread']:.2f} s",
        f"{'crawl':18} {'wall s':>8} {'pages':>6} {'requests':>8}  {'x floor':>7}  pacing",
        f"{'reposync':18} {ours['wall']:8.2f} {ours['pages']:6d} {ours['requests']:8d}  "
        f"{ours['wall'] / fl['floor']:6.2f}x  {ours['paced']}",
    ]
    if "sequential" in f:
        seq = f["sequential"]
        lines.append(f"{'(b) sequential':18} {seq['wall']:8.2f} {seq['pages']:6d} {seq['requests']:8d}  "
                     f"{seq['wall'] / fl['floor']:6.2f}x  {seq['paced']}")
    sc = f["scrapy"]
    if "missing" in sc:
        lines.append(f"{'(c) scrapy':18} not run: {sc['missing']}")
    else:
        lines.append(f"{'(c) scrapy':18} {sc['wall']:8.2f} {sc['pages']:6d} {sc['requests']:8d}  "
                     f"{sc['wall'] / fl['floor']:6.2f}x  {sc['paced']}  (Scrapy {sc.get('scrapy', '?')}; "
                     f"crawl alone {sc['seconds']:.2f} s)")
    over = ours["wall"] / fl["floor"]
    lines.append(f"  reposync / floor: {over:.2f}x (target <= {TARGET_OVER_FLOOR}x: "
                 f"{'met' if over <= TARGET_OVER_FLOOR else 'MISSED'})")
    if "sequential" in f:
        lines.append(f"  sequential / reposync: {f['sequential']['wall'] / ours['wall']:.2f}x")
    if "missing" not in sc:
        lines.append(f"  reposync / Scrapy: {ours['wall'] / sc['wall']:.2f}x (target < 1: "
                     f"{'met' if ours['wall'] < sc['wall'] else 'MISSED'})")
    lines.append("  wall: the whole process, config to catalogue and report (reposync), or to the last response "
                 "(Scrapy: the process)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=150)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--delay", type=float, default=0.25)
    parser.add_argument("--crawl-delay", type=float, default=1.0)
    parser.add_argument("--no-sequential", action="store_true")
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return
    figures = run(args.hosts, args.latency, args.delay, args.crawl_delay, not args.no_sequential)
    print(table(figures))


if __name__ == "__main__":
    main()
