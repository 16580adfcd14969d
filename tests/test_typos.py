"""Errors that help with a typo (issue 24, point 6): did you mean, https://, where the config is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONFIG
from reposync.cli import cli

REPOSYNC = Path(sys.executable).with_name("reposync")


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("typos") / "catalogue.db"
    result = run("sync", "--offline", "--config", str(CONFIG), "--db", str(db), "--source", "york",
                 "--source", "nspcc-2013", "--reports", str(db.parent / "reports"))
    assert result.exit_code == 0, result.output
    return db


def test_an_unknown_area_suggests_the_close_one(catalogue: Path) -> None:
    for command in (["completeness", "--area", "Yrok"], ["pack", "--area", "yorkk"]):
        result = run(*command, "--config", str(CONFIG), "--db", str(catalogue))
        assert result.exit_code == 2 and "(did you mean 'York'?)" in result.stderr, result.output
    added = run("sources", "add", "https://www.leedsscp.org.uk/reviews", "--area", "Leds", "--config", str(CONFIG))
    assert added.exit_code == 2 and "did you mean 'Leeds'" in added.stderr


def test_source_ids_are_case_insensitive_and_a_typo_suggests_the_id(catalogue: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    shutil.copy(catalogue, db)
    same = run("sync", "--offline", "--dry-run", "--quiet", "--config", str(CONFIG), "--db", str(db),
               "--source", "YORK")
    assert same.exit_code == 0, same.output
    typo = run("sync", "--offline", "--dry-run", "--config", str(CONFIG), "--db", str(db), "--source", "yrok")
    assert typo.exit_code == 2 and "no source with id 'yrok' (did you mean 'york'?)" in typo.stderr
    check = run("sources", "check", "nspcc-2O13", "--config", str(CONFIG))
    assert check.exit_code == 2 and "did you mean 'nspcc-2013'" in check.stderr


def test_a_bare_host_suggests_https() -> None:
    result = run("sources", "add", "www.leedsscp.org.uk/reviews", "--area", "Leeds", "--config", str(CONFIG))
    assert result.exit_code == 2
    assert "did you mean 'https://www.leedsscp.org.uk/reviews'?" in result.stderr


def test_outside_the_checkout_the_config_is_passed_or_set_in_reposync_config(catalogue: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REPOSYNC_CONFIG"}
    lost = subprocess.run([str(REPOSYNC), "completeness"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert lost.returncode == 2
    assert "config file not found: pass --config FILE, or set REPOSYNC_CONFIG" in lost.stderr
    env["REPOSYNC_CONFIG"] = str(CONFIG)
    for command in (["completeness", "--db", str(catalogue)], ["links", "review", "--db", str(catalogue)]):
        found = subprocess.run([str(REPOSYNC), *command], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert found.returncode == 0, found.stderr
