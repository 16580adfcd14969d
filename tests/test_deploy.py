"""deploy/: the systemd units run commands reposync accepts, systemd itself finds nothing wrong with them, and
`reposync serve` with datasette-auth-passwords lets a signed-in librarian, and no anonymous visitor, run the
writable queries."""

from __future__ import annotations

import os
import re
import shlex
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import httpx
import pytest

from conftest import CONFIG, ROOT
from datasette_server import build_catalogue, free_port
from reposync.cli.main import cli
from reposync.ops.serve import read_env_file

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
    # Both on the catalogue in the state directory, out of the checkout the web service may not write.
    assert sub_ctx.params["db_path"] == Path("/var/lib/reposync/catalogue.db")


def directives(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / unit).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_web_service_may_write_only_the_catalogues_state_directory() -> None:
    serve = directives("reposync-serve.service")
    assert serve["ProtectSystem"] == ["strict"]  # everything read-only: the code, metadata.yml, the config ...
    assert serve["StateDirectory"] == ["reposync"]  # ... but /var/lib/reposync, where the catalogue is
    assert "ReadWritePaths" not in serve and "ReadWriteDirectories" not in serve
    sync = directives("reposync-sync.service")
    assert sync["ProtectSystem"] == ["strict"] and sync["StateDirectory"] == ["reposync"]


def test_the_example_environment_file_ships_no_secret() -> None:
    from reposync.ops.serve import PASSWORD_HASH, SECRET

    values = read_env_file(DEPLOY / "serve.env.example")
    assert values == {PASSWORD_HASH: "", SECRET: ""}


def test_the_proxy_limits_sign_ins_strips_authorization_and_keeps_to_https() -> None:
    text = (DEPLOY / "nginx-reposync.conf").read_text(encoding="utf-8")
    login = re.search(r"location = /-/login \{(.*?)\}", text, re.S)
    assert login and "limit_req zone=reposync_login" in login.group(1)
    assert re.search(r"limit_req_zone \$\w+ zone=reposync_login:\w+ rate=\d+r/m;", text)
    assert 'proxy_set_header Authorization "";' in text
    assert "add_header Strict-Transport-Security" in text and "proxy_cookie_flags ~ secure" in text
    # nginx inherits proxy_set_header into a location only if the location sets none of its own
    for block in re.findall(r"location [^{]*\{(.*?)\}", text, re.S):
        assert "proxy_set_header" not in block and "add_header" not in block


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


