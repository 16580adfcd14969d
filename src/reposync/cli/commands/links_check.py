"""``reposync links check``: ask every listed entry's report link whether it still answers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from ..options import _options, _sub_options, existing_catalogue, handle_errors
from ...config import load_config


@click.command("check")
@click.option("--source", "source_ids", multiple=True, help="Check only this source's entries (repeatable).")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="Check only links not checked within DAYS days (default: every link).")
@click.option("--verbose", is_flag=True, help="Print a line per 50 links checked.")
@_sub_options
@click.pass_context
@handle_errors
def links_check(ctx: click.Context, source_ids: tuple[str, ...], older_than: float | None, verbose: bool,
                config_path: Path | None = None, db_path: Path | None = None) -> None:
    """Check the report links of listed entries: ok, moved, gone, error or not-checked (and why).

    HEAD, or a ranged GET where HEAD is refused, by the crawl's rules (robots.txt, user agent, pacing).
    A link that broke or works again is a change of a run of its own (mode link-check), which
    `reposync report` shows. Exit 0 when the check ran, whatever it found; 75 when a sync holds the lock.
    """
    from ... import catalogue
    from ...crawl import linkcheck
    from ...reports import night as report
    from ...crawl.fetch import Fetcher
    from ...sync import sync_lock
    from ...archive.snapshots import utc_now

    config_path, db_path = _options(ctx, config_path, db_path)
    config = load_config(config_path)
    sources = config.select(source_ids)
    path = existing_catalogue(db_path or config.paths.db)
    progress = (lambda message: click.echo(message, err=True)) if verbose else None
    with sync_lock(path.resolve()):
        db = catalogue.open_db(path)
        try:
            links = linkcheck.due(db, [s.id for s in sources],
                                  None if older_than is None else timedelta(days=older_than))
            run_id = catalogue.start_run(db, "link-check")
            with Fetcher(config.crawl) as fetcher:
                verdicts, counts = linkcheck.check_and_record(db, run_id, fetcher, config, links, progress)
            db.execute("UPDATE runs SET finished_at = ?, status = 'ok', exit_code = 0, sources = '{}', counts = ? "
                       "WHERE id = ?", [utc_now(), json.dumps(counts), run_id])
            built = report.build(db, run_id)
        finally:
            db.close()
    tally = linkcheck.tally(verdicts)
    found = ", ".join(f"{n} {status}" for status, n in tally.items()) or "nothing to check"
    click.echo(f"reposync run {run_id} (link-check): {len(verdicts)} report links: {found}; "
               f"{fetcher.requests} requests")
    for kind in ("link-broken", "link-fixed"):
        for item in built["sections"].get(kind, []):
            click.echo(f"  {kind}: {item['entry']}  {item['title']}: {item['link']}  <{item['url']}>")
    not_checked = [v for v in verdicts if v.status == "not-checked"]
    reasons: dict[str, int] = {}
    for verdict in not_checked:
        reasons[verdict.detail or "?"] = reasons.get(verdict.detail or "?", 0) + 1
    for reason, n in sorted(reasons.items(), key=lambda item: -item[1]):
        click.echo(f"  not-checked ({reason}): {n}")
