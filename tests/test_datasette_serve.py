"""`reposync serve`: its errors, its metadata for a catalogue of another name, and Datasette answering every
request while a sync writes the catalogue (WAL: readers never wait for the writer)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONFIG, SNAPSHOTS
from datasette_server import METADATA, build_catalogue, get, running_datasette
from reposync.reports import night as report
from reposync.ops import serve
from reposync.cli.main import cli
from reposync.sync import run_sync

PAGES = (
    "/",
    "/catalogue/entries?_search=Baby",
    "/catalogue/entries.json?source=york&_shape=array",
    "/catalogue/reviews",
    "/catalogue/local_not_in_national",
    "/catalogue/national_not_in_local",
    "/catalogue/links_to_review",
    "/catalogue/last_sync",
    "/catalogue/reviews_by_year_and_type",
)


def test_serve_without_datasette_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(serve, "datasette_installed", lambda: False)
    result = CliRunner().invoke(cli, ["serve", "--config", str(CONFIG), "--db", str(tmp_path / "catalogue.db")])
    assert result.exit_code == 2
    assert "pip install -e '.[datasette]'" in result.output


def test_serve_without_a_catalogue_says_so(tmp_path: Path) -> None:
    pytest.importorskip("datasette")
    result = CliRunner().invoke(cli, ["serve", "--config", str(CONFIG), "--db", str(tmp_path / "nothing.db")])
    assert result.exit_code == 2
    assert "run `reposync sync` first" in result.output


def test_metadata_follows_a_catalogue_of_another_name() -> None:
    pytest.importorskip("datasette")
    metadata = serve.metadata_for(Path("/srv/reposync/nightly.db"), METADATA)
    assert set(metadata["databases"]) == {"nightly"}
    queue = metadata["databases"]["nightly"]["queries"]["links_to_review"]["sql"]
    assert "/nightly/accept_link?" in queue and "/catalogue/" not in queue
    assert 'href="/nightly/entries?' in metadata["description_html"]
    # The file as it stands is for catalogue.db: nothing to rewrite.
    assert serve.metadata_for(Path("catalogue.db"), METADATA)["databases"].keys() == {"catalogue"}


def test_datasette_answers_every_request_while_a_sync_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datasette")
    config, db_path = build_catalogue(tmp_path)
    # One sync holds its write transaction open for a while: the report is built inside it, just before COMMIT.
    held: list[tuple[float, float]] = []
    build = report.build

    def slow_build(db, run_id):
        started = time.monotonic()
        time.sleep(1.5)
        built = build(db, run_id)
        held.append((started, time.monotonic()))
        return built

    results: list[tuple[str, int, float, float]] = []
    stop = threading.Event()

    def browse(url: str) -> None:
        while not stop.is_set():
            for path in PAGES:
                started = time.monotonic()
                try:
                    status, _ = get(url + path)
                except OSError as exc:  # a refused or dropped connection is a failed request too
                    status = f"{type(exc).__name__}: {exc}"
                results.append((path, status, started, time.monotonic()))

    with running_datasette(db_path, tmp_path / "serve.log") as server:
        readers = [threading.Thread(target=browse, args=(server.url,)) for _ in range(2)]
        for reader in readers:
            reader.start()
        try:
            runs = []
            for n in range(4):
                if n == 2:
                    monkeypatch.setattr(report, "build", slow_build)
                runs.append(run_sync(config, offline=True, db_path=db_path, snapshots_path=SNAPSHOTS).run_id)
                monkeypatch.setattr(report, "build", build)
            time.sleep(0.3)
        finally:
            stop.set()
            for reader in readers:
                reader.join(timeout=30)
        final_status, seen = get(server.url + "/catalogue/runs.json?_shape=arrayfirst&_sort_desc=id")

    failed = [(path, status) for path, status, _, _ in results if status != 200]
    assert not failed, failed[:10]
    assert len(results) >= 20
    (held_from, held_to), = held
    during = [r for r in results if r[2] >= held_from and r[3] <= held_to]
    assert during, "no request was answered while the sync held its write transaction"
    assert runs == sorted(runs) and len(set(runs)) == 4
    assert final_status == 200 and json.loads(seen)[0] == runs[-1]  # Datasette sees the last sync at once
