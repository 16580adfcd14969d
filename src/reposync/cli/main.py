"""The command line: options, exit codes and progress. No logic lives here."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from .options import (DEFAULT_CONFIG, _finite, _options, _sub_options, config_option, db_option,  # noqa: F401
                          existing_catalogue, handle_errors, open_catalogue)
from .commands.doctor import doctor
from .commands.links_check import links_check
from .commands.snapshots import snapshots
from .commands.sources import sources_command
from ..config import load_config
from ..wording import plural


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="reposync")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Keep one catalogue of published child safeguarding case reviews, local and national."""
    if ctx.invoked_subcommand is None:  # a bare `reposync` asks what there is: its help, exit 0
        click.echo(ctx.get_help())


@cli.command()
@config_option
@db_option
@click.option("--snapshots", "snapshots_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Snapshot archive (default: [paths] snapshots of the config).")
@click.option("--reports", "reports_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where change reports go (default: [paths] reports of the config).")
@click.option("--offline", is_flag=True, help="Fetch nothing: replay the snapshot archive through the same code path.")
@click.option("--as-of", "as_of", type=click.IntRange(min=0), default=None,
              help="With --offline: replay the snapshots as run N saw them.")
@click.option("--source", "source_ids", multiple=True, help="Sync only this source id (repeatable).")
@click.option("--delay", type=click.FloatRange(min=0), default=None, callback=lambda ctx, param, value: _finite(value),
              help="Seconds between two requests to one host.")
@click.option("--dry-run", is_flag=True, help="Do everything but write the catalogue.")
@click.option("--quiet", is_flag=True, help="Print nothing unless something changed or failed.")
@click.option("--verbose", is_flag=True, help="Print progress as pages are fetched.")
@handle_errors
def sync(config_path: Path, db_path: Path | None, snapshots_path: Path | None, reports_path: Path | None,
         offline: bool, as_of: int | None, source_ids: tuple[str, ...], delay: float | None, dry_run: bool,
         quiet: bool, verbose: bool) -> None:
    """Crawl the sources (or replay them with --offline) and update the catalogue."""
    from ..reports import night as report
    from .progress import Display
    from ..sync import problem_lines, run_sync, summary_text

    if as_of is not None and not offline:
        raise click.UsageError("--as-of goes with --offline")
    config = load_config(config_path)
    reports_folder = (reports_path or config.paths.reports).resolve()
    landed: list[int] = []

    def committed(run_id: int, built: dict) -> None:
        # The run is in the catalogue: its report is written now, before anything after the commit can fail
        # (a quiet night writes none: `reposync report --run N` renders any run from the catalogue).
        if report.is_eventful(built):
            report.write_reports(built, reports_folder)
        landed.append(run_id)

    try:
        with Display(quiet=quiet, verbose=verbose) as display:  # a live display on a terminal; else --verbose's
            result = run_sync(
                config,
                offline=offline,
                as_of=as_of,
                source_ids=source_ids,
                delay=delay,
                dry_run=dry_run,
                db_path=db_path.resolve() if db_path else None,
                snapshots_path=snapshots_path.resolve() if snapshots_path else None,
                progress=display.lines,
                watcher=display.watcher,
                on_commit=committed,
            )
    except BaseException:
        if landed:
            written = (reports_folder / f"{landed[0]}.md").exists()
            where = (f"is {reports_folder / f'{landed[0]}.md'} (.json, .html)" if written
                     else f"is shown by `reposync report --run {landed[0]}`")
            click.echo(f"reposync: run {landed[0]} was committed to the catalogue before this failure; its "
                       f"report {where}", err=True)
        raise
    built = result.report
    for line in problem_lines(result):  # a failed night reaches `2>> reposync.log`, --quiet or not
        click.echo(f"reposync: {line}", err=True)
    # Again: the link check may have added to it (a quiet night: no files; a dry run: none ever).
    if not dry_run and report.is_eventful(built):
        report.write_reports(built, reports_folder)
    # A dry run prints as a sync would, its heading and last line saying it is one.
    text = report.render_md(built) if quiet else summary_text(result)
    if not quiet or report.is_eventful(built):
        click.echo(text)
    if result.run_id == 1 and not dry_run and not quiet:  # a new catalogue: where a new user goes next
        click.echo("Next: `reposync completeness` (what reached the national repository), `reposync serve` "
                   "(Datasette).")
    sys.exit(result.exit_code)


