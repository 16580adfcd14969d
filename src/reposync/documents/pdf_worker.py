"""The PDF library in a process of its own: ``python -I pdf_worker.py MEMORY_MB MAX_PAGES MAX_CHARS``.

PDFium is C++: on hostile input it can allocate without bound (a 2 MB deflate bomb took it to 3.1 GB and
37 s) and, over an address-space limit, it aborts the process instead of raising. So it runs here, under
``RLIMIT_AS``, and the reader (``worker.py``) times each document and starts a new worker when one dies.
The script imports nothing from reposync, so it runs by its path with ``-I`` (no current directory or
PYTHON* variables on its path).

Protocol on stdin/stdout: a request is an 8-byte big-endian length and the PDF's bytes; a reply is an
8-byte length and a JSON object: ``{"pages": N, "texts": [...]}`` or ``{"error": KIND, "reason": ...}``
with KIND ``encrypted``, ``too-many-pages`` or ``unreadable``.
"""

from __future__ import annotations

import json
import resource
import struct
import sys

_LENGTH = struct.Struct(">Q")


def _read_exactly(stream, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def extract(pdfium, data: bytes, max_pages: int, max_chars: int) -> dict:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        message = str(error)
        if "password" in message.lower():
            return {"error": "encrypted", "reason": "a password is needed to open it"}
        return {"error": "unreadable", "reason": message}
    try:
        count = len(document)
        if count > max_pages:
            return {"error": "too-many-pages", "reason": f"{count:,} pages claimed (the limit is {max_pages:,})"}
        texts: list[str] = []
        failed = 0
        left = max_chars
        for index in range(count):
            if left <= 0:
                break  # the text cap is reached: the pages are counted, their text is not kept
            try:
                page = document[index]
            except pdfium.PdfiumError:
                failed += 1
                texts.append("")
                continue
            try:
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                textpage.close()
            finally:
                page.close()
            text = text.replace("\r\n", "\n")[:left]
            left -= len(text)
            texts.append(text)
        if count and failed == count:
            return {"error": "unreadable", "reason": f"none of its {count} pages could be loaded"}
        return {"pages": count, "texts": texts, "failed_pages": failed}
    finally:
        document.close()


def main() -> None:
    memory_mb, max_pages, max_chars = (int(arg) for arg in sys.argv[1:4])
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import pypdfium2 as pdfium  # after the limit: PDFium's own allocations count against it

    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exactly(source, _LENGTH.size)
        if head is None:
            return
        data = _read_exactly(source, _LENGTH.unpack(head)[0])
        if data is None:
            return
        try:
            reply = extract(pdfium, data, max_pages, max_chars)
        except MemoryError:
            reply = {"error": "unreadable", "reason": f"over the reader's memory limit of {memory_mb} MB"}
        del data
        body = json.dumps(reply).encode()
        sink.write(_LENGTH.pack(len(body)) + body)
        sink.flush()


if __name__ == "__main__":
    main()
