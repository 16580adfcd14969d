"""Words a person reads: a count with its noun in the right number ("1 entry", "2 entries")."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "summary": "summaries", "is": "are"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is one."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many or _IRREGULAR.get(noun) or noun + 's'}"
