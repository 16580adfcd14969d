"""``python -m reposync``: the same as the ``reposync`` command."""

from __future__ import annotations

from .cli import cli

cli(prog_name="reposync")
