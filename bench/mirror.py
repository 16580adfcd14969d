"""A loopback mirror of a snapshot archive, in a process of its own, for the crawl benchmarks.

The server is tests/mockserver.py's ``MockServer`` (the one the live-sync tests start), serving each page
of the archive at its path and query with an ETag (its hash) and a Last-Modified, and 304 when the
client's validators match, as tests/test_live_sync.py's mirror does. robots.txt allows everything but
/private/. In its own process so that the crawler measured does not share an interpreter with it.

    python bench/mirror.py SNAPSHOTS_DIR      # prints the base URL, serves until stdin closes
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

ROBOTS = "User-agent: *\nDisallow: /private/\n"


def serve(snapshots: Path) -> None:
    from generate import mirror_target
    from mockserver import MockServer, Resource
    from reposync.archive.snapshots import Archive

    archive = Archive(snapshots)
    server = MockServer()
    server.robots = (200, ROBOTS)
    for _, row in ((o, r) for o, r in archive.scan() if r.sha256 is not None):
        server.pages[mirror_target(row.url)] = Resource(
            archive.body(row.sha256), row.content_type or "text/html",
            row.etag or f'"{row.sha256[:16]}"', row.last_modified,
        )
    server.start()
    print(server.base, flush=True)
    try:
        sys.stdin.read()  # until the parent closes the pipe
    finally:
        server.stop()


class Mirror:
    """``with Mirror(snapshots) as base:`` a mirror in a child process, stopped on exit."""

    def __init__(self, snapshots: Path, python: str = sys.executable) -> None:
        self.snapshots = snapshots
        self.python = python
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen([self.python, __file__, str(self.snapshots)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        base = self.process.stdout.readline().strip()
        if not base.startswith("http://127.0.0.1:"):
            self.__exit__()
            raise RuntimeError(f"the mirror did not start: {base!r}")
        return base

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            if self.process.stdin:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None



def point_config_at(config: Path, base: str, folder: Path) -> Path:
    """A copy of ``config`` whose sources' urls point at the mirror and whose paths are under ``folder``."""
    import shutil
    import tomllib

    import tomli_w
    from generate import mirror_target

    data = tomllib.loads(config.read_text(encoding="utf-8"))
    for source in data["source"]:
        source["url"] = base + mirror_target(source["url"])
    data["paths"] = {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"}
    data.setdefault("crawl", {})["check_links_days"] = 0  # the crawl is measured; report links stay on the real hosts
    (folder / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(config.parent / "areas.toml", folder / "config" / "areas.toml")
    path = folder / "config" / "sources.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
