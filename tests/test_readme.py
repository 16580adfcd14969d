"""The README's test command is what CI runs: the two cannot drift."""

from __future__ import annotations

from conftest import ROOT


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    command = ci[-1].strip()
    assert "pytest" in command
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"\n{command}\n" in readme


def test_readme_gives_the_offline_sync_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "reposync sync --offline\n" in readme
