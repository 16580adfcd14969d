"""The README shows exactly what the commands print (issue 24, point 5): every block of the README that starts
`$ reposync ...` is run on a catalogue built from the bundled snapshots, and its output compared line for line."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONFIG, ROOT
from reposync.cli import cli

EXAMPLE = re.compile(r"```\n(\$ reposync [^\n]*)\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = EXAMPLE.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(found) >= 3, "the README's completeness, JSON and pack examples"
    return found


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    result = CliRunner().invoke(cli, ["sync", "--offline", "--config", str(CONFIG), "--db", str(folder / "c.db"),
                                      "--reports", str(folder / "reports")])
    assert result.exit_code == 0, result.output
    return folder / "c.db"


@pytest.mark.parametrize("command, shown", examples(), ids=[c for c, _ in examples()])
def test_the_readme_shows_what_the_command_prints(command: str, shown: str, catalogue: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `pack --out packs` writes beside, and prints, a relative path
    args = shlex.split(command)[2:] + ["--config", str(CONFIG), "--db", str(catalogue)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == shown


def test_the_completeness_table_fits_100_columns_and_wide_has_every_column(catalogue: Path) -> None:
    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["completeness", *args, "--config", str(CONFIG), "--db", str(catalogue)])
        assert result.exit_code == 0, result.output
        return result.stdout

    for args in ([], ["--area", "Croydon"], ["--area", "Leicester"], ["--area", "York"]):
        widest = max(len(line) for line in run(*args).splitlines())
        assert widest <= 100, (args, widest)
    # the national id a person needs to reject York's automatic link is printed, not only in SQLite
    assert "york:baby-a  in national: nspcc-2013:city-of-york-baby-a" in run("--area", "York")
    wide = run("--wide").splitlines()[0]
    for column in ("source", "p90 lag (days)", "anonymous share", "oldest missing"):
        assert column in wide
    assert len(wide) > 100  # which is why it is not the default


def test_the_readme_quotes_the_england_line_the_bundled_sync_prints(catalogue: Path) -> None:
    # The national picture: every partnership of config/partnerships.toml has a row, read or not.
    result = CliRunner().invoke(cli, ["completeness", "--format", "json", "--config", str(CONFIG),
                                      "--db", str(catalogue)])
    assert result.exit_code == 0, result.output
    partnerships = [row for row in json.loads(result.stdout) if row["partnership"]]
    register = tomllib.loads((ROOT / "config" / "partnerships.toml").read_text(encoding="utf-8"))["partnership"]
    assert len(partnerships) == len(register)
    md = CliRunner().invoke(cli, ["completeness", "--format", "md", "--config", str(CONFIG), "--db", str(catalogue)])
    england = md.stdout.splitlines()[-1]
    assert england.startswith(f"England: {sum(row['page'] == 'read' for row in partnerships)} of {len(register)} ")
    quoted = re.search(r"\n\n(    England: .*?)\n\n", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert quoted and " ".join(line.strip() for line in quoted.group(1).splitlines()) == england
