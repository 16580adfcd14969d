"""``reposync doctor``: one line per health check, and an exit code a monitor can act on."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import config_option, db_option, handle_errors


@click.command("doctor")
@config_option
@db_option
@click.option("--max-age", "max_age", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="A source whose last successful walk is older than this needs a look (default: 2).")
@click.option("--full", is_flag=True, help="Rehash every object of the snapshot archive, not a sample.")
@click.option("--serve-env", "serve_env", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Check the sign-in secrets of this environment file (reposync-serve.service's); "
                                   "without it, those of this environment when set.")
@handle_errors
def doctor(config_path: Path, db_path: Path | None, max_age: float | None, full: bool,
           serve_env: Path | None) -> None:
    """Is the nightly job healthy? Checks the config, the catalogue (PRAGMA quick_check), its migrations, the
    lock, the last run, departures held for a person, each source's last successful walk, the snapshot archive
    and its disk, and the server's sign-in secrets (with --serve-env, or when they are set here).

    One line per check: OK, ACT (a person must do what it says) or WAIT (temporary). Exit 0 when every check
    holds, 65 when any says ACT, else 75 when any says WAIT.
    """
    import sys

    from ...ops import doctor as checks
    from ... import settings

    found = []
    for check in checks.run(config_path, db_path, full=full, serve_env=serve_env,
                            max_age_days=settings.DOCTOR_MAX_AGE_DAYS if max_age is None else max_age):
        click.echo(check.line())
        found.append(check)
    sys.exit(checks.exit_code(found))
