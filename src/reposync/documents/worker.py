"""The parent side of ``pdf_worker.py``: one long-lived worker process, a deadline per document, a new
worker after one dies or overruns. Starting a process per document would cost more than reading most
reports; one worker for the whole night costs one start."""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = Path(__file__).with_name("pdf_worker.py")
_LENGTH = struct.Struct(">Q")


@dataclass(frozen=True)
class Limits:
    """What one document may cost. A report is rarely over 300 pages; the text cap keeps a catalogue row
    (and the worker's reply) bounded whatever the document holds."""

    max_bytes: int = 50 * 1024 * 1024
    seconds: float = 60.0
    memory_mb: int = 1024
    max_pages: int = 3000
    max_chars: int = 5_000_000


class WorkerFailed(Exception):
    """The worker died or overran its deadline; the message says which."""


class _Overran(Exception):
    pass


class _Died(Exception):
    pass


class PdfWorker:
    def __init__(self, limits: Limits):
        self.limits = limits
        self._process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        limits = self.limits
        return subprocess.Popen(
            [sys.executable, "-I", str(_SCRIPT), str(limits.memory_mb), str(limits.max_pages),
             str(limits.max_chars)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )

    def extract(self, data: bytes) -> dict:
        """The worker's reply for ``data``; ``WorkerFailed`` when it dies or takes too long."""
        if self._process is None or self._process.poll() is not None:
            self._process = self._start()
        process = self._process
        deadline = time.monotonic() + self.limits.seconds
        try:
            process.stdin.write(_LENGTH.pack(len(data)))
            process.stdin.write(data)
            process.stdin.flush()
            head = self._read(process, _LENGTH.size, deadline)
            return json.loads(self._read(process, _LENGTH.unpack(head)[0], deadline))
        except _Overran:
            raise WorkerFailed(self._stop(process, timed_out=True)) from None
        except (BrokenPipeError, _Died):
            raise WorkerFailed(self._stop(process, timed_out=False)) from None

    def _read(self, process: subprocess.Popen, size: int, deadline: float) -> bytes:
        fd = process.stdout.fileno()
        chunks = []
        while size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise _Overran
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                raise _Died
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _stop(self, process: subprocess.Popen, *, timed_out: bool) -> str:
        if timed_out:
            process.kill()
        code = process.wait()
        self._process = None
        if timed_out:
            return f"took longer than {self.limits.seconds:g} s"
        if code < 0:
            name = signal.Signals(-code).name
            return (f"the PDF library stopped ({name}): over its memory limit of {self.limits.memory_mb} MB, "
                    f"or a crash on this file")
        return f"the PDF library stopped (exit {code})"

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.stdin.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
