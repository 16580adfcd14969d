"""A night of report documents end to end: a loopback partnership page listing N report PDFs (tests/pdfs.py,
each its own bytes), synced live twice (no pause between requests). Prints the first night's documents read
per second (fetch, archive, read, write), and what the unchanged second night asked for and read.

    .venv/bin/python bench/documents_sync.py            # 300 documents of 2-13 pages
    .venv/bin/python bench/documents_sync.py --docs 1000

Figures are for this machine as it is (shared, two cores): compare runs of the same night, not machines.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import pdfs  # noqa: E402
import tomli_w  # noqa: E402
from mockserver import MockServer, Resource  # noqa: E402

from reposync.config import load_config  # noqa: E402
from reposync.sync import run_sync  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=300)
    args = parser.parse_args()
    server = MockServer().start()
    items = []
    for n in range(args.docs):
        body = pdfs.build([pdfs.title_page("Serious Case Review", f"Child Q{n}", f"Published: March {2010 + n % 14}"),
                           *pdfs.body_pages(1 + n % 12)])
        server.pages[f"/reports/child-q{n}.pdf"] = Resource(body, content_type="application/pdf", etag=f'"q{n}"')
        items.append(f'<li><a href="/reports/child-q{n}.pdf">Child Q{n}</a> (published 2 March {2010 + n % 14})</li>')
    page = f"<!DOCTYPE html><html><body><h1>Reviews</h1><ul>{''.join(items)}</ul></body></html>"
    server.pages["/partnership"] = Resource(page.encode(), etag='"page"')
    folder = Path(tempfile.mkdtemp(prefix="reposync-docs-"))
    try:
        (folder / "config").mkdir()
        shutil.copy(ROOT / "config" / "areas.toml", folder / "config" / "areas.toml")
        config = folder / "config" / "sources.toml"
        config.write_text(tomli_w.dumps({
            "crawl": {"delay": 0.0, "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; bench)",
                      "check_links_days": 0},
            "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
            "source": [{"id": "bench", "kind": "local", "parser": "generic", "area": "York",
                        "url": server.url("/partnership")}]}), encoding="utf-8")
        for night in (1, 2):
            server.reset_counts()
            started = time.perf_counter()
            result = run_sync(load_config(config))
            took = time.perf_counter() - started
            with sqlite3.connect(folder / "catalogue.db") as db:
                read = db.execute("SELECT count(*) FROM documents WHERE run_id = ?", [result.run_id]).fetchone()[0]
                pages = db.execute("SELECT sum(pages) FROM documents WHERE run_id = ?", [result.run_id]).fetchone()[0]
            bodies = sum(1 for e in server.log if e.target.startswith("/reports/") and e.status == 200)
            asked = server.count("/reports/")
            print(f"night {night}: {took:.1f} s, {asked} documents asked for, {bodies} bodies sent, {read} read "
                  f"({pages or 0} pages)" + (f", {read / took:.1f} documents a second" if read else ""))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