@cli.command("report")
@config_option
@db_option
@click.option("--run", "run_id", type=click.IntRange(min=1), default=None, help="The run (default: the last).")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md", show_default=True)
@handle_errors
def report_command(config_path: Path, db_path: Path | None, run_id: int | None, fmt: str) -> None:
    """Print the change report of a past run."""
    from ..reports import night as report
    from ..catalogue import open_db

    db = open_db(existing_catalogue(db_path or load_config(config_path).paths.db))
    try:
        built = report.build(db, run_id)
    except report.NoSuchRun as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        db.close()
    click.echo(report.render(built, fmt), nl=False)


def _entry_line(item: dict, prefix: str) -> str:
    when = f" ({item['published']})" if item.get("published") else ""
    return f"{prefix}{item['id']}  {item['title']}{when}"


@cli.group("links", invoke_without_command=True)
@config_option
@db_option
@click.pass_context
@handle_errors
def links_command(ctx: click.Context, config_path: Path, db_path: Path | None) -> None:
    """The review queue and the unmatched, per partnership; accept or reject a proposed link.

    Without a subcommand: the review queue, then the unmatched.
    """
    ctx.obj = {"config_path": config_path, "db_path": db_path}
    if ctx.invoked_subcommand is None:
        ctx.invoke(links_review)
        click.echo()
        ctx.invoke(links_unmatched)


@links_command.command("review")
@_sub_options
@click.pass_context
@handle_errors
def links_review(ctx: click.Context, config_path: Path | None = None, db_path: Path | None = None) -> None:
    """The review queue: proposed links a person should accept or reject."""
    from ..catalogue import decisions

    config, db = open_catalogue(*_options(ctx, config_path, db_path))
    try:
        queue = decisions.review_queue(db)
    finally:
        db.close()
    if not queue:
        click.echo("Review queue: empty.")
        return
    click.echo(f"Review queue: {plural(len(queue), 'proposed link')}. Decide with "
               "`reposync links accept LOCAL NATIONAL` or `reposync links reject LOCAL NATIONAL`.")
    current = None
    for item in queue:
        if item["partnership"] != current:
            current = item["partnership"]
            click.echo(f"\n{current}")
        local_when = f" ({item['local_published']})" if item.get("local_published") else ""
        national_when = f", {item['national_published']}" if item.get("national_published") else ""
        click.echo(f"  {item['local_id']}  {item['local_title']}{local_when}")
        click.echo(f"    ? {item['national_id']}  {item['national_title']} ({item['national_area']}{national_when})"
                   f"  score {item['score']}")
        click.echo(f"      {decisions.explain(item['features'])}")


@links_command.command("unmatched")
@_sub_options
@click.pass_context
@handle_errors
def links_unmatched(ctx: click.Context, config_path: Path | None = None, db_path: Path | None = None) -> None:
    """Per partnership: its reviews the national repository lacks, and its area's national reviews it lacks."""
    from ..catalogue import decisions
    from ..reports.completeness import LOCAL_REVIEW_TYPES

    config, db = open_catalogue(*_options(ctx, config_path, db_path))
    # By area, then id: the order of `reposync completeness`.
    local_sources = sorted((s for s in config.sources if s.kind == "local"),
                           key=lambda s: (s.area.name if s.area else "", s.id))
    try:
        found = decisions.unmatched(db, [s.id for s in local_sources])
    finally:
        db.close()
    for source in local_sources:
        lists = found[source.id]
        area = source.area.name if source.area else "?"
        click.echo(f"{source.id} ({area})")
        # A local review as `reposync completeness` and `pack` count one, by its first document (its report
        # first: the view lists them in that order): briefings, its other documents and the like apart.
        unlinked, seen = lists["local_missing_from_national"], set()
        reviews = [i for i in unlinked if i["review_type"] in LOCAL_REVIEW_TYPES
                   and not (i.get("review") in seen or seen.add(i.get("review")))]
        for heading, items in (
            ("Local reviews with no national record ({}): the list to send to the NSPCC", reviews),
            ("Other local documents with no national record ({}): briefings, a review's other documents and the "
             "like", [i for i in unlinked if i not in reviews]),
        ):
            if items or heading.startswith("Local"):
                click.echo("  " + heading.format(len(items)))
            for item in items:
                queued = f"  [{item['in_review_queue']} in the review queue]" if item["in_review_queue"] else ""
                click.echo(_entry_line(item, "    ") + queued)
        absent = lists["national_missing_from_local"]
        click.echo(f"  National reviews of {area} missing from its page ({len(absent)})")
        for item in absent:
            queued = f"  [{item['in_review_queue']} in the review queue]" if item["in_review_queue"] else ""
            click.echo(f"    review {item['review_id']}: {item['title']} ({item['published']}): "
                       f"{item['national_ids']}{queued}")


