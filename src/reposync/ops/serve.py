"""Serve the catalogue in Datasette, with config/metadata.yml: what ``reposync serve`` runs.

Datasette names a database after its file, and the metadata (its database key, the links in its
descriptions and queries) is written for ``catalogue.db``. For a catalogue with another name the
metadata is rewritten into a temporary file; otherwise config/metadata.yml is used as it is.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import EXIT_USAGE, ConfigError, ReposyncError

METADATA_NAME = "metadata.yml"  # beside the sources config
DATABASE = "catalogue"  # the database name config/metadata.yml is written for
DEFAULT_HOST = "127.0.0.1"  # this machine only: anyone who can reach it can read the catalogue
DEFAULT_PORT = 8001  # Datasette's own default
INSTALL_HINT = "pip install -e '.[datasette]'"


class DatasetteMissing(ReposyncError):
    exit_code = EXIT_USAGE

    def __init__(self) -> None:
        super().__init__(f"Datasette is not installed: {INSTALL_HINT}")


SECRET = "DATASETTE_SECRET"  # signs the sign-in cookies: whoever knows it can sign in as anyone
PASSWORD_HASH = "REPOSYNC_LIBRARIAN_PASSWORD_HASH"  # the librarians' password (config/metadata.yml)
MIN_SECRET_LENGTH = 32  # `secrets.token_hex(32)` gives 64; a short one can be guessed offline from a cookie
# Words a value copied from an example, or typed while trying it out, holds; a random secret (hex or base64)
# holds one by chance once in tens of thousands at worst, and a hex one never.
PLACEHOLDER_WORDS = ("replace", "change", "example", "placeholder", "secret", "password")
MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


class UnsafeSecret(ReposyncError):
    """A sign-in secret that is empty, a placeholder or too short: anyone could sign in as a librarian."""

    exit_code = EXIT_USAGE


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(value)) < 4


def secret_problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong with the sign-in secrets ``env`` gives Datasette ([] when nothing).

    Unset is fine: Datasette then makes a random secret each start (sign-ins end at a restart), which nobody
    can forge. Set is a promise that it is real: empty, a placeholder or short is refused.
    """
    problems = []
    secret = env.get(SECRET)
    if secret is not None:
        if not secret.strip():
            problems.append(f"{SECRET} is set but empty")
        elif _placeholder(secret):
            problems.append(f"{SECRET} is a placeholder ({secret[:12]!r}...): a cookie signed with it is a "
                            "librarian's for anyone who read the example")
        elif len(secret) < MIN_SECRET_LENGTH:
            problems.append(f"{SECRET} has {len(secret)} characters, under {MIN_SECRET_LENGTH}")
    password_hash = env.get(PASSWORD_HASH)
    if password_hash is not None:
        if not password_hash.strip():
            problems.append(f"{PASSWORD_HASH} is set but empty")
        elif not password_hash.startswith("pbkdf2_sha256$") or "replace" in password_hash.lower():
            problems.append(f"{PASSWORD_HASH} is not a hash `datasette hash-password` made")
    return problems


def check_secrets(env: Mapping[str, str]) -> None:
    problems = secret_problems(env)
    if problems:
        raise UnsafeSecret("refusing to serve: " + "; ".join(problems) + f". Make a secret with {MAKE_SECRET} "
                           "and a hash with `datasette hash-password` (README, \"Running it on a server\"), or "
                           f"unset {SECRET} to have a random one each start")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (quotes, # comments); OSError if unreadable."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if words and "=" in words[0]:
            key, value = words[0].split("=", 1)
            found[key.strip()] = value
    return found


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
