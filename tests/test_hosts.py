"""Hosts walked at once: the catalogue is the one a sequential sync writes, failures stay on their host.

Every live test here runs against real loopback servers, one per host: 127.0.0.1 is one host to the
crawler and 127.0.0.2 another (Linux answers on all of 127.0.0.0/8), so the pacing, robots.txt and
failures of each are their own. No test asserts a time; waits are bounded gates.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import tomli_w

from conftest import CONFIG, ROOT, SNAPSHOTS
from mockserver import MockServer, Resource
from reposync import settings
from reposync.config import load_config
from reposync.errors import EXIT_DATA, EXIT_TEMPORARY
from reposync.crawl.hosts import HostPlan, Watcher, plan_hosts
from reposync.archive.snapshots import Archive
from reposync.sync import SyncResult, run_sync

pytestmark = pytest.mark.usefixtures("no_backoff")  # retries at once

# Columns that say when, not what (started_at, decided_at, a link's checked_at, ...): the only ones a
# concurrent and a sequential sync may differ in.
TABLES = ("entries", "reviews", "links", "changes", "entry_versions", "runs")


def dump(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of the catalogue's tables (changes in the order they were written), less the times."""
    conn = sqlite3.connect(db_path)
    try:
        out = {}
        for table in TABLES:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if not r[1].endswith("_at")]
            order = ", ".join(str(n) for n in range(1, len(columns) + 1))
            out[table] = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}").fetchall()
        return out
    finally:
        conn.close()


def timeless(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("started_at", "finished_at")}


def assert_same_sync(a: SyncResult, b: SyncResult) -> None:
    dumped_a, dumped_b = dump(a.db_path), dump(b.db_path)
    for table in TABLES:  # the first differing row of a table, rather than pytest's abridged dicts
        rows = [(x, y) for x, y in zip(dumped_a[table], dumped_b[table]) if x != y]
        assert not rows, f"{table}: {rows[0][0]} != {rows[0][1]}"
    assert dumped_a == dumped_b
    assert timeless(a.report) == timeless(b.report)
    assert (a.exit_code, a.counts, a.reviews, a.links) == (b.exit_code, b.counts, b.reviews, b.links)
    assert [o.as_json() for o in a.outcomes] == [o.as_json() for o in b.outcomes]

# -- the plan ---------------------------------------------------------------------------------------------------------
def test_sources_are_grouped_by_host_name_and_the_longest_walk_starts_first() -> None:
    config = load_config(CONFIG)
    plans = plan_hosts(config.sources, lambda s: 1500 if s.parser == "nspcc-library" else 1)
    assert [p.host for p in plans[:2]] == ["library.nspcc.org.uk", "www.nspcc.org.uk"]
    nspcc = plans[1]
    # http://www.nspcc.org.uk and https://www.nspcc.org.uk are two sites but one host: paced as one
    assert [s.id for s in nspcc.sources] == [f"nspcc-{year}" for year in range(2012, 2019)]
    assert {s.site[0] for s in nspcc.sources} == {"http", "https"}
    assert sorted(s.id for p in plans for s in p.sources) == sorted(s.id for s in config.sources)
    # ties keep the config's order
    assert [p.host for p in plans if p.expected_pages == 1 and len(p.sources) == 1][:2] == [
        "www.saferchildrenyork.org.uk", "www.northtynesidescp.org.uk"]


# -- the bundled snapshots, offline -----------------------------------------------------------------------------------
def test_a_concurrent_offline_sync_of_the_bundled_snapshots_equals_a_sequential_one(tmp_path: Path) -> None:
    config = load_config(CONFIG)
    one = run_sync(config, offline=True, max_hosts=1, db_path=tmp_path / "one" / "catalogue.db")
    many = run_sync(config, offline=True, max_hosts=8, db_path=tmp_path / "many" / "catalogue.db")
    assert sum(len(o.entries) for o in many.outcomes) > 50 and many.links > 0
    assert_same_sync(one, many)


# -- a loopback mirror of the snapshots on one server per host, with faults ------------------------------------------
LOOPBACK = iter(range(20, 250))  # 127.0.0.x addresses handed out to this module's servers


def free_address() -> tuple[str, int]:
    """An address and port where nothing listens: a host that cannot be reached (connection refused)."""
    host = f"127.0.0.{next(LOOPBACK)}"
    with socket.socket() as probe:
        probe.bind((host, 0))
        return host, probe.getsockname()[1]


