"""`reposync completeness` and `reposync pack`: per partnership, what reached the national repository."""

from __future__ import annotations

from pathlib import Path

import click

from ...archive.snapshots import Archive
from ..options import config_option, db_option, handle_errors, open_catalogue
from ...reports.completeness import FORMATS, UnknownArea, area_entries, render, resolve_area, rows, write_pack


def _area(config, name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return resolve_area(config, name)[0]
    except UnknownArea as exc:
        area = config.areas.lookup(name)
        if area is not None and config.paths.register.exists():  # a register partnership's area, read or not
            return area.name
        raise click.UsageError(str(exc)) from None


@click.command("completeness")
@config_option
@db_option
@click.option("--area", "area_name", default=None, help="Only this area's partnerships (a name or alias).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--wide", is_flag=True, help="The table with every column (p90 lag, anonymous share, oldest missing).")
@handle_errors
def completeness_command(config_path: Path, db_path: Path | None, area_name: str | None, fmt: str,
                         wide: bool) -> None:
    """Per partnership: local reviews, how many are in the national repository, the lag, what is missing.

    With --area, the table is followed by the area's entries and their ids (for `reposync links`).
    """
    config, db = open_catalogue(config_path, db_path)
    try:
        area = _area(config, area_name)
        found = rows(db, config, area)
        text = render(found, fmt, wide, scope=area or "England")
        if area is not None and fmt == "table":
            text += area_entries(db, [row["source"] for row in found if row["source"]])
    finally:
        db.close()
    click.echo(text, nl=False)


@click.command("pack")
@config_option
@db_option
@click.option("--area", "area_name", required=True, help="The area whose missing reviews to pack (a name or alias).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write <area>-missing.csv, <area>-email.txt and "
                                      "<area>-documents.zip into.")
@handle_errors
def pack_command(config_path: Path, db_path: Path | None, area_name: str, out_dir: Path) -> None:
    """Write the list of an area's local reviews missing from the national repository, and an email to send
    with it (nothing is sent)."""
    config, db = open_catalogue(config_path, db_path)
    try:
        try:
            area, sources = resolve_area(config, area_name)
        except UnknownArea as exc:
            raise click.UsageError(str(exc)) from None
        pack = write_pack(db, area, sources, out_dir, Archive(config.paths.snapshots))
        found = [] if pack.missing else rows(db, config, area)
    finally:
        db.close()
    if not pack.missing:
        if not sum(row["local_reviews"] or 0 for row in found):
            # "every local review is in" would be true of none at all, and say the opposite of the truth
            others = sum(row["other_documents"] or 0 for row in found)
            # (a page never read yet holds none either: `reposync sources list` tells the two apart)
            click.echo(f"{area}: the catalogue holds no local reviews from its page ({others} other "
                       f"{'document' if others == 1 else 'documents'}); nothing written.")
        else:
            click.echo(f"{area}: every local review is in the national repository; nothing written.")
        return
    noun = "review" if len(pack.missing) == 1 else "reviews"
    click.echo(f"{area}: {len(pack.missing)} local {noun} not in the national repository")
    for item in pack.missing:
        queued = "  [a proposed link waits in the review queue]" if item["queued"] else ""
        click.echo(f"  {item['entry_id']}  {item['title']} ({item['date_as_written'] or item['date_read'] or '?'})"
                   f"{queued}")
    for path in pack.paths:
        click.echo(f"wrote {path}")
    if pack.queued:
        click.echo(f"{len(pack.queued)} of them may already be there: decide the proposed links first "
                   "(reposync links review).")