class _Backend(BaseHTTPRequestHandler):
    """Stands in for Datasette behind the proxy: records each request's headers, sets a cookie as a sign-in does."""

    seen: list[dict[str, str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).seen.append({key.lower(): value for key, value in self.headers.items()})
        self.send_response(200)
        self.send_header("Set-Cookie", "ds_actor=signed; Path=/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


_NO_NGINX = shutil.which("nginx") is None or shutil.which("openssl") is None


# Skipped on a machine without nginx; under CI (.ci/run installs nginx-light and openssl) it must run.
@pytest.mark.skipif(_NO_NGINX and not os.environ.get("CI"), reason="nginx or openssl is not installed")
def test_the_proxy_as_nginx_runs_it(tmp_path: Path) -> None:
    if _NO_NGINX:
        pytest.fail("CI=true: the proxy test must run in CI; .ci/run installs nginx-light and openssl")
    backend = ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    http_port, https_port = free_port(), free_port()
    site = (DEPLOY / "nginx-reposync.conf").read_text(encoding="utf-8")
    site = (site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
            .replace("/etc/letsencrypt/live/reviews.example.org/fullchain.pem", str(tmp_path / "cert.pem"))
            .replace("/etc/letsencrypt/live/reviews.example.org/privkey.pem", str(tmp_path / "key.pem"))
            .replace("http://127.0.0.1:8001", f"http://127.0.0.1:{backend.server_address[1]}"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\npid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ access_log off; {temp} include {tmp_path / 'site.conf'}; }}\n", encoding="utf-8")
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{https_port}"
    try:
        with httpx.Client(verify=False, timeout=5) as client:
            deadline = time.monotonic() + 20
            while True:
                assert nginx.poll() is None, nginx.stdout.read().decode() if nginx.stdout else ""
                try:
                    page = client.get(base + "/catalogue", headers={"Authorization": "Basic bGlicmFyaWFuOmd1ZXNz"})
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            assert page.status_code == 200
            assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
            assert "secure" in page.headers["Set-Cookie"].lower()  # the sign-in cookie travels over HTTPS only
            assert "authorization" not in _Backend.seen[-1]  # no Authorization header reaches Datasette
            assert _Backend.seen[-1]["x-forwarded-proto"] == "https" and _Backend.seen[-1]["host"]
            forms = [client.get(base + "/-/login").status_code for _ in range(10)]
            assert forms == [200] * 10  # the sign-in page itself is not limited
            posts = [client.post(base + "/-/login", data={"username": "librarian", "password": f"guess {n}"})
                     .status_code for n in range(9)]
            assert posts == [200] * 6 + [429] * 3  # 6 a minute (one, and a burst of 5), the rest refused
            assert client.get(base + "/catalogue").status_code == 200  # reading is not limited
            assert httpx.get(f"http://127.0.0.1:{http_port}/x").headers["Location"].startswith("https://")
    finally:
        nginx.terminate()
        nginx.wait(10)
        backend.shutdown()
        backend.server_close()


def _forged_cookie(secret: str) -> str:
    """A librarian's sign-in cookie, as anyone who knows ``secret`` can make one."""
    from datasette.app import Datasette

    return Datasette([], secret=secret).sign({"a": {"id": "librarian"}}, "actor")


# The secret of deploy/serve.env.example as shipped, and the placeholder it shipped before issue 26.
@pytest.mark.parametrize("secret", [read_env_file(DEPLOY / "serve.env.example")["DATASETTE_SECRET"], "replace-me"],
                         ids=["the-example-file", "replace-me"])
def test_serve_refuses_a_secret_anyone_could_sign_a_cookie_with(tmp_path: Path, secret: str) -> None:
    pytest.importorskip("datasette_auth_passwords")
    from datasette_auth_passwords.utils import hash_password

    _, db_path = build_catalogue(tmp_path)
    port = free_port()
    env = dict(os.environ, DATASETTE_SECRET=secret,
               REPOSYNC_LIBRARIAN_PASSWORD_HASH=hash_password(PASSWORD, iterations=1000))
    process = subprocess.Popen([sys.executable, "-m", "reposync", "serve", "--config", str(CONFIG), "--db",
                                str(db_path), "--host", "127.0.0.1", "--port", str(port), "--no-root"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(base + "/-/versions.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        if process.poll() is None:  # it serves: whoever read the secret signs in as a librarian
            actor = httpx.get(base + "/-/actor.json", headers={"Cookie": f"ds_actor={_forged_cookie(secret)}"}).json()
            pytest.fail(f"serve started with DATASETTE_SECRET={secret!r}; a forged cookie is {actor}")
        said = process.stdout.read().decode() if process.stdout else ""
        assert process.returncode == 2, said
        assert "refusing to serve" in said and "DATASETTE_SECRET" in said and "token_hex(32)" in said
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
    env = dict(os.environ, PYTHONUNBUFFERED="1", DATASETTE_SECRET=secrets.token_hex(32),
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
            forged = httpx.get(base + "/-/actor.json", headers={"Cookie": f"ds_actor={_forged_cookie('replace-me')}"})
            assert forged.json() == {"actor": None}  # signed with the secret the example once shipped: nobody
        assert _decision(db_path, local, national) is None

        with httpx.Client(base_url=base, timeout=10) as librarian:
            token = _csrftoken(librarian, "/-/login")
            signed_in = librarian.post("/-/login", data={"username": "librarian", "password": PASSWORD,
                                                         "csrftoken": token})
            assert signed_in.status_code == 302 and "ds_actor" in librarian.cookies
            assert librarian.get("/-/actor.json").json() == {"actor": {"id": "librarian"}}
            token = _csrftoken(librarian, "/catalogue/accept_link?" + "&".join(f"{k}={v}" for k, v in form.items()))
            # Not a candidate pair: the accept guard wants force = yes (issue 24)
            accepted = librarian.post("/catalogue/accept_link", data=form | {"force": "yes", "csrftoken": token})
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
