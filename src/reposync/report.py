"""What a run did, for people: the short summary a sync prints."""

from __future__ import annotations

from .sync import SyncResult


def summary_text(result: SyncResult) -> str:
    lines = []
    failed = [o for o in result.outcomes if o.error is not None]
    for outcome in failed:  # failures first: they are what needs a person
        where = f" ({outcome.error_url})" if outcome.error_url else ""
        lines.append(f"FAILED {outcome.source}: {outcome.error}{where}")
    head = "dry run" if result.dry_run else f"run {result.run_id}"
    changes = ", ".join(f"{n} {kind}" for kind, n in sorted(result.counts.items())) or "no changes"
    lines.append(f"reposync {head}: {changes}")
    width = max((len(o.source) for o in result.outcomes), default=0)
    for outcome in result.outcomes:
        state = "failed" if outcome.error else f"{len(outcome.entries)} entries, {outcome.pages} pages"
        lines.append(f"  {outcome.source:<{width}}  {state}")
    lines.append(f"reviews: {result.reviews}  links: {result.links}")
    lines.append(f"catalogue: {result.db_path}")
    return "\n".join(lines)
