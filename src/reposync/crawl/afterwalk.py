"""A host's work once its pages are walked: its report documents (issue 21, ``documents``) and its due report
links (issue 23, ``linkhosts``), both through the host's own worker and ``Fetcher``, paced with its pages.

In a sync, a source's documents on its own site are fetched right after its walk and its due links queued
(``source_walked``); once the host's last source is walked, its worker asks its links (``host_walked``), so the
pause after its last page or document holds before its first link. What a host's worker could not do because
another host's pages found it (the NSPCC lists' links into the library, a document on a host ``[documents]
hosts`` names) or its worker had already ended is done in a second round (``rest``): each such host's
documents, then its links, through its own ``Fetcher`` (the one that walked it, where one did), up to
``max_hosts`` hosts at once. No host is ever asked by two threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..config import Source
from ..models import SourceOutcome
from . import hosts
from .documents import DocumentStage
from .fetch import Fetcher
from .linkhosts import HostLinks


class AfterWalk:
    """The night's post-walk work, host by host. ``links`` is None when the run checks no report link."""

    def __init__(self, documents: DocumentStage, links: HostLinks | None, stop: threading.Event,
                 watcher: hosts.Watcher | None = None) -> None:
        self.documents = documents
        self.links = links
        self.stop = stop
        if links is not None:  # a document fetched before its link is checked answers for the link: one request
            links.answered = documents.answered
        if watcher is not None:  # what a person watching sees of a host once its pages are walked
            documents.on_asked = lambda host, done, total: watcher.asking(host, "documents", done, total)
            if links is not None:
                links.on_asked = lambda host, done, total: watcher.asking(host, "links", done, total)

    def source_walked(self, source: Source, outcome: SourceOutcome, fetcher: Fetcher) -> None:
        """In the host's thread: the source's documents on its own site, by ``fetcher``; its due links queued."""
        self.documents.after_walk(source, outcome, fetcher)
        if self.links is not None:
            self.links.release(source.id, outcome)

    def host_walked(self, host: str, fetcher: Fetcher) -> None:
        """In the host's thread, its last source walked: its links queued so far, paced with its pages."""
        if self.links is not None:
            self.links.ask(host, fetcher, self.stop)

    def _finish(self, host: str, fetcher: Fetcher) -> None:
        if self.stop.is_set():
            raise hosts.Stopped("the sync is stopping")
        self.documents.after_walks(host, fetcher)
        if self.links is not None:
            self.links.ask(host, fetcher, self.stop)

    def rest(self, fetcher_for: Callable[[str], Fetcher], max_hosts: int) -> None:
        """Once every walk has ended: each host's documents set aside, then its links left, through
        ``fetcher_for(host)``, ``max_hosts`` hosts at once (those with the most links first)."""
        waiting = list(dict.fromkeys((self.links.waiting() if self.links is not None else [])
                                     + self.documents.waiting()))
        if waiting:
            hosts.each_host(waiting, lambda host: self._finish(host, fetcher_for(host)),
                            max_hosts=max_hosts, stop=self.stop)
