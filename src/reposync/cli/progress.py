"""What a person watching a sync sees: on a terminal, a live display of the hosts (rich).

The display (on standard error) shows how many hosts are done, the pages of each host being walked, and an
estimate of the time left: each host's pages still expected (its last walk's count, or what its pages say,
like the library's "record 12 of 1466"), at the pace that host has kept so far (a host not yet started at
the pace of the others), spread over ``max_hosts`` at a time but never less than the longest single host.

Under cron standard error is not a terminal: no display, only the lines ``--verbose`` asks for.
``--quiet`` shows no display either. ``Display`` picks which.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..crawl.hosts import HostPlan, Watcher

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ..catalogue import SourceOutcome
    from ..config import Source

MAX_ROWS = 12  # hosts shown at once: max_hosts rows, or this many when the cap is larger


@dataclass
class _Host:
    plan: HostPlan
    expected: dict[str, int]
    pages: dict[str, int] = field(default_factory=dict)
    source: str | None = None  # the source being walked
    started: float | None = None
    finished: float | None = None
    failed: int = 0
    asking: tuple[str, int, int] | None = None  # after its walk: its documents or links, asked so far, of how many

    @property
    def done(self) -> int:
        return sum(self.pages.values())

    @property
    def total(self) -> int:
        return sum(max(n, self.pages.get(s, 0)) for s, n in self.expected.items())


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class LiveProgress(Watcher):
    """The live display: a header (hosts done, pages, time left) and a row per host being walked."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.clock = clock
        self.lock = threading.Lock()
        self.hosts: dict[str, _Host] = {}
        self.max_hosts = 1
        self.started = clock()
        self.writing = False
        self._live = None

    # -- what the sync says ------------------------------------------------------
    def planned(self, plans: list[HostPlan], max_hosts: int) -> None:
        from rich.live import Live

        self.plan(plans, max_hosts)
        self._live = Live(get_renderable=self.render, console=self.console, refresh_per_second=4, transient=True,
                          redirect_stdout=False, redirect_stderr=False)
        self._live.start()

    def plan(self, plans: list[HostPlan], max_hosts: int) -> None:
        """The hosts to come (``planned`` without the screen)."""
        with self.lock:
            self.hosts = {p.host: _Host(p, dict(p.expected)) for p in plans}
            self.max_hosts = max_hosts
            self.started = self.clock()

    def host_started(self, plan: HostPlan) -> None:
        with self.lock:
            self.hosts[plan.host].started = self.clock()

    def source_started(self, plan: HostPlan, source: Source) -> None:
        with self.lock:
            self.hosts[plan.host].source = source.id

    def page(self, plan: HostPlan, source: Source, pages: int, entries: int, expected: int | None) -> None:
        with self.lock:
            host = self.hosts[plan.host]
            host.pages[source.id] = pages
            if expected is not None:
                host.expected[source.id] = expected

    def source_finished(self, plan: HostPlan, outcome: SourceOutcome) -> None:
        with self.lock:
            host = self.hosts[plan.host]
            host.expected[outcome.source] = host.pages.get(outcome.source, 0)  # walked: no more to come
            host.failed += outcome.error is not None

    def asking(self, host: str, what: str, done: int, total: int) -> None:
        with self.lock:
            if host in self.hosts:  # a host no source walks (a link into it) has no row
                self.hosts[host].asking = (what, done, total)

    def host_finished(self, plan: HostPlan) -> None:
        with self.lock:
            self.hosts[plan.host].finished = self.clock()

    def walked(self) -> None:
        with self.lock:
            self.writing = True

    def log(self, message: str) -> None:
        """A --verbose line, printed above the display."""
        self.console.print(message, markup=False, highlight=False)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            with self.lock:
                hosts = list(self.hosts.values())
            done = sum(h.finished is not None for h in hosts)
            pages = sum(h.done for h in hosts)
            self.console.print(f"walked {done} of {len(hosts)} hosts, {pages} pages, in "
                               f"{duration(self.clock() - self.started)}", markup=False, highlight=False)

    # -- the estimate --------------------------------------------------------------
    def time_left(self) -> float | None:
        """Seconds until every host is walked, or None before any host has set a pace."""
        now = self.clock()
        with self.lock:
            hosts = list(self.hosts.values())
        paces = [((now if h.finished is None else h.finished) - h.started) / h.done
                 for h in hosts if h.started is not None and h.done]  # seconds a page, robots.txt and pauses in
        if not paces:
            return None
        typical = statistics.median(paces)
        left = []
        for h in hosts:
            if h.finished is not None:
                continue
            if h.started is None:
                left.append(h.total * typical)
            else:
                pace = (now - h.started) / h.done if h.done else typical
                left.append(max(0, h.total - h.done) * pace)
        if not left:
            return 0.0
        return max(max(left), sum(left) / max(1, self.max_hosts))

    # -- drawing ---------------------------------------------------------------------
    def render(self) -> RenderableType:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        left = self.time_left()
        with self.lock:
            hosts = list(self.hosts.values())
            writing = self.writing
        done = sum(h.finished is not None for h in hosts)
        walking = sorted((h for h in hosts if h.started is not None and h.finished is None),
                         key=lambda h: h.started or 0)
        pages = sum(h.done for h in hosts)
        failed = sum(h.failed for h in hosts)
        if writing:
            when = "writing the catalogue"
        elif left is None:
            when = "time left: estimating"
        else:
            when = f"about {duration(left)} left"
        head = Text(f"reposync: {done}/{len(hosts)} hosts done, {len(walking)} walking, {pages} pages"
                    f"{f', {failed} sources failed' if failed else ''} · {when}")
        table = Table.grid(padding=(0, 2))
        for _ in range(4):
            table.add_column()
        for host in walking[:max(MAX_ROWS, self.max_hosts)]:
            if host.asking is not None:  # its pages walked: its report documents or links asked
                what, asked, total = host.asking
                table.add_row(Text(host.plan.host, overflow="ellipsis", no_wrap=True), Text(host.source or ""),
                              Text(f"{asked}/{total} {what}", justify="right"), ProgressBar(total, asked, width=24))
                continue
            total = max(host.total, host.done, 1)
            table.add_row(Text(host.plan.host, overflow="ellipsis", no_wrap=True), Text(host.source or ""),
                          Text(f"{host.done}/{total} pages", justify="right"), ProgressBar(total, host.done, width=24))
        return Group(head, table)


class Display:
    """Which progress a sync shows: the live display on a terminal (not with --quiet), --verbose's lines."""

    def __init__(self, *, quiet: bool, verbose: bool, console: Console | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.live = LiveProgress(self.console) if not quiet and self.console.is_interactive else None
        self.verbose = verbose

    @property
    def watcher(self) -> Watcher | None:
        return self.live

    @property
    def lines(self) -> Callable[[str], None] | None:
        """Where --verbose's lines go: above the display, else straight to standard error."""
        if not self.verbose:
            return None
        if self.live is not None:
            return self.live.log
        import click

        return lambda message: click.echo(message, err=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
