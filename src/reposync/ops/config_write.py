"""Adding a ``[[source]]`` to a config file, or moving one to a new address, keeping every comment and line of
the file as it was.

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
import tomllib
from pathlib import Path

import tomlkit

from ..config import Config, load_config, source_files
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
    _replace_checked(path, text + separator + block, lambda tmp: load_config(tmp), "the new block")
    return load_config(path)


def _replace_checked(path: Path, updated: str, check, what: str) -> None:
    """``updated`` written beside ``path`` (so relative paths in it resolve as they will once it is in place),
    ``check(tmp)`` run on it, then put in place atomically; a ConfigError from the check writes nothing."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(updated)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(path, tmp)
        try:
            check(Path(tmp))
        except ConfigError as exc:
            raise ConfigError(path, None, f"{what} would not load, nothing written: {exc.problem}") from None
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def move_source(config: Config, source_id: str, url: str) -> Path:
    """Write ``url`` as the address of source ``source_id`` in the file that configures it (the config file or
    one of ``sources.d/``): only that value changes, every other byte of the file is kept (tomlkit keeps the
    file's comments and layout; a rewrite that would change any other line is refused). Returns the file."""
    for path in [config.path, *source_files(config.path)]:
        text = path.read_text(encoding="utf-8")
        document = tomlkit.parse(text)
        tables = document.get("source")
        table = next((t for t in tables or () if isinstance(t, dict) and t.get("id") == source_id), None)
        if table is None:
            continue
        table["url"] = url
        updated = tomlkit.dumps(document)
        old_lines, new_lines = text.splitlines(keepends=True), updated.splitlines(keepends=True)
        changed = [n for n, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
        if len(old_lines) != len(new_lines) or len(changed) > 1:
            raise ConfigError(path, f"source {source_id!r}.url", "its url is not on a line of its own here: "
                                                                  "edit the file by hand")

        def check(tmp: Path) -> None:  # the whole config as it would load with this file in place
            if path == config.path:
                load_config(tmp)
            else:
                tomllib.loads(tmp.read_text(encoding="utf-8"))

        _replace_checked(path, updated, check, "the moved address")
        try:
            load_config(config.path)
        except ConfigError:  # a file of sources.d/ that loads alone but not with the rest: put it back
            _replace_checked(path, text, lambda tmp: None, "the file as it was")
            raise
        return path
    raise ConfigError(config.path, "source", f"no source with id {source_id!r}")
