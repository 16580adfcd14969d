"""Page parsers: one module per page family, each ``parse(html, url) -> ParseResult``.

A parser reads text as written and infers nothing (dates, areas and types are
normalised later, in ``reposync.normalise``). It raises ``ParseError`` when the
page is not the page it knows.

A parser may also take per-source overrides from config as keyword arguments
(``OPTIONS`` names which); ``parser_for(source)`` binds a source's overrides,
so callers still see ``parse(html, url)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from ..models import ParseResult
from . import generic, library, rolling, yearly

Parser = Callable[[str, str], ParseResult]

PARSERS: dict[str, Parser] = {
    "generic": generic.parse,
    # York had a parser of its own until the generic one read its page identically
    # (tests/test_generic_parser.py); the name stays so configs that use it still load.
    "york": generic.parse,
    "nspcc-rolling": rolling.parse,
    "nspcc-yearly": yearly.parse,
    "nspcc-library": library.parse,
}

# The config overrides each parser takes (keyword arguments of its parse).
OPTIONS: dict[str, tuple[str, ...]] = {
    "generic": ("entry_selector", "date_pattern"),
    "york": ("entry_selector", "date_pattern"),
}


def get_parser(name: str, **options: str | None) -> Parser:
    """The parser called ``name``, bound to the options it takes (None and unknown ones left out).

    ``date_pattern`` is also read by ``normalise`` for every source, so an
    option a parser does not take is not an error here.
    """
    parse = PARSERS[name]
    bound = {key: value for key, value in options.items() if value is not None and key in OPTIONS.get(name, ())}
    return partial(parse, **bound) if bound else parse


class Configured(Protocol):
    """What ``parser_for`` reads of a configured source (a ``config.Source``): parsers never import config,
    so the imports run one way, config -> parsers."""

    parser: str
    entry_selector: str | None
    date_pattern: str | None


def parser_for(source: Configured) -> Parser:
    """The parser of a configured source, with its overrides bound."""
    return get_parser(source.parser, entry_selector=source.entry_selector, date_pattern=source.date_pattern)
