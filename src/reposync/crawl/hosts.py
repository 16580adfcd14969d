"""Sources walked host by host: up to ``crawl.max_hosts`` hosts at once, each host one request at a time.

Politeness is owed to a host: ``fetch.Fetcher`` paces requests by host name and obeys its robots.txt. So
hosts are independent and may be walked at the same time, and a night takes about as long as its busiest
host's own pages, not the sum of every host's. Each host gets a thread and a ``Fetcher`` of its own (its
pacing, its robots.txt, whether it could be reached), all sending through one shared ``httpx.Client``
whose connection limit is the cap: never more than ``max_hosts`` connections open. A host's sources are
walked one after another in config order, so a host that cannot be reached fails all of them after one
set of retries (``Fetcher`` remembers it), not each after its own.

Threads, not asyncio: everything a page costs after its answer (parse, normalise, the spool, the archive's
files) is blocking code, the fetch layer (pacing, tenacity's retries, robots.txt, the fake-clock tests) is
synchronous and shared with other commands, and there are at most ``max_hosts`` threads, mostly asleep in
a politeness delay. A thread per host reuses all of it unchanged; only the shared state (the archive, the
run's spool) takes a lock.

Whatever order hosts finish in, the outcomes are handed back in the order of the sources, so the one
transaction that applies the run sees exactly what a sequential sync would (``max_hosts = 1`` is one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypeVar

from ..models import SourceOutcome
from ..config import Source


@dataclass
class HostPlan:
    """One host's sources, in config order, and the pages each is expected to take (for order and time left)."""

    host: str
    sources: list[Source]
    expected: dict[str, int] = field(default_factory=dict)

    @property
    def expected_pages(self) -> int:
        return sum(self.expected.values())


def host_of(source: Source) -> str:
    """The host a source is paced by: its URL's host name (http and https of one host are one host)."""
    return source.site[1]


def plan_hosts(sources: Sequence[Source], expected: Callable[[Source], int]) -> list[HostPlan]:
    """Sources grouped by host, the longest expected walk first (it bounds the night: start it at once),
    then in order of first appearance in the config."""
    plans: dict[str, HostPlan] = {}
    for source in sources:
        plan = plans.setdefault(host_of(source), HostPlan(host_of(source), []))
        plan.sources.append(source)
        plan.expected[source.id] = max(1, expected(source))
    order = {host: n for n, host in enumerate(plans)}
    return sorted(plans.values(), key=lambda p: (-(p.expected_pages + len(p.sources)), order[p.host]))


class Watcher:
    """What a sync tells as it goes; ``progress.py`` draws it. Called from the hosts' threads."""

    def planned(self, plans: list[HostPlan], max_hosts: int) -> None:
        """Before any request: every host and what it is expected to take."""

    def host_started(self, plan: HostPlan) -> None:
        pass

    def source_started(self, plan: HostPlan, source: Source) -> None:
        pass

    def page(self, plan: HostPlan, source: Source, pages: int, entries: int, expected: int | None) -> None:
        """A page of ``source`` was walked: ``pages`` so far; ``expected`` when the page says how many there are."""

    def source_finished(self, plan: HostPlan, outcome: SourceOutcome) -> None:
        pass

    def asking(self, host: str, what: str, done: int, total: int) -> None:
        """After its walk, a host's ``what`` ("documents", "links"): ``done`` of ``total`` asked so far."""

    def host_finished(self, plan: HostPlan) -> None:
        pass

    def walked(self) -> None:
        """Every host is done: the catalogue is written next."""


class Watchers(Watcher):
    """Several watchers as one (the live display and --verbose's lines)."""

    def __init__(self, *watchers: Watcher | None) -> None:
        self.watchers = [w for w in watchers if w is not None]

    def planned(self, plans: list[HostPlan], max_hosts: int) -> None:
        for w in self.watchers:
            w.planned(plans, max_hosts)

    def host_started(self, plan: HostPlan) -> None:
        for w in self.watchers:
            w.host_started(plan)

    def source_started(self, plan: HostPlan, source: Source) -> None:
        for w in self.watchers:
            w.source_started(plan, source)

    def page(self, plan: HostPlan, source: Source, pages: int, entries: int, expected: int | None) -> None:
        for w in self.watchers:
            w.page(plan, source, pages, entries, expected)

    def source_finished(self, plan: HostPlan, outcome: SourceOutcome) -> None:
        for w in self.watchers:
            w.source_finished(plan, outcome)

    def asking(self, host: str, what: str, done: int, total: int) -> None:
        for w in self.watchers:
            w.asking(host, what, done, total)

    def host_finished(self, plan: HostPlan) -> None:
        for w in self.watchers:
            w.host_finished(plan)

    def walked(self) -> None:
        for w in self.watchers:
            w.walked()


class Stopped(Exception):
    """The sync is stopping (Ctrl-C, or a bug in another host's walk): no more waiting or requests."""


def stoppable_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A ``sleep`` for the fetchers that wakes, and gives up, as soon as the sync stops."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds) or stop.is_set():
            raise Stopped("the sync is stopping")

    return sleep


# Walk one host's sources (in its own thread) and give their outcomes, in the plan's order.
WalkHost = Callable[[HostPlan], list[SourceOutcome]]
T = TypeVar("T")
R = TypeVar("R")


def each_host(items: Sequence[T], work: Callable[[T], R], *, max_hosts: int, stop: threading.Event) -> list[R]:
    """``work`` for each host's item, ``max_hosts`` at a time, each in a thread; the results in the items' order.

    An exception out of a host's work (a bug: a walk turns every failure of a source into its outcome, a
    link check every failure of a link into its verdict) or a KeyboardInterrupt stops the others at their
    next wait and is raised here. The first failure is seen as it happens, whichever host it is on: waiting
    for the hosts in the order they started would let a long walk (the library's) run on to its end first.
    """
    with ThreadPoolExecutor(max_workers=max(1, max_hosts), thread_name_prefix="reposync-host") as pool:
        futures = [pool.submit(work, item) for item in items]
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in futures:  # in plan order, so two failures at once raise the same one each time
                    if future in done:
                        future.result()
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise  # the pool's exit then waits for the working hosts, each ending at its next wait
    return [future.result() for future in futures]


def walk_hosts(plans: Sequence[HostPlan], walk_host: WalkHost, *, max_hosts: int,
               stop: threading.Event) -> dict[str, SourceOutcome]:
    """Walk every host, ``max_hosts`` at a time (``each_host``); the outcome of every source, by id."""
    walked = each_host(plans, walk_host, max_hosts=max_hosts, stop=stop)
    return {outcome.source: outcome for outcomes in walked for outcome in outcomes}
