"""A dry run says so (issue 24, point 3): its heading and last line say it is a dry run and nothing was written,
and otherwise it prints what the same sync prints, quiet or not. It used to print "# reposync run 2 (offline,
ok)" for a run that never existed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONFIG, SNAPSHOTS
from nights import make_night_two
from reposync.cli import cli
from reposync.reports.night import DRY_RUN_NOTE

TIMES = re.compile(r"^Started .*$", re.M)


def sync(folder: Path, snapshots: Path, *args: str):
    return CliRunner().invoke(cli, ["sync", "--offline", "--config", str(CONFIG), "--db", str(folder / "c.db"),
                                    "--snapshots", str(snapshots), "--reports", str(folder / "reports"), *args])


@pytest.fixture(scope="module")
def night_one(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("dry")
    assert sync(folder, SNAPSHOTS).exit_code == 0
    return folder, make_night_two(folder / "archive2")


@pytest.mark.parametrize("quiet", [[], ["--quiet"]], ids=["summary", "quiet report"])
def test_a_dry_run_prints_what_the_sync_would_headed_and_ended_as_a_dry_run(night_one: tuple, tmp_path: Path,
                                                                            quiet: list[str]) -> None:
    folder, night_two = night_one
    shutil.copy(folder / "c.db", tmp_path / "c.db")
    dry = sync(tmp_path, night_two, "--dry-run", *quiet)
    assert dry.exit_code == 0, dry.output
    assert not (tmp_path / "reports").exists()  # nothing written
    real = sync(tmp_path, night_two, *quiet)
    assert real.exit_code == 0, real.output
    dry_lines = TIMES.sub("", dry.stdout).rstrip("\n").splitlines()
    real_lines = TIMES.sub("", real.stdout).rstrip("\n").splitlines()
    assert "reposync dry run, nothing written" in dry_lines[0] and "run 2" not in dry_lines[0]
    assert dry_lines[0] == real_lines[0].replace("run 2", "dry run, nothing written")
    assert dry_lines[-1] == DRY_RUN_NOTE
    assert dry_lines[1:-1] == [line for line in real_lines[1:]] + ([""] if quiet else [])


def test_a_quiet_dry_run_that_would_change_nothing_prints_nothing(night_one: tuple, tmp_path: Path) -> None:
    folder, _ = night_one
    shutil.copy(folder / "c.db", tmp_path / "c.db")
    dry = sync(tmp_path, SNAPSHOTS, "--dry-run", "--quiet")
    assert (dry.exit_code, dry.stdout) == (0, "")  # as a quiet night prints nothing
