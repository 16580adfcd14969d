"""``python -m reposync``: the same as the ``reposync`` command."""

from __future__ import annotations

from .cli.main import cli

cli(prog_name="reposync")
