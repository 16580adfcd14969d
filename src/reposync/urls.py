"""Which links the catalogue takes from a page: http(s) URLs only, read the way a browser reads them.

One rule for every place a URL comes from a page (the parsers, normalise) and every place one goes out (the
report, the pack): resolve the link against its page, then keep it only when the result is an http or https
URL with a host. The scheme is judged after what a browser's URL parser drops (WHATWG URL standard): ASCII tab
and newline anywhere, C0 controls and spaces at either end, and case, so ``java&#x09;script:``, which decodes
to a tab inside the scheme, is the ``javascript:`` a browser runs and is dropped like it.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

WEB_SCHEMES = ("http", "https")

_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")
# C0 controls and space (what browsers strip), and the other white space ``str.strip()`` took before (a
# non-breaking space from ``&nbsp;`` around an href is an editor's slip, not part of the address).
_EDGE = "".join(map(chr, range(0x21))) + "".join(c for c in map(chr, range(0x7F, 0x3001)) if c.isspace()) + "\ufeff"


def as_browser_reads(href: str) -> str:
    """``href`` without what a browser drops before parsing it: tabs and newlines, and white space at the ends."""
    return href.translate(_TAB_OR_NEWLINE).strip(_EDGE)


def web_url(href: str | None, base: str | None = None) -> str | None:
    """The http(s) URL ``href`` leads to from the page at ``base``, or None.

    None for a link to anything else (``javascript:``, ``data:``, ``file:``, ``mailto:``), for one with no host
    (``http:/x``) and for what is no URL at all (``//[evil``, ``http://[::1``). The URL keeps the encoding the
    site used; its scheme is written in lower case.
    """
    if not href:
        return None
    cleaned = as_browser_reads(href)
    if not cleaned:
        return None
    try:
        url = urljoin(base, cleaned) if base else cleaned
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is no port ("http://h:99999/")
    except ValueError:
        return None
    scheme = parts.scheme  # lower case (urlsplit)
    if scheme not in WEB_SCHEMES or not host or not url.lower().startswith(scheme + ":"):
        return None
    return scheme + url[len(scheme):]
