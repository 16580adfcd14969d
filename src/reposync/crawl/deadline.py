"""A deadline for a whole HTTP request: connect, headers and body together.

httpx's timeouts bound each operation: a read timeout of 30 s lets a server
that sends a byte every second hold one request for as long as it likes (the
headers alone may be 64 KB). Here every socket operation of a request waits at
most what is left of the request's deadline, so a whole request ends within
``crawl.timeout`` however the server dribbles its answer.

httpx has no public hook for this: the network backend of the default
transport's connection pool is swapped for one whose streams read the
deadline (``deadline_transport``). tests/test_fetch.py trickles a body and
headers from the loopback server, so a change of httpx that breaks the swap
fails there, not quietly in a nightly run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

SocketOption = Any


class Deadline:
    """The end of the request in progress, per thread (None: no request, no bound)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._local = threading.local()
        self.clock = clock  # always real time: sockets wait in real time, whatever clock paces the crawl

    @contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        self._local.until = self.clock() + seconds
        self._local.seconds = seconds
        try:
            yield
        finally:
            self._local.until = None

    def left(self, timeout: float | None, error: type[Exception]) -> float | None:
        """``timeout``, cut to what is left of the deadline; ``error`` when nothing is left."""
        until = getattr(self._local, "until", None)
        if until is None:
            return timeout
        left = until - self.clock()
        if left <= 0:
            raise self.passed(error)
        return left if timeout is None else min(timeout, left)

    def passed(self, error: type[Exception]) -> Exception | None:
        """``error`` saying the deadline passed, when it has (a socket timeout then is the deadline's)."""
        until = getattr(self._local, "until", None)
        if until is None or self.clock() < until:
            return None
        return error(f"no whole answer within {self._local.seconds:g} s (the [crawl] timeout)")


def _call(deadline: Deadline, error: type[Exception], operation: Any, timeout: float | None, *args: Any) -> Any:
    """``operation(*args, bounded timeout)``; a timeout at the deadline says it was the deadline."""
    try:
        return operation(*args, deadline.left(timeout, error))
    except httpcore.TimeoutException:
        passed = deadline.passed(error)
        if passed is None:
            raise
        raise passed from None


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _call(self._deadline, httpcore.ReadTimeout, self._stream.read, timeout, max_bytes)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _call(self._deadline, httpcore.WriteTimeout, self._stream.write, timeout, buffer)

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        tls = _call(self._deadline, httpcore.ConnectTimeout, self._stream.start_tls, timeout, ssl_context,
                    server_hostname)
        return _Stream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend, deadline: Deadline) -> None:
        self._backend = backend
        self._deadline = deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[SocketOption] | None = None) -> httpcore.NetworkStream:
        # connect_tcp's timeout is its third argument: bound it, then pass the rest by name
        stream = _call(self._deadline, httpcore.ConnectTimeout,
                       lambda h, p, t: self._backend.connect_tcp(h, p, t, local_address, socket_options),
                       timeout, host, port)
        return _Stream(stream, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[SocketOption] | None = None) -> httpcore.NetworkStream:
        stream = _call(self._deadline, httpcore.ConnectTimeout,
                       lambda p, t: self._backend.connect_unix_socket(p, t, socket_options), timeout, path)
        return _Stream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(deadline: Deadline, limits: httpx.Limits | None = None) -> httpx.HTTPTransport:
    """httpx's default transport, its sockets bounded by ``deadline`` (and its pool by ``limits``)."""
    transport = httpx.HTTPTransport(limits=limits or httpx.Limits())
    pool = transport._pool  # noqa: SLF001 - no public hook (see the module docstring)
    pool._network_backend = _Backend(pool._network_backend, deadline)  # noqa: SLF001
    return transport
