"""The records that flow through the pipeline, one stage to the next."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
