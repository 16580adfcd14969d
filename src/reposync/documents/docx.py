"""Word (.docx) text with the standard library: a .docx is a zip of XML, and its words are the ``w:t``
elements of ``word/document.xml``, one ``w:p`` a paragraph. Streamed (``iterparse`` on the zip member),
so a member that inflates past the cap is refused part way, not held whole."""

from __future__ import annotations

import io
import re
import zipfile
import xml.etree.ElementTree as ET

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_BODY = "word/document.xml"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)  # Word never writes one: entity expansion is refused


class DocxError(Exception):
    pass


def is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _BODY in archive.namelist()
    except zipfile.BadZipFile:
        return False


class _Capped(io.RawIOBase):
    """A member's inflated bytes, refused past ``limit``, with no DTD in them."""

    def __init__(self, member, limit: int):
        self._member, self._left, self._tail = member, limit, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._member.read(min(len(buffer), 1 << 16))
        self._left -= len(chunk)
        if self._left < 0:
            raise DocxError("its text inflates past the size cap")
        if _DTD.search(self._tail + chunk):
            raise DocxError("its XML declares a DTD")
        self._tail = chunk[-16:]
        buffer[: len(chunk)] = chunk
        return len(chunk)


def read_docx(data: bytes, *, max_inflated: int, max_chars: int) -> tuple[list[str], int | None]:
    """(paragraphs, pages as Word last counted them or None). ``DocxError`` for what cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            paragraphs = _paragraphs(archive, max_inflated, max_chars)
            return paragraphs, _pages(archive)
    except (zipfile.BadZipFile, ET.ParseError, KeyError, EOFError, NotImplementedError) as error:
        raise DocxError(f"{type(error).__name__}: {error}") from None


def _paragraphs(archive: zipfile.ZipFile, max_inflated: int, max_chars: int) -> list[str]:
    paragraphs: list[str] = []
    left = max_chars
    with archive.open(_BODY) as member:
        stream = io.BufferedReader(_Capped(member, max_inflated))
        for _event, element in ET.iterparse(stream, events=("end",)):
            if element.tag != _W + "p":
                continue
            text = "".join(
                node.text or "" if node.tag == _W + "t" else "\t" if node.tag == _W + "tab" else "\n"
                for node in element.iter() if node.tag in (_W + "t", _W + "tab", _W + "br")
            )
            element.clear()  # the paragraph is read: keep memory to one paragraph, not the document
            if left > 0:
                paragraphs.append(text[:left])
                left -= len(text) + 1
    return paragraphs


def _pages(archive: zipfile.ZipFile) -> int | None:
    try:
        info = archive.getinfo("docProps/app.xml")
    except KeyError:
        return None
    if info.file_size > 1 << 20:
        return None
    found = re.search(rb"<Pages>(\d{1,6})</Pages>", archive.read(info))
    return int(found.group(1)) if found else None
