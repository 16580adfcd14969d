"""Raw entries -> catalogue rows: dates as intervals, pseudonym sets, areas, review types.

Everything here is a pure function of the raw entry, its source and the area
index, so a rebuild from the same snapshots gives the same rows.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ..models import RawEntry
from .areas import AreaIndex

if TYPE_CHECKING:  # the config is read above this floor; here only its shape is named
    from ..config import Source
from ..urls import web_url

# --- dates -------------------------------------------------------------------

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR4 = r"(?P<year>(?:19|20)\d\d)"

# Day-first only: British pages never put the month first.
_DATE_PATTERNS = [
    ("day", re.compile(r"\b(?P<day>\d{1,2})[/.](?P<month>\d{1,2})[/.](?P<year>\d{4}|\d{2})\b")),
    ("day", re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR4 + r"\b", re.I)),
    ("month", re.compile(r"\b" + _MONTH + r",?\s+" + _YEAR4 + r"\b", re.I)),
    ("year", re.compile(r"\b" + _YEAR4 + r"\b")),
]


@dataclass(frozen=True)
class Published:
    """A publication date as an interval: ``2014`` is the whole year, not 1 January."""

    value: str  # ISO text at its precision: YYYY, YYYY-MM or YYYY-MM-DD
    precision: str  # year | month | day
    start: date
    end: date

    @property
    def year(self) -> int:
        return self.start.year


def _full_year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:
        # 31/01/11 is 2011; a two-digit year beyond next year is last century.
        year += 2000 if year <= (today.year % 100) + 1 else 1900
    return year


def parse_date(text: str | None, *, today: date | None = None, pattern: str | None = None) -> Published | None:
    """Read the first date in ``text``, day-first, at the precision it is written."""
    if not text:
        return None
    today = today or date.today()
    patterns = _DATE_PATTERNS
    if pattern:
        custom = re.compile(pattern, re.I)
        precision = "day" if "day" in custom.groupindex else "month" if "month" in custom.groupindex else "year"
        patterns = [(precision, custom), *_DATE_PATTERNS]
    for precision, regex in patterns:
        for match in regex.finditer(text):
            parts = match.groupdict()
            try:
                year = _full_year(parts["year"], today)
                if precision == "year":
                    return Published(f"{year:04d}", "year", date(year, 1, 1), date(year, 12, 31))
                month_text = parts["month"]
                month = int(month_text) if month_text.isdigit() else _MONTHS[month_text.lower().rstrip(".")]
                last = calendar.monthrange(year, month)[1]
                if precision == "month":
                    return Published(f"{year:04d}-{month:02d}", "month", date(year, month, 1), date(year, month, last))
                day = date(year, month, int(parts["day"]))
                return Published(day.isoformat(), "day", day, day)
            except (ValueError, KeyError, TypeError):
                continue  # 31/02/13 and the like: not a date, keep looking
    return None


# --- titles and pseudonyms -------------------------------------------------------

# Words that name the document or the kind of review, not the case, with the "of" or "into" that joins them
# to it ("Executive Summary of Serious Case Review Louise" is Louise). Local partnerships write LCSPR's
# words in either order: "Local Child Safeguarding ..." and "Local Safeguarding Child Practice Review".
_TYPE_WORDS = re.compile(
    r"(?:\b(?:local\s+)?(?:(?:child|safeguarding)\s+){0,2}practice\s+review\b|\bserious\s+case\s+review\b"
    r"|\bsignificant\s+case\s+review\b|\bcase\s+management\s+review\b|\bchild\s+practice\s+review\b"
    r"|\b(?:overview|final)\s+report\b|\bexecutive\s+summary\b|\b(?:7|seven)[\s-]minute\s+briefing\b"
    r"|\blearning\s+(?:summary|brief(?:ing)?|review)\b|\bbriefing\b|\b(?:L?CSPR|SCR|SPR)\b)"
    r"(?:\s+(?:of|into)\b)?",
    re.I,
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_QUOTES = str.maketrans({c: "" for c in "'\"\u2018\u2019\u201c\u201d"})


def clean_title(title: str) -> str:
    """The part of a title that names the case: type words, quotes and punctuation dropped."""
    text = _TYPE_WORDS.sub(" ", title.translate(_QUOTES))
    text = re.sub(r"^[\s:;,.\-\u2013\u2014]+|[\s:;,.\-\u2013\u2014]+$", "", re.sub(r"\s*[:;]\s*", ": ", text))
    parts = [p.strip(" .,-\u2013\u2014") for p in text.split(":")]
    return " ".join(p for p in parts if p).strip()


def title_key(title: str) -> str:
    return _NON_WORD.sub(" ", clean_title(title).lower()).strip()


_ROLES = {
    "child": "child",
    "children": "child",
    "baby": "baby",
    "babies": "baby",
    "infant": "baby",
    "young person": "young person",
    "young people": "young person",
    "family": "family",
    "families": "family",
    "sibling": "sibling",
    "siblings": "sibling",
    "adult": "adult",
}
_ROLE = r"(?P<role>(?i:young\s+(?:person|people)|child(?:ren)?|bab(?:y|ies)|infant|family|families|siblings?|adult))"
_CODE = r"[A-Z]{1,3}\d{0,3}|\d{1,3}"
_ROLE_ID = re.compile(r"^" + _ROLE + r"\s+(?P<id>" + _CODE + r")$")
_BARE_ROLE = re.compile(r"^(?i:the\s+)?" + _ROLE + r"$")  # "Child F and Family": no one new
_LEADING_CODE = re.compile(r"^(?P<code>[A-Z]{2,4}\d{1,4})\s+(?P<rest>\S.*)$")  # "CE001 Child B"
_ROLE_NAME = re.compile(r"^" + _ROLE + r"\s+(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)$")
_BARE_ID = re.compile(r"^(?:" + _CODE + r")$")
_BARE_CODE = re.compile(r"^[A-Z]{2,4}\d{1,4}$")  # BDS12, CE001
_NAME = re.compile(r"^[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?$")  # Gabriel, Keanu Williams
_SPLIT = re.compile(r"\s*(?:,|;|&|/|\band\b)\s*", re.I)
_NOT_NAMES = {
    "thematic", "review", "reviews", "messages", "learning", "neglect", "babies", "injuries", "the", "a",
    "child", "children", "baby", "family", "with", "of", "from", "report", "summary", "case",
}


# A run of children inside a longer, descriptive title: "... from the
# experiences of Children A, B, C, D, E and F".
_ROLE_RUN = re.compile(
    r"\b(?i:young\s+(?:person|people)|child(?:ren)?|bab(?:y|ies))\s+(?:" + _CODE + r")\b"
    r"(?:\s*(?:,|&|\band\b)\s*(?:(?i:child|baby|young\s+person)\s+)?(?:" + _CODE + r")\b)*"
)


def pseudonyms(title: str) -> list[str]:
    """The children (or families) a title names, lower-case, in order.

    ``Child A, B and C`` -> child a, child b, child c; ``Charlie and Sam`` ->
    charlie, sam; ``BDS12`` -> bds12. A title that names no one (a thematic
    review, "Messages from reviews") gives [].
    """
    cleaned = clean_title(title)
    if not cleaned:
        return []
    whole = _pseudonyms_of(cleaned)
    if whole:
        return whole
    found: list[str] = []
    for match in _ROLE_RUN.finditer(cleaned):
        found.extend(_pseudonyms_of(match.group(0)))
    return list(dict.fromkeys(found))


def _pseudonyms_of(cleaned: str) -> list[str]:
    """Read a title that is nothing but names; [] as soon as a part is not one."""
    found: list[str] = []
    role: str | None = None
    parts = _SPLIT.split(cleaned)
    while parts:
        part = parts.pop(0).strip(" .")
        if not part:
            continue
        match = _LEADING_CODE.match(part)
        if match:
            found.append(match["code"].lower())
            parts.insert(0, match["rest"])
            continue
        if _BARE_ROLE.match(part):
            continue
        match = _ROLE_ID.match(part)
        if match:
            role = _ROLES[re.sub(r"\s+", " ", match["role"].lower())]
            found.append(f"{role} {match['id'].lower()}")
            continue
        match = _ROLE_NAME.match(part)
        if match and match["name"].lower() not in _NOT_NAMES:
            found.append(match["name"].lower())  # Child 'Elias' is Elias
            continue
        if role and _BARE_ID.match(part):
            found.append(f"{role} {part.lower()}")
            continue
        if _BARE_CODE.match(part):
            found.append(part.lower())
            continue
        if _NAME.match(part) and not set(part.lower().split()) & _NOT_NAMES:
            found.append(part.lower())
            continue
        return []  # words that are not a pseudonym: a theme, not children
    return list(dict.fromkeys(found))


# --- review type ---------------------------------------------------------------

REVIEW_TYPES = ("scr", "cspr", "lcspr", "thematic", "briefing", "welsh-cpr", "scottish-scr", "ni-cmr", "other")
_TYPE_RULES = [
    ("briefing", re.compile(r"\b(?:7|seven)[\s-]minute\s+briefing|\blearning\s+(?:summary|brief)|\bbriefing\b", re.I)),
    ("thematic", re.compile(r"\bthematic\b", re.I)),
    ("welsh-cpr", re.compile(r"\bchild\s+practice\s+review\b|\bCPR\b")),
    ("scottish-scr", re.compile(r"\bsignificant\s+case\s+review\b", re.I)),
    ("ni-cmr", re.compile(r"\bcase\s+management\s+review\b", re.I)),
    ("cspr", re.compile(r"\bnational\s+(?:child\s+)?safeguarding\s+practice\s+review\b", re.I)),
    ("lcspr", re.compile(r"\bsafeguarding\s+practice\s+review\b|\bL?CSPR\b|\bSPR\b", re.I)),
    ("scr", re.compile(r"\bserious\s+case\s+review\b|\bSCR\b", re.I)),
    # The board's own documents about a review are not the review: "LSCB Improvement Report – Child K".
    ("other", re.compile(r"\bmessages\s+from\b|\breview\s+of\s+reviews\b|\bannual\s+report\b"
                         r"|\bimprovement\s+report\b", re.I)),
]
_NATION_TYPES = {"wales": "welsh-cpr", "scotland": "scottish-scr", "northern-ireland": "ni-cmr"}
# Local child safeguarding practice reviews replaced SCRs from 29 September 2019.
_LCSPR_FROM = 2019


def named_type(*texts: str | None) -> str | None:
    """The review type the words of ``texts`` name, if any."""
    joined = " ".join(t for t in texts if t)
    for name, rule in _TYPE_RULES:
        if rule.search(joined):
            return name
    return None


def review_type(*texts: str | None, nation: str | None = None, year: int | None = None,
                aside: str | None = None) -> str:
    """The type ``texts`` name (the type words, the title as written); else what ``aside`` (a note)
    names: a note saying "a 7 minute briefing is also available" does not make a review a briefing."""
    named = named_type(*texts) or named_type(aside)
    if named is not None:
        return named
    if nation in _NATION_TYPES:
        return _NATION_TYPES[nation]
    if year is not None:
        return "lcspr" if year >= _LCSPR_FROM else "scr"
    return "other"


# --- the whole entry ----------------------------------------------------------------


def slug(text: str) -> str:
    return _NON_WORD.sub("-", text.lower()).strip("-") or "entry"


def entry_id(source: Source, raw: RawEntry) -> str:
    """Stable across syncs: the copy number for a library record, else area and title (as written, so a
    review and its 7 minute briefing differ). ``unique_ids`` settles the rare page that repeats a title."""
    if raw.copy_number:
        return f"{source.id}:{raw.copy_number.strip()}"
    parts = [raw.area_text or "", raw.title]
    return f"{source.id}:{slug(' '.join(p for p in parts if p))}"


def _file_name(row: dict) -> str:
    report = row.get("report_url") or ""
    name = report.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return slug(name) if name else ""


# What tells rows of one title apart, tried in turn until every row of the group differs: the date, then
# the date and the type (a review and its briefing of one day), then the report's file name too.
_DISTINCTIONS = (
    lambda row: [str(row.get("published") or "")],
    lambda row: [str(row.get("published") or ""), str(row.get("review_type") or "")],
    lambda row: [str(row.get("published") or ""), str(row.get("review_type") or ""), _file_name(row)],
)


def unique_ids(rows: list[dict], taken: set[str]) -> list[dict]:
    """Give each list entry of a page an id no other entry of its walk has, stably; ``taken`` holds the
    ids of the walk's earlier pages and is updated.

    Entries of one page that would share an id (two children called "Child A", a review and its learning
    brief listed in one table row) each get ``@`` and what tells them apart (their date; else date and type;
    else also their report's file name), so no id depends on the order of the page and no entry is lost;
    identical ones also get a count. A library record keyed by its copy number is the same record wherever
    it is seen: it is left to the catalogue, which keeps one (a live catalogue shifting under the walk shows
    a record twice).
    """
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if not row.get("copy_number"):
            groups.setdefault(row["id"], []).append(row)
    for base, group in groups.items():
        if len(group) == 1 and base not in taken:
            taken.add(base)
            continue
        # One row meeting an id of an earlier page says all it can; a group says as little as tells it apart.
        for distinction in (_DISTINCTIONS[-1:] if len(group) == 1 else _DISTINCTIONS):
            suffixes = ["-".join(part for part in distinction(row) if part) or "entry" for row in group]
            if len(set(suffixes)) == len(suffixes):
                break
        for row, suffix in zip(group, suffixes):
            wanted = f"{base}@{suffix}"
            candidate, number = wanted, 1
            while candidate in taken:
                number += 1
                candidate = f"{wanted}-{number}"
            row["id"] = candidate
            taken.add(candidate)
    return rows


def normalise(raw: RawEntry, source: Source, areas: AreaIndex, *, today: date | None = None) -> dict:
    """One catalogue row (without run bookkeeping) from one raw entry."""
    published = parse_date(raw.date_text, today=today, pattern=source.date_pattern)
    if source.kind == "local" and source.area is not None:
        area_name, codes, nation = source.area.name, list(source.area.codes), source.area.nation
    elif not raw.area_text or areas.is_anonymous(raw.area_text):
        area_name, codes, nation = None, [], None
    else:
        found = areas.lookup(raw.area_text)
        if found is not None:
            area_name, codes, nation = found.name, list(found.codes), found.nation
        else:  # stored as written, listed in the report
            area_name, codes, nation = raw.area_text, [], None
    year = published.year if published else None
    report = web_url(raw.url)  # the parsers keep only http(s) links; whatever a parser gives, nothing else is stored
    return {
        "id": entry_id(source, raw),
        "source": source.id,
        "kind": source.kind,
        "title": raw.title,
        "title_key": title_key(raw.title),
        "heading": raw.heading,
        "summary": raw.summary,
        "published": published.value if published else None,
        "published_precision": published.precision if published else None,
        "published_start": published.start.isoformat() if published else None,
        "published_end": published.end.isoformat() if published else None,
        "published_year": year,
        "date_text": raw.date_text,
        "area_text": raw.area_text,
        "area": area_name,
        "la_codes": codes,
        "pseudonyms": pseudonyms(raw.title),
        "review_type": review_type(raw.type_text, raw.title, aside=raw.note, nation=nation, year=year),
        # What a person clicks: the report; for a library record without one, its catalogue record. An entry
        # listed without a link (withdrawn, "available on request") has none: page_url says where it is listed.
        "url": report or (raw.page_url if raw.copy_number else None),
        "report_url": report,  # the report link as found: part of the entry's content
        "page_url": raw.page_url,  # not content: a library page URL carries a session's SetID
        "copy_number": raw.copy_number,
        "keywords": raw.keywords,
        "note": raw.note,
        "details": raw.details,
    }
