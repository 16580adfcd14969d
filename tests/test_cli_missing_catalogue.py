"""Every command that reads the catalogue says the same one line, exit 2, when there is none yet."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONFIG
from reposync.cli.main import cli

COMMANDS = (["report"], ["links"], ["links", "review"], ["links", "unmatched"], ["links", "explain", "a", "b"],
            ["links", "accept", "a", "b"], ["links", "check"], ["completeness"], ["pack", "--area", "York"],
            ["sources", "accept-layout", "york"])


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_catalogue_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "catalogue.db"
    result = CliRunner().invoke(cli, [*command, "--config", str(CONFIG), "--db", str(missing)])
    assert result.exit_code == 2, result.output
    assert f"no catalogue at {missing}: run `reposync sync` first" in result.output
    assert not missing.exists()


SYNCS = [["sync", "--offline", "--source", "york", "--dry-run"], ["sync", "--offline", "--source", "york"]]


@pytest.mark.parametrize("command", [*COMMANDS, *SYNCS], ids=" ".join)
def test_a_file_that_is_not_sqlite_is_not_a_catalogue_exit_2_and_nothing_beside_it(command: list[str],
                                                                                   tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"  # a mistyped --db: not damage to restore from a backup
    other.write_bytes(b"not a database, whatever it once was" * 100)
    result = CliRunner().invoke(cli, [*command, "--config", str(CONFIG), "--db", str(other)])
    assert result.exit_code == 2, result.output
    assert f"{other} is not a catalogue (not a SQLite file)" in result.stderr and "a bug" not in result.output
    assert other.read_bytes() == b"not a database, whatever it once was" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no stray lock, -wal or -shm


@pytest.mark.parametrize("command", [*COMMANDS, *SYNCS], ids=" ".join)
def test_a_damaged_catalogue_is_one_line_and_exit_65_and_kept(command: list[str], tmp_path: Path) -> None:
    damaged = tmp_path / "catalogue.db"
    body = b"SQLite format 3\x00" + b"not a database, whatever it once was" * 100  # a SQLite file, damaged
    damaged.write_bytes(body)
    result = CliRunner().invoke(cli, [*command, "--config", str(CONFIG), "--db", str(damaged)])
    assert result.exit_code == 65, result.output
    assert f"{damaged} is not a readable SQLite catalogue" in result.output and "a bug" not in result.output
    assert damaged.read_bytes() == body
