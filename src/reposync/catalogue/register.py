"""The register of every partnership (issue 20, point 4), as the catalogue keeps it: ``register_partnerships``.

``register_rows`` reads the register (``[paths] register``, config/partnerships.toml's format) against the
config: each partnership with its area's ONS codes and the configured local source that reads its page (the
source with its id, else the one of its area), so the completeness view has a row for every partnership,
read or not. A sync writes the rows in its run's transaction (``write_register``); no register file: none.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from ..config import Config
from ..crawl.discover import read_register
from ..errors import ConfigError


def register_rows(config: Config) -> list[dict[str, Any]]:
    """The register's partnerships as rows; [] when there is no register file. A register that does not read,
    or names an area areas.toml does not know, is a ConfigError (exit 2, before anything is fetched)."""
    path = config.paths.register
    if not path.exists():
        return []
    local = [s for s in config.sources if s.kind == "local" and s.area is not None]
    rows = []
    for partnership in read_register(path):
        area = config.areas.lookup(partnership.area)
        if area is None:
            raise ConfigError(path, f"partnership {partnership.id!r}.area", f"unknown area {partnership.area!r}")
        source = next((s for s in local if s.id == partnership.id), None) or next(
            (s for s in local if s.area.name == area.name), None)
        rows.append({"id": partnership.id, "name": partnership.name, "area": area.name,
                     "la_codes": json.dumps(list(area.codes)), "home": partnership.home,
                     "reviews": partnership.reviews, "source": source.id if source else None})
    return rows


def write_register(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> None:
    """The register as read now, in place of the one before (inside the caller's transaction)."""
    db.execute("DELETE FROM register_partnerships")
    for row in rows:
        db.execute("INSERT INTO register_partnerships (id, name, area, la_codes, home, reviews, source) "
                   "VALUES (:id, :name, :area, :la_codes, :home, :reviews, :source)", row)
