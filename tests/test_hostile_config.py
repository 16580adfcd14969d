"""Every invalid config value or option: one clear line naming the file and the key, exit 2, nothing written.

tests/test_config.py has the first cases (unknown parser and area, a negative or
wordy delay, ftp and word URLs, kind, ids, unknown keys, the user agent, the
selector and the date pattern); these are the rest, each checked through
``load_config`` and through ``reposync sync`` itself. Options the command line
checks (click) exit 2 with click's own "Error:" line naming the option.
"""

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
aliases = ["City of York"]
"""

GOOD = """
[crawl]
delay = 0.5
timeout = 30.0
max_bytes = 1000000
retries = 3
full_walk_days = 7
user_agent = "reposync/test (+https://example.org/contact)"

[paths]
db = "out/catalogue.db"
snapshots = "out/snapshots"
reports = "out/reports"

[[source]]
id = "york"
kind = "local"
parser = "generic"
area = "York"
url = "https://www.example.org/reviews"
"""

URL = 'url = "https://www.example.org/reviews"'
CRAWL = GOOD[GOOD.index("[crawl]"):GOOD.index("[paths]")]
PATHS = GOOD[GOOD.index("[paths]"):GOOD.index("[[source]]")]
SOURCE = GOOD[GOOD.index("[[source]]"):]

# id: (text replaced in GOOD, its replacement, the key named, words of the problem[, a top-level line put first])
CASES = {
    "unknown table": ("[crawl]", "[crawler]\n[crawl]", "crawler", "unknown table or key"),
    "unknown top-level key": ("[crawl]", "verbose = true\n[crawl]", "verbose", "unknown table or key"),
    "crawl not a table": (CRAWL, "", "crawl", "must be a table", "crawl = 3\n"),
    "paths not a table": (PATHS, "", "paths", "must be a table", "paths = [1]\n"),
    "unknown path": ('db = "out/catalogue.db"', 'db = "out/catalogue.db"\ncache = "out/cache"', "paths.cache",
                     "unknown path"),
    "path not a string": ('db = "out/catalogue.db"', "db = 3", "paths.db", "must be a non-empty string"),
    "empty path": ('db = "out/catalogue.db"', 'db = "  "', "paths.db", "must be a non-empty string"),
    "source not tables": (SOURCE, "", "source", "no [[source]] tables", 'source = "york"\n'),
    "source entry not a table": (SOURCE, "", "source[1]", "must be a table", "source = [1]\n"),
    "missing id": ('id = "york"\n', "", "source[1].id", "is required"),
    "missing kind": ('kind = "local"\n', "", "source[1].kind", "is required"),
    "missing parser": ('parser = "generic"\n', "", "source[1].parser", "is required"),
    "missing url": (URL + "\n", "", "source[1].url", "is required"),
    "id not text": ('id = "york"', "id = 3", "source[1].id", "must be lower-case"),
    "id with a path in it": ('id = "york"', 'id = "../york"', "source[1].id", "must be lower-case"),
    "kind not text": ('kind = "local"', "kind = 1", "source 'york'.kind", "must be one of"),
    "parser not text": ('parser = "generic"', "parser = ['generic']", "source 'york'.parser", "unknown parser"),
    "url not text": (URL, "url = 3", "source 'york'.url", "must be a string URL"),
    "url without a host": (URL, 'url = "https:///reviews"', "source 'york'.url", "must be an http(s) URL"),
    "url javascript": (URL, 'url = "javascript:alert(1)"', "source 'york'.url", "must be an http(s) URL"),
    "url file": (URL, 'url = "file:///etc/passwd"', "source 'york'.url", "must be an http(s) URL"),
    "url protocol-relative": (URL, 'url = "//www.example.org/reviews"', "source 'york'.url",
                              "must be an http(s) URL"),
    "url port out of range": (URL, 'url = "https://www.example.org:99999/reviews"', "source 'york'.url",
                              "must be an http(s) URL"),
    "url port not a number": (URL, 'url = "https://www.example.org:http/reviews"', "source 'york'.url",
                              "must be an http(s) URL"),
    "url broken IPv6": (URL, 'url = "http://[::1/reviews"', "source 'york'.url", "must be an http(s) URL"),
    "url control character": (URL, 'url = "https://www.example.org/re\\u0000views"', "source 'york'.url",
                              "not a URL the fetcher can request"),
    "url newline": (URL, 'url = "https://www.example.org/re\\nviews"', "source 'york'.url",
                    "not a URL the fetcher can request"),
    "area not text": ('area = "York"', "area = 3", "source 'york'.area", "needs its area"),
    "area empty": ('area = "York"', 'area = ""', "source 'york'.area", "needs its area"),
    "entry_selector not text": ('area = "York"', 'area = "York"\nentry_selector = 3', "source 'york'.entry_selector",
                                "must be a string"),
    "date_pattern not text": ('area = "York"', 'area = "York"\ndate_pattern = ["x"]', "source 'york'.date_pattern",
                              "must be a string"),
    "delay true": ("delay = 0.5", "delay = true", "crawl.delay", "must be a number"),
    "delay inf": ("delay = 0.5", "delay = inf", "crawl.delay", "must be a finite number"),
    "delay nan": ("delay = 0.5", "delay = nan", "crawl.delay", "must be a finite number"),
    "timeout zero": ("timeout = 30.0", "timeout = 0", "crawl.timeout", "must be at least"),
    "timeout inf": ("timeout = 30.0", "timeout = inf", "crawl.timeout", "must be a finite number"),
    "timeout text": ("timeout = 30.0", 'timeout = "30s"', "crawl.timeout", "must be a number"),
    "max_bytes zero": ("max_bytes = 1000000", "max_bytes = 0", "crawl.max_bytes", "must be at least 1"),
    "max_bytes fraction": ("max_bytes = 1000000", "max_bytes = 1.5e6", "crawl.max_bytes", "must be a whole number"),
    "retries negative": ("retries = 3", "retries = -1", "crawl.retries", "must be at least 0"),
    "retries true": ("retries = 3", "retries = true", "crawl.retries", "must be a whole number"),
    "full_walk_days zero": ("full_walk_days = 7", "full_walk_days = 0", "crawl.full_walk_days", "must be at least 1"),
    "user_agent not text": ('user_agent = "reposync/test (+https://example.org/contact)"', "user_agent = 1",
                            "crawl.user_agent", "contact URL"),
}


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "areas.toml").write_text(AREAS, encoding="utf-8")
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_the_good_config_loads(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD)).sources[0].id == "york"


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_value_is_one_clean_line_naming_file_and_key_exit_2(tmp_path: Path, case: str) -> None:
    old, new, key, problem, *first = CASES[case]
    assert old in GOOD, case
    path = write(tmp_path, "".join(first) + GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.key, caught.value.path) == (key, str(path)) and problem in caught.value.problem

    before = files(tmp_path)
    result = CliRunner().invoke(cli, ["sync", "--config", str(path)])  # live: nothing may be fetched either
    assert result.exit_code == EXIT_USAGE, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("reposync: ") and str(path) in line and f": {key}: " in line and problem in line
    assert files(tmp_path) == before  # nothing written: no catalogue, no snapshots, no reports


@pytest.mark.parametrize("areas, key, problem", [
    (None, None, "file not found"),
    ("[[area]\n", None, "not valid TOML"),
    ('[[area]]\nname = "York"\ncodes = ["York"]\n', "codes", "must be a list of ONS codes"),
], ids=["missing", "not-toml", "bad-codes"])
def test_a_bad_areas_file_is_named(tmp_path: Path, areas: str | None, key: str | None, problem: str) -> None:
    path = write(tmp_path, GOOD)
    if areas is None:
        (tmp_path / "areas.toml").unlink()
    else:
        (tmp_path / "areas.toml").write_text(areas, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline"])
    assert result.exit_code == EXIT_USAGE
    [line] = result.output.strip().splitlines()
    assert str(tmp_path / "areas.toml") in line and problem in line and (key is None or key in line)


def test_a_config_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.write_bytes(GOOD.replace("York", "Yor\u00e9").encode("latin-1"))
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline"])
    assert result.exit_code == EXIT_USAGE
    [line] = result.output.strip().splitlines()
    assert str(path) in line and "not UTF-8" in line


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sync", "--config", str(tmp_path / "nowhere.toml")])
    assert result.exit_code == EXIT_USAGE
    [line] = result.output.strip().splitlines()
    assert str(tmp_path / "nowhere.toml") in line and "not found" in line


def test_an_unknown_source_on_the_command_line_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline", "--source", "york",
                                      "--source", "../etc"])
    assert result.exit_code == EXIT_USAGE
    [line] = result.output.strip().splitlines()
    assert str(path) in line and ": source: " in line and "'../etc'" in line
    assert not (tmp_path / "out").exists()


# Options click checks: exit 2, and click's last line is "Error: ..." naming the option.
OPTIONS = {
    "--as-of without --offline": (["--as-of", "1"], "--as-of"),
    "--as-of negative": (["--offline", "--as-of", "-1"], "--as-of"),
    "--as-of not a number": (["--offline", "--as-of", "last"], "--as-of"),
    "--delay not a number": (["--delay", "slow"], "--delay"),
    "--config a folder": (["--config", "."], "--config"),
    "unknown option": (["--offlin"], "--offlin"),
}


@pytest.mark.parametrize("case", OPTIONS, ids=list(OPTIONS))
def test_a_bad_option_exits_2_naming_it(tmp_path: Path, case: str) -> None:
    args, option = OPTIONS[case]
    path = write(tmp_path, GOOD)
    before = files(tmp_path)
    args = args if "--config" in args else ["--config", str(path), *args]
    result = CliRunner().invoke(cli, ["sync", *args])
    assert result.exit_code == EXIT_USAGE, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error:") and option in last, result.output
    assert files(tmp_path) == before


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_delay_that_is_not_finite_is_a_usage_error(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["sync", "--config", str(path), "--offline", "--delay", value])
    assert result.exit_code == EXIT_USAGE


@pytest.mark.parametrize("args, words", [
    (["--format", "pdf"], "--format"),
    (["--run", "0"], "--run"),
    (["--run", "../1"], "--run"),
])
def test_report_options(tmp_path: Path, args: list[str], words: str) -> None:
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["report", "--config", str(path), *args])
    assert result.exit_code == EXIT_USAGE
    assert words in result.output.strip().splitlines()[-1]
