"""reposync: one catalogue of child safeguarding case reviews, local and national."""

from __future__ import annotations

__version__ = "0.1.0"
