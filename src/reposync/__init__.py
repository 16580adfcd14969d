"""reposync: one catalogue of child safeguarding case reviews, local and national.

The night's stages, each a folder: ``crawl`` (pages asked of the sites) -> ``archive`` (every page kept) ->
``parsers`` (pages read) -> ``normalise`` (entries as meant) -> ``catalogue`` (the record, in SQLite) <-> ``link``
(which entries are one review) -> ``reports`` (what changed, how complete); ``sync`` runs them in that order;
``ops`` and ``cli`` are what people run. ``settings``, ``models``, ``errors`` and ``config`` are the ground.
"""

from __future__ import annotations

from . import _moved

__version__ = "0.1.0"

_moved.install()  # the 0.1 module names (reposync.fetch, reposync.report, ...) for one release
