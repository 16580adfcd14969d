"""Benchmark 5: a whole live sync of ~150 partnership hosts and the national ones, against the politeness floor.

The mirror (its own process, one asyncio loop): 150 partnership hosts, one page each in the bundled layouts
(the four local pages of snapshots/, in turn, each under its own area), plus the national hosts of the
bundled snapshots (the rolling pages, the yearly lists, the library's chain of record pages), each host on
an address of its own (127.0.1.x: Linux answers on all of 127.0.0.0/8, and a crawler paces by host name).
Every answer, robots.txt included, comes after an injected latency (100 ms). robots.txt asks for a
Crawl-delay on every fifth partnership and on the library. The pages' report links point at the mirror (each
partnership's at its own host, the NSPCC lists' and the library's at the library's), and the mirror answers a
HEAD or GET of any of them 200 with a small (synthetic, unreadable) PDF: the link check and the report documents
of the bundled defaults cost what they would.

Measured, each a whole live sync in a child process (``bench/sync.py --child``: config to catalogue, report
and all) into a new catalogue and a new archive, with the bundled defaults (``[crawl] check_links_days = 7``, so a
first night asks every report link the config allows: its own site's and the library's; ``max_hosts = 8``;
``[documents] fetch = true``, so each partnership's report documents are fetched after its walk, and a document
fetched answers for its link's check: one request a report either way):

- reposync as configured;
- the same sync sequential (``max_hosts = 1``: one host after another);
- Scrapy on the same mirror doing the same work (``bench/scrapy_crawl.py``: its crawl, plus a HEAD request for
  each report link reposync asks, given up front; one request at a time per host, ``ROBOTSTXT_OBEY``, each
  host's delay as a download slot, at most 8 requests at once). Scrapy's delay runs from one request's start
  to the next's, reposync's from an answer's end to the next request; Scrapy's slots get the delay plus the
  injected latency, so both leave a host the same gap;

against (a) the politeness floor computed from the same schedule: no schedule can end before the busiest
host's own requests (robots.txt, its pages and the report links asked of it, latency each) and pauses (its
delay, or its Crawl-delay when longer) are done, nor before the sum of every host's, spread over max_hosts
at once. The mirror also checks the pacing: the shortest gap each host saw between an answer and the next
request, against its delay.

Targets: at most 1.3x the floor, and faster than Scrapy.

    python bench/hosts.py [--hosts 150] [--latency 0.1] [--delay 0.25] [--crawl-delay 1.0] [--no-sequential]
                          [--no-links] [--library-robots]

``--no-links`` switches the default link check off (``check_links_days = 0``, and no HEADs for Scrapy): the
walk alone, as this benchmark measured before issue 23; the table says so beside each figure.
``--no-documents`` switches the default document fetch off (``[documents] fetch = false``), as this benchmark
ran before; the table says so.
``--library-robots`` gives the library the robots.txt rule the real one has for its file transfers, so its
report links are ``not-checked (robots)`` and cost no request.
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
LIBRARY = "library.nspcc.org.uk"
FILE_TRANSFERS = "/HeritageScripts/Hapi.dll/filetransfer/"  # the library's report files
REPORT = b"%PDF-1.4 benchmark report\n"  # what a report link or document answers (HEAD: its length)


def schedule(hosts: int = 150, delay: float = 0.25, crawl_delay: float = 1.0, every: int = 5,
             library_robots: bool = False) -> dict:
    """The mirror's hosts (address, robots.txt, pages by target, the original host names its pages' links are
    rewritten from) and the sources a config points at them; each host's report links (``links``)."""
    from reposync.config import load_config
    from reposync.archive.snapshots import Archive

    archive = Archive(ROOT / "snapshots")
    real = load_config(ROOT / "config" / "sources.toml")
    newest = {row.url: row for row in archive.rows() if row.sha256 is not None}
    spec: dict = {"archive": str(archive.root), "hosts": [], "sources": [], "delay": delay}

    def robots(slow: bool, name: str = "") -> str:
        rules = "User-agent: *\nDisallow: /private/\n"
        if library_robots and name == LIBRARY:
            rules += f"Disallow: {FILE_TRANSFERS}\n"
        return rules + (f"Crawl-delay: {crawl_delay:g}\n" if slow else "")

    # the national hosts: every bundled page of theirs, at its own path and query
    national: dict[str, dict] = {}
    for source in real.sources:
        if source.kind != "national":
            continue
        name = urlsplit(source.url).hostname
        if name not in national:
            number = len(national) + 1
            slow = name == "library.nspcc.org.uk"
            national[name] = {"name": name, "address": f"127.0.2.{number}", "robots": robots(slow, name),
                              "delay": max(delay, crawl_delay) if slow else delay, "pages": {},
                              "origins": [name]}
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
                              "delay": max(delay, crawl_delay) if slow else delay, "pages": {"/reviews": sha},
                              "origins": [urlsplit(source.url).hostname]})
        spec["sources"].append({"id": f"p{n:03d}", "kind": "local", "parser": source.parser,
                                "area": LOCAL_PAGES[source.id], "url": f"http://{address}/reviews"})
    report_links(spec, real)
    return spec


