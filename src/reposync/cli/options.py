"""Click options and error handling shared by every command (cli.py and the modules in commands/).

Kept apart from cli.py so a command in its own module can use them without importing cli.py.
"""

from __future__ import annotations

import functools
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_BUG, ReposyncError

DEFAULT_CONFIG = "config/sources.toml"
CONFIG_ENV = "REPOSYNC_CONFIG"  # the config when --config is not given (a server's cron line, a shell profile)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """A ReposyncError becomes one clean line and its exit code; anything else is a bug (1)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReposyncError as exc:
            click.echo(f"reposync: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException):
            raise  # click prints these itself, with exit code 2 for usage errors
        except BrokenPipeError:
            # `reposync links | head`: the reader has all it wanted. Exit as a tool killed by SIGPIPE does,
            # without a word (and with stdout on /dev/null, so the interpreter's last flush cannot fail).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(128 + signal.SIGPIPE)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            click.echo(f"reposync: unexpected error (a bug): {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_BUG)

    return wrapper


def existing_catalogue(path: Path) -> Path:
    """The catalogue a command reads or decides in: it must be there (only a sync makes one)."""
    if not Path(path).exists():
        raise click.UsageError(f"no catalogue at {path}: run `reposync sync` first")
    return Path(path)


def open_catalogue(config_path: Path, db_path: Path | None):  # -> tuple[Config, sqlite_utils.Database]
    """The config and its catalogue (--db, else the config's [paths] db), which must exist."""
    from ..catalogue import open_db
    from ..config import load_config

    config = load_config(config_path)
    return config, open_db(existing_catalogue(db_path or config.paths.db))


def _finite(value: float | None) -> float | None:
    # FloatRange lets nan (no pause at all) and inf (a crash in sleep) through.
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds")
    return value


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_CONFIG,
        show_default=True,
        envvar=CONFIG_ENV,
        show_envvar=True,
        help="Sources file; relative paths in it resolve against its folder.",
    )(func)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Catalogue file (default: [paths] db of the config).",
    )(func)


def _options(ctx: click.Context, config_path: Path | None, db_path: Path | None) -> tuple[Path, Path | None]:
    """A subcommand's own --config/--db, else the group's."""
    parent = ctx.obj or {}
    fallback = Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    return config_path or parent.get("config_path") or fallback, db_path or parent.get("db_path")


def _sub_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Catalogue file (default: [paths] db of the config).")(func)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help=f"Sources file (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG}).")(func)
