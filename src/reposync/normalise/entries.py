"""Raw entries -> catalogue rows: dates as intervals, pseudonym sets, areas, review types.

Everything here is a pure function of the raw entry, its source and the area
index, so a rebuild from the same snapshots gives the same rows.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ..models import RawEntry
from .areas import AreaIndex
from .documents import document_kind

if TYPE_CHECKING:  # the config is read above this floor; here only its shape is named
    from ..config import Source
from ..urls import web_url

# --- dates -------------------------------------------------------------------

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_WORDS = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MONTH = r"(?P<month>" + _MONTH_WORDS + r")\.?"
_YEAR4 = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_TO = r"\s*(?:[-\u2013\u2014]|\bto\b)\s*"

# Day-first only: British pages never put the month first in figures ("11-10-2013" is 11 October); a month
# written as a word may come first ("January 6, 2020"). Tried in this order; the first form found wins.
_DATE_PATTERNS = [
    ("day", re.compile(r"\b" + _YEAR4 + r"-(?P<month>\d\d)-(?P<day>\d\d)\b")),  # ISO 2023-05-01
    ("day", re.compile(r"\b(?P<day>\d{1,2})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})\b")),
    ("day", re.compile(r"\b" + _DAY + r"(?:\s+|-)(?:of\s+)?" + _MONTH + r",?(?:\s+|-)" + _YEAR4 + r"\b",
                       re.I)),
    ("day", re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR4 + r"\b", re.I)),  # January 6, 2020
    # Months to months: "March-April 2024", "December 2023 to January 2024".
    ("months", re.compile(r"\b(?P<month>" + _MONTH_WORDS + r")\.?(?:\s+(?P<first_year>(?:19|20)\d\d))?" + _TO
                          + r"(?P<last>" + _MONTH_WORDS + r")\.?,?\s+" + _YEAR4 + r"\b", re.I)),
    # A financial year, April to March: "2020/21", "2020-21", "2020/2021" (written close: "2019 - 20 children" is not).
    ("financial", re.compile(r"\b" + _YEAR4 + r"[/\-\u2013](?P<next>\d\d(?:\d\d)?)(?![\d/-])")),
    ("month", re.compile(r"\b" + _MONTH + r",?\s+" + _YEAR4 + r"\b", re.I)),
    ("year", re.compile(r"\b" + _YEAR4 + r"\b")),
]


@dataclass(frozen=True)
class Published:
    """A publication date as an interval: ``2014`` is the whole year, not 1 January.

    A span of months ("March-April 2024", the financial year "2020/21") is ``month`` precision with an ISO
    interval as its value: ``2024-03/2024-04``, ``2020-04/2021-03``.
    """

    value: str  # ISO text at its precision: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM/YYYY-MM
    precision: str  # year | month | day
    start: date
    end: date

    @property
    def year(self) -> int:
        return self.start.year


# A two-digit year is of this century below this, of the last from it: no case review is older than 1970.
# Fixed, never today's date, so a rebuild in any year reads a page alike.
_PIVOT = 70
_EVIDENCE_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def _full_year(text: str, evidence: tuple[int, ...] = ()) -> int:
    """``11`` -> 2011: the century that puts it nearest a year the entry itself writes out in full (its line,
    its note, its report's address), else the fixed pivot."""
    year = int(text)
    if len(text) != 2:
        return year
    candidates = (1900 + year, 2000 + year)
    if evidence:
        return min(candidates, key=lambda c: (min(abs(c - e) for e in evidence), c))
    return 2000 + year if year < _PIVOT else 1900 + year


def years_in(*texts: str | None) -> tuple[int, ...]:
    """The four-digit years 19xx and 20xx that ``texts`` write out."""
    return tuple(int(m) for text in texts if text for m in _EVIDENCE_YEAR.findall(text))


def _month_number(text: str) -> int:
    return int(text) if text.isdigit() else _MONTHS[text.lower().rstrip(".")]


def _months(first: date, last_year: int, last_month: int) -> Published | None:
    last = date(last_year, last_month, calendar.monthrange(last_year, last_month)[1])
    if not first <= last or (last_year - first.year) * 12 + last_month - first.month > 12:
        return None  # backwards, or more than a year: not one publication's span
    value = f"{first.year:04d}-{first.month:02d}/{last_year:04d}-{last_month:02d}"
    return Published(value, "month", first, last)


def _read(precision: str, parts: dict, evidence: tuple[int, ...]) -> Published | None:
    year = _full_year(parts["year"], evidence)
    if precision == "year":
        return Published(f"{year:04d}", "year", date(year, 1, 1), date(year, 12, 31))
    if precision == "financial":
        following = int(parts["next"]) if len(parts["next"]) == 4 else year // 100 * 100 + int(parts["next"])
        if following != year + 1:
            return None  # "2019-2021", "2020/19": not one financial year
        return _months(date(year, 4, 1), following, 3)
    month = _month_number(parts["month"])
    if precision == "months":
        first_year = int(parts["first_year"]) if parts.get("first_year") else year
        last_month = _month_number(parts["last"])
        if not parts.get("first_year") and last_month < month:
            first_year -= 1  # "December-January 2024": December 2023
        return _months(date(first_year, month, 1), year, last_month)
    last = calendar.monthrange(year, month)[1]
    if precision == "month":
        return Published(f"{year:04d}-{month:02d}", "month", date(year, month, 1), date(year, month, last))
    day = date(year, month, int(parts["day"]))
    return Published(day.isoformat(), "day", day, day)


def parse_date(text: str | None, *, pattern: str | None = None, evidence: tuple[int, ...] = ()) -> Published | None:
    """Read the first date in ``text``, day-first, at the precision it is written.

    ``evidence``: years the entry writes out elsewhere, which settle the century of a two-digit year.
    """
    if not text:
        return None
    patterns = _DATE_PATTERNS
    if pattern:
        custom = re.compile(pattern, re.I)
        precision = "day" if "day" in custom.groupindex else "month" if "month" in custom.groupindex else "year"
        patterns = [(precision, custom), *_DATE_PATTERNS]
    for precision, regex in patterns:
        for match in regex.finditer(text):
            try:
                found = _read(precision, match.groupdict(), evidence)
            except (ValueError, KeyError, TypeError):
                found = None  # 31/02/13 and the like: not a date, keep looking
            if found is not None:
                return found
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
# A quote mark around a name goes; an apostrophe inside one stays, as "'": Child 'O’Brien' is o'brien.
_QUOTE_MARK = re.compile(r"(?<![^\W\d_])['\u2018\u2019]|['\u2018\u2019](?![^\W\d_])|[\"\u201c\u201d]")


def clean_title(title: str, *, apostrophes: bool = False) -> str:
    """The part of a title that names the case: type words, quotes and punctuation dropped (with
    ``apostrophes``, those inside a word are kept: O'Brien)."""
    unquoted = _QUOTE_MARK.sub("", title).replace("\u2019", "'") if apostrophes else title.translate(_QUOTES)
    text = _TYPE_WORDS.sub(" ", unicodedata.normalize("NFC", unquoted))
    text = re.sub(r"^[\s:;,.\-\u2013\u2014]+|[\s:;,.\-\u2013\u2014]+$", "", re.sub(r"\s*[:;]\s*", ": ", text))
    parts = [p.strip(" .,-\u2013\u2014") for p in text.split(":")]
    return " ".join(p for p in parts if p).strip()


def _fold(text: str) -> str:
    """Accents off: "Zoë" -> "Zoe", so a key does not lose the letter."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def title_key(title: str) -> str:
    return _NON_WORD.sub(" ", _fold(clean_title(title)).lower()).strip()


# A word for how the children are related says nothing of who they are: "Siblings A and B", "Twins A and B",
# "Brothers A and B" and "Children A and B" are the same children, so all are "child" in the set the linker
# compares. A word for an age is kept: a partnership's "Baby H" and its "Child H" of the next year are two
# reviews (the linkage gold holds Bolton's), and so are a family or an adult.
_ROLES = {
    "baby": "baby",
    "babies": "baby",
    "infant": "baby",
    "infants": "baby",
    "young person": "young person",
    "young people": "young person",
    "family": "family",
    "families": "family",
    "adult": "adult",
}
_ROLE = (r"(?P<role>(?i:young\s+(?:person|people)|child(?:ren)?|bab(?:y|ies)|infants?|family|families|siblings?"
         r"|twins?|brothers?|sisters?|adult))")
_CODE = r"[A-Z]{1,3}\d{0,3}|\d{1,3}"
_ROLE_ID = re.compile(r"^" + _ROLE + r"\s+(?P<id>" + _CODE + r")$")
# "Children A-C", "Child A to C", "Children 1-3": every member. Ranges are of one letter or of numbers from 1:
# "Children 0-5" is an age, not three children.
_RANGE = r"(?P<first>[A-Z]|[1-9]\d?)" + _TO + r"(?P<last>[A-Z]|[1-9]\d?)"
_ROLE_RANGE = re.compile(r"^" + _ROLE + r"\s+" + _RANGE + r"$")
_BARE_RANGE = re.compile(r"^" + _RANGE + r"$")
_BARE_ROLE = re.compile(r"^(?i:the\s+)?" + _ROLE + r"$")  # "Child F and Family": no one new
_LEADING_CODE = re.compile(r"^(?P<code>[A-Z]{2,4}\d{1,4})\s+(?P<rest>\S.*)$")  # "CE001 Child B"
# A word of a name: capitalised, letters of any alphabet, an apostrophe inside (Chloé, O'Brien, D'Angelo).
_NAME_WORD = r"(?:[^\W\d_a-z](?:[^\W\d_A-Z]+|'[^\W\d_])[^\W\d_A-Z]*(?:'[^\W\d_][^\W\d_A-Z]*)*)"
_ROLE_NAME = re.compile(r"^" + _ROLE + r"\s+(?P<name>" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r")?)$")
_BARE_ID = re.compile(r"^(?:" + _CODE + r")$")
_BARE_CODE = re.compile(r"^[A-Z]{2,4}\d{1,4}$")  # BDS12, CE001
_NAME = re.compile(r"^" + _NAME_WORD + r"(?:[ -]" + _NAME_WORD + r")?$")  # Gabriel, Keanu Williams, Zoë
_SPLIT = re.compile(r"\s*(?:,|;|&|/|\band\b)\s*", re.I)
# Words that are never a child's name: the review's own words and the topics reviews are about ("Child Sexual
# Exploitation", "County Lines", "Domestic Abuse", "Baby Loss"). A part holding one names no one.
_NOT_NAMES = frozenset(
    "thematic review reviews messages learning neglect babies injuries the a child children baby family with of "
    "from report summary case young people person year years olds old aged under over months weeks infants "
    "abuse abused exploitation sexual criminal protection medical medicals county lines domestic violence loss "
    "death deaths dying harm harmful self suicide injury sleep sleeping safer safe bruising drowning online "
    "mental health substance misuse drug drugs alcohol parental parenting parents adolescent adolescents "
    "adolescence teenagers teenage youth care leavers looked missing trafficking modern slavery radicalisation "
    "gang gangs knife crime assault fabricated induced illness disability disabilities disabled conference "
    "conferences strategy guidance sudden unexpected accidental trauma cot weight obesity hidden invisible peer "
    "bullying school schools education elective home homes supervision transition transitions practice "
    "partnership board audit multi agency agencies services service social work police hospital emergency "
    "boys girls men women fathers mothers male carers fire water poverty housing homelessness covid pandemic "
    "lockdown cannabis risk risks themes theme issues vulnerable early help intervention".split()
)


def _names_no_one(words: str) -> bool:
    return bool(set(words.lower().replace("-", " ").split()) & _NOT_NAMES)


# A run of children inside a longer, descriptive title: "... from the experiences of Children A, B, C, D, E
# and F", "... Children A-C". Never an age: "Children 0-5", "Young People 16 and 17 Year Olds".
_RUN_ITEM = r"(?:" + _CODE + r")\b(?:" + _TO + r"(?:" + _CODE + r")\b)?"
_ROLE_RUN = re.compile(
    r"\b(?i:young\s+(?:person|people)|child(?:ren)?|bab(?:y|ies)|infants?|siblings?|twins?|brothers?|sisters?)"
    r"\s+" + _RUN_ITEM +
    r"(?:\s*(?:,|&|\band\b)\s*(?:(?i:child|baby|young\s+person|sibling|twin|brother|sister)\s+)?" + _RUN_ITEM + r")*"
)
# What makes a run's numbers ages: "16 and 17 Year Olds", "0-5", "5+". Tested after the run, not inside the
# pattern, so a long title is read in one pass.
_AGES = re.compile(r"\s*(?:[-\u2013\u2014+]\s*\d|\+|(?i:years?|yrs?|months?|weeks?|-year|plus)\b)")


def pseudonyms(title: str) -> list[str]:
    """The children (or families) a title names, lower-case, in order.

    ``Child A, B and C`` -> child a, child b, child c; ``Siblings A-C`` the same; ``Charlie and Sam`` ->
    charlie, sam; ``BDS12`` -> bds12; ``Chloé`` -> chloé. A title that names no one (a thematic review,
    "Messages from reviews", "County Lines") gives [].
    """
    cleaned = clean_title(title, apostrophes=True)
    if not cleaned:
        return []
    whole = _pseudonyms_of(cleaned)
    if whole:
        return whole
    found: list[str] = []
    for match in _ROLE_RUN.finditer(cleaned):
        if not _AGES.match(cleaned, match.end()):
            found.extend(_pseudonyms_of(match.group(0)))
    return list(dict.fromkeys(found))


def _role(word: str) -> str:
    return _ROLES.get(re.sub(r"\s+", " ", word.lower()), "child")


def _members(role: str, first: str, last: str) -> list[str]:
    """``child``, ``A``, ``C`` -> child a, child b, child c; [] for what is no range (C-A, 1-40)."""
    if first.isdigit() != last.isdigit():
        return []
    low, high = (int(first), int(last)) if first.isdigit() else (ord(first), ord(last))
    if not low < high <= low + 25:
        return []
    return [f"{role} {str(n) if first.isdigit() else chr(n).lower()}" for n in range(low, high + 1)]


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
            role = _role(match["role"])
            found.append(f"{role} {match['id'].lower()}")
            continue
        match = _ROLE_RANGE.match(part) or (role and _BARE_RANGE.match(part))
        if match:
            role = _role(match["role"]) if "role" in match.groupdict() else role
            members = _members(role, match["first"], match["last"])
            if not members:
                return []
            found.extend(members)
            continue
        match = _ROLE_NAME.match(part)
        if match and not _names_no_one(match["name"]):
            found.append(match["name"].lower())  # Child 'Elias' is Elias
            continue
        if role and _BARE_ID.match(part):
            found.append(f"{role} {part.lower()}")
            continue
        if _BARE_CODE.match(part):
            found.append(part.lower())
            continue
        if _NAME.match(part) and not _names_no_one(part):
            found.append(part.lower())
            continue
        return []  # words that are not a pseudonym: a theme, not children
    return list(dict.fromkeys(found))


# --- review type ---------------------------------------------------------------

REVIEW_TYPES = ("scr", "cspr", "lcspr", "thematic", "briefing", "welsh-cpr", "scottish-scr", "ni-cmr", "other")
_TYPE_RULES = [
    ("briefing", re.compile(r"\b(?:7|seven)[\s-]minute\s+briefing|\blearning\s+(?:summary|brief)|\bbriefing\b", re.I)),
    ("thematic", re.compile(r"\bthematic\b", re.I)),
    # Leicester's "Local Safeguarding Child Practice Review" is English, before the Welsh rule reads it.
    ("lcspr", re.compile(r"\b(?:local\s+)?safeguarding\s+child\s+practice\s+review\b", re.I)),
    ("welsh-cpr", re.compile(r"(?i:\bchild\s+practice\s+review\b)|\bCPR\b")),
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


# A date the page labels as an update ("Child X (updated 3 March 2021)"): the entry is kept, its date_text says
# so, and no publication date is claimed from it (the review was published on or before it).
_UPDATE_LABEL = re.compile(r"^\W*(?:last\s+)?(?:updated|amended|reviewed|revised|modified|edited)\b", re.I)


def normalise(raw: RawEntry, source: Source, areas: AreaIndex) -> dict:
    """One catalogue row (without run bookkeeping) from one raw entry."""
    # A two-digit year's century comes from the years the entry writes out in full, never from today.
    evidence = years_in(raw.title, raw.heading, raw.note, raw.url, raw.summary)
    published = None
    if not (raw.date_text and _UPDATE_LABEL.match(raw.date_text)):
        published = parse_date(raw.date_text, pattern=source.date_pattern, evidence=evidence)
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
        "review_type": (kind := review_type(raw.type_text, raw.title, aside=raw.note, nation=nation, year=year)),
        "document_kind": document_kind(raw.title, kind),
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
