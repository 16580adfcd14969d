"""Page text written into Markdown as literal text (the night's report, the completeness table)."""

from __future__ import annotations

import re
from typing import Any

# Markdown's punctuation, and an & that would start an entity ("&lt;" would show as "<").
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~]|&(?=#|[A-Za-z][A-Za-z0-9]*;))")


def md_escape(text: Any) -> str:
    """Page text as literal Markdown text: no links, emphasis, entities or HTML from a title."""
    if text is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
