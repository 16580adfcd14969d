"""`reposync sources`: add a partnership's page in one command, list the sources, check how one reads.

The work is done by ``reposync.preview`` (fetch once, parse, normalise) and
``reposync.config_write`` (append a block, comments kept); this module only
prints.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import click

from ..options import config_option, db_option, existing_catalogue, handle_errors
from ...config import Config, Source, load_config
from ...errors import ConfigError, NeedsPerson
from ...normalise.entries import slug
from ...ops.preview import Preview, preview
from ...wording import plural

SKIPPED_SHOWN = 20
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # as config.py checks a source id


@click.group("sources")
def sources_command() -> None:
    """The sources: add a partnership's page, list them with their last walk, check how one reads."""


# -- add -------------------------------------------------------------------------------------------------------------
@sources_command.command("add")
@click.argument("url")
@click.option("--area", "area_name", required=True, help="The partnership's area: a name or alias in areas.toml.")
@click.option("--id", "source_id", default=None, help="The source's id (default: from the area's name).")
@config_option
@click.option("--write", is_flag=True, help="Append the [[source]] block to the config file (else nothing is written).")
@handle_errors
def sources_add(url: str, area_name: str, source_id: str | None, config_path: Path, write: bool) -> None:
    """Fetch a partnership's page once, show what the generic parser reads on it, and the block it would add."""
    config = load_config(config_path)
    source = _new_source(config, url, area_name, source_id)
    found = preview(source, config, live=True)
    _show(found)
    fields = {"id": source.id, "kind": "local", "parser": "generic", "area": source.area.name, "url": url}
    today = datetime.now(timezone.utc).date().isoformat()
    from ...ops.config_write import append_source, source_block

    block = source_block(fields, comment=f"{source.area.name}: added by `reposync sources add` on {today} "
                                         f"({plural(len(found.rows), 'entry')})")
    click.echo("\nThe block it adds:\n")
    click.echo(block, nl=False)
    if not write:
        click.echo(f"\nNothing written: run it again with --write to append this block to {config.path}.")
        return
    append_source(config.path, block)
    click.echo(f"\nWritten to {config.path}; the next sync reads source {source.id!r}.")


def _new_source(config: Config, url: str, area_name: str, source_id: str | None) -> Source:
    """The source ``sources add`` would configure; a ConfigError (exit 2) for what cannot be one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        # A bare host (www.leedsscp.org.uk/reviews) is what a browser's address bar shows: say what to type.
        bare = parts is not None and not parts.scheme and not parts.netloc and "." in url.split("/", 1)[0]
        hint = f": did you mean 'https://{url}'?" if bare else ""
        raise ConfigError("URL", None, f"must be an http(s) URL with a host, got {url!r}{hint}")
    area = config.areas.lookup(area_name)
    if area is None:
        raise ConfigError(config.paths.areas, "--area", f"unknown area {area_name!r}: not a name or alias here"
                                                        f"{config.areas.suggest(area_name)}")
    source_id = source_id or slug(area.name)
    if not _ID.match(source_id):
        raise ConfigError("--id", None, f"must be lower-case letters, digits, - or _, got {source_id!r}")
    for known in config.sources:
        if known.id == source_id:
            raise ConfigError(config.path, "id", f"{source_id!r} is already a source: choose another with --id")
        if known.url == url:
            raise ConfigError(config.path, "url", f"already configured, as source {known.id!r}")
    try:
        return Source(id=source_id, kind="local", parser="generic", url=_checked_url(config, url), area=area)
    except ConfigError as exc:
        raise ConfigError("URL", None, exc.problem) from None


def _checked_url(config: Config, url: str) -> str:
    from ...config import _check_url  # the config's own check: what loads there is what the fetcher takes

    return _check_url(config.path, "url", url)


# -- check -------------------------------------------------------------------------------------------------------------
@sources_command.command("check")
@click.argument("source_id")
@config_option
@db_option
@click.option("--live", is_flag=True, help="Fetch the page now (else read the last stored page, offline).")
@handle_errors
def sources_check(source_id: str, config_path: Path, db_path: Path | None, live: bool) -> None:
    """Show how a configured source's page reads: entries, what was skipped and why (first page only)."""
    config = load_config(config_path)
    [source] = config.select([source_id])
    found = preview(source, config, live=live, require_entries=False)  # none found: what was skipped says why
    _show(found)
    path = Path(db_path or config.paths.db)
    if path.exists():  # how this page's layout compares with the last good walk's (a held walk's question)
        from ... import catalogue

        db = catalogue.open_db(path)
        try:
            state = catalogue.layout_state(db, source.id)
        finally:
            db.close()
        click.echo(_layout_line(source.id, found.layout, state))
    if not found.rows:
        raise NeedsPerson(found.url, "no entries found on the page")


