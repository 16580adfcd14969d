"""The records that flow through the pipeline, one stage to the next."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a walk's entries may be spilled to disk (archive/spool.py, a floor above)
    from .archive.spool import Spool


@dataclass
class RawEntry:
    """One entry as a parser read it off a page: text as written, nothing inferred."""

    title: str  # the title as written (without area, date or type prefix)
    page_url: str  # the page the entry was read from
    date_text: str | None = None  # the date as written: "published 31/01/11", "December 2013"
    area_text: str | None = None  # area or board as written: "Anonymous", "Norfolk Safeguarding Children Board"
    heading: str | None = None  # the whole heading or line, as written
    summary: str | None = None
    url: str | None = None  # absolute URL of the report, when the entry links one
    copy_number: str | None = None  # library records only: the stable national key
    type_text: str | None = None  # any words that name the kind of review
    keywords: list[str] = field(default_factory=list)
    note: str | None = None  # free text after the date on local pages
    details: dict[str, str] = field(default_factory=dict)  # labelled sections: learning, recommendations, ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParseResult:
    entries: list[RawEntry]
    next_url: str | None = None  # the next page or record of the same listing, absolute
    meta: dict[str, str] = field(default_factory=dict)  # page-level facts: last updated, list year
    layout: str | None = None  # fingerprint of how the page's entries are laid out: the containers and classes they were found in, never text
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (text as written, why it was not taken as an entry)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [e.to_dict() for e in self.entries],
            "next_url": self.next_url,
            "meta": self.meta,
            "layout": self.layout,
            "skipped": [list(pair) for pair in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseResult:
        """The inverse of ``to_dict`` (a stored parse); KeyError or TypeError when it does not fit."""
        return cls(
            entries=[RawEntry(**entry) for entry in data["entries"]],
            next_url=data["next_url"],
            meta=data["meta"],
            layout=data["layout"],
            skipped=[(str(text), str(why)) for text, why in data["skipped"]],
        )


@dataclass
class SourceOutcome:
    """What one source's walk gave: entries (normalised rows), or an error."""

    source: str
    departure: str  # the status an entry takes when a complete walk no longer finds it
    entries: list[dict[str, Any]] | Spool = field(default_factory=list)  # a walk's are a Spool
    complete: bool = False
    error: str | None = None
    error_url: str | None = None
    exit_code: int = 0
    pages: int = 0
    walk: str = "full"  # or "incremental": stopped at a run of known, unchanged records (never complete)
    newest_first: bool | None = None  # the walk found publication years non-increasing (None: not walked)
    layout: str | None = None  # fingerprint of how the walk's pages lay out their entries (None: none given)
    held: int = 0  # departures held because the layout changed (set when the run is applied)
    cut_short: bool = False  # the walk ended before the end its listing declares (``error`` says where)
    # The configured page answered a redirect and was read where it led: {"from", "to", "status", "off_site"}.
    moved: dict[str, Any] | None = None
    # The configured page answered 404 or 410: {"url", "status", "home", "candidates", ...} (crawl/moves.py)
    gone: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "entries": len(self.entries),
            "pages": self.pages,
            "complete": self.complete,
            "error": self.error,
            "exit_code": self.exit_code,  # the source's own (doctor: a 65 beside another source's 75)
            "url": self.error_url,
            "walk": self.walk,
            "newest_first": self.newest_first,
            "layout": self.layout,
            "held": self.held,
            "cut_short": self.cut_short,
            **({"moved": self.moved} if self.moved else {}),  # only when there is one: older runs' JSON as it was
            **({"gone": self.gone} if self.gone else {}),
        }


# Fields whose change makes a new version of an entry (git-history style).
CONTENT_FIELDS = (
    "title",
    "heading",
    "summary",
    "published",
    "published_precision",
    "date_text",
    "area_text",
    "area",
    "la_codes",
    "pseudonyms",
    "review_type",
    "report_url",
    "copy_number",
    "keywords",
    "note",
    "details",
)


# json.dumps(value, sort_keys=True, ensure_ascii=False) makes an encoder each call: this one is made once.
_JSON_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def content_hash(row: dict[str, Any]) -> str:
    content = {name: row.get(name) for name in CONTENT_FIELDS}
    return hashlib.sha256(_JSON_SORTED(content).encode()).hexdigest()
