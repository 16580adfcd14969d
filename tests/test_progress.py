"""The live progress display: on a terminal (a pseudo-terminal here), and never under cron (no terminal).

A real ``reposync sync`` runs in a child process against two loopback hosts. One host's page is held by a
gate until the test has read the display off the terminal, so the display is seen while the sync runs,
with no timing assumption; the gate is bounded and opens by itself if the display never comes.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from conftest import FIXTURES, ROOT
from mockserver import MockServer, Resource
from reposync.config import load_config
from reposync.crawl.hosts import HostPlan
from reposync.cli.progress import LiveProgress, duration

PAGE = (FIXTURES / "pages" / "generic" / "york-entries-in-li.html").read_bytes()  # synthetic, four entries
ESCAPE = re.compile(rb"\x1b\[")


@pytest.fixture
def two_hosts(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A config of two sources on two hosts; the second host's page waits for the event (at most 20 s)."""
    gate = threading.Event()
    quick, held = MockServer().start(), MockServer("127.0.0.5").start()
    quick.pages["/reviews"] = Resource(PAGE)
    held.pages["/reviews"] = Resource(PAGE, before=lambda: gate.wait(20))
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    local = {"kind": "local", "parser": "generic", "area": "York"}
    table = {
        "crawl": {"delay": 0.0, "timeout": 30.0, "retries": 0, "check_links_days": 0,
                  "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; tests)"},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": [{"id": "quick", **local, "url": quick.url("/reviews")},
                   {"id": "held", **local, "url": held.url("/reviews")}],
    }
    (folder / "sources.toml").write_text(tomli_w.dumps(table), encoding="utf-8")
    yield folder / "sources.toml", gate
    gate.set()
    quick.stop()
    held.stop()


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE")}
    env["TERM"] = "xterm-256color"  # CI may have none, or "dumb": a terminal that cannot redraw gets no display
    return env


def in_pty(args: list[str], gate: threading.Event, until: bytes | None) -> tuple[int, bytes, bool]:
    """Run ``args`` with a pseudo-terminal as stdin, stdout and stderr; open the gate once ``until`` shows
    (or at once when None). Returns the exit code, every byte written, and whether ``until`` showed first."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=child_env(), close_fds=True)
    os.close(slave)
    if until is None:
        gate.set()
    out, seen, deadline = b"", False, time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child has gone and the terminal is closed
                    break
                if not chunk:
                    break
                out += chunk
                if until is not None and not gate.is_set() and until in out:
                    seen = True
                    gate.set()
            elif process.poll() is not None:
                break
    finally:
        gate.set()
        os.close(master)
        if process.poll() is None:
            process.kill()
        code = process.wait()
    return code, out, seen


def sync_args(config: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "reposync", "sync", "--config", str(config), *more]


def test_a_terminal_sees_the_live_display_while_the_sync_runs(two_hosts: tuple[Path, threading.Event]) -> None:
    config, gate = two_hosts
    code, out, seen = in_pty(sync_args(config), gate, until=b"hosts done")
    assert code == 0, out.decode(errors="replace")
    assert seen, "no display before the held host answered"  # it showed while the sync was still walking
    text = out.decode(errors="replace")
    assert "1/2 hosts done" in text and "127.0.0.5" in text  # the quick host done, the held one's row
    assert "walked 2 of 2 hosts, 2 pages" in text  # the line it leaves when done
    assert "reposync run 1: 8 added" in text  # then the summary, as before
    assert b"\x1b[?25l" in out  # the cursor hidden while it redraws


def test_quiet_on_a_terminal_shows_no_display(two_hosts: tuple[Path, threading.Event]) -> None:
    config, gate = two_hosts
    code, out, _ = in_pty(sync_args(config, "--quiet"), gate, until=None)
    assert code == 0
    assert b"hosts done" not in out and b"walked" not in out and b"\x1b[?25l" not in out
    assert b"8 added" in out  # --quiet still prints the report when something changed


def test_no_terminal_no_display_only_what_verbose_asks_for(two_hosts: tuple[Path, threading.Event]) -> None:
    config, gate = two_hosts
    gate.set()
    plain = subprocess.run(sync_args(config), capture_output=True, env=child_env(), stdin=subprocess.DEVNULL,
                           timeout=60)
    assert plain.returncode == 0
    assert plain.stderr == b""  # cron mails nothing it did not ask for
    assert not ESCAPE.search(plain.stdout) and b"reposync run 1: 8 added" in plain.stdout

    verbose = subprocess.run(sync_args(config, "--verbose"), capture_output=True, env=child_env(),
                             stdin=subprocess.DEVNULL, timeout=60)
    assert verbose.returncode == 0
    lines = verbose.stderr.decode().splitlines()
    assert any(line.startswith("quick: http://127.0.0.1:") for line in lines)
    assert any(line.startswith("held: http://127.0.0.5:") for line in lines)
    assert not ESCAPE.search(verbose.stderr) and b"hosts done" not in verbose.stderr


# -- the estimate of the time left ------------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_left_paces_each_host_by_its_own_pages_and_spreads_the_rest_over_max_hosts(tmp_path: Path) -> None:
    from rich.console import Console

    sources = load_config(ROOT / "config" / "sources.toml").sources
    library = next(s for s in sources if s.id == "nspcc-library")
    york = next(s for s in sources if s.id == "york")
    plans = [HostPlan("library.nspcc.org.uk", [library], {"nspcc-library": 1500})]
    plans += [HostPlan(f"p{n}.example", [york], {"york": 1}) for n in range(20)]
    clock = Clock()
    live = LiveProgress(Console(file=open(os.devnull, "w"), force_terminal=False), clock=clock)
    live.plan(plans, max_hosts=4)
    assert live.time_left() is None  # no pace yet
    live.host_started(plans[0])
    live.host_started(plans[1])
    clock.now += 20
    live.page(plans[0], library, 10, 10, 1466)  # the library: 2 s a page, and it says it has 1466
    live.page(plans[1], york, 1, 5, None)  # a partnership: 20 s for its one page
    live.source_finished(plans[1], type("O", (), {"source": "york", "error": None})())
    live.host_finished(plans[1])
    left = live.time_left()
    assert left == pytest.approx(max((1466 - 10) * 2.0, ((1466 - 10) * 2.0 + 19 * 11.0) / 4))
    assert duration(left) == "48 min 32 s"


def test_a_host_walked_shows_its_documents_then_its_links_as_they_are_asked() -> None:
    from rich.console import Console

    sources = load_config(ROOT / "config" / "sources.toml").sources
    york = next(s for s in sources if s.id == "york")
    plan = HostPlan("www.saferchildrenyork.org.uk", [york], {"york": 1})
    console = Console(file=open(os.devnull, "w"), force_terminal=True, width=120)
    live = LiveProgress(console, clock=Clock())
    live.plan([plan], max_hosts=1)
    live.host_started(plan)
    live.source_started(plan, york)
    live.page(plan, york, 1, 12, None)

    def shown() -> str:
        with console.capture() as captured:
            console.print(live.render())
        return captured.get()

    assert "1/1 pages" in shown()
    live.asking(plan.host, "documents", 2, 12)
    assert "2/12 documents" in shown() and "pages" not in shown().split("\n", 1)[1]
    live.asking(plan.host, "links", 5, 12)
    assert "5/12 links" in shown()
    live.asking("library.nspcc.org.uk", "links", 1, 63)  # a host no source walked: no row, no error
    assert "library" not in shown()
