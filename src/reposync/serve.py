"""Serve the catalogue in Datasette, with config/metadata.yml: what ``reposync serve`` runs.

Datasette names a database after its file, and the metadata (its database key, the links in its
descriptions and queries) is written for ``catalogue.db``. For a catalogue with another name the
metadata is rewritten into a temporary file; otherwise config/metadata.yml is used as it is.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .errors import EXIT_USAGE, ConfigError, ReposyncError

METADATA_NAME = "metadata.yml"  # beside the sources config
DATABASE = "catalogue"  # the database name config/metadata.yml is written for
DEFAULT_HOST = "127.0.0.1"  # this machine only: anyone who can reach it can read the catalogue
DEFAULT_PORT = 8001  # Datasette's own default
INSTALL_HINT = "pip install -e '.[datasette]'"


class DatasetteMissing(ReposyncError):
    exit_code = EXIT_USAGE

    def __init__(self) -> None:
        super().__init__(f"Datasette is not installed: {INSTALL_HINT}")


def datasette_installed() -> bool:
    return importlib.util.find_spec("datasette") is not None


def database_name(db_path: Path) -> str:
    return db_path.stem


def _rename(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(f"/{old}/", f"/{new}/")
    if isinstance(value, list):
        return [_rename(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: _rename(item, old, new) for key, item in value.items()}
    return value


def metadata_for(db_path: Path, metadata_path: Path) -> dict[str, Any]:
    """The metadata with its database key and links renamed for this catalogue's file name."""
    import yaml  # a dependency of Datasette

    try:
        metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(metadata_path, None, f"cannot read the Datasette metadata: {exc}") from None
    name = database_name(db_path)
    databases = metadata.get("databases") or {}
    if name != DATABASE and DATABASE in databases:
        from datasette.utils import tilde_encode

        databases[name] = databases.pop(DATABASE)
        metadata = _rename(metadata, DATABASE, tilde_encode(name))
        # the dashboards' charts name the database they query
        for dashboard in ((metadata.get("plugins") or {}).get("datasette-dashboards") or {}).values():
            for chart in (dashboard.get("charts") or {}).values():
                if chart.get("db") == DATABASE:
                    chart["db"] = name
    return metadata


def datasette_command(db_path: Path, metadata_path: Path, host: str, port: int, workdir: Path,
                      root: bool = True) -> list[str]:
    """The ``datasette serve`` command line; a rewritten metadata file, if one is needed, goes in workdir."""
    if not datasette_installed():
        raise DatasetteMissing()
    if not db_path.is_file():
        raise ConfigError(db_path, None, "no catalogue here: run `reposync sync` first")
    if not metadata_path.is_file():
        raise ConfigError(metadata_path, None, "no Datasette metadata here")
    if database_name(db_path) != DATABASE:
        rewritten = workdir / "metadata.json"
        rewritten.write_text(json.dumps(metadata_for(db_path, metadata_path), ensure_ascii=False), encoding="utf-8")
        metadata_path = rewritten
    command = [sys.executable, "-m", "datasette", "serve", str(db_path), "--metadata", str(metadata_path),
               "--host", host, "--port", str(port)]
    if root:
        command.append("--root")  # prints a one-time sign-in link: the accept/reject queries need it
    return command


def temporary_workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="reposync-serve-")
