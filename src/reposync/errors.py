"""Errors that carry the exit code DESIGN.md gives them.

The CLI turns any ``ReposyncError`` into one clean line and its code; any
other exception is a bug (exit 1).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_DATA = 65  # data or a site needs a person
EXIT_TEMPORARY = 75  # try again later


class ReposyncError(Exception):
    exit_code = EXIT_BUG


class ConfigError(ReposyncError):
    """Bad usage or config: found before anything is fetched."""

    exit_code = EXIT_USAGE

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")


class SourceError(ReposyncError):
    """One source could not be synced; the others go on."""

    exit_code = EXIT_DATA

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class NeedsPerson(SourceError):
    """Permanent until someone looks: 404/410, robots.txt, size cap, layout change."""

    exit_code = EXIT_DATA


class PageGone(NeedsPerson):
    """The page answered 404 or 410: gone from where it was (a sync looks for it on its site, ``crawl/moves.py``)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status


class RedirectsOffSite(NeedsPerson):
    """A redirect to another site, not followed by the fetcher; where it points, for a walk that may follow it."""

    def __init__(self, url: str, target: str, status: int) -> None:
        super().__init__(url, f"refused: HTTP {status} redirects off the source's site, to {target}")
        self.target = target
        self.status = status


class Temporary(SourceError):
    """Worth retrying later: timeouts, connection errors, 429/5xx after retries."""

    exit_code = EXIT_TEMPORARY


class WalkCutShort(Temporary):
    """A walk ended before the end its listing declares (no next link, or one off the site): nothing departs."""


class ParseError(NeedsPerson):
    """A page no longer parses as its parser expects."""


class LockHeld(ReposyncError):
    exit_code = EXIT_TEMPORARY


class CatalogueUnreadable(ReposyncError):
    """The catalogue file is not a SQLite database, or a damaged one: a person restores it (doctor says the same)."""

    exit_code = EXIT_DATA

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path} is not a readable SQLite catalogue ({reason}): restore it from a backup")


class NotACatalogue(ReposyncError):
    """--db names a file that is not SQLite at all (a typo, another file): usage, not damage."""

    exit_code = EXIT_USAGE

    def __init__(self, path: object) -> None:
        super().__init__(f"{path} is not a catalogue (not a SQLite file): check --db or [paths] db")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """" (did you mean 'york'?)" for the close choices of a mistyped name, else ""."""
    choices = list(dict.fromkeys(choices))
    by_folded = {c.casefold(): c for c in choices}
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=2, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {' or '.join(repr(by_folded[c]) for c in close)}?)"