def _decide(ctx: click.Context, decision: str, entry_a: str, entry_b: str, config_path: Path | None,
            db_path: Path | None, force: bool = False) -> None:
    from ..catalogue import decisions
    from .commands.links_explain import explain_pair

    config, db = open_catalogue(*_options(ctx, config_path, db_path))
    try:
        made = decisions.record(db, config.paths.decisions, entry_a, entry_b, decision, force=force)
    except decisions.NeedsForce as refused:  # the evidence, what it would undo, then the one-line error
        click.echo(explain_pair(db, refused.local, refused.national), err=True)
        click.echo("Why it needs --force:\n" + "".join(f"  {concern}\n" for concern in refused.concerns), err=True)
        raise
    finally:
        db.close()
    click.echo(f"{decision}: {made.entry_a} <-> {made.entry_b} at {made.decided_at}; "
               f"saved in {config.paths.decisions}; reviews follow at the next sync.")


@links_command.command("accept")
@click.argument("entry_a")
@click.argument("entry_b")
@click.option("--force", is_flag=True,
              help="Accept a pair below the review band, or whose national review is linked from that page.")
@_sub_options
@click.pass_context
@handle_errors
def links_accept(ctx: click.Context, entry_a: str, entry_b: str, force: bool, config_path: Path | None = None,
                 db_path: Path | None = None) -> None:
    """A person says: these two entries (a local and a national id) are the same review.

    A pair the evidence is against (below the review band, or its national review already linked from that
    page) shows why and what it would undo, and is recorded only with --force.
    """
    _decide(ctx, "accepted", entry_a, entry_b, config_path, db_path, force)


@links_command.command("reject")
@click.argument("entry_a")
@click.argument("entry_b")
@_sub_options
@click.pass_context
@handle_errors
def links_reject(ctx: click.Context, entry_a: str, entry_b: str, config_path: Path | None = None,
                 db_path: Path | None = None) -> None:
    """A person says: these two entries are not the same review; never propose them again."""
    _decide(ctx, "rejected", entry_a, entry_b, config_path, db_path)


@links_command.command("undo")
@click.argument("entry_a")
@click.argument("entry_b")
@_sub_options
@click.pass_context
@handle_errors
def links_undo(ctx: click.Context, entry_a: str, entry_b: str, config_path: Path | None = None,
               db_path: Path | None = None) -> None:
    """Take back a person's decision on a pair: the evidence decides again at the next sync."""
    from ..catalogue import decisions

    config, db = open_catalogue(*_options(ctx, config_path, db_path))
    try:
        previous = decisions.undo(db, config.paths.decisions, entry_a, entry_b)
    finally:
        db.close()
    click.echo(f"undone: {entry_a} <-> {entry_b} was {previous}; removed from {config.paths.decisions}; "
               "the evidence decides at the next sync.")


links_command.add_command(links_check)
cli.add_command(doctor)
cli.add_command(snapshots)


@cli.command("serve")
@config_option
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on.")
@click.option("--no-root", is_flag=True,
              help="No one-time root sign-in link (a shared server: librarians sign in with passwords, see deploy/).")
@handle_errors
def serve_command(config_path: Path, db_path: Path | None, host: str, port: int, no_root: bool) -> None:
    """Browse the catalogue in Datasette: search, facets, saved queries (metadata.yml beside the config).

    Prints a one-time sign-in link first (unless --no-root): signed in, a librarian can accept or reject
    proposed links. Refuses to start (exit 2) when DATASETTE_SECRET or REPOSYNC_LIBRARIAN_PASSWORD_HASH is
    set but empty or a placeholder.
    """
    import os
    import signal
    import subprocess

    from ..ops import serve

    if not serve.datasette_installed():
        raise serve.DatasetteMissing()
    serve.check_secrets(os.environ)  # a known secret signs a librarian's cookie for anyone
    config = load_config(config_path)
    path = (db_path or config.paths.db).resolve()
    with serve.temporary_workdir() as workdir:
        command = serve.datasette_command(path, config_path.resolve().parent / serve.METADATA_NAME, host, port,
                                          Path(workdir), root=not no_root)
        process = subprocess.Popen(command)
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        while True:
            try:
                code = process.wait()
                break
            except KeyboardInterrupt:
                continue  # Datasette got the same Ctrl-C and is shutting down
    sys.exit(code)


def main() -> None:  # pragma: no cover - the console script
    cli()


# Commands kept in modules of their own (they import the shared options above, so they come last).
from .commands.completeness import completeness_command, pack_command  # noqa: E402

cli.add_command(completeness_command)
cli.add_command(pack_command)
cli.add_command(sources_command)
from .commands.links_explain import explain_command  # noqa: E402

links_command.add_command(explain_command)
