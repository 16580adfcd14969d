"""Many sources, one config: ``sources.d/*.toml`` beside the config file, read in name order after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reposync.cli.main import cli
from reposync.config import load_config
from reposync.errors import EXIT_USAGE, ConfigError

AREAS = """
anonymous = ["Anonymous"]

[[area]]
name = "York"
codes = ["E06000014"]

[[area]]
name = "Leeds"
codes = ["E08000035"]
"""

MAIN = """
[crawl]
user_agent = "reposync/test (+https://example.org/contact)"
max_hosts = 3

[[source]]
id = "york"
kind = "local"
parser = "generic"
area = "York"
url = "https://york.example.org/reviews"
"""


def source(source_id: str, host: str = "example.org") -> str:
    return (f'[[source]]\nid = "{source_id}"\nkind = "local"\nparser = "generic"\narea = "Leeds"\n'
            f'url = "https://{host}/{source_id}"\n')


def write(tmp_path: Path, main: str = MAIN, **extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "areas.toml").write_text(AREAS, encoding="utf-8")
    (tmp_path / "sources.toml").write_text(main, encoding="utf-8")
    if extra:
        (tmp_path / "sources.d").mkdir()
    for name, text in extra.items():
        (tmp_path / "sources.d" / name.replace("_", "-").replace("-toml", ".toml")).write_text(text, encoding="utf-8")
    return tmp_path / "sources.toml"


def test_sources_d_files_follow_the_config_file_in_name_order(tmp_path: Path) -> None:
    path = write(tmp_path, b_toml=source("bradford") + source("barnsley"), a_toml=source("airedale"),
                 c_txt="not toml, and not read")
    config = load_config(path)
    assert [s.id for s in config.sources] == ["york", "airedale", "bradford", "barnsley"]
    assert config.crawl.max_hosts == 3


def test_the_config_file_may_leave_every_source_to_sources_d(tmp_path: Path) -> None:
    main = MAIN[: MAIN.index("[[source]]")]
    assert [s.id for s in load_config(write(tmp_path, main, leeds_toml=source("leeds"))).sources] == ["leeds"]
    with pytest.raises(ConfigError, match="no \\[\\[source\\]\\] tables"):
        load_config(write(tmp_path / "none", main))


def test_a_duplicate_id_across_files_names_both_files_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, a_toml=source("leeds"), b_toml=source("wakefield") + source("leeds"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(tmp_path / "sources.d" / "b.toml") in message and str(tmp_path / "sources.d" / "a.toml") in message
    assert "'leeds'" in message
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline"])
    assert result.exit_code == EXIT_USAGE
    assert "b.toml" in result.output and "a.toml" in result.output and len(result.output.splitlines()) == 1

    clash = write(tmp_path / "main", york_toml=source("york"))
    with pytest.raises(ConfigError) as caught:
        load_config(clash)
    assert str(tmp_path / "main" / "sources.toml") in str(caught.value)
    assert str(tmp_path / "main" / "sources.d" / "york.toml") in str(caught.value)


@pytest.mark.parametrize("text, key, problem", [
    ("[crawl]\ndelay = 3\n", "crawl", "only [[source]] tables belong in sources.d/"),
    ('source = "leeds"\n', "source", "no [[source]] tables"),
    ("[[source]\n", None, "not valid TOML"),
    (source("Leeds"), "source[1].id", "must be lower-case"),
])
def test_a_bad_sources_d_file_is_named_exit_2(tmp_path: Path, text: str, key: str | None, problem: str) -> None:
    path = write(tmp_path, a_toml=source("leeds"), z_toml=text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.path == str(tmp_path / "sources.d" / "z.toml")
    assert caught.value.key == key and problem in caught.value.problem


@pytest.mark.parametrize("value", ["0", "-1", "2.5", '"8"', "true"])
def test_max_hosts_must_be_a_whole_number_of_at_least_one(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, MAIN.replace("max_hosts = 3", f"max_hosts = {value}")))
    assert caught.value.key == "crawl.max_hosts"


def test_max_hosts_defaults_to_eight(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MAIN.replace("max_hosts = 3\n", ""))).crawl.max_hosts == 8
