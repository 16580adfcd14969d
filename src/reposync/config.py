"""Load and check ``config/sources.toml`` (and the areas file it names) into typed objects.

Every problem is a ``ConfigError`` naming the file, the key and what is wrong,
found before anything is fetched (exit 2).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from . import __version__, settings
from .errors import ConfigError, did_you_mean
from .normalise.areas import Area, AreaIndex, load_areas
from .parsers import OPTIONS, PARSERS  # one way: config knows the parsers; parsers know nothing of config

KINDS = ("local", "national")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Crawl:
    delay: float = settings.DELAY_SECONDS
    timeout: float = settings.TIMEOUT_READ
    user_agent: str = settings.USER_AGENT.format(version=__version__)
    max_bytes: int = settings.MAX_BYTES
    retries: int = settings.RETRIES
    full_walk_days: int = settings.FULL_WALK_DAYS
    check_links_days: int = settings.CHECK_LINKS_DAYS  # report links checked by a sync this often (0: never)
    check_links_hosts: tuple[str, ...] = ()  # hosts ("host" or "host:port") whose report links may be checked
    max_hosts: int = settings.MAX_HOSTS


@dataclass(frozen=True)
class Documents:
    """``[documents]``: whether a sync fetches and reads the report documents entries link (local sources and
    the yearly lists), their own size cap, and the hosts off a source's site they may be fetched from."""

    fetch: bool = True
    max_bytes: int = settings.DOCUMENTS_MAX_BYTES
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Paths:
    db: Path
    snapshots: Path
    reports: Path
    areas: Path
    decisions: Path
    register: Path  # the register of every partnership (config/partnerships.toml): completeness's national picture


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    parser: str
    url: str
    area: Area | None = None  # local sources only
    entry_selector: str | None = None
    date_pattern: str | None = None

    @property
    def site(self) -> tuple[str, str, int | None]:
        return site_of(self.url)

    @property
    def has_documents(self) -> bool:
        """Whether its entries' report documents are fetched (when ``[documents] fetch`` is on)."""
        return self.kind == "local" or self.parser in settings.DOCUMENT_PARSERS


@dataclass
class Config:
    path: Path
    crawl: Crawl
    paths: Paths
    sources: list[Source]
    areas: AreaIndex = field(repr=False)
    documents: Documents = field(default_factory=Documents)

    def select(self, ids: tuple[str, ...] | list[str]) -> list[Source]:
        """The sources named by ``--source`` (all when none are named)."""
        if not ids:
            return list(self.sources)
        known = {s.id.casefold(): s for s in self.sources}  # case-insensitive, as areas are
        unknown = [i for i in ids if i.casefold() not in known]
        if unknown:
            hint = did_you_mean(unknown[0], [s.id for s in self.sources])
            raise ConfigError(self.path, "source", f"no source with id {', '.join(map(repr, unknown))}{hint}")
        return [known[i.casefold()] for i in ids]


