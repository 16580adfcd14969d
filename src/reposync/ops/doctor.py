"""``reposync doctor``: is the nightly job healthy? One check a line, with OK or what to do.

Each check reads only: the catalogue is opened read-only (no migration is
applied, nothing is created), the lock is looked at without being taken, and
the archive's objects are rehashed. A check says OK, ACT (a person must do what
the line says: exit 65) or WAIT (it is temporary and should clear by itself:
exit 75); SKIP when an earlier failure leaves nothing to check. A person's work
wins: any ACT exits 65.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlite_utils

from .. import settings
from ..config import Config, load_config
from ..errors import EXIT_DATA, EXIT_OK, EXIT_TEMPORARY, ConfigError
from ..archive.snapshots import Archive, DamagedSnapshot

OK, ACT, WAIT, SKIP = "OK", "ACT", "WAIT", "SKIP"


@dataclass
class Check:
    state: str  # OK, ACT, WAIT or SKIP
    name: str
    message: str

    def line(self, width: int = 12) -> str:
        return f"{self.state:<5} {self.name:<{width}} {self.message}"


def exit_code(checks: list[Check]) -> int:
    states = {check.state for check in checks}
    if ACT in states:
        return EXIT_DATA
    if WAIT in states:
        return EXIT_TEMPORARY
    return EXIT_OK


def _ago(then: str | None, now: datetime) -> str:
    if not then:
        return "at an unknown time"
    try:
        seconds = (now - datetime.fromisoformat(then)).total_seconds()
    except ValueError:
        return f"at {then}"
    if seconds < 120:
        return f"{max(0, int(seconds))} s ago"
    if seconds < 2 * 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def run(config_path: Path, db_path: Path | None = None, *, max_age_days: float = settings.DOCTOR_MAX_AGE_DAYS,
        full: bool = False, now: datetime | None = None, serve_env: Path | None = None,
        environ: Mapping[str, str] | None = None) -> Iterator[Check]:
    """Every check, in order, as it is made."""
    now = now or datetime.now(timezone.utc)
    config: Config | None = None
    try:
        config = load_config(config_path)
        yield Check(OK, "config", f"{config.path} loads: {len(config.sources)} sources")
    except ConfigError as exc:
        yield Check(ACT, "config", f"{exc}: fix it (README, Configuration)")
    db_path = Path(db_path) if db_path else (config.paths.db if config else None)
    db = None
    if db_path is None:
        yield Check(SKIP, "catalogue", "no config to say where it is (give --db)")
    else:
        db, check = _open(db_path)
        yield check
    try:
        if db is None:
            for name in ("migrations", "lock", "last run", "held", "sources"):
                yield Check(SKIP, name, "no catalogue to look at")
        else:
            yield _migrations(db)
            lock, holder = _lock(db_path)
            yield lock
            yield _last_run(db, holder is not None, now)
            yield _held(db, config)
            if config is None:
                yield Check(SKIP, "sources", "no config to list them")
            else:
                yield from _sources(db, config, max_age_days, now)
    finally:
        if db is not None:
            db.close()
    if config is None:
        yield Check(SKIP, "archive", "no config to say where it is")
        yield Check(SKIP, "disk", "no config to say where the archive is")
    else:
        yield _archive(Archive(config.paths.snapshots), full)
        yield _disk(config.paths.snapshots, db_path)
    secrets = _secrets(serve_env, os.environ if environ is None else environ)
    if secrets is not None:
        yield secrets


# -- the catalogue -----------------------------------------------------------------
def _open(path: Path) -> tuple[sqlite_utils.Database | None, Check]:
    if not path.is_file():
        return None, Check(ACT, "catalogue", f"no catalogue at {path}: run `reposync sync` (or check [paths] db)")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        conn.execute(f"PRAGMA busy_timeout = {5000}")
        found = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None, Check(WAIT, "catalogue", f"{path} is busy ({exc}): try again in a minute")
        return None, Check(ACT, "catalogue", f"{path} cannot be read: {exc}: restore it from a backup")
    except sqlite3.DatabaseError as exc:
        return None, Check(ACT, "catalogue", f"{path} is not a readable SQLite catalogue ({exc}): restore it "
                                             "from a backup")
    if found != ["ok"]:
        conn.close()
        problems = "; ".join(found[:3]) + (f" (and {len(found) - 3} more)" if len(found) > 3 else "")
        return None, Check(ACT, "catalogue", f"{path} fails PRAGMA quick_check: {problems}: restore it from a "
                                             "backup (`sqlite3 catalogue.db .recover` may save what is left)")
    size = path.stat().st_size
    return sqlite_utils.Database(conn), Check(OK, "catalogue", f"{path}: quick_check ok ({_size(size)})")


def _migrations(db: sqlite_utils.Database) -> Check:
    from ..catalogue import migrations

    try:
        applied = [m.name for m in migrations.applied(db)]
    except sqlite3.DatabaseError as exc:
        return Check(ACT, "migrations", f"cannot read _sqlite_migrations: {exc}")
    known = [m.name for m in migrations._migrations]
    unknown = [name for name in applied if name not in known]
    if unknown:
        return Check(ACT, "migrations", f"the catalogue has migrations this reposync does not know "
                                        f"({', '.join(unknown)}): upgrade reposync")
    pending = [name for name in known if name not in applied]
    if pending:
        return Check(WAIT, "migrations", f"{len(pending)} pending ({', '.join(pending)}): the next sync applies "
                                         "them (or run `reposync sync` now)")
    return Check(OK, "migrations", f"current: {len(applied)} applied, the last {applied[-1]}")


def lock_holder(lock_path: Path) -> int | None:
    """The pid that holds the sync lock (a flock on the file), or None when it is free; the lock is not taken."""
    try:
        stat = lock_path.stat()
    except FileNotFoundError:
        return None
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return _try_lock(lock_path)
    for line in text.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:2147329 0 EOF" (a blocked waiter has "->" after the number)
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        try:
            major, minor, inode = fields[5].split(":")
            if int(inode) == stat.st_ino and os.makedev(int(major, 16), int(minor, 16)) == stat.st_dev:
                return int(fields[4])
        except ValueError:
            continue
    return None


def _try_lock(lock_path: Path) -> int | None:
    """Where /proc/locks cannot be read: take the lock for an instant (a sync starting then would exit 75)."""
    import fcntl

    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _lock(db_path: Path) -> tuple[Check, int | None]:
    lock_path = db_path.with_name(db_path.name + ".lock")
    holder = lock_holder(lock_path)
    if holder is None:
        return Check(OK, "lock", f"{lock_path} is free"), None
    if holder > 0 and not _alive(holder):
        return Check(ACT, "lock", f"{lock_path} is held by pid {holder}, which is not running: find the holder "
                                  f"(`fuser {lock_path}`) and stop it"), holder
    return Check(OK, "lock", f"{lock_path} is held by a live process (pid {holder}): a sync is running"), holder


def _last_run(db: sqlite_utils.Database, locked: bool, now: datetime) -> Check:
    row = db.execute(
        "SELECT id, mode, started_at, finished_at, status, exit_code, sources FROM runs "
        "WHERE mode IS NOT 'link-check' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return Check(ACT, "last run", "no sync has run: run `reposync sync`")
    run_id, mode, started, finished, status, code, sources = row
    if status == "running":
        if locked:
            return Check(OK, "last run", f"run {run_id} ({mode}) is running, started {_ago(started, now)}")
        return Check(ACT, "last run", f"run {run_id} ({mode}), started {_ago(started, now)}, never finished (its "
                                      "process died): read the sync's log; the next sync marks it crashed")
    if status == "crashed" or not finished:
        return Check(ACT, "last run", f"run {run_id} ({mode}), started {_ago(started, now)}, crashed: read the "
                                      "sync's log, then run `reposync sync`")
    when = f"run {run_id} ({mode}) finished {finished}, {_ago(finished, now)}"
    failed = _failures(sources)
    if not code:
        return Check(OK, "last run", f"{when}: {status}")
    detail = f"{when}: {status}, exit {code}" + (f"; failed: {failed}" if failed else "")
    needs_person = _needs_person(sources)
    if needs_person:  # the run's 75 (a host was down) must not hide a source that needs a person (65)
        return Check(ACT, "last run", f"{detail}; needs a person: {needs_person}: see `reposync report --run "
                                      f"{run_id}`")
    if code == EXIT_TEMPORARY:
        return Check(WAIT, "last run", f"{detail}: temporary, the next sync tries again")
    return Check(ACT, "last run", f"{detail}: see `reposync report --run {run_id}`")


def _failures(sources: str | None) -> str:
    try:
        outcomes = json.loads(sources or "{}")
    except ValueError:
        return ""
    failed = [f"{name} ({outcome.get('error')})" for name, outcome in outcomes.items()
              if isinstance(outcome, dict) and outcome.get("error")]
    return ", ".join(failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")


def _needs_person(sources: str | None) -> str:
    """The sources of a run that failed 65 on their own (a page that no longer parses, a 404), though the run's
    exit code, the highest, may be another source's 75. (Held departures are the "held" check's.)"""
    try:
        outcomes = json.loads(sources or "{}")
    except ValueError:
        return ""
    found = [f"{name} ({outcome['error']})" for name, outcome in outcomes.items()
             if isinstance(outcome, dict) and outcome.get("error") and outcome.get("exit_code") == EXIT_DATA]
    return ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")


def _held(db: sqlite_utils.Database, config: Config | None) -> Check:
    """Departures held because a page's layout changed wait for a person, whatever the last run's exit code."""
    try:
        rows = db.execute("SELECT source, held_entries, held_run, accepted_layout = held_layout FROM sources_layout "
                          "WHERE held_layout IS NOT NULL ORDER BY source").fetchall()
    except sqlite3.OperationalError:  # a catalogue from before m003: nothing can be held in it
        return Check(SKIP, "held", "no sources_layout table yet: the next sync makes it")
    configured = {s.id for s in config.sources} if config else None
    rows = [row for row in rows if configured is None or row[0] in configured]
    waiting = [f"{source} ({entries} since run {first})" for source, entries, first, accepted in rows if not accepted]
    if waiting:
        return Check(ACT, "held", f"departures held because a page's layout changed: {', '.join(waiting)}: look at "
                                  "each page (`reposync sources check ID`), then `reposync sources accept-layout ID`")
    if rows:
        return Check(WAIT, "held", f"held departures accepted, applied by the next sync: "
                                   f"{', '.join(row[0] for row in rows)}")
    return Check(OK, "held", "no departures held")


def _sources(db: sqlite_utils.Database, config: Config, max_age_days: float, now: datetime) -> Iterator[Check]:
    # Freshness is of live walks only: a replay of the snapshot archive (--offline) says nothing of the sites.
    if db.execute("SELECT 1 FROM runs WHERE mode = 'live' AND finished_at IS NOT NULL LIMIT 1").fetchone() is None:
        yield Check(ACT, "source", "no live walk yet: this catalogue has only replayed the snapshot archive "
                                   "(offline runs); run `reposync sync` (no --offline: the nightly job's command), "
                                   "then `reposync doctor` again")
        return
    limit = timedelta(days=max_age_days)
    width = max(len(s.id) for s in config.sources)
    for source in config.sources:
        path = f'$."{source.id}"'  # source ids are [a-z0-9_-]: safe inside a quoted JSON path
        good = db.execute(
            "SELECT id, mode, started_at FROM runs WHERE finished_at IS NOT NULL AND mode = 'live' "
            "AND json_valid(sources) AND json_type(sources, ?) = 'object' "
            "AND json_extract(sources, ? || '.error') IS NULL ORDER BY id DESC LIMIT 1", [path, path]).fetchone()
        name = f"{source.id:<{width}}"
        if good is None:
            yield Check(ACT, "source", f"{name} no successful live walk on record: run `reposync sync --source "
                                       f"{source.id}` and read its error")
            continue
        run_id, mode, started = good
        age = now - datetime.fromisoformat(started)
        said = f"{name} last successful walk {_ago(started, now)} (run {run_id}, {mode})"
        if age <= limit:
            yield Check(OK, "source", said)
            continue
        last = db.execute(
            "SELECT id, json_extract(sources, ? || '.error') FROM runs WHERE finished_at IS NOT NULL "
            "AND json_valid(sources) AND json_type(sources, ?) = 'object' ORDER BY id DESC LIMIT 1",
            [path, path]).fetchone()
        why = f"; run {last[0]} said: {last[1]}" if last and last[1] else ""
        yield Check(ACT, "source", f"{said}, over --max-age {max_age_days:g} days{why}: see `reposync report` "
                                   "and the sync's log")


# -- the server's sign-in secrets ----------------------------------------------------
def _secrets(env_file: Path | None, environ: Mapping[str, str]) -> Check | None:
    """The secrets reposync-serve.service reads (its environment file), or this environment's when set; None
    when there is nothing to check (a machine that serves no one)."""
    from . import serve

    if env_file is not None:
        try:
            env, where = serve.read_env_file(env_file), str(env_file)
        except OSError as exc:
            return Check(ACT, "secrets", f"cannot read {env_file}: {exc.strerror or exc}")
    elif serve.SECRET in environ or serve.PASSWORD_HASH in environ:
        env, where = environ, "this environment"
    else:
        return None
    problems = serve.secret_problems(env)
    if problems:
        return Check(ACT, "secrets", f"{where}: {'; '.join(problems)}: `reposync serve` refuses to start; make "
                                     f"a secret with {serve.MAKE_SECRET} (README, \"Running it on a server\")")
    said = "set" if env.get(serve.SECRET) else "unset (a random one each start)"
    return Check(OK, "secrets", f"{where}: {serve.SECRET} {said}, no placeholder")


# -- the archive ----------------------------------------------------------------------
def _archive(archive: Archive, full: bool) -> Check:
    if not archive.manifest.exists():
        return Check(ACT, "archive", f"no snapshot archive at {archive.root} (no manifest.jsonl): check [paths] "
                                     "snapshots")
    try:
        hashes = sorted({row.sha256 for _, row in archive.scan() if row.sha256})  # a row at a time
    except ValueError as exc:
        return Check(ACT, "archive", f"the manifest does not read: {exc}: run `reposync snapshots verify`")
    sample = hashes if full or len(hashes) <= settings.DOCTOR_SAMPLE else random.sample(hashes,
                                                                                     settings.DOCTOR_SAMPLE)
    bad = []
    for digest in sample:
        try:
            archive.body(digest)
        except DamagedSnapshot as exc:
            bad.append(str(exc))
    scope = f"all {len(hashes)}" if len(sample) == len(hashes) else f"{len(sample)} of {len(hashes)} (a sample)"
    if bad:
        return Check(ACT, "archive", f"{len(bad)} of {scope} objects the manifest names are missing or damaged "
                                     f"(first: {bad[0]}): run `reposync snapshots verify`; a live sync fetches "
                                     "their pages again")
    return Check(OK, "archive", f"{scope} objects the manifest names rehashed: all match")


def _existing(place: Path) -> Path:
    while not place.exists() and place != place.parent:
        place = place.parent
    return place


def _disk(folder: Path, db_path: Path | None) -> Check:
    """Free space where the archive is, and where the catalogue is when that is another file system."""
    objects = folder / "objects"
    size = sum(entry.stat().st_size for entry in os.scandir(objects)) if objects.is_dir() else 0
    places = {os.stat(_existing(folder)).st_dev: (folder, f"where the archive is ({folder}, objects {_size(size)})")}
    if db_path is not None:
        places.setdefault(os.stat(_existing(db_path.parent)).st_dev,
                          (db_path.parent, f"where the catalogue is ({db_path.parent})"))
    said, short = [], False
    for place, what in places.values():
        free = shutil.disk_usage(_existing(place)).free
        said.append(f"{_size(free)} free {what}")
        short = short or free < settings.DOCTOR_MIN_FREE_BYTES
    if short:
        return Check(ACT, "disk", f"{'; '.join(said)}: under {_size(settings.DOCTOR_MIN_FREE_BYTES)}; free space, "
                                  "or `reposync snapshots prune --keep-days N`")
    return Check(OK, "disk", "; ".join(said))
