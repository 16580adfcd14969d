"""Page parsers: one module per page family, each ``parse(html, url) -> ParseResult``.

A parser reads text as written and infers nothing (dates, areas and types are
normalised later, in ``reposync.normalise``). It raises ``ParseError`` when the
page is not the page it knows.
"""

from __future__ import annotations

from collections.abc import Callable

from ..models import ParseResult
from . import library, rolling, yearly, york

Parser = Callable[[str, str], ParseResult]

PARSERS: dict[str, Parser] = {
    "york": york.parse,
    "nspcc-rolling": rolling.parse,
    "nspcc-yearly": yearly.parse,
    "nspcc-library": library.parse,
}


def get_parser(name: str) -> Parser:
    return PARSERS[name]
