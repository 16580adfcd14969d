"""Adding a ``[[source]]`` to a config file, keeping every comment and line of it as it was.

The block is rendered by tomlkit (so a URL with quotes or backslashes is
escaped as TOML wants) and appended after the file's last line: the file's own
bytes are left untouched, comments and layout included. The new file is
checked with ``load_config`` before it replaces the old one, so a block that
would not load is never written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import tomlkit

from ..config import Config, load_config
from ..errors import ConfigError


def source_block(fields: dict[str, str], comment: str | None = None) -> str:
    """``[[source]]`` and its keys as TOML text, a comment line above it."""
    table = tomlkit.table()
    for key, value in fields.items():
        table.add(key, value)
    document = tomlkit.document()
    tables = tomlkit.aot()
    tables.append(table)
    document.add("source", tables)
    text = tomlkit.dumps(document)
    return (f"# {comment}\n" if comment else "") + text


def append_source(path: Path, block: str) -> Config:
    """Append ``block`` to the config at ``path`` (atomically) and return the config as it now loads."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    separator = "" if not text else "\n" if text.endswith("\n") else "\n\n"
    updated = text + separator + block
    # Written beside the config, so relative paths in it resolve as they will once it is in place.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(updated)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(path, tmp)
        try:
            load_config(tmp)
        except ConfigError as exc:
            raise ConfigError(path, None, f"the new block would not load, nothing written: {exc.problem}") from None
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return load_config(path)
