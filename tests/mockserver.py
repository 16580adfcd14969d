"""A real HTTP server on 127.0.0.1 that fails in every way a site can (Scrapy's mockserver is the model).

One behaviour per endpoint; ``?fail=N`` on the failing ones fails the first N
requests to that exact target and then serves ``server.page`` (the recovery
cases). Every request is counted per target (path and query) and logged with
its status and request headers, so a test asserts both the outcome and how many
requests it cost.

    /robots.txt             ``server.robots``: None -> 404, else (status, text)
    /ok                     a small HTML page (``server.page``)
    /status/<code>          that status, always
    /too-many?after=<v>     429 with ``Retry-After: v`` (seconds, or ``date+N`` for an HTTP date N s ahead)
    /slow?seconds=<s>       answers after s seconds
    /trickle?every=<s>&bytes=<n>[&headers=1]   200 with a body of n bytes (default 1000), one byte every s
                            seconds (default 1); with headers=1 the status line and headers come a byte at a time too
    /truncated              Content-Length 1000, 100 bytes, then the connection closes
    /reset                  the connection is reset (RST) before any answer
    /huge[?chunked=1]       200 MB, generated while streaming (declared length, or chunked with none)
    /loop/<n>               302 to /loop/<n+1>, for ever
    /redirect               301 to /ok, on the same site
    /offsite                302 to the same server under another host name (another site)
    /empty                  200 with no body
    /garbage                random bytes served as text/html
    anything in ``server.pages``   a ``Resource``, with ETag / Last-Modified and 304s, its own status
                            (a PDF that starts answering 404), and ``Range: bytes=0-0`` answered 206
    anything in ``server.moved``   301 to the URL or path it maps to

HEAD is answered like GET without the body, except for targets in ``server.no_head`` (405, as servers that
refuse HEAD do). Every request is logged with its method.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HUGE_BYTES = 200 * 1024 * 1024
OK_PAGE = b"<!DOCTYPE html><html><head><title>ok</title></head><body><p>ok</p></body></html>"


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200  # set to 404 or 410 to make a page go away
    before: Callable[[], None] | None = None  # called before answering (a test's gate); the answer follows


@dataclass
class Logged:
    target: str
    status: int | None  # None: the connection was cut before any answer
    headers: dict[str, str]
    sent: int = 0  # body bytes written
    done: bool = False  # the handler has finished with this request
    method: str = "GET"


class MockServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.pages: dict[str, Resource] = {}
        self.moved: dict[str, str] = {}  # target -> where a 301 sends it
        self.no_head: set[str] = set()  # targets whose HEAD is refused (405)
        self.page: Resource = Resource(OK_PAGE)  # what recovering endpoints serve once they stop failing
        self.robots: tuple[int, str] | None = None
        self.hits: Counter[str] = Counter()
        self.log: list[Logged] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.host = host  # another loopback address (127.0.0.2, ...) is another host to a crawler
        self.httpd = ThreadingHTTPServer((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.httpd.mock = self  # type: ignore[attr-defined]
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True)

    # -- life -----------------------------------------------------------------
    def start(self) -> MockServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    # -- for tests ------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, target: str) -> str:
        return self.base + target

    def count(self, prefix: str = "") -> int:
        """Requests whose target starts with ``prefix`` (all of them by default)."""
        with self._lock:
            return sum(n for target, n in self.hits.items() if target.startswith(prefix))

    def statuses(self, prefix: str = "") -> list[int | None]:
        with self._lock:
            return [entry.status for entry in self.log if entry.target.startswith(prefix)]

    def sent(self) -> int:
        with self._lock:
            return sum(entry.sent for entry in self.log)

    def wait_done(self, timeout: float = 5.0) -> bool:
        """Wait (bounded) until every logged request's handler has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(entry.done for entry in self.log):
                    return True
            time.sleep(0.01)
        return False

    def reset_counts(self) -> None:
        with self._lock:
            self.hits.clear()
            self.log.clear()

    def methods(self, target: str) -> list[str]:
        """The methods of the requests to ``target``, in order."""
        with self._lock:
            return [entry.method for entry in self.log if entry.target == target]

    def _arrive(self, target: str, headers: dict[str, str], method: str = "GET") -> tuple[int, Logged]:
        with self._lock:
            self.hits[target] += 1
            entry = Logged(target, None, headers, method=method)
            self.log.append(entry)
            return self.hits[target], entry


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mockserver"
    wbufsize = -1  # headers and a small body leave in one write (flushed after each request)
    disable_nagle_algorithm = True

    @property
    def mock(self) -> MockServer:
        return self.server.mock  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass

    def handle_one_request(self) -> None:
        super().handle_one_request()
        if self.mock.stopping.is_set():  # a stopped server takes no more requests, not even on a kept-alive connection
            self.close_connection = True

    # -- writing --------------------------------------------------------------
    def send_response(self, code: int, message: str | None = None) -> None:
        self._entry.status = code
        super().send_response(code, message)

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                content_type: str | None = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        if content_type and status != 304:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and status != 304 and self.command != "HEAD":
            self.wfile.write(body)
            self._entry.sent += len(body)

    def _reset(self) -> None:
        """Cut the connection with a TCP reset, before any answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # -- reading --------------------------------------------------------------
    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        if self.path in self.mock.no_head:
            self._entry = self.mock._arrive(self.path, {k.lower(): v for k, v in self.headers.items()}, "HEAD")[1]
            try:
                self._answer(405, headers={"Allow": "GET"})
            finally:
                self._entry.done = True
            return
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        target = self.path
        nth, self._entry = self.mock._arrive(target, {k.lower(): v for k, v in self.headers.items()}, self.command)
        parts = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        fail = int(query["fail"]) if "fail" in query else None
        failing = fail is None or nth <= fail
        try:
            self._route(parts.path, query, failing)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        finally:
            self._entry.done = True

    def _route(self, path: str, query: dict[str, str], failing: bool) -> None:
        mock = self.mock
        if self.path in mock.moved:
            return self._answer(301, headers={"Location": mock.moved[self.path]})
        if self.path in mock.pages:
            return self._resource(mock.pages[self.path])
        if path == "/robots.txt":
            if mock.robots is None:
                return self._answer(404, b"not found", content_type="text/plain")
            status, text = mock.robots
            return self._answer(status, text.encode("utf-8"), content_type="text/plain")
        if path == "/ok":
            return self._resource(mock.page)
        if path.startswith("/loop/"):
            n = int(path.rsplit("/", 1)[1])
            return self._answer(302, headers={"Location": f"/loop/{n + 1}"})
        if path == "/redirect":
            return self._answer(301, headers={"Location": "/ok"})
        if path == "/offsite":
            return self._answer(302, headers={"Location": f"http://localhost:{mock.port}/ok"})
        if path == "/empty":
            return self._answer(200, b"")
        if path == "/garbage":
            return self._answer(200, random.Random(3).randbytes(8192))
        if path == "/huge":
            return self._huge(chunked=query.get("chunked") == "1")
        if not failing:
            return self._resource(mock.page)
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return self._answer(code, f"HTTP {code}".encode())
        if path == "/too-many":
            value = query.get("after", "1")
            if value.startswith("date"):
                value = formatdate(time.time() + float(value[4:] or 0), usegmt=True)
            return self._answer(429, b"slow down", headers={"Retry-After": value})
        if path == "/slow":
            deadline = time.monotonic() + float(query.get("seconds", "1"))
            while time.monotonic() < deadline and not mock.stopping.is_set():
                time.sleep(0.01)
            return self._resource(mock.page)
        if path == "/trickle":
            return self._trickle(float(query.get("every", "1")), int(query.get("bytes", "1000")),
                                 headers=query.get("headers") == "1")
        if path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"<html><body>" + b"x" * 88)
            self._entry.sent += 100
            self.wfile.flush()
            self.close_connection = True
            return None
        if path == "/reset":
            return self._reset()
        return self._answer(404, b"no such endpoint")

    def _resource(self, resource: Resource) -> None:
        if resource.before is not None:
            resource.before()
        headers = {}
        if resource.etag:
            headers["ETag"] = resource.etag
        if resource.last_modified:
            headers["Last-Modified"] = resource.last_modified
        if resource.status != 200:
            return self._answer(resource.status, f"HTTP {resource.status}".encode())
        if self._fresh(resource):
            return self._answer(304, headers=headers)
        if self.headers.get("Range") == "bytes=0-0" and resource.body:
            headers["Content-Range"] = f"bytes 0-0/{len(resource.body)}"
            return self._answer(206, resource.body[:1], headers=headers, content_type=resource.content_type)
        return self._answer(200, resource.body, headers=headers, content_type=resource.content_type)

    def _fresh(self, resource: Resource) -> bool:
        """Whether the client's copy is current: If-None-Match first, else If-Modified-Since."""
        match = self.headers.get("If-None-Match")
        if match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
            return resource.etag is not None and ("*" in tags or resource.etag.removeprefix("W/") in tags)
        since = self.headers.get("If-Modified-Since")
        if since and resource.last_modified:
            try:
                return parsedate_to_datetime(resource.last_modified) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def _trickle(self, every: float, size: int, *, headers: bool) -> None:
        """A server that is never silent for long but never done: a byte, a pause, a byte."""
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n"
                "X-Padding: " + "x" * 200 + "\r\n\r\n").encode()
        self._entry.status = 200
        self.close_connection = True
        pieces = [head[i:i + 1] for i in range(len(head))] if headers else [head]
        pieces += [b"x"] * size
        body_from = len(pieces) - size
        for n, piece in enumerate(pieces):
            if self.mock.stopping.is_set():
                return
            if n:
                time.sleep(every)
            self.wfile.write(piece)
            self.wfile.flush()
            if n >= body_from:
                self._entry.sent += 1

    def _huge(self, *, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        block = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>"
        sent = 0
        self.close_connection = True
        while sent < HUGE_BYTES and not self.mock.stopping.is_set():
            piece = block[: HUGE_BYTES - sent]
            if chunked:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            sent += len(piece)
            self._entry.sent = sent
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
