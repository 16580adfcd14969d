"""`reposync sources`: add a partnership's page in one command, list the sources, check how one reads.

The work is done by ``reposync.preview`` (fetch once, parse, normalise) and
``reposync.config_write`` (append a block, comments kept); this module only
prints.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import click

from ..options import config_option, db_option, existing_catalogue, handle_errors
from ...config import Config, Source, load_config
from ...errors import ConfigError, NeedsPerson
from ...normalise.entries import slug
from ...ops.preview import Preview, preview
from ...normalise.areas import Area
from ...wording import plural

SKIPPED_SHOWN = 20
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # as config.py checks a source id


@click.group("sources")
def sources_command() -> None:
    """The sources: add a partnership's page, list them with their last walk, check how one reads, record a move."""


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
    _offer_block(config, source, len(found.rows), write, "sources add")


def _offer_block(config: Config, source: Source, entries: int, write: bool, command: str) -> None:
    """Show the ``[[source]]`` block for ``source``; with ``write``, append it to the config (comments kept)."""
    fields = {"id": source.id, "kind": "local", "parser": "generic", "area": source.area.name, "url": source.url}
    today = datetime.now(timezone.utc).date().isoformat()
    from ...ops.config_write import append_source, source_block

    block = source_block(fields, comment=f"{source.area.name}: added by `reposync {command}` on {today} "
                                         f"({plural(entries, 'entry')})")
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
    area, source_id = _area_and_id(config, area_name, source_id)
    for known in config.sources:
        if known.url == url:
            raise ConfigError(config.path, "url", f"already configured, as source {known.id!r}")
    try:
        return Source(id=source_id, kind="local", parser="generic", url=_checked_url(config, url), area=area)
    except ConfigError as exc:
        raise ConfigError("URL", None, exc.problem) from None


def _area_and_id(config: Config, area_name: str, source_id: str | None) -> tuple[Area, str]:
    """The area named and the new source's id (default: from the area's name); a ConfigError (exit 2) when the
    area is unknown or the id malformed or taken."""
    area = config.areas.lookup(area_name)
    if area is None:
        raise ConfigError(config.paths.areas, "--area", f"unknown area {area_name!r}: not a name or alias here"
                                                        f"{config.areas.suggest(area_name)}")
    source_id = source_id or slug(area.name)
    if not _ID.match(source_id):
        raise ConfigError("--id", None, f"must be lower-case letters, digits, - or _, got {source_id!r}")
    if any(known.id == source_id for known in config.sources):
        raise ConfigError(config.path, "id", f"{source_id!r} is already a source: choose another with --id")
    return area, source_id


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
    moves: dict = {}
    if path.exists():  # no catalogue yet: nothing has been walked, and none is made by looking
        db = catalogue.open_db(path)
        try:
            walks = catalogue.last_walks(db)
            layouts = catalogue.layout_states(db)
            moves = catalogue.source_moves(db)
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
    _show_moves(config, moves)


def _show_moves(config: Config, moves: dict) -> None:
    """The sources whose configured page moved or is gone, as their last walk found, with where it is now."""
    configured = {source.id: source.url for source in config.sources}
    shown = {name: row for name, row in moves.items() if name in configured}
    if not shown:
        return
    click.echo("\nPages that moved or are gone:")
    for name, row in shown.items():
        since = f"since run {row['first_run']}" + (f", last run {row['last_run']}" if row["last_run"] != row[
            "first_run"] else "")
        if row["state"] == "gone":
            click.echo(f"  {name}: gone: {row['old_url']} (HTTP {row['status']}, {since})")
            for candidate in row["candidates"]:
                click.echo(f"    on its site now: {candidate['url']} ({candidate['reviews']} reviews, "
                           f"{candidate['entries']} entries)")
            if not row["candidates"]:
                click.echo("    " + (f"its site could not be read: {row['error']}" if row["error"] else
                                     "nothing on its site lists children's case reviews" if row["checked_at"] else
                                     "its site was not searched (a replay, or not a partnership's page)"))
        else:
            where = "moved to another site" if row["state"] == "moved-off-site" else "moved"
            click.echo(f"  {name}: {where}: {row['old_url']} → {row['new_url']} (HTTP {row['status']}, {since})")
        urls = [row["new_url"]] + [c["url"] for c in row["candidates"]]
        if configured[name] in urls and configured[name] != row["old_url"]:
            click.echo(f"    recorded: the config reads {configured[name]}; the next sync reads it there")
        elif row["new_url"]:
            click.echo(f"    record it: reposync sources move {name} {row['new_url']}")


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


