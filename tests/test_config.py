"""A bad config is found before anything is fetched: one line naming file and key, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reposync.cli.main import cli
from reposync.config import load_config
from reposync.errors import ConfigError

AREAS = """
anonymous = ["Anonymous"]

[[area]]
name = "York"
codes = ["E06000014"]
aliases = ["City of York", "CYSCB"]
"""

GOOD = """
[crawl]
delay = 0.5
user_agent = "reposync/test (+https://example.org/contact)"

[paths]
db = "out/catalogue.db"

[[source]]
id = "york"
kind = "local"
parser = "york"
area = "City of York"
url = "https://www.saferchildrenyork.org.uk/page%20htm"

[[source]]
id = "nspcc-library"
kind = "national"
parser = "nspcc-library"
url = "https://library.nspcc.org.uk/HeritageScripts/Hapi.dll/search2?Offset=1"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "areas.toml").write_text(AREAS, encoding="utf-8")
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_config_loads_with_paths_relative_to_its_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.paths.db == (tmp_path / "out" / "catalogue.db").resolve()
    assert config.paths.snapshots == (tmp_path.parent / "snapshots").resolve()
    assert config.crawl.delay == 0.5
    york = config.sources[0]
    assert york.area is not None and york.area.name == "York" and york.area.codes == ("E06000014",)
    assert york.site == ("https", "www.saferchildrenyork.org.uk", 443)
    assert config.sources[1].area is None


@pytest.mark.parametrize(
    "old, new, key, problem",
    [
        ('parser = "york"', 'parser = "nonesuch"', "source 'york'.parser", "unknown parser 'nonesuch'"),
        ('area = "City of York"', 'area = "Atlantis"', "source 'york'.area", "unknown area 'Atlantis'"),
        ("delay = 0.5", "delay = -1", "crawl.delay", "must be at least 0"),
        ("delay = 0.5", 'delay = "slow"', "crawl.delay", "must be a number"),
        ('url = "https://www.saferchildrenyork.org.uk/page%20htm"', 'url = "ftp://example.org/x"',
         "source 'york'.url", "must be an http(s) URL"),
        ('url = "https://www.saferchildrenyork.org.uk/page%20htm"', 'url = "not a url"',
         "source 'york'.url", "must be an http(s) URL"),
        ('kind = "local"', 'kind = "regional"', "source 'york'.kind", "must be one of local, national"),
        ('id = "nspcc-library"', 'id = "york"', "source[2].id", "'york' is used twice"),
        ('id = "york"', 'id = "York Page"', "source[1].id", "must be lower-case"),
        ('area = "City of York"\n', 'area = "City of York"\nentry_selecter = "li"\n', "source[1].entry_selecter",
         "unknown key"),
        ("delay = 0.5", "delay = 0.5\nspeed = 3", "crawl.speed", "unknown setting"),
        ('user_agent = "reposync/test (+https://example.org/contact)"', 'user_agent = "bot"', "crawl.user_agent",
         "contact URL"),
        ('area = "City of York"\n', "", "source 'york'.area", "a local source needs its area"),
        ('parser = "york"', 'parser = "generic"\nentry_selector = "div >> p"', "source 'york'.entry_selector",
         "not a valid CSS selector"),
        ('id = "nspcc-library"\n', 'id = "nspcc-library"\nentry_selector = "li"\n', "source 'nspcc-library'.entry_selector",
         "takes no entry_selector"),
        ('parser = "york"', 'parser = "generic"\ndate_pattern = "(?P<year"', "source 'york'.date_pattern",
         "not a valid regular expression"),
    ],
)
def test_each_bad_value_names_file_key_and_problem(tmp_path: Path, old: str, new: str, key: str, problem: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(path) in str(caught.value)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[[source]\nid="))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nowhere.toml")
    with pytest.raises(ConfigError, match="nothing to sync"):
        load_config(write(tmp_path, "[crawl]\ndelay = 1\n"))


def test_cli_exits_2_with_one_clean_line_before_fetching(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('parser = "york"', 'parser = "nonesuch"'))
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "source 'york'.parser" in lines[0] and str(path) in lines[0]
    assert not (tmp_path / "out").exists()  # nothing written, not even the catalogue


def test_unknown_source_on_the_command_line_is_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline", "--source", "nope"])
    assert result.exit_code == 2
    assert "no source with id 'nope'" in result.output


def test_negative_delay_on_the_command_line_is_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline", "--delay", "-1"])
    assert result.exit_code == 2
