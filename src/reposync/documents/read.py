"""One report document's bytes -> what it says: text, pages, title and date from its first pages, and a
status that says why when it cannot be read. Nothing here raises for a bad document."""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .docx import DocxError, is_docx, read_docx
from .title_page import read_title_page
from .worker import Limits, PdfWorker, WorkerFailed

STATUSES = ("ok", "no-text", "not-a-pdf", "too-big", "encrypted", "error")

# A page of a report carries hundreds of letters; a scan without a text layer a page number at most.
_LETTERS_PER_PAGE = 25
_ALNUM = re.compile(r"[^\W_]")
_PDF_MAGIC_WITHIN = 1024  # PDF readers accept junk before "%PDF-" in the first kilobyte
_DOCX_TYPES = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)


@dataclass(frozen=True)
class DocumentRead:
    status: str  # one of STATUSES
    reason: str | None  # why, for any status but ok
    sha256: str | None  # of the bytes read; None when they were refused unread (too-big)
    bytes: int
    kind: str | None  # pdf | docx | None when neither
    pages: int | None
    text: str | None  # pages joined by form feeds (\f); paragraphs by new lines for Word
    title_read: str | None  # "Child Safeguarding Practice Review — Child K"
    review_type_read: str | None  # scr, lcspr, thematic, ... (normalise.named_type)
    pseudonym_read: str | None
    partnership_read: str | None
    published_read: str | None  # ISO at its precision: 2023, 2023-03, 2023-03-18
    published_precision: str | None  # year | month | day


def _result(status: str, reason: str | None = None, *, sha256: str | None = None, size: int = 0,
            kind: str | None = None, pages: int | None = None) -> DocumentRead:
    return DocumentRead(status, reason, sha256, size, kind, pages, None, None, None, None, None, None, None)


class DocumentReader:
    """Reads documents one after another through one PDF worker; ``close()`` (or ``with``) ends it."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._pdf = PdfWorker(self.limits)

    def __enter__(self) -> DocumentReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._pdf.close()

    def read(self, source: bytes | str | os.PathLike | BinaryIO, content_type: str | None = None) -> DocumentRead:
        """Read bytes, a file, or a binary stream; more than ``max_bytes`` is refused before it is held."""
        data, size = _load(source, self.limits.max_bytes)
        if data is None:
            return _result("too-big", f"{size:,} bytes; the cap is {self.limits.max_bytes:,}", size=size)
        sha256 = hashlib.sha256(data).hexdigest()
        declared = (content_type or "").split(";")[0].strip().lower()
        if b"%PDF-" in data[:_PDF_MAGIC_WITHIN]:
            return self._read_pdf(data, sha256)
        if declared in _DOCX_TYPES or data.startswith(b"PK\x03\x04"):
            if is_docx(data):
                return self._read_docx(data, sha256)
        return _result("not-a-pdf", _what_it_is(data, declared), sha256=sha256, size=len(data))

    def _read_pdf(self, data: bytes, sha256: str) -> DocumentRead:
        try:
            reply = self._pdf.extract(data)
        except WorkerFailed as failure:
            return _result("error", str(failure), sha256=sha256, size=len(data), kind="pdf")
        error = reply.get("error")
        if error == "encrypted":
            return _result("encrypted", reply["reason"], sha256=sha256, size=len(data), kind="pdf")
        if error:
            reason = reply["reason"]
            if b"%%EOF" not in data[-2048:]:
                reason = f"truncated (no %%EOF at the end): {reason}"
            return _result("error", reason, sha256=sha256, size=len(data), kind="pdf")
        return _finish(reply["texts"], "\f", reply["pages"], sha256=sha256, size=len(data), kind="pdf")

    def _read_docx(self, data: bytes, sha256: str) -> DocumentRead:
        try:
            paragraphs, pages = read_docx(data, max_inflated=4 * self.limits.max_bytes,
                                          max_chars=self.limits.max_chars)
        except DocxError as error:
            return _result("error", str(error), sha256=sha256, size=len(data), kind="docx")
        # No pages in a .docx: its first 40 paragraphs stand for the title page.
        return _finish(["\n".join(paragraphs[:40]), "\n".join(paragraphs[40:])], "\n", pages,
                       sha256=sha256, size=len(data), kind="docx")


def read_document(source: bytes | str | os.PathLike | BinaryIO, content_type: str | None = None,
                  limits: Limits | None = None) -> DocumentRead:
    """One document, with a worker of its own: for many, keep one ``DocumentReader``."""
    with DocumentReader(limits) as reader:
        return reader.read(source, content_type)


def _finish(texts: list[str], joiner: str, pages: int | None, **known) -> DocumentRead:
    text = joiner.join(t for t in texts if t) if joiner == "\n" else joiner.join(texts)
    letters = len(_ALNUM.findall(text))
    if letters < _LETTERS_PER_PAGE * max(pages or 1, 1):
        status, reason = "no-text", f"{letters} letters in {pages} page(s): a scan without a text layer?"
        if known["kind"] == "docx":
            reason = f"{letters} letters"
    else:
        status, reason = "ok", None
    title = read_title_page(texts[:2])
    published = title.published
    return DocumentRead(status, reason, known["sha256"], known["size"], known["kind"], pages, text,
                        title.title, title.review_type, title.pseudonym, title.partnership,
                        published.value if published else None, published.precision if published else None)


def _load(source, cap: int) -> tuple[bytes | None, int]:
    """(the bytes, their length), or (None, length) past ``cap``: a file's size is known before it is read,
    a stream is read to ``cap`` + 1 bytes at most."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = len(source)
        return (bytes(source) if size <= cap else None), size
    if isinstance(source, (str, os.PathLike)):
        size = Path(source).stat().st_size
        if size > cap:
            return None, size
        with open(source, "rb") as handle:
            return _load(handle, cap)
    data = source.read(cap + 1)
    if len(data) > cap:
        return None, len(data)  # at least this many: the rest is never read
    return data, len(data)


def _what_it_is(data: bytes, declared: str) -> str:
    head = data[:_PDF_MAGIC_WITHIN].lstrip().lower()
    if not data:
        seen = "empty"
    elif head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        seen = "an HTML page"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        seen = "a Word 97-2003 (.doc) or other OLE file: not read"
    elif data.startswith(b"PK\x03\x04"):
        seen = "a zip that is not a Word document"
    else:
        seen = "no PDF header"
    return f"{seen}, served as {declared}" if declared else seen