def _layout_line(source_id: str, layout: str | None, state: dict) -> str:
    good = state.get("layout")
    line = f"\nLayout: {layout or 'none'}"
    if good is None:
        return line + " (no good walk on record yet)."
    line += f"; the last good walk's (run {state.get('layout_run')}): {good}"
    line += ", the same." if layout == good else ", another."
    if state.get("held_layout"):
        line += (f" {state.get('held_entries')} departures held since run {state.get('held_run')} "
                 f"(a walk laid out as {state['held_layout']})")
        if state.get("accepted_layout") == state["held_layout"]:
            line += f"; accepted {state.get('accepted_at')}: the next sync applies them."
        else:
            line += f": when they are really gone, `reposync sources accept-layout {source_id}`."
    return line


# -- list ----------------------------------------------------------------------------------------------------------------
@sources_command.command("list")
@config_option
@db_option
@handle_errors
def sources_list(config_path: Path, db_path: Path | None) -> None:
    """Every configured source with its last walk: when, how many entries, and how it ended."""
    from ... import catalogue

    config = load_config(config_path)
    path = Path(db_path or config.paths.db)
    walks: dict = {}
    layouts: dict = {}
    if path.exists():  # no catalogue yet: nothing has been walked, and none is made by looking
        db = catalogue.open_db(path)
        try:
            walks = catalogue.last_walks(db)
            layouts = catalogue.layout_states(db)
        finally:
            db.close()
    rows = [("source", "kind", "parser", "area", "last walk", "entries", "outcome")]
    for source in config.sources:
        walk = walks.get(source.id)
        area = source.area.name if source.area else ""
        if walk is None:
            rows.append((source.id, source.kind, source.parser, area, "never", "", ""))
            continue
        rows.append((source.id, source.kind, source.parser, area, f"run {walk['run']}, {walk['started_at']}",
                     str(walk["entries"]), _outcome(walk, layouts.get(source.id, {}))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _outcome(walk: dict, layout: dict) -> str:
    if walk.get("error"):
        return f"failed: {walk['error']}"
    if walk.get("held"):
        if layout.get("accepted_layout") and layout.get("accepted_layout") == layout.get("held_layout"):
            return f"{walk['held']} departures held: the page's layout changed; accepted, the next sync applies them"
        return f"{walk['held']} departures held: the page's layout changed (reposync sources accept-layout)"
    if walk.get("complete"):
        return "complete"
    return walk.get("walk") or "incomplete"


# -- accept-layout -----------------------------------------------------------------------------------------------------
@sources_command.command("accept-layout")
@click.argument("source_id")
@config_option
@db_option
@handle_errors
def sources_accept_layout(source_id: str, config_path: Path, db_path: Path | None) -> None:
    """A person looked at a page laid out anew: the next sync applies the departures it held."""
    from ... import catalogue

    config = load_config(config_path)
    [source] = config.select([source_id])
    db = catalogue.open_db(existing_catalogue(db_path or config.paths.db))
    try:
        state = catalogue.accept_layout(db, source.id)
    finally:
        db.close()
    if state is None:
        click.echo(f"{source.id}: nothing is held (its layout has not changed since its last good walk).")
        return
    click.echo(f"{source.id}: the new layout is accepted ({state['accepted_at']}); the next sync applies the "
               f"departures it holds ({state['held_entries']} on the last walk, held since run {state['held_run']}).")


# -- the preview, as text --------------------------------------------------------------------------------------------
def _cut(text: object, width: int) -> str:
    value = " ".join(str(text or "").split())
    return value if len(value) <= width else value[: width - 1] + "…"


def _show(found: Preview) -> None:
    where = "live" if found.live else f"the stored page, fetched {found.stored_at or 'at an unknown time'}"
    click.echo(f"{found.url} ({where}): {plural(len(found.rows), 'entry')}")
    columns = (("title", 56), ("date as written", 28), ("date read", 22), ("type", 9), ("link", 0))
    table = []
    for row in found.rows:
        read = f"{row['published']} ({row['published_precision']})" if row.get("published") else "-"
        table.append((row["title"], row.get("date_text") or "-", read, row.get("review_type") or "-",
                      row.get("report_url") or "(no link)"))
    click.echo()
    click.echo("  ".join(name.ljust(width) for name, width in columns).rstrip())
    for values in table:
        cells = [_cut(value, width).ljust(width) if width else str(value) for value, (_, width) in
                 zip(values, columns)]
        click.echo("  ".join(cells).rstrip())
    if not table:
        click.echo("(none)")
    if found.next_url:
        click.echo(f"\nIt links a next page, which a sync follows: {found.next_url}")
    click.echo(f"\nSkipped ({len(found.skipped)}):" if found.skipped else "\nSkipped: nothing.")
    for text, why in found.skipped[:SKIPPED_SHOWN]:
        click.echo(f"  {_cut(text, 80)}: {why}")
    if len(found.skipped) > SKIPPED_SHOWN:
        click.echo(f"  … and {len(found.skipped) - SKIPPED_SHOWN} more")