def site_of(url: str) -> tuple[str, str, int | None]:
    """A site is the scheme, host and port of a URL (port made explicit).

    A URL that does not parse ("//[evil", a port over 65535) is no site: ``("", "", None)``,
    never equal to a source's.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return "", "", None
    return parts.scheme, (parts.hostname or "").lower(), port


def _check_url(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, key, "must be a string URL")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise ConfigError(path, key, f"must be an http(s) URL with a host, got {value!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(path, key, f"must be an http(s) URL with a host, got {value!r}")
    import httpx  # late: only to ask whether the fetcher will take it

    try:
        httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ConfigError(path, key, f"not a URL the fetcher can request, {value!r}: {exc}") from None
    return value


def _number(path: Path, table: dict, key: str, default: float, *, integer: bool = False, minimum: float = 0):
    value = table.get(key, default)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ConfigError(path, f"crawl.{key}", f"must be a {'whole ' if integer else ''}number, got {value!r}")
    if not math.isfinite(value):  # TOML has inf and nan: a pause of inf never ends, one of nan never starts
        raise ConfigError(path, f"crawl.{key}", f"must be a finite number, got {value!r}")
    if value < minimum:
        raise ConfigError(path, f"crawl.{key}", f"must be at least {minimum}, got {value!r}")
    return value


def _crawl(path: Path, table: Any) -> Crawl:
    if not isinstance(table, dict):
        raise ConfigError(path, "crawl", "must be a table")
    unknown = set(table) - {f for f in Crawl.__dataclass_fields__}
    if unknown:
        raise ConfigError(path, f"crawl.{sorted(unknown)[0]}", "unknown setting")
    defaults = Crawl()
    user_agent = table.get("user_agent", defaults.user_agent)
    if not isinstance(user_agent, str) or "http" not in user_agent:
        raise ConfigError(path, "crawl.user_agent", "must name reposync and a contact URL")
    return Crawl(
        delay=float(_number(path, table, "delay", defaults.delay)),
        timeout=float(_number(path, table, "timeout", defaults.timeout, minimum=0.001)),
        user_agent=user_agent,
        max_bytes=_number(path, table, "max_bytes", defaults.max_bytes, integer=True, minimum=1),
        retries=_number(path, table, "retries", defaults.retries, integer=True),
        full_walk_days=_number(path, table, "full_walk_days", defaults.full_walk_days, integer=True, minimum=1),
        check_links_days=_number(path, table, "check_links_days", defaults.check_links_days, integer=True),
        check_links_hosts=_hosts(path, table.get("check_links_hosts", [])),
        max_hosts=_number(path, table, "max_hosts", defaults.max_hosts, integer=True, minimum=1),
    )


def _documents(path: Path, table: Any) -> Documents:
    if not isinstance(table, dict):
        raise ConfigError(path, "documents", "must be a table")
    unknown = set(table) - set(Documents.__dataclass_fields__)
    if unknown:
        raise ConfigError(path, f"documents.{sorted(unknown)[0]}", "unknown setting")
    fetch = table.get("fetch", True)
    if not isinstance(fetch, bool):
        raise ConfigError(path, "documents.fetch", f"must be true or false, got {fetch!r}")
    cap = table.get("max_bytes", settings.DOCUMENTS_MAX_BYTES)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ConfigError(path, "documents.max_bytes", f"must be a whole number of bytes, at least 1, got {cap!r}")
    hosts = _hosts(path, table.get("hosts", []), "documents.hosts", ports=False)  # matched by host name alone
    return Documents(fetch=fetch, max_bytes=cap, hosts=hosts)


def _hosts(path: Path, value: Any, key: str = "crawl.check_links_hosts", *, ports: bool = True) -> tuple[str, ...]:
    """Host names, as a URL would carry them (no scheme or path), each with a port where not http's or https's
    (``ports``: ``[documents] hosts`` are matched by host name alone, so they take none)."""
    if not isinstance(value, list):
        raise ConfigError(path, key, "must be a list of host names")
    hosts = []
    for item in value:
        match = re.fullmatch(r"([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?", item) if isinstance(item, str) else None
        if match is None or not match[1].strip(".-") or (match[2] and not (ports and 0 < int(match[2]) < 65536)):
            raise ConfigError(path, key, f"must be host names such as \"library.nspcc.org.uk\"" + (
                " (or \"host:port\")" if ports else "") + f", got {item!r}")
        hosts.append(item.lower())
    return tuple(hosts)


def _paths(path: Path, table: Any) -> Paths:
    if not isinstance(table, dict):
        raise ConfigError(path, "paths", "must be a table")
    defaults = {
        "db": settings.DB_PATH,
        "snapshots": settings.SNAPSHOTS_PATH,
        "reports": settings.REPORTS_PATH,
        "areas": "areas.toml",
        "decisions": settings.DECISIONS_PATH,
        "register": settings.REGISTER_PATH,
    }
    unknown = set(table) - set(defaults)
    if unknown:
        raise ConfigError(path, f"paths.{sorted(unknown)[0]}", "unknown path")
    resolved = {}
    for key, default in defaults.items():
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(path, f"paths.{key}", "must be a non-empty string")
        # Relative to the config's folder, so cron may run from anywhere.
        resolved[key] = (path.parent / value).resolve()
        _check_place(path, f"paths.{key}", resolved[key], folder=key in _FOLDERS)
    return Paths(**resolved)


_FOLDERS = ("snapshots", "reports")  # the other paths name files


def _check_place(path: Path, key: str, place: Path, *, folder: bool) -> None:
    """Where a path may go is the user's choice; that it can be a file (or a folder) there is checked now."""
    try:
        if place.exists():
            if folder and not place.is_dir():
                raise ConfigError(path, key, f"{place} is a file, not a folder")
            if not folder and place.is_dir():
                raise ConfigError(path, key, f"{place} is a folder, not a file")
            return
        for parent in place.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ConfigError(path, key, f"{place} cannot be made: {parent} is a file")
                return
    except OSError as exc:  # e.g. a folder on the way that may not be read
        raise ConfigError(path, key, f"{place} cannot be used: {exc.strerror or exc}") from None


