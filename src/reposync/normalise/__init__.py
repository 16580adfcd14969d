"""Normalisation: entries as written become entries as meant.

Takes a parser's raw entries and the source they came from; gives rows for the catalogue: dates as intervals with
their precision, pseudonym sets, review types, which document of its review each is (``documents``), areas as
ONS codes (``areas``: the names and aliases of ``config/areas.toml``), and each entry's stable id.
"""

from .documents import DOCUMENT_KINDS, document_kind
from .entries import entry_id, normalise, parse_date, pseudonyms, review_type, slug, title_key, unique_ids

__all__ = ["DOCUMENT_KINDS", "document_kind", "entry_id", "normalise", "parse_date", "pseudonyms", "review_type",
           "slug", "title_key", "unique_ids"]