@pytest.fixture
def mirror() -> Iterator[dict[str, MockServer]]:
    """The bundled snapshots, each real host on a server of its own (http and https of a host on one)."""
    bundled = Archive(SNAPSHOTS)
    servers: dict[str, MockServer] = {}
    for row in bundled.rows():
        if row.sha256 is None:
            continue
        parts = urlsplit(row.url)
        server = servers.get(parts.hostname)
        if server is None:
            server = servers[parts.hostname] = MockServer(f"127.0.0.{next(LOOPBACK)}").start()
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        server.pages[target] = Resource(bundled.body(row.sha256), row.content_type or "text/html",
                                        row.etag or f'"{row.sha256[:16]}"', row.last_modified)
    yield servers
    for server in servers.values():
        server.stop()


def write_config(folder: Path, sources: list[dict], **crawl: object) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    table = {
        "crawl": {"delay": 0.0, "timeout": 2.0, "retries": 2,
                  "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; tests)", **crawl},
        "documents": {"fetch": False},  # the walks' requests alone: documents are tests/test_documents_sync.py
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": sources,
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def mirrored_sources(mirror: dict[str, MockServer]) -> list[dict]:
    """The real config's sources with their URLs on the mirror, and four hosts that fail."""
    sources = []
    for source in load_config(CONFIG).sources:
        parts = urlsplit(source.url)
        table = {"id": source.id, "kind": source.kind, "parser": source.parser,
                 "url": mirror[parts.hostname].base + parts.path + (f"?{parts.query}" if parts.query else "")}
        if source.area is not None:
            table["area"] = source.area.name
        sources.append(table)
    failing_page = MockServer(f"127.0.0.{next(LOOPBACK)}").start()  # every page answers 503
    failing_robots = MockServer(f"127.0.0.{next(LOOPBACK)}").start()  # robots.txt answers 500
    failing_robots.robots = (500, "oops")
    mirror["failing-page"], mirror["failing-robots"] = failing_page, failing_robots
    host, port = free_address()
    local = {"kind": "local", "parser": "generic"}
    sources += [
        {"id": "bad-gateway", **local, "area": "Leeds", "url": failing_page.url("/status/503")},
        {"id": "robots-down", **local, "area": "Bradford", "url": failing_robots.url("/ok")},
        {"id": "gone", **local, "area": "Kirklees", "url": mirror["www.escb.co.uk"].url("/status/404")},
        {"id": "dead-1", **local, "area": "Wakefield", "url": f"http://{host}:{port}/reviews"},
        {"id": "dead-2", **local, "area": "Calderdale", "url": f"http://{host}:{port}/more-reviews"},
    ]
    return sources


def test_a_concurrent_live_sync_of_a_multi_host_mirror_with_faults_equals_a_sequential_one(
        tmp_path: Path, mirror: dict[str, MockServer]) -> None:
    sources = mirrored_sources(mirror)
    results: dict[int, list[SyncResult]] = {}
    for max_hosts in (1, 4):
        config = load_config(write_config(tmp_path / str(max_hosts) / "config", sources))
        first = run_sync(config, max_hosts=max_hosts)
        second = run_sync(config, max_hosts=max_hosts)  # the next night: 304s and stored parses
        results[max_hosts] = [first, second]
    (one_first, one_second), (many_first, many_second) = results[1], results[4]
    assert_same_sync(one_first, many_first)
    assert_same_sync(one_second, many_second)

    outcomes = {o.source: o for o in many_first.outcomes}
    assert many_first.exit_code == EXIT_TEMPORARY
    failed = {s for s, o in outcomes.items() if o.error}
    assert failed == {"bad-gateway", "robots-down", "gone", "dead-1", "dead-2"}  # the others all synced
    assert outcomes["gone"].exit_code == EXIT_DATA and "HTTP 404" in outcomes["gone"].error
    assert "could not be reached earlier in this run" in outcomes["dead-2"].error
    assert len(outcomes["nspcc-library"].entries) > 30  # the library's whole chain, on its own host
    assert many_second.counts == {} or set(many_second.counts) <= {"source-failed"}


# -- a host that cannot be reached --------------------------------------------------------------------------------------
def test_an_unreachable_host_fails_all_its_sources_after_one_set_of_retries(tmp_path: Path,
                                                                             server: MockServer) -> None:
    host, port = free_address()
    server.pages["/york"] = Resource((ROOT / "tests/fixtures/pages/generic/york-entries-in-li.html").read_bytes())
    local = {"kind": "local", "parser": "generic"}
    sources = [{"id": f"dead-{n}", **local, "area": "York", "url": f"http://{host}:{port}/page-{n}"} for n in range(5)]
    sources.append({"id": "york", **local, "area": "York", "url": server.url("/york")})
    # report links are not checked: the walk's requests alone are counted
    result = run_sync(load_config(write_config(tmp_path / "config", sources, check_links_days=0)))
    outcomes = {o.source: o for o in result.outcomes}
    assert result.exit_code == EXIT_TEMPORARY
    assert all(outcomes[f"dead-{n}"].exit_code == EXIT_TEMPORARY for n in range(5))
    assert "ConnectError" in outcomes["dead-0"].error and "gave up after 3 attempts" in outcomes["dead-0"].error
    assert all("could not be reached earlier in this run" in outcomes[f"dead-{n}"].error for n in range(1, 5))
    # one set of retries in all (robots.txt of the first source: 3 attempts), then the york host's 2 requests
    assert result.requests == 3 + server.count() and server.count() == 2
    assert outcomes["york"].error is None and len(outcomes["york"].entries) == 4


# -- really at once, and never more than the cap ---------------------------------------------------------------------
class InFlight:
    """Counts requests being answered at once across servers; each answer waits (bounded) for a crowd,
    except when no more requests are to come."""

    def __init__(self, crowd: int, total: int) -> None:
        self.crowd = crowd
        self.total = total
        self.arrived = 0
        self.now = 0
        self.most = 0
        self.lock = threading.Condition()

    def before(self) -> None:
        with self.lock:
            self.now += 1
            self.arrived += 1
            self.most = max(self.most, self.now)
            self.lock.notify_all()
            # bounded: a gate, not a clock
            self.lock.wait_for(lambda: self.now >= self.crowd or self.arrived == self.total, timeout=5)
            self.now -= 1


@pytest.mark.parametrize("max_hosts", [1, 2, 3])
def test_hosts_are_walked_at_once_up_to_max_hosts(tmp_path: Path, max_hosts: int) -> None:
    page = (ROOT / "tests/fixtures/pages/generic/york-entries-in-li.html").read_bytes()
    gate = InFlight(crowd=max_hosts, total=4)
    servers = [MockServer(f"127.0.0.{next(LOOPBACK)}").start() for _ in range(4)]
    try:
        for server in servers:
            server.robots = (200, "User-agent: *\nAllow: /\n")
            server.pages["/reviews"] = Resource(page, before=gate.before)
        sources = [{"id": f"p{n}", "kind": "local", "parser": "generic", "area": "York",
                    "url": server.url("/reviews")} for n, server in enumerate(servers)]
        config = load_config(write_config(tmp_path / "config", sources, check_links_days=0))
        result = run_sync(config, max_hosts=max_hosts)
    finally:
        for server in servers:
            server.stop()
    assert result.exit_code == 0 and all(len(o.entries) == 4 for o in result.outcomes)
    assert gate.most == max_hosts  # as many hosts at once as allowed, and never more


# -- what a watcher is told -------------------------------------------------------------------------------------------
class Recorder(Watcher):
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.lock = threading.Lock()

    def planned(self, plans: list[HostPlan], max_hosts: int) -> None:
        self.events.append(("planned", len(plans), max_hosts))

    def page(self, plan: HostPlan, source, pages: int, entries: int, expected: int | None) -> None:
        with self.lock:
            self.events.append(("page", source.id, pages, expected))

    def host_finished(self, plan: HostPlan) -> None:
        with self.lock:
            self.events.append(("host", plan.host))


def test_a_watcher_hears_every_page_and_every_host(tmp_path: Path) -> None:
    recorder = Recorder()
    config = load_config(CONFIG)
    result = run_sync(config, offline=True, watcher=recorder, db_path=tmp_path / "catalogue.db")
    assert recorder.events[0] == ("planned", len({s.site[1] for s in config.sources}), settings.MAX_HOSTS)
    pages = [e for e in recorder.events if e[0] == "page"]
    assert len(pages) == sum(o.pages for o in result.outcomes)
    library = [e for e in pages if e[1] == "nspcc-library"]
    assert library[-1][2] == len(library) and library[-1][3] == len(library)  # "record 36 of 36"
    assert sorted(e[1] for e in recorder.events if e[0] == "host") == sorted({s.site[1] for s in config.sources})