# -- move --------------------------------------------------------------------------------------------------------------
@sources_command.command("move")
@click.argument("source_id")
@click.argument("new_url")
@config_option
@handle_errors
def sources_move(source_id: str, new_url: str, config_path: Path) -> None:
    """Record that a source's page moved: write its new address in the config (every other byte kept)."""
    from ...ops.config_write import move_source

    config = load_config(config_path)
    [source] = config.select([source_id])
    _checked_url(config, new_url)
    if new_url == source.url:
        click.echo(f"{source.id}: already configured at {new_url}; nothing written.")
        return
    taken = next((known for known in config.sources if known.url == new_url), None)
    if taken is not None:
        raise ConfigError(config.path, "url", f"{new_url} is already configured, as source {taken.id!r}")
    path = move_source(config, source.id, new_url)
    click.echo(f"{source.id}: {source.url} → {new_url}, written to {path}. The next sync reads the page there; "
               f"its entries keep their ids.")


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


# -- discover --------------------------------------------------------------------------------------------------------
@sources_command.command("discover")
@click.argument("url", required=False)
@click.option("--area", "area_name", default=None, help="The partnership's area: a name or alias in areas.toml.")
@click.option("--id", "source_id", default=None, help="The source's id (default: from the area's name).")
@config_option
@click.option("--write", is_flag=True, help="Append the best page as a [[source]] (else nothing is written).")
@click.option("--max-pages", "max_requests", type=click.IntRange(min=1), default=60, show_default=True,
              help="At most this many requests to the site: robots.txt, sitemaps and redirects included.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--register", "from_register", is_flag=True,
              help="Run it from the home page of every partnership in the register.")
@click.option("--register-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The register (default: [paths] register of the config, partnerships.toml beside it).")
@click.option("--only-missing", is_flag=True,
              help="With --register: only partnerships with no page of reviews known or configured.")
@handle_errors
def sources_discover(url: str | None, area_name: str | None, source_id: str | None, config_path: Path, write: bool,
                     max_requests: int, output: str, from_register: bool, register_file: Path | None,
                     only_missing: bool) -> None:
    """Find a partnership's page of children's case reviews from any page of its site (a bounded, polite crawl)."""
    from ...crawl.discover import check_url, discover

    config = load_config(config_path)
    if from_register:
        if url or area_name or source_id:
            raise click.UsageError("--register takes no URL, --area or --id: the register gives them")
        _discover_register(config, register_file or config.paths.register, only_missing,
                           write, max_requests)
        return
    if not url or not area_name:
        raise click.UsageError("give a URL and --area NAME (or --register)")
    if only_missing:
        raise click.UsageError("--only-missing goes with --register")
    check_url(url)
    area, source_id = _area_and_id(config, area_name, source_id)  # bad input: exit 2 before any request
    found = discover(url, area, config, max_requests=max_requests)
    best = found.best
    source = _new_source(config, best.url, area.name, source_id) if best else None  # a page configured already: 2
    if output == "json":
        import json

        document = found.as_json()
        if source is not None and write:
            from ...ops.config_write import append_source, source_block

            fields = {"id": source.id, "kind": "local", "parser": "generic", "area": area.name, "url": source.url}
            append_source(config.path, source_block(fields, comment=_discover_comment(area.name, best.entries)))
        document["written"] = bool(source is not None and write)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        _show_discovery(found)
        if best is not None:
            click.echo(f"\nThe best: {best.url}\n")
            _show(Preview(source=source, url=best.url, rows=best.rows, skipped=best.skipped, layout=best.layout,
                          next_url=best.next_url))
            _offer_block(config, source, best.entries, write, "sources discover")
    if best is None:
        _nothing_found(found)


