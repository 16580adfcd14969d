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


@pytest.mark.parametrize("command", [*COMMANDS, ["sync", "--offline", "--source", "york", "--dry-run"],
                                     ["sync", "--offline", "--source", "york"]], ids=" ".join)
def test_a_catalogue_that_is_not_sqlite_is_one_line_and_exit_65_and_kept(command: list[str], tmp_path: Path) -> None:
    damaged = tmp_path / "catalogue.db"
    damaged.write_bytes(b"not a database, whatever it once was" * 100)
    result = CliRunner().invoke(cli, [*command, "--config", str(CONFIG), "--db", str(damaged)])
    assert result.exit_code == 65, result.output
    assert f"{damaged} is not a readable SQLite catalogue" in result.output and "a bug" not in result.output
    assert damaged.read_bytes() == b"not a database, whatever it once was" * 100
