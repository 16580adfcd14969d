"""Benchmark: every saved query of config/metadata.yml on a catalogue with every partnership configured.

Datasette stops a query after 1 s (``sql_time_limit_ms``, default 1000) and shows "SQL Interrupted". The
catalogue is bench/completeness.py's: the generated national collection synced (scale 1: 2,260 national
entries, the real size), plus a SYNTHETIC partnership page for every area the national entries name (about
150 at scale 1), with local entries and links. Each read-only saved query runs with its parameters empty
(``_header_host`` as a browser would send it), best of ``--rounds``, on a connection opened as Datasette opens
one (read-only); the two write queries (accept_link, reject_link) are not run. Beside the saved query
"National reviews missing from the local page" it runs the same query as it was before issue 26, whose
correlated subquery over every link for every national entry took 1.95 s here.

    python bench/queries.py [--scale 1] [--rounds 3] [--datasette]

``--datasette`` also asks each query of a Datasette (in process, the same metadata and time limit) and says
whether it answered or was interrupted. Nothing here asserts a time: it prints the figures (the machine is
shared).
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

METADATA = ROOT / "config" / "metadata.yml"
LIMIT_S = 1.0  # Datasette's default sql_time_limit_ms
PARAMETER = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")

# "National reviews missing from the local page" as config/metadata.yml had it before issue 26: the baseline.
NATIONAL_NOT_IN_LOCAL_BEFORE = """
with partnerships as (
  select distinct l.source as partnership, c.value as code
  from entries l, json_each(l.la_codes) c
  where l.kind = 'local'
)
select group_concat(distinct p.partnership) as partnership, e.review_id as review, e.id as entry,
       e.source, e.title, e.area, e.published, e.review_type, e.status, e.url
from entries e, json_each(e.la_codes) c
join partnerships p on p.code = c.value
where e.kind = 'national'
  and not exists (
    select 1 from links l join entries n on n.id = l.entry_b
    where l.decision in ('auto', 'accepted')
      and (l.entry_b = e.id or n.review_id = e.review_id)
  )
group by e.id
order by partnership, e.published desc, e.review_id, e.id
"""


def saved_queries() -> dict[str, dict]:
    import yaml

    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    return metadata["databases"]["catalogue"]["queries"]


def parameters(sql: str) -> dict[str, str]:
    """Every :name the query reads, empty as a form left blank sends it; the Host header as a browser's."""
    return {name: ("127.0.0.1:8001" if name == "_header_host" else "") for name in PARAMETER.findall(sql)}


def through_datasette(db_path: Path, names: list[str]) -> dict[str, str]:
    """Each query asked of an in-process Datasette with the metadata: "ok" or what it said instead."""
    import asyncio

    from datasette.app import Datasette

    from reposync.ops.serve import metadata_for

    app = Datasette([str(db_path)], metadata=metadata_for(db_path, METADATA))
    database = db_path.stem

    async def ask() -> dict[str, str]:
        found = {}
        for name in names:
            response = await app.client.get(f"/{database}/{name}.json?_shape=objects&_header_host=x")
            body = response.text
            found[name] = ("ok" if response.status_code == 200 else
                           "SQL Interrupted" if "interrupted" in body.lower() else f"HTTP {response.status_code}")
        return found

    return asyncio.run(ask())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--datasette", action="store_true", help="also ask an in-process Datasette")
    args = parser.parse_args()

    from completeness import add_local_sources, best, catalogue

    from reposync.catalogue import open_db

    db_path, folder = catalogue(args.scale)
    target = folder / "catalogue-partnerships.db"
    counts = add_local_sources(db_path, target)
    open_db(target).close()  # migrations and views current, as a sync leaves them
    conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
    national = conn.execute("SELECT count(*) FROM entries WHERE kind = 'national'").fetchone()[0]
    links = conn.execute("SELECT count(*) FROM links").fetchone()[0]
    print(f"scale {args.scale}x: {national:,} national entries, {counts['partnerships']} SYNTHETIC partnerships, "
          f"{counts['local_entries']:,} local reviews, {links:,} links; best of {args.rounds}, "
          f"Datasette's limit {LIMIT_S:g} s")
    queries = {name: query for name, query in saved_queries().items() if not query.get("write")}
    runs = [(name, query["sql"]) for name, query in queries.items()]
    runs.append(("national_not_in_local (before issue 26)", NATIONAL_NOT_IN_LOCAL_BEFORE))
    width = max(len(name) for name, _ in runs)
    for name, sql in runs:
        seconds, rows = best(args.rounds, lambda sql=sql: conn.execute(sql, parameters(sql)).fetchall())
        flag = "  OVER THE LIMIT" if seconds >= LIMIT_S else ""
        print(f"  {name:<{width}}  {seconds * 1000:8.1f} ms  {len(rows):6,} rows{flag}")
    conn.close()
    if args.datasette:
        for name, said in through_datasette(target, list(queries)).items():
            print(f"  datasette {name:<{width}}  {said}")


if __name__ == "__main__":
    main()