def _discover_comment(area_name: str, entries: int) -> str:
    today = datetime.now(timezone.utc).date().isoformat()
    return f"{area_name}: added by `reposync sources discover` on {today} ({plural(entries, 'entry')})"


def _nothing_found(found) -> None:
    """Exit 65 (75 when a page failed only for now): nothing on the site lists children's case reviews."""
    from ...errors import Temporary

    what = f"nothing on its site lists children's case reviews ({found.pages} pages read, {found.requests} requests)"
    if found.temporary:
        raise Temporary(found.start, what + "; some pages failed for now: try again later")
    raise NeedsPerson(found.start, what)


def _show_discovery(found) -> None:
    click.echo(f"{found.start}: {found.pages} pages read in {found.requests} requests"
               + (f", {found.sitemap_urls} URLs from its sitemap" if found.sitemap_urls else ""))
    if found.moved:
        click.echo(f"moved: {found.start} redirects to another site, {found.moved}; that site was crawled")
    if found.forbidden:
        click.echo(f"robots.txt forbids {found.forbidden} links: not requested")
    if found.not_followed:
        click.echo("Not followed: " + ", ".join(f"{why} ({n})" for why, n in sorted(found.not_followed.items())))
    for url, why in found.failures[:SKIPPED_SHOWN]:
        click.echo(f"  could not read {url}: {why}")
    click.echo(f"\nCandidates ({len(found.candidates)}):" if found.candidates else "\nCandidates: none.")
    for candidate in found.candidates:
        click.echo(f"  {candidate.url}\n"
                   f"    {candidate.entries} entries, {candidate.reviews} reviews: {candidate.why}")


def _discover_register(config: Config, path: Path, only_missing: bool, write: bool, max_requests: int) -> None:
    """Discovery from each register partnership's home page: one line each; found pages appended with --write."""
    from ...ops.config_write import append_source, source_block
    from ...crawl.discover import discover, read_register
    from ...errors import EXIT_OK, EXIT_USAGE, SourceError

    register = read_register(path)
    codes = [EXIT_OK]
    for partnership in register:
        configured = {known.id: known for known in config.sources}
        if only_missing and (partnership.reviews or partnership.id in configured):
            continue
        if not partnership.home:
            click.echo(f"{partnership.id}: no home page known")
            continue
        area = config.areas.lookup(partnership.area)
        if area is None:
            click.echo(f"{partnership.id}: unknown area {partnership.area!r}")
            codes.append(EXIT_USAGE)
            continue
        try:
            found = discover(partnership.home, area, config, max_requests=max_requests)
        except SourceError as exc:
            click.echo(f"{partnership.id}: {partnership.home} could not be read: {exc.reason}")
            codes.append(exc.exit_code)
            continue
        moved = f" (moved to {found.moved})" if found.moved else ""
        best = found.best
        if best is None:
            click.echo(f"{partnership.id}: {partnership.home}{moved}: nothing lists children's case reviews "
                       f"({found.pages} pages, {found.requests} requests)")
            codes.append(75 if found.temporary else 65)
            continue
        click.echo(f"{partnership.id}: {best.url}{moved}: {best.reviews} reviews of {best.entries} entries "
                   f"({found.requests} requests)")
        if not write:
            continue
        taken = configured.get(partnership.id) or next((s for s in config.sources if s.url == best.url), None)
        if taken is not None:
            click.echo(f"  not written: already configured, as source {taken.id!r}")
            continue
        fields = {"id": partnership.id, "kind": "local", "parser": "generic", "area": area.name, "url": best.url}
        config = append_source(config.path, source_block(fields, comment=_discover_comment(area.name, best.entries)))
        click.echo(f"  written to {config.path} as source {partnership.id!r}")
    if max(codes):
        sys.exit(max(codes))