def rewrites(spec: dict, host: dict, ports: dict[str, int]) -> list[tuple[bytes, bytes]]:
    """What a host's pages have in place of the real hosts: each national host's origin (http or https) becomes
    its mirror's, and a partnership's own host becomes the partnership's mirror host."""
    pairs = []
    national = [h for h in spec["hosts"] if h["address"].startswith("127.0.2.")]
    for other in national + ([] if host in national else [host]):
        new = f"http://{other['address']}:{ports[other['address']]}".encode()
        for name in other["origins"]:
            pairs += [(f"https://{name}".encode(), new), (f"http://{name}".encode(), new)]
    return pairs


def rewrite(body: bytes, pairs: list[tuple[bytes, bytes]]) -> bytes:
    for old, new in pairs:
        body = body.replace(old, new)
    return body


def report_links(spec: dict, real) -> None:  # noqa: ANN001 - a reposync Config
    """Each host's ``links``: the targets of the report links a sync of the spec asks of it (on the source's own
    site, or the library's, as ``check_links_hosts`` allows; not behind robots.txt), found as the sync finds
    them: each source's pages as served (rewritten), parsed and normalised by reposync's own code."""
    from protego import Protego

    from reposync.archive.snapshots import Archive
    from reposync.config import Source, site_of
    from reposync.crawl.encoding import decode
    from reposync.normalise.entries import normalise, unique_ids
    from reposync.parsers import parser_for

    archive = Archive(Path(spec["archive"]))
    port = 8000  # any port: the links' targets do not depend on it
    ports = {h["address"]: port for h in spec["hosts"]}
    by_address = {h["address"]: h for h in spec["hosts"]}
    library = next((h for h in spec["hosts"] if LIBRARY in h["origins"]), None)
    asked_on = {} if library is None else {("http", library["address"], port): library}
    for host in spec["hosts"]:
        host["links"] = []
    for item in spec["sources"]:
        parts = urlsplit(item["url"])
        host = by_address[parts.hostname]
        source = Source(id=item["id"], kind=item["kind"], parser=item["parser"],
                        url=f"http://{parts.hostname}:{port}{_target(item['url'])}",
                        area=real.areas.lookup(item["area"]) if item.get("area") else None)
        targets = [_target(item["url"])] if item["parser"] != "nspcc-library" else list(host["pages"])
        pairs = rewrites(spec, host, ports)
        rows: list[dict] = []
        ids: set[str] = set()
        for target in targets:
            body = rewrite(archive.body(host["pages"][target]), pairs)
            parsed = parser_for(source)(decode(body, "text/html"), f"http://{parts.hostname}:{port}{target}")
            rows += unique_ids([normalise(raw, source, real.areas) for raw in parsed.entries], ids)
        for row in rows:
            url = row.get("report_url")
            if not url:
                continue
            site = site_of(url)
            there = host if site == source.site else asked_on.get(site)
            if there is None:
                continue  # off-site: never asked
            if Protego.parse(there["robots"]).can_fetch(url, "reposync"):
                there["links"].append(_target(url))


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def floor(spec: dict, latency: float, max_hosts: int) -> dict:
    """The politeness floor: per host, robots.txt and every page, one at a time, a latency each, its delay
    between two; the busiest host, and every host's time spread over max_hosts at once."""
    per_host = []
    links = spec.get("check_links", True)
    for host in spec["hosts"]:
        requests = 1 + len(host["pages"]) + (len(host["links"]) if links else 0)  # robots.txt, pages, links
        per_host.append((requests * latency + (requests - 1) * host["delay"], host))
    (busiest, which), total = max(per_host, key=lambda pair: pair[0]), sum(t for t, _ in per_host)
    return {"busiest": busiest, "spread": total / max_hosts, "floor": max(busiest, total / max_hosts),
            "sum": total, "hosts": len(per_host),
            "requests": sum(1 + len(h["pages"]) + (len(h["links"]) if links else 0) for h in spec["hosts"]),
            "links": sum(len(h["links"]) for h in spec["hosts"]) if links else 0,
            "busiest_host": {"name": which["name"], "pages": len(which["pages"]),
                             "links": len(which["links"]) if links else 0}}


