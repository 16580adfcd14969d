"""Helpers for the Datasette tests: a catalogue built from the snapshots, and `reposync serve` running for real."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import CONFIG, ROOT, SNAPSHOTS
from reposync.config import Config, load_config
from reposync.sync import run_sync

METADATA = ROOT / "config" / "metadata.yml"
YORK_TITLES = {"Child A, B and C", "Child B", "Baby A", "Thematic review of child neglect", "Messages from reviews"}


def tmp_config(tmp_path: Path) -> Config:
    """config/sources.toml with every path a sync writes moved into tmp_path (the catalogue, the reports, and
    the decisions file where the config has one), so a test never writes into the repository."""
    config = load_config(CONFIG)
    fields = {f.name for f in dataclasses.fields(config.paths)}
    moved = {"db": tmp_path / "catalogue.db", "reports": tmp_path / "reports",
             "decisions": tmp_path / "decisions.toml"}
    paths = dataclasses.replace(config.paths, **{k: v for k, v in moved.items() if k in fields})
    return dataclasses.replace(config, paths=paths)


def build_catalogue(tmp_path: Path) -> tuple[Config, Path]:
    """An offline sync of the bundled snapshots into tmp_path/catalogue.db."""
    config = tmp_config(tmp_path)
    db_path = tmp_path / "catalogue.db"
    result = run_sync(config, offline=True, db_path=db_path, snapshots_path=SNAPSHOTS)
    # Other sources may be mid-way (snapshots and parsers still being filled); York's page must sync.
    york = [o for o in result.outcomes if o.source == "york"]
    assert york and york[0].error is None and len(york[0].entries) == len(YORK_TITLES), york
    return config, db_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    sign_in_url: str  # the one-time link that signs in as root
    process: subprocess.Popen
    log: Path


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def running_datasette(db_path: Path, log: Path, startup_timeout: float = 30.0) -> Iterator[Server]:
    """`reposync serve` on 127.0.0.1 and a free port, as a librarian would start it; stopped afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "reposync", "serve", "--config", str(CONFIG), "--db", str(db_path),
               "--host", "127.0.0.1", "--port", str(port)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log, "wb") as out:
        # Its own session: if it will not stop, the whole group (reposync and its Datasette) is killed.
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=db_path.parent,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"reposync serve exited {process.returncode}:\n{log.read_text()}")
            try:
                status, _ = get(url + "/-/versions.json", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"Datasette did not answer within {startup_timeout} s:\n{log.read_text()}")
            time.sleep(0.1)
        match = re.search(r"http://\S+/-/auth-token\?token=\w+", log.read_text())
        assert match, f"no sign-in link printed:\n{log.read_text()}"
        yield Server(url=url, sign_in_url=match.group(0), process=process, log=log)
    finally:
        if process.poll() is None:
            process.terminate()  # reposync serve passes it on to Datasette
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
