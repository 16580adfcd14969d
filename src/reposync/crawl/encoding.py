"""A page's bytes to text: the byte order mark, valid UTF-8, then what the page and its headers declare."""

from __future__ import annotations

import codecs
import re

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def decode(body: bytes, content_type: str | None) -> str:
    """Bytes to text, with no mojibake where the bytes themselves say what they are.

    1. A byte order mark wins (UTF-8, UTF-16).
    2. Bytes that are valid UTF-8 are UTF-8, whatever is declared: valid UTF-8
       with anything but ASCII in it is never chance, and ASCII reads the same in
       every charset a web page declares (a page saved as UTF-8 under an old
       ``charset=windows-1252`` header is common).
    3. Mostly UTF-8, with a few bytes that are not (a smart quote pasted into a
       UTF-8 page): UTF-8, those bytes read as windows-1252.
    4. Else the charset of the Content-Type header, then of a ``<meta>`` in the
       first 4 KB, as browsers read labels (latin-1 and ASCII mean windows-1252:
       the WHATWG Encoding Standard); an unknown label is passed over.
    5. Else windows-1252, what an undeclared legacy English page is.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            errors = _CP1252_BYTES if codec == "utf-8" else "replace"
            return body[len(bom):].decode(codec, errors=errors)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    high = len(body) - len(body.translate(None, _HIGH_BYTES))
    sequences = _UTF8_SEQUENCE.findall(body)
    stray = high - sum(map(len, sequences))
    if len(sequences) > stray:
        return body.decode("utf-8", errors=_CP1252_BYTES)
    for codec in _declared(body, content_type):
        try:
            return body.decode(codec)
        except (LookupError, UnicodeError):
            continue
    return body.decode("windows-1252", errors="replace")


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HIGH_BYTES = bytes(range(0x80, 0x100))
# One well-formed UTF-8 sequence of two to four bytes.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
# Labels browsers read as windows-1252 (Python would read latin-1 0x80-0x9F as control characters).
_AS_CP1252 = frozenset(("iso8859-1", "ascii", "cp1252"))
# Python codecs that are not a web page's charset. UTF-8 is not (step 2), and a
# label of UTF-16 or UTF-32 without a BOM is not either (browsers read it as UTF-8).
_NOT_CHARSETS = frozenset(("utf-8", "utf-8-sig", "unicode-escape", "raw-unicode-escape", "utf-7", "idna",
                           "punycode", "undefined", "charmap"))
_CP1252_BYTES = "reposync-cp1252"


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: bytes that are not UTF-8 are read as windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("windows-1252", errors="replace"), error.end


codecs.register_error(_CP1252_BYTES, _cp1252_bytes)


def _declared(body: bytes, content_type: str | None) -> list[str]:
    """The codecs the page declares, header first, as Python names; unknown labels left out."""
    labels = []
    if content_type and "charset=" in content_type.lower():
        labels.append(content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'"))
    meta = _CHARSET.search(body[:4096])
    if meta:
        labels.append(meta.group(1).decode("ascii", "ignore").lower())
    codecs_found = []
    for label in labels:
        try:
            info = codecs.lookup(label)
        except LookupError:
            continue
        name = info.name
        if not getattr(info, "_is_text_encoding", True) or name in _NOT_CHARSETS or name.startswith(("utf-16",
                                                                                                       "utf-32")):
            continue
        codecs_found.append("windows-1252" if name in _AS_CP1252 else name)
    return codecs_found