def _source(path: Path, number: int, table: Any, areas: AreaIndex, seen: dict[str, Path]) -> Source:
    where = f"source[{number}]"
    if not isinstance(table, dict):
        raise ConfigError(path, where, "must be a table")
    unknown = set(table) - set(Source.__dataclass_fields__)
    if unknown:
        raise ConfigError(path, f"{where}.{sorted(unknown)[0]}", "unknown key")
    for key in ("id", "kind", "parser", "url"):
        if key not in table:
            raise ConfigError(path, f"{where}.{key}", "is required")
    source_id = table["id"]
    if not isinstance(source_id, str) or not _ID.match(source_id):
        raise ConfigError(path, f"{where}.id", f"must be lower-case letters, digits, - or _, got {source_id!r}")
    if source_id in seen:
        first = seen[source_id]
        if first == path:
            raise ConfigError(path, f"{where}.id", f"{source_id!r} is used twice")
        raise ConfigError(path, f"{where}.id", f"{source_id!r} is already a source in {first}")
    seen[source_id] = path
    where = f"source {source_id!r}"
    kind = table["kind"]
    if kind not in KINDS:
        raise ConfigError(path, f"{where}.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    parser = table["parser"]
    if not isinstance(parser, str) or parser not in PARSERS:
        raise ConfigError(path, f"{where}.parser", f"unknown parser {parser!r}; known: {', '.join(sorted(PARSERS))}")
    url = _check_url(path, f"{where}.url", table["url"])
    area = None
    if kind == "local":
        name = table.get("area")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(path, f"{where}.area", "a local source needs its area")
        area = areas.lookup(name)
        if area is None:
            raise ConfigError(path, f"{where}.area", f"unknown area {name!r}: not in {areas.path}")
    for key in ("entry_selector", "date_pattern"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(path, f"{where}.{key}", "must be a string")
    if "date_pattern" in table:
        try:
            re.compile(table["date_pattern"])
        except re.error as exc:
            raise ConfigError(path, f"{where}.date_pattern", f"not a valid regular expression: {exc}") from None
    if "entry_selector" in table:
        if "entry_selector" not in OPTIONS.get(parser, ()):
            raise ConfigError(path, f"{where}.entry_selector", f"the {parser!r} parser takes no entry_selector")
        try:  # found now, not at parse time: a bad selector is a config error (exit 2)
            LexborHTMLParser("<p></p>").css(table["entry_selector"])
        except SelectolaxError as exc:
            raise ConfigError(path, f"{where}.entry_selector", f"not a valid CSS selector: {exc}") from None
    return Source(
        id=source_id,
        kind=kind,
        parser=parser,
        url=url,
        area=area,
        entry_selector=table.get("entry_selector"),
        date_pattern=table.get("date_pattern"),
    )


SOURCES_DIR = "sources.d"  # beside the config file: more [[source]] tables, one file per group of sources


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, None, "config file not found: pass --config FILE, or set REPOSYNC_CONFIG to it "
                                      "(the default, config/sources.toml, is read from the current folder)") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    except OSError as exc:  # a folder named *.toml, a file that may not be read
        raise ConfigError(path, None, f"cannot be read: {exc.strerror or exc}") from None


def source_files(path: Path) -> list[Path]:
    """``sources.d/*.toml`` beside the config file, in name order (read after the config file itself)."""
    folder = path.parent / SOURCES_DIR
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.toml"), key=lambda p: p.name)


def load_config(path: Path | str) -> Config:
    """The config file, then ``sources.d/*.toml`` beside it in name order: one list of sources.

    The extra files hold ``[[source]]`` tables only (crawl settings and paths stay in
    the config file); a source id used in two files is an error naming both.
    """
    path = Path(path).resolve()
    data = _read_toml(path)
    unknown = set(data) - {"crawl", "paths", "source", "documents"}
    if unknown:
        raise ConfigError(path, sorted(unknown)[0], "unknown table or key")
    crawl = _crawl(path, data.get("crawl", {}))
    paths = _paths(path, data.get("paths", {}))
    areas = load_areas(paths.areas)
    tables: list[tuple[Path, Any]] = [(path, data.get("source", []))]
    for extra in source_files(path):
        more = _read_toml(extra)
        unknown = set(more) - {"source"}
        if unknown:
            raise ConfigError(extra, sorted(unknown)[0], f"only [[source]] tables belong in {SOURCES_DIR}/ "
                                                         f"(crawl and paths are set in {path.name})")
        tables.append((extra, more.get("source", [])))
    seen: dict[str, Path] = {}
    sources = []
    for file, raw_sources in tables:
        if not isinstance(raw_sources, list):
            raise ConfigError(file, "source", f"no [[source]] tables: a {type(raw_sources).__name__} instead")
        sources += [_source(file, n, table, areas, seen) for n, table in enumerate(raw_sources, 1)]
    if not sources:
        raise ConfigError(path, "source", "no [[source]] tables: nothing to sync")
    return Config(path=path, crawl=crawl, paths=paths, sources=sources, areas=areas,
                  documents=_documents(path, data.get("documents", {})))
