"""Where a sync's words go (issue 24, point 2): failures and warnings to standard error, also under --quiet;
the report to standard output. Run as cron runs it, through pipes, with stdout and stderr apart."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomli_w

from conftest import ROOT
from mockserver import MockServer

REPOSYNC = Path(sys.executable).with_name("reposync")  # the console script of this venv


def write_config(folder: Path, url: str) -> Path:
    (folder / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "config" / "areas.toml")
    table = {"crawl": {"delay": 0.0, "timeout": 2.0, "retries": 0, "check_links_days": 0},
             "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
             "source": [{"id": "york", "kind": "local", "parser": "york", "area": "York", "url": url}]}
    path = folder / "config" / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def readme_cron_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = re.search(r"(?m)^15 2 \* \* \*\s+(.+)$", readme)
    assert line, "the README's crontab line"
    return line.group(1)


def test_the_readme_cron_line_logs_a_failed_night(tmp_path: Path, server: MockServer) -> None:
    write_config(tmp_path / "srv", server.url("/status/404"))
    command = readme_cron_command().replace("/srv/reposync/.venv/bin/reposync", str(REPOSYNC))
    # Every path of the line moves under tmp_path: the test must never write the machine's /srv or /var/lib.
    command = command.replace("/srv/reposync", str(tmp_path / "srv"))
    command = re.sub(r"(?<![\w/])/(?=(?:var|etc)/)", str(tmp_path) + "/", command)
    paths = re.findall(r"(?:^|[\s=>])(/[^\s]+)", command)
    assert paths and all(p.startswith(str(tmp_path)) or p == str(REPOSYNC) for p in paths), command
    assert "2>>" in command and "--quiet" in command
    for path in paths:  # the folders the line names exist on a server set up as the README says
        if path.endswith((".db", ".log")):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 65, done
    log = (tmp_path / "srv" / "reposync.log").read_text(encoding="utf-8")
    assert f"reposync: FAILED york: HTTP 404" in log and server.url("/status/404") in log
    assert done.stderr == ""  # all of it went to the log
    assert done.stdout.startswith("# reposync run 1") and "Failed" in done.stdout  # the report cron mails


def test_quiet_or_not_a_failure_is_on_stderr_and_the_report_on_stdout(tmp_path: Path, server: MockServer) -> None:
    config = write_config(tmp_path, server.url("/status/404"))
    for flags in (["--quiet"], []):
        done = subprocess.run([str(REPOSYNC), "sync", "--config", str(config), *flags],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 65
        assert re.search(r"(?m)^reposync: FAILED york: HTTP 404", done.stderr), flags
        assert "FAILED" not in done.stdout and "york" in done.stdout, flags  # the report or summary names it


def test_a_quiet_night_that_changed_nothing_says_nothing(tmp_path: Path) -> None:
    command = [str(REPOSYNC), "sync", "--offline", "--db", str(tmp_path / "c.db"), "--reports", str(tmp_path / "r")]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert first.returncode == 0 and first.stderr == "", first
    done = subprocess.run([*command, "--quiet"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
