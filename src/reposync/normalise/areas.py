"""Area and board names -> canonical area and ONS local-authority codes.

``config/areas.toml`` lists each area once with its codes and aliases. Names
are compared by ``area_key``, which drops case, punctuation and the body-type
words that partnerships wear and change ("Safeguarding Children Board",
"LSCB", "Partnership", "Council"), so aliases need only list names that differ
in substance ("City of York", "CYSCB").
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

_NON_WORD = re.compile(r"[^a-z0-9]+")
# Body-type words, longest first, dropped from the end of a name.
_SUFFIXES = sorted(
    [
        "local safeguarding children board",
        # Welsh regional boards, and partnerships that name their arrangement ("Kent Safeguarding Children
        # Multi-Agency Partnership", "Wolverhampton Safeguarding Together").
        "regional safeguarding children board",
        "regional safeguarding board",
        "safeguarding children multi agency partnership",
        "multi agency safeguarding partnership",
        "multi agency safeguarding arrangements",
        "multi agency partnership",
        "safeguarding together",
        "local safeguarding children partnership",
        "safeguarding children board",
        "safeguarding children partnership",
        "safeguarding childrens partnership",
        "safeguarding childrens board",
        "children safeguarding partnership",
        "childrens safeguarding partnership",
        "safeguarding partnership",
        "safeguarding board",
        "partnership",
        "lscb",
        "lscp",
        "scb",
        "scp",
        "metropolitan borough council",
        "county borough council",
        "borough council",
        "county council",
        "city council",
        "district council",
        "council",
        "borough",
    ],
    key=len,
    reverse=True,
)
_PREFIXES = ["london borough of", "royal borough of", "the"]


def area_key(name: str) -> str:
    """"Norfolk Safeguarding Children Board" -> "norfolk"; "Brighton & Hove" -> "brighton and hove"."""
    key = _NON_WORD.sub(" ", name.lower().replace("&", " and ").replace("'", "")).strip()
    key = re.sub(r"\s+", " ", key)
    changed = True
    while changed and key:
        changed = False
        for suffix in _SUFFIXES:
            if key.endswith(" " + suffix) or key == suffix:
                stripped = key[: -len(suffix)].strip()
                if stripped:
                    key, changed = stripped, True
                    break
        for prefix in _PREFIXES:
            if key.startswith(prefix + " "):
                key, changed = key[len(prefix) + 1 :], True
    return key


@dataclass(frozen=True)
class Area:
    name: str
    codes: tuple[str, ...]
    nation: str = "england"
    aliases: tuple[str, ...] = field(default=())


@dataclass
class AreaIndex:
    areas: dict[str, Area]  # canonical name -> area
    by_key: dict[str, Area]
    anonymous_keys: set[str]
    path: Path | None = None

    def lookup(self, name: str) -> Area | None:
        return self.by_key.get(area_key(name))

    def suggest(self, name: str) -> str:
        """" (did you mean 'York'?)" when a name or alias is close to the unknown ``name``, else ""."""
        close = difflib.get_close_matches(area_key(name), list(self.by_key), n=2, cutoff=0.6)
        names = list(dict.fromkeys(self.by_key[key].name for key in close))
        return f" (did you mean {' or '.join(map(repr, names))}?)" if names else ""

    def is_anonymous(self, name: str) -> bool:
        return area_key(name) in self.anonymous_keys


_CODE = re.compile(r"^[EWSN]\d{8}$")


def load_areas(path: Path | str) -> AreaIndex:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    areas: dict[str, Area] = {}
    by_key: dict[str, Area] = {}
    for number, item in enumerate(data.get("area", []), 1):
        where = f"area[{number}]"
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(path, f"{where}.name", "must be a non-empty string")
        codes = item.get("codes")
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) and _CODE.match(c) for c in codes):
            raise ConfigError(path, f"{where}.codes", f"must be a list of ONS codes like E06000014, got {codes!r}")
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ConfigError(path, f"{where}.aliases", "must be a list of strings")
        area = Area(name=name, codes=tuple(codes), nation=item.get("nation", "england"), aliases=tuple(aliases))
        if name in areas:
            raise ConfigError(path, f"{where}.name", f"{name!r} is listed twice")
        areas[name] = area
        for alias in (name, *aliases):
            key = area_key(alias)
            other = by_key.get(key)
            if other is not None and other.name != name:
                raise ConfigError(path, f"{where}.aliases", f"{alias!r} also names {other.name!r}")
            by_key[key] = area
    anonymous = data.get("anonymous", [])
    if not isinstance(anonymous, list) or not all(isinstance(a, str) for a in anonymous):
        raise ConfigError(path, "anonymous", "must be a list of strings")
    return AreaIndex(areas=areas, by_key=by_key, anonymous_keys={area_key(a) for a in anonymous}, path=path)
