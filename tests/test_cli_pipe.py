"""A command whose reader stops early (`reposync links | head`) ends quietly, not as "a bug"."""

from __future__ import annotations

import signal
import subprocess
import sys

from conftest import CONFIG


def test_a_closed_pipe_is_not_reported_as_a_bug() -> None:
    # `sources check` prints a table from the stored page (no catalogue, no network).
    process = subprocess.Popen([sys.executable, "-m", "reposync", "sources", "check", "york", "--config", str(CONFIG)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 128 + signal.SIGPIPE
    assert err == ""
