"""``reposync links check``: ask every listed entry's report link whether it still answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from ..options import _options, _sub_options, existing_catalogue, handle_errors
from ...config import load_config


@click.command("check")
@click.option("--source", "source_ids", multiple=True, help="Check only this source's entries (repeatable).")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="Check the links not checked within DAYS days, whatever their day.")
@click.option("--all", "every", is_flag=True, help="Check every link, due or not.")
@click.option("--verbose", is_flag=True, help="Print a line per 100 links recorded.")
@_sub_options
@click.pass_context
@handle_errors
def links_check(ctx: click.Context, source_ids: tuple[str, ...], older_than: float | None, every: bool,
                verbose: bool, config_path: Path | None = None, db_path: Path | None = None) -> None:
    """Check the report links that are due: ok, moved, gone, error or not-checked (and why).

    A link is due on its own day of every [crawl] check_links_days (a hash of its URL), or when it was never
    checked; --all asks every link, --older-than DAYS those not checked within DAYS days. HEAD, or a ranged
    GET where HEAD is refused, by the crawl's rules (robots.txt, user agent, pacing), each host's links one
    at a time and up to [crawl] max_hosts hosts at once. A link that broke or works again is a change of a
    run of its own (mode link-check), which `reposync report` shows with the links not checked and why.
    Exit 0 when the check ran, whatever it found; 75 when a sync holds the lock.
    """
    from ... import catalogue
    from ...crawl import linkcheck, linkhosts
    from ...reports import night as report
    from ...sync import sync_lock
    from ...archive.snapshots import utc_now

    config_path, db_path = _options(ctx, config_path, db_path)
    config = load_config(config_path)
    sources = [s.id for s in config.select(source_ids)]
    path = existing_catalogue(db_path or config.paths.db)
    progress = (lambda message: click.echo(message, err=True)) if verbose else None
    with sync_lock(path.resolve()):
        db = catalogue.open_db(path)
        try:
            not_due: list[linkcheck.Link] = []
            if every or older_than is not None:
                links = linkcheck.due(db, sources, None if every else timedelta(days=older_than or 0))
            else:  # the schedule's (every link when [crawl] check_links_days is 0: the sync leaves them here)
                links, not_due = linkcheck.scheduled_links(db, sources, config.crawl.check_links_days)
            run_id = catalogue.start_run(db, "link-check")
            verdicts, requests = linkhosts.check_and_record(db, run_id, config, links, not_due=len(not_due),
                                                            progress=progress)
            # its counts: the link changes (``linkcheck.record``) and what was asked (``report_links``)
            db.execute("UPDATE runs SET finished_at = ?, status = 'ok', exit_code = 0, sources = '{}' WHERE id = ?",
                       [utc_now(), run_id])
            built = report.build(db, run_id)
        finally:
            db.close()
    tally = linkcheck.tally(verdicts)
    found = ", ".join(f"{n} {status}" for status, n in tally.items()) or "nothing to check"
    click.echo(f"reposync run {run_id} (link-check): {len(verdicts)} report links: {found}; {requests} requests")
    for kind in ("link-broken", "link-fixed"):
        for item in built["sections"].get(kind, []):
            click.echo(f"  {kind}: {item['entry']}  {item['title']}: {item['link']}  <{item['url']}>")
    reasons: dict[str, int] = {linkcheck.NOT_DUE: len(not_due)} if not_due else {}
    for verdict in verdicts:
        if verdict.status == "not-checked":
            reasons[verdict.detail or "?"] = reasons.get(verdict.detail or "?", 0) + 1
    for reason, n in sorted(reasons.items(), key=lambda item: -item[1]):
        click.echo(f"  not-checked ({reason}): {n}")
