"""Normalisation: entries as written become entries as meant.

Takes a parser's raw entries and the source they came from; gives rows for the catalogue: dates as intervals with
their precision, pseudonym sets, review types, areas as ONS codes (``areas``: the names and aliases of
``config/areas.toml``), and each entry's stable id.
"""

from .entries import entry_id, normalise, parse_date, pseudonyms, review_type, slug, title_key, unique_ids

__all__ = ["entry_id", "normalise", "parse_date", "pseudonyms", "review_type", "slug", "title_key", "unique_ids"]
