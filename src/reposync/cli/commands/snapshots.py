"""``reposync snapshots prune`` and ``reposync snapshots verify``: housekeeping of the snapshot archive."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from ..options import config_option, db_option, handle_errors
from ...config import load_config
from ...errors import EXIT_DATA


def _snapshots_option(func):
    return click.option("--snapshots", "snapshots_path", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="Snapshot archive (default: [paths] snapshots of the config).")(func)


def _existing(archive_root: Path) -> Path:
    """The archive a command works on: a mistyped --snapshots is a usage error, not an empty archive that matches."""
    if not archive_root.is_dir():
        raise click.UsageError(f"no snapshot archive at {archive_root} (give --snapshots, or check [paths] snapshots)")
    return archive_root


@click.group("snapshots")
def snapshots() -> None:
    """Housekeeping of the snapshot archive (snapshots/): prune old runs' pages, verify every object."""


@snapshots.command("prune")
@click.option("--keep-days", "keep_days", type=click.FloatRange(min=0), required=True, metavar="N",
              help="Keep every run of the last N days able to replay (sync --offline --as-of RUN).")
@click.option("--dry-run", is_flag=True, help="Say what would go; remove nothing.")
@config_option
@db_option
@_snapshots_option
@handle_errors
def prune(keep_days: float, dry_run: bool, config_path: Path, db_path: Path | None,
          snapshots_path: Path | None) -> None:
    """Remove the pages no run of the last N days can read: rows of older runs from the manifest, and the
    bodies no row left names. The bundled pages (rows with no run) always stay, and so does the newest run.
    """
    from ...archive import housekeeping
    from ...catalogue import documents, open_db
    from ...archive.snapshots import Archive, archive_lock
    from ...sync import sync_lock

    config = load_config(config_path)
    path = Path(db_path or config.paths.db).resolve()
    archive = Archive(_existing((snapshots_path or config.paths.snapshots).resolve()))
    if not path.exists():
        raise click.UsageError(f"no catalogue at {path}: its runs say which pages are kept")
    # No sync of this catalogue starts, and no sync of any catalogue reads or appends to the archive (it may be
    # shared), while the manifest is rewritten and bodies go.
    with sync_lock(path), archive_lock(archive.root, exclusive=True):
        db = open_db(path)
        try:
            kept_from = housekeeping.oldest_kept_run(db, keep_days, datetime.now(timezone.utc))
            first_run = db.execute("SELECT min(id) FROM runs").fetchone()[0]
            kept_documents = documents.kept_bodies(db)  # the reports of entries still in the catalogue
        finally:
            db.close()
        try:
            result = housekeeping.prune(archive, kept_from, dry_run=dry_run, keep_bodies=kept_documents)
        except ValueError as exc:
            raise click.ClickException(f"{exc}: nothing pruned; see `reposync snapshots verify`") from None
    verb = "would remove" if dry_run else "removed"
    if kept_from is None:
        kept = "no run on record: kept every row"
    elif first_run is None or kept_from <= first_run:
        kept = f"kept every run (from {kept_from} on)"
    else:
        kept = f"kept every run from {kept_from} on (an earlier run's --as-of may no longer replay)"
    click.echo(f"{archive.root}: {kept}; {verb} {result.rows_before - result.rows_after} of {result.rows_before} "
               f"manifest rows, {result.objects_removed} bodies and {result.parses_removed} parses "
               f"({result.bytes_freed} bytes)")


@snapshots.command("verify")
@config_option
@_snapshots_option
@handle_errors
def verify(config_path: Path, snapshots_path: Path | None) -> None:
    """Rehash every object of the archive and check every manifest row's body is there.

    Exit 0 when all match, 65 when a body is missing or damaged (a live sync fetches its page again).
    """
    import sys

    from ...archive import housekeeping
    from ...archive.snapshots import Archive

    root = _existing(snapshots_path or load_config(config_path).paths.snapshots)
    result = housekeeping.verify(Archive(root))
    if result.manifest_error:
        click.echo(f"manifest: {result.manifest_error}")
    for digest in result.missing:
        click.echo(f"missing: objects/{digest} (named by the manifest)")
    for digest in result.damaged:
        click.echo(f"damaged: objects/{digest} (its bytes hash to another name)")
    extra = f"; {len(result.unnamed)} no row names (prune removes them)" if result.unnamed else ""
    state = "all match" if result.ok else f"{len(result.missing)} missing, {len(result.damaged)} damaged"
    click.echo(f"{root}: {result.rows} manifest rows, {result.objects} objects rehashed: {state}{extra}")
    sys.exit(0 if result.ok else EXIT_DATA)
