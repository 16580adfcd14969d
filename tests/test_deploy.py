"""deploy/: the systemd units run commands reposync accepts, systemd itself finds nothing wrong with them, and
`reposync serve` with datasette-auth-passwords lets a signed-in librarian, and no anonymous visitor, run the
writable queries."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from conftest import CONFIG, ROOT
from datasette_server import build_catalogue, free_port
from reposync.cli import cli

DEPLOY = ROOT / "deploy"
UNITS = ("reposync-sync.service", "reposync-sync.timer", "reposync-serve.service")
PASSWORD = "correct horse battery staple"


def exec_start(unit: str) -> list[str]:
    line, = [line for line in (DEPLOY / unit).read_text(encoding="utf-8").splitlines()
             if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


@pytest.mark.parametrize("unit", ["reposync-sync.service", "reposync-serve.service"])
def test_each_unit_runs_a_command_reposync_accepts(unit: str) -> None:
    command = exec_start(unit)
    assert command[0] == "/srv/reposync/.venv/bin/reposync"
    args = command[1:]
    name, rest = args[0], args[1:]
    sub = cli.get_command(click.Context(cli), name)
    assert sub is not None, name
    sub_ctx = sub.make_context(name, list(rest))  # unknown or malformed options raise here
    assert sub_ctx.params["config_path"] == Path("/srv/reposync/config/sources.toml")
    if name == "serve":
        assert sub_ctx.params["host"] == "127.0.0.1" and sub_ctx.params["no_root"] is True
    else:
        assert name == "sync" and sub_ctx.params["quiet"] is True


def test_the_readme_installs_every_file_of_deploy() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in DEPLOY.iterdir():
        assert f"deploy/{path.name}" in readme, path.name


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_finds_nothing_wrong_with_the_units(tmp_path: Path) -> None:
    # The units as installed, with /srv/reposync pointed at a folder whose .venv/bin/reposync is this one.
    srv = tmp_path / "srv"
    (srv / ".venv" / "bin").mkdir(parents=True)
    (srv / ".venv" / "bin" / "reposync").symlink_to(Path(sys.executable).with_name("reposync"))
    for unit in UNITS:
        text = (DEPLOY / unit).read_text(encoding="utf-8").replace("/srv/reposync", str(srv))
        (tmp_path / unit).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(tmp_path / unit) for unit in UNITS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip() and not result.stdout.strip(), result.stderr


def _csrftoken(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    match = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert match, (path, page.status_code, page.text[:500])
    return match.group(1)


def _decision(db_path: Path, local: str, national: str) -> str | None:
    db = sqlite3.connect(db_path)
    try:
        row = db.execute("SELECT decision FROM links WHERE entry_a = ? AND entry_b = ?", [local, national]).fetchone()
    finally:
        db.close()
    return row[0] if row else None


def test_a_signed_in_librarian_and_no_anonymous_visitor_can_decide_a_link(tmp_path: Path) -> None:
    pytest.importorskip("datasette_auth_passwords")
    from datasette_auth_passwords.utils import hash_password

    _, db_path = build_catalogue(tmp_path)
    db = sqlite3.connect(db_path)
    local, national = db.execute(
        "SELECT l.id, n.id FROM entries l, entries n WHERE l.kind = 'local' AND n.kind = 'national' "
        "AND NOT EXISTS (SELECT 1 FROM links k WHERE k.entry_a = l.id AND k.entry_b = n.id) ORDER BY l.id, n.id"
    ).fetchone()
    db.close()
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", DATASETTE_SECRET="test-secret",
               REPOSYNC_LIBRARIAN_PASSWORD_HASH=hash_password(PASSWORD, iterations=1000))
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:  # as the unit starts it: no root sign-in link
        process = subprocess.Popen([sys.executable, "-m", "reposync", "serve", "--config", str(CONFIG), "--db",
                                    str(db_path), "--host", "127.0.0.1", "--port", str(port), "--no-root"],
                                   stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    form = {"local_entry": local, "national_entry": national}
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(base + "/-/versions.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert "auth-token" not in log.read_text()  # --no-root: no sign-in link to leak into a journal

        with httpx.Client(base_url=base, timeout=10) as anonymous:
            queries = anonymous.get("/catalogue.json").json()["queries"]
            assert {"accept_link", "reject_link"}.isdisjoint(q["name"] for q in queries)
            assert "links_to_review" in {q["name"] for q in queries}
            assert anonymous.get("/catalogue/accept_link").status_code == 403
            token = _csrftoken(anonymous, "/-/login")  # a valid form token: the refusal is about who, not CSRF
            refused = anonymous.post("/catalogue/accept_link", data=form | {"csrftoken": token})
            assert refused.status_code == 403
            wrong = anonymous.post("/-/login", data={"username": "librarian", "password": "guess",
                                                     "csrftoken": token})
            assert "ds_actor" not in wrong.cookies and "Invalid username or password" in wrong.text
        assert _decision(db_path, local, national) is None

        with httpx.Client(base_url=base, timeout=10) as librarian:
            token = _csrftoken(librarian, "/-/login")
            signed_in = librarian.post("/-/login", data={"username": "librarian", "password": PASSWORD,
                                                         "csrftoken": token})
            assert signed_in.status_code == 302 and "ds_actor" in librarian.cookies
            assert librarian.get("/-/actor.json").json() == {"actor": {"id": "librarian"}}
            token = _csrftoken(librarian, "/catalogue/accept_link?" + "&".join(f"{k}={v}" for k, v in form.items()))
            accepted = librarian.post("/catalogue/accept_link", data=form | {"csrftoken": token})
            assert accepted.status_code == 302 and accepted.headers["location"].endswith("links_to_review")
        assert _decision(db_path, local, national) == "accepted"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