# -- the mirror (a child process) ----------------------------------------------------------------------------------------
def serve(spec_path: str, latency: float) -> None:
    """Serve every host of the spec until stdin closes; then print what each host saw, as JSON."""
    spec = json.loads(Path(spec_path).read_text())
    objects = Path(spec["archive"]) / "objects"
    bodies = {sha: (objects / sha).read_bytes() for h in spec["hosts"] for sha in h["pages"].values()}
    seen: dict[str, dict] = {}
    served: dict[str, dict[str, bytes]] = {}  # address -> target -> the page, its links on the mirror

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
                        method, target = line.split(b" ")[0], line.split(b" ")[1].decode("latin-1")
                        await asyncio.sleep(latency)
                        if target == "/robots.txt":
                            status, body, kind = 200, host["robots"].encode(), "text/plain"
                        elif target in host["pages"]:
                            status, body, kind = 200, served[host["address"]][target], "text/html; charset=utf-8"
                        else:  # a report link or document: every one is there
                            status, body, kind = 200, REPORT, "application/pdf"
                        length = len(body)
                        if method == b"HEAD":
                            body = b""
                        writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                                     f"Content-Type: {kind}\r\nContent-Length: {length}\r\n\r\n".encode() + body)
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
        for host in spec["hosts"]:
            pairs = rewrites(spec, host, ports)
            served[host["address"]] = {target: rewrite(bodies[sha], pairs) for target, sha in host["pages"].items()}
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


def write_config(folder: Path, sources: list[dict], delay: float, max_hosts: int, library: str | None,
                 check_links: bool = True, documents: bool = True) -> Path:
    """The bundled defaults (``[crawl]`` as ``config/sources.toml`` has it, but the delay, the user agent and
    max_hosts; ``[documents]`` as bundled), the library's host the mirror's; ``check_links`` False switches the
    link check off, ``documents`` False the document fetch."""
    import tomli_w

    from reposync.config import load_config

    defaults = load_config(ROOT / "config" / "sources.toml")
    bundled = defaults.crawl
    (folder / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "config" / "areas.toml")
    table = {
        "crawl": {"delay": delay, "max_hosts": max_hosts, "timeout": bundled.timeout, "retries": bundled.retries,
                  "check_links_days": bundled.check_links_days if check_links else 0,
                  "check_links_hosts": [library] if library else [],
                  "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; benchmark)"},
        # a document's GET answers for its link (its HEAD): the floor's and Scrapy's request a report link
        "documents": {"fetch": defaults.documents.fetch and documents, "max_bytes": defaults.documents.max_bytes},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": sources,
    }
    path = folder / "config" / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def library_host(spec: dict, ports: dict[str, int]) -> str | None:
    """The mirror's library as ``[crawl] check_links_hosts`` names it (``host:port``)."""
    library = next((h for h in spec["hosts"] if LIBRARY in h["origins"]), None)
    return None if library is None else f"{library['address']}:{ports[library['address']]}"


def head_urls(spec: dict, ports: dict[str, int]) -> list[str]:
    """Every report link a sync of the spec asks, on the mirror."""
    return [f"http://{h['address']}:{ports[h['address']]}{target}" for h in spec["hosts"] for target in h["links"]]


def reposync(spec: dict, spec_path: Path, latency: float, max_hosts: int) -> dict:
    from sync import run_child

    with tempfile.TemporaryDirectory(dir=ROOT / "bench" / "out") as work:
        mirror = Mirror(spec_path, latency)
        with mirror as ports:
            config = write_config(Path(work), point(spec, ports), spec["delay"], max_hosts,
                                  library_host(spec, ports), spec["check_links"], spec["documents"])
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
            (Path(work) / "heads.json").write_text(json.dumps(head_urls(spec, ports) if spec["check_links"] else []))
            done = subprocess.run([str(python), str(ROOT / "bench" / "scrapy_crawl.py"), "--concurrent",
                                   str(max_hosts), "--slots", str(Path(work) / "slots.json"),
                                   "--heads", str(Path(work) / "heads.json"),
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
        sequential: bool = True, check_links: bool = True, library_robots: bool = False,
        documents: bool = True) -> dict:
    spec = schedule(hosts, delay, crawl_delay, library_robots=library_robots)
    spec["check_links"] = check_links
    spec["documents"] = documents
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / "hosts-spec.json"
    spec_path.write_text(json.dumps(spec))
    figures = {"hosts": len(spec["hosts"]), "sources": len(spec["sources"]), "latency": latency, "delay": delay,
               "crawl_delay": crawl_delay, "max_hosts": MAX_HOSTS, "floor": floor(spec, latency, MAX_HOSTS),
               "check_links": check_links, "library_robots": library_robots, "documents": documents}
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
    links = f["check_links"]
    busiest = fl["busiest_host"]
    config = ("bundled defaults: check_links_days 7, every report link due (a first night)" if links else
              "check_links_days = 0: the default link check SWITCHED OFF (--no-links), the walk alone")
    config += ("; [documents] fetch on, as bundled (a document fetched answers for its link)" if f["documents"]
               else "; [documents] fetch SWITCHED OFF (--no-documents)")
    if f["library_robots"]:
        config += "; the library's robots.txt forbids its file transfers (--library-robots)"
    of_them = f", {fl['links']} of them report links" if links else ""
    lines = [
        f"Many hosts at once: {f['hosts']} hosts ({f['sources']} sources, {fl['requests']} requests with robots.txt"
        f"{of_them}), "
        f"{f['latency'] * 1000:.0f} ms a request, delay {f['delay']:g} s (Crawl-delay {f['crawl_delay']:g} s on "
        f"every fifth partnership and the library), max_hosts {f['max_hosts']}",
        f"  config: {config}",
        f"  (a) politeness floor   {fl['floor']:7.2f} s   busiest host {fl['busiest']:.2f} s ({busiest['name']}: "
        f"robots.txt, {busiest['pages']} pages, {busiest['links']} link checks); every host's "
        f"{fl['sum']:.1f} s / {f['max_hosts']} = {fl['spread']:.2f} s",
        f"{'crawl':18} {'wall s':>8} {'pages':>6} {'requests':>8}  {'x floor':>7}  pacing",
        f"{'reposync':18} {ours['wall']:8.2f} {ours['pages']:6d} {ours['requests']:8d}  "
        f"{ours['wall'] / fl['floor']:6.2f}x  {ours['paced']}",
    ]
    if ours.get("report_links"):
        asked, why = ours["report_links"]["asked"], ours["report_links"]["not_checked"]
        lines.append(f"{'':18} report links: {sum(asked.values())} asked ({', '.join(f'{n} {k}' for k, n in asked.items())})"
                     + (f"; not asked: {', '.join(f'{n} {k}' for k, n in why.items())}" if why else ""))
    if ours.get("documents"):
        lines.append(f"{'':18} documents: {sum(ours['documents'].values())} fetched and read "
                     f"({', '.join(f'{n} {k}' for k, n in ours['documents'].items())}: the mirror's PDFs do not read)")
    if "sequential" in f:
        seq = f["sequential"]
        lines.append(f"{'(b) sequential':18} {seq['wall']:8.2f} {seq['pages']:6d} {seq['requests']:8d}  "
                     f"{seq['wall'] / fl['floor']:6.2f}x  {seq['paced']}  (max_hosts 1, else as reposync)")
    sc = f["scrapy"]
    if "missing" in sc:
        lines.append(f"{'(c) scrapy':18} not run: {sc['missing']}")
    else:
        work = f"its crawl + {sc.get('heads', 0)} HEADs" if links else "its crawl alone, no HEADs (--no-links)"
        lines.append(f"{'(c) scrapy':18} {sc['wall']:8.2f} {sc['pages']:6d} {sc['requests']:8d}  "
                     f"{sc['wall'] / fl['floor']:6.2f}x  {sc['paced']}  (Scrapy {sc.get('scrapy', '?')}, {work}; "
                     f"crawl alone {sc['seconds']:.2f} s)")
    over = ours["wall"] / fl["floor"]
    lines.append(f"  reposync / floor: {over:.2f}x (target <= {TARGET_OVER_FLOOR}x: "
                 f"{'met' if over <= TARGET_OVER_FLOOR else 'MISSED'})" + ("" if links else "  [link check OFF]"))
    if "sequential" in f:
        lines.append(f"  sequential / reposync: {f['sequential']['wall'] / ours['wall']:.2f}x")
    if "missing" not in sc:
        lines.append(f"  reposync / Scrapy: {ours['wall'] / sc['wall']:.2f}x (target < 1: "
                     f"{'met' if ours['wall'] < sc['wall'] else 'MISSED'})" + ("" if links else "  [link check OFF]"))
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
    parser.add_argument("--no-links", action="store_true", help="switch the default report-link check off")
    parser.add_argument("--no-documents", action="store_true", help="switch the default document fetch off")
    parser.add_argument("--library-robots", action="store_true",
                        help="the library's robots.txt forbids its file transfers, as the real one does")
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return
    figures = run(args.hosts, args.latency, args.delay, args.crawl_delay, not args.no_sequential,
                  not args.no_links, args.library_robots, not args.no_documents)
    print(table(figures))


if __name__ == "__main__":
    main()
