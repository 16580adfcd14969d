"""Finding a partnership's page of children's case reviews from any page of its site (issue 20, point 2).

A polite, bounded, best-first crawl of one site, through the project's ``Fetcher`` (robots.txt obeyed and never
argued with, the user agent, the delay and Crawl-delay, the whole-request deadline, the size cap):

1. The start page. One that redirects to another site (an old LSCB domain sending everything to the new
   partnership's) is followed there, and that site is the one crawled; ``Discovery.moved`` says where.
2. The site's sitemaps: the ``Sitemap:`` lines of its robots.txt, else ``/sitemap.xml`` when it answers; a
   sitemap index is followed a little way. Their URLs join the links to read.
3. Links to read, best first: ranked by the words of their text and of their URL ("serious case reviews",
   "safeguarding practice reviews", "learning from reviews", "publications", then "safeguarding children",
   "partnership", ...; "news", "events", "training", "council tax" and the like rank low). Never followed:
   another site, a document (pdf, doc, docx, ...), a search page, a calendar that takes a date in its query
   string (an endless events calendar), a log-in or feed.
4. Every page read is read by the generic parser and its entries normalised, as a sync would; the page is
   ranked by what it lists (``Candidate.rank``): children's case reviews first, then 7 minute briefings, then
   anything else (news items, annual reports, dated entries none of which names a review). A page about
   adults (its heading names Safeguarding Adults Reviews, Domestic Homicide Reviews or reviews of adults, or
   half its entries or more do) is ranked out: never a page of children's case reviews, however many it lists.
   Its entries about adults are never counted as children's reviews on any page.
5. Once a page of children's case reviews is found, only links whose words name reviews, briefings, learning
   or publications are still read (a sibling page of older reviews may list more); the crawl ends when none is
   left or the budget is spent.

The budget, ``max_requests``, bounds every request made to the site: robots.txt, sitemaps, redirects and pages.
No new page is asked for once it is reached (one page's redirects or retries may take it a step past).
"""

from __future__ import annotations

import heapq
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from ..config import Config, Source, site_of
from ..errors import ConfigError, NeedsPerson, ParseError, SourceError, Temporary
from ..normalise.areas import Area
from ..normalise.entries import named_type, normalise
from ..parsers import generic
from ..parsers.base import clean
from ..parsers.generic.skip import MARKER
from .fetch import Fetcher, Page, RobotsForbids

MAX_REQUESTS = 60
MAX_SITE_MOVES = 3  # a start page that moves site more often than this is not followed further
MAX_SITEMAPS = 4  # sitemap documents read (an index and the sitemaps it names)
MAX_SITEMAP_URLS = 5000

CHILD_TYPES = frozenset(("scr", "cspr", "lcspr", "thematic"))

# Ranks of a page read, best first.
CHILDREN = 0  # lists children's case reviews
BRIEFINGS = 1  # lists 7 minute briefings or learning summaries (more of them than reviews)
OTHER = 2  # lists something else: news items, annual reports, dated entries that name no review
ADULTS = 3  # about adults (SAR, DHR): ranked out, never the best
RANK_NAMES = {CHILDREN: "children's case reviews", BRIEFINGS: "briefings", OTHER: "other listings",
              ADULTS: "reviews about adults (ranked out)"}

# --- words --------------------------------------------------------------------------------------------------------

# Reviews about adults: never children's case reviews. "SAR"/"DHR" only in capitals (a "sar" is no word).
ABOUT_ADULTS = re.compile(
    r"safeguarding\s+adults?\s+(?:reviews?|boards?)|\badults?\s+(?:case\s+|practice\s+|safeguarding\s+)?reviews?"
    r"|reviews?\s+(?:about|of|into)\s+adults?|domestic\s+homicide|domestic\s+abuse\s+related\s+deaths?"
    r"|mental\s+health\s+homicide|offensive\s+weapons?\s+homicide|\bLeDeR\b|(?-i:\bSARs?\b|\bDHRs?\b|\bDARDRs?\b"
    r"|\bAdult\s+[A-Z]{1,3}\d{0,3}\b)",
    re.I,
)
# What says a heading is about children after all ("Children and Adults Safeguarding Partnership" is a name).
ABOUT_CHILDREN = re.compile(
    r"\bchild(?:ren)?\b|serious\s+case|practice\s+reviews?|young\s+people|(?-i:\bL?CSPRs?\b|\bSCRs?\b)", re.I)
# A heading that says the page lists reviews, as the generic parser recognises one.
NAMES_REVIEWS = MARKER
# A page of news, events or a blog: its dated items are not reviews, whatever they mention.
NEWS = re.compile(r"\b(?:news|blogs?|events?|press|latest|what'?s\s+on|stories|updates)\b", re.I)

# Link words and their weights; each pattern counts once per link, over its text and its URL's words together.
_LINK_WORDS = (
    (re.compile(r"serious\s+case\s+reviews?|practice\s+reviews?|case\s+reviews?|learning\s+(?:from\s+)?"
                r"(?:case\s+)?reviews?|rapid\s+reviews?|\bl?csprs?\b|\bscrs?\b|\bsprs?\b"), 10.0),
    (re.compile(r"\breviews?\b|minute\s+briefings?|\bbriefings?\b|\blessons?\b|\blearning\b|\bpublications?\b"),
     4.0),
    (re.compile(r"safeguarding\s+children|children'?s\s+safeguarding|\bl?scp\b|\blscb\b|\bpartnership\b"), 3.0),
    (re.compile(r"\bchild(?:ren)?\b|\bsafeguarding\b|\bprofessionals?\b|\bpractitioners?\b|\bresources\b"
                r"|\bfamil(?:y|ies)\b|young\s+people|multi.agency|\babout\b"), 1.5),
    (re.compile(r"\bnews\b|\bevents?\b|calendar|\btraining\b|\bcourses?\b|\bjobs?\b|vacanc|\bcareers?\b|contact"
                r"|privacy|cookies?|accessibility|\blog\s?in\b|\bsign\s?in\b|subscribe|newsletter|\bbins?\b|waste"
                r"|recycling|council\s+tax|parking|planning|housing|librar|leisure|\broads?\b|transport|business"
                r"|elections?|benefits|payments?|\bpay\b|complain|feedback|annual\s+reports?|polic(?:y|ies)"
                r"|procedures|twitter|facebook|linkedin|youtube|instagram"), -3.0),
)
# A link that names reviews, briefings or learning: still worth reading once a page of reviews is found.
STILL_WORTH = 4.0

# What is never fetched.
DOCUMENT = re.compile(r"\.(?:pdf|docx?|xlsx?|pptx?|od[tsp]|rtf|txt|csv|zip|rar|7z|jpe?g|png|gif|svg|webp|mp[34]"
                      r"|wav|avi|mov|ics|ical|vcs|xml|json|rss|atom|css|js)$", re.I)
_SEARCH_PATH = re.compile(r"(?:^|/)(?:search|site-?search|searchresults?|find)(?:/|\.|$)", re.I)
_SEARCH_KEYS = frozenset("q s query search searchterm search_term keyword keywords term terms k".split())
_CALENDAR_KEYS = frozenset("month year day date week start end from to calendar cal ical ics eventdisplay "
                           "tribe-bar-date tribe_eventcategory yr mo dt m y d view".split())
_CALENDAR_PATH = re.compile(r"calendar|(?:^|/)(?:events?|whats-?on|diary)(?:/|$)", re.I)
_NEVER_PATH = re.compile(r"(?:^|/)(?:wp-admin|wp-login\.php|wp-json|feed|login|logout|signin|sign-in|register"
                         r"|cart|basket|print|xmlrpc\.php|tag|author)(?:/|$)", re.I)


def link_score(text: str, url: str) -> float:
    """How much a link's text and its URL's words promise a page of reviews."""
    path = urlsplit(url).path
    words = re.sub(r"[^a-z0-9']+", " ", f"{text} {path}".lower().replace("%20", " "))
    return sum(weight for pattern, weight in _LINK_WORDS if pattern.search(words))


def why_not_followed(url: str, site: tuple[str, str, int | None]) -> str | None:
    """Why a link is never fetched by discovery, or None when it may be."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "not a web page"
    if site_of(url) != site:
        return "another site"
    if DOCUMENT.search(parts.path):
        return "a document"
    if _NEVER_PATH.search(parts.path):
        return "a log-in, feed or archive page"
    keys = {key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if _SEARCH_PATH.search(parts.path) or keys & _SEARCH_KEYS:
        return "a search page"
    if keys & _CALENDAR_KEYS or (keys and _CALENDAR_PATH.search(parts.path)):
        return "a calendar (dates in its query string)"
    return None


# --- what a page lists ------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """A page read on which the generic parser finds entries, counted and ranked."""

    url: str
    entries: int
    reviews: int  # children's case reviews among the entries (typed scr, cspr, lcspr or thematic; not about adults)
    named: int  # of those, how many name their type in words (not typed by their year alone)
    briefings: int
    adults: int  # entries about adults
    rank: int
    why: str
    depth: int  # clicks from the start page (a sitemap's URL: 1)
    heading: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    skipped: list[tuple[str, str]] = field(default_factory=list, repr=False)
    layout: str | None = None
    next_url: str | None = None

    def order(self) -> tuple:
        return (self.rank, -self.named, -self.reviews, -self.briefings, -self.entries, self.depth, self.url)

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "entries": self.entries, "reviews": self.reviews, "briefings": self.briefings,
                "adults": self.adults, "rank": RANK_NAMES[self.rank], "why": self.why, "depth": self.depth}


def _headings(doc: LexborHTMLParser) -> tuple[str, str]:
    """The page's main heading (its first h1, else first h2) and its <title>."""
    main = doc.css_first("h1") or doc.css_first("h2")
    title = doc.css_first("title")
    return (clean(main.text(separator=" ")) if main else "", clean(title.text()) if title else "")


def _about_adults(text: str) -> bool:
    return bool(ABOUT_ADULTS.search(text)) and not ABOUT_CHILDREN.search(text)


def read_page(page_url: str, html: str, doc: LexborHTMLParser, area: Area, areas: Any,
              depth: int) -> Candidate | None:
    """What the generic parser finds on a page, counted and ranked; None when it lists no entries."""
    try:
        result = generic.parse(html, page_url)
    except ParseError:
        return None
    if not result.entries:  # a page that says it lists reviews and lists none: not a page to configure
        return None
    source = Source(id="discovered", kind="local", parser="generic", url=page_url, area=area)
    rows = [normalise(raw, source, areas) for raw in result.entries]
    main, title = _headings(doc)
    heading = main or title
    adult_rows, children, named, briefings = [], [], [], []
    for raw, row in zip(result.entries, rows):
        words = " ".join(text for text in (raw.title, raw.type_text, raw.heading, raw.note) if text)
        if ABOUT_ADULTS.search(words):
            adult_rows.append(row)
        elif row["review_type"] in CHILD_TYPES:
            children.append(row)
            if named_type(raw.type_text, raw.title) in CHILD_TYPES:  # in words, not by its year alone
                named.append(row)
        elif row["review_type"] == "briefing":
            briefings.append(row)
    says_reviews = bool(NAMES_REVIEWS.search(heading)) or bool(NAMES_REVIEWS.search(result.meta.get("title", "")))
    path_words = urlsplit(page_url).path.replace("-", " ").replace("_", " ")
    if _about_adults(heading) or _about_adults(result.meta.get("title", "")):
        rank, why = ADULTS, f"ranked out: its heading {heading!r} names reviews about adults"
    elif len(adult_rows) * 2 >= len(rows):
        rank, why = ADULTS, f"ranked out: {len(adult_rows)} of its {len(rows)} entries are about adults (SAR, DHR)"
    elif NEWS.search(heading) or NEWS.search(path_words):
        rank, why = OTHER, f"news or events ({heading!r}): items about reviews, not the reviews"
    elif children and (named or says_reviews) and len(children) >= len(briefings):
        rank, why = CHILDREN, (f"children's case reviews ({len(named)} with their type in words"
                               + (f", {len(briefings)} briefings" if briefings else "") + f"); heading {heading!r}")
    elif briefings:
        rank, why = BRIEFINGS, f"briefings ({len(briefings)}), more than reviews; heading {heading!r}"
    elif children:
        rank, why = OTHER, f"dated entries, none with a review type in words, under {heading!r}"
    else:
        rank, why = OTHER, f"entries of other kinds (annual reports, messages from reviews); heading {heading!r}"
    if adult_rows and rank != ADULTS:
        why += f"; {len(adult_rows)} entries about adults not counted"
    return Candidate(url=page_url, entries=len(rows), reviews=len(children), named=len(named),
                     briefings=len(briefings), adults=len(adult_rows), rank=rank, why=why, depth=depth,
                     heading=heading, rows=rows, skipped=list(result.skipped), layout=result.layout,
                     next_url=result.next_url)


# --- the crawl ----------------------------------------------------------------------------------------------------


@dataclass
class Discovery:
    start: str
    moved: str | None = None  # the start page redirected to another site: where, and that site was crawled
    candidates: list[Candidate] = field(default_factory=list)
    requests: int = 0
    pages: int = 0  # pages read (fetched and parsed as HTML)
    sitemap_urls: int = 0
    not_followed: dict[str, int] = field(default_factory=dict)  # why -> how many links were not followed
    forbidden: int = 0  # links robots.txt forbids (never requested)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, why) of pages that could not be read
    temporary: bool = False  # a page or robots.txt failed for now: "nothing found" may be wrong

    @property
    def best(self) -> Candidate | None:
        for candidate in self.candidates:
            if candidate.rank <= BRIEFINGS and (candidate.reviews or candidate.briefings):
                return candidate
        return None

    def as_json(self) -> dict[str, Any]:
        best = self.best
        return {
            "start": self.start,
            "moved": self.moved,
            "best": {"url": best.url, "entries": best.entries, "reviews": best.reviews} if best else None,
            "candidates": [candidate.as_json() for candidate in self.candidates],
            "requests": self.requests,
            "pages": self.pages,
        }


def check_url(url: str) -> str:
    """An http(s) URL with a host, or a ConfigError (exit 2)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("URL", None, f"must be an http(s) URL with a host, got {url!r}")
    return url


def discover(start: str, area: Area, config: Config, *, max_requests: int = MAX_REQUESTS,
             fetcher: Fetcher | None = None) -> Discovery:
    """Crawl the site of ``start`` for its page of children's case reviews; see the module's notes.

    Raises a ``SourceError`` when the start page itself cannot be read (65, or 75 when only for now); else
    returns what was found, ``best`` None when nothing on the site lists reviews.
    """
    check_url(start)
    own = fetcher is None
    fetcher = fetcher or Fetcher(config.crawl, archive=None)  # polite, as a sync; keeps nothing
    try:
        return _Crawl(start, area, config, fetcher, max_requests).run()
    finally:
        if own:
            fetcher.close()


class _Crawl:
    def __init__(self, start: str, area: Area, config: Config, fetcher: Fetcher, max_requests: int) -> None:
        self.area = area
        self.config = config
        self.fetcher = fetcher
        self.budget = max_requests
        self.before = fetcher.requests  # a fetcher that has asked before (a sync's): its requests are not ours
        self.found = Discovery(start=start)
        self.frontier: list[tuple[float, int, str, float, int]] = []  # (-priority, order, url, score, depth)
        self.queued: dict[str, float] = {}  # url -> best priority it was queued with
        self.read: set[str] = set()
        self.order = 0
        self.site: tuple[str, str, int | None] = site_of(start)
        self.home = start  # the start page as it answered (on the site it moved to, if it moved)

    def _spent(self) -> bool:
        return self.fetcher.requests - self.before >= self.budget

    def run(self) -> Discovery:
        start_page = self._start()
        self.home = start_page.url
        self.read.add(_key(start_page.url))
        self._sitemaps()
        self._take(start_page, depth=0)
        found_children = any(c.rank == CHILDREN and c.reviews for c in self.found.candidates)
        while self.frontier and not self._spent():
            _, _, url, score, depth = heapq.heappop(self.frontier)
            if url in self.read:
                continue
            if found_children and score < STILL_WORTH:
                continue  # a page of reviews is found: only links that name reviews are still worth a request
            self.read.add(url)
            try:
                page = self.fetcher.get(url, self.site)
            except RobotsForbids:
                self.found.forbidden += 1
                continue
            except Temporary as exc:
                self.found.temporary = True
                self.found.failures.append((url, exc.reason))
                continue
            except SourceError as exc:  # 404, a redirect off the site, the size cap: not this page
                self.found.failures.append((url, exc.reason))
                continue
            self.read.add(_key(page.url))
            self._take(page, depth)
            found_children = found_children or any(c.rank == CHILDREN and c.reviews for c in self.found.candidates)
        self.found.candidates.sort(key=Candidate.order)
        self.found.requests = self.fetcher.requests - self.before
        return self.found

    def _start(self) -> Page:
        """The start page; one that redirects to another site is followed there, and that site crawled."""
        url = self.found.start
        for _move in range(MAX_SITE_MOVES + 1):
            self.site = site_of(url)
            try:
                return self.fetcher.get(url, self.site)
            except NeedsPerson as exc:
                if "redirects off" not in exc.reason:
                    raise
                # Where it goes, asked of the fetcher (one HEAD): another host is ``off_site``; the same host on
                # another scheme or port (http to https) the probe follows itself, to ``final_url``.
                probe = self.fetcher.probe(url, self.site)
                target = probe.off_site or (probe.final_url if site_of(probe.final_url) != self.site else None)
                if not target or urlsplit(target).scheme not in ("http", "https"):
                    raise
                url = self.found.moved = target
        raise NeedsPerson(self.found.start, f"moved site more than {MAX_SITE_MOVES} times; not followed")

    # -- sitemaps --------------------------------------------------------------------------------------------------
    def _sitemaps(self) -> None:
        rules = getattr(self.fetcher, "_robots", {}).get(self.site)  # the fetcher's parse of this site's robots.txt
        listed = [url for url in (rules.rules.sitemaps if rules and rules.rules else ()) if site_of(url) == self.site]
        pending = listed or [urljoin(self.home, "/sitemap.xml")]
        seen: set[str] = set()
        while pending and len(seen) < MAX_SITEMAPS and not self._spent():
            url = pending.pop(0)
            if url in seen:
                continue
            seen.add(url)
            try:
                page = self.fetcher.get(url, self.site)
            except RobotsForbids:
                self.found.forbidden += 1
                continue
            except SourceError:  # no sitemap, or not now: the links will do
                continue
            text = page.text
            locations = [clean(_unescape(loc)) for loc in _LOC.findall(text)]
            if _SITEMAP_INDEX.search(text):
                pending.extend(loc for loc in locations if site_of(loc) == self.site)
                continue
            for loc in locations[:MAX_SITEMAP_URLS]:
                if self._queue(loc, "", depth=1, parent=0.0):
                    self.found.sitemap_urls += 1

    # -- pages -----------------------------------------------------------------------------------------------------
    def _take(self, page: Page, depth: int) -> None:
        if page.content_type and "html" not in page.content_type.lower():
            return
        html = page.text
        try:
            doc = LexborHTMLParser(html)
        except Exception:  # noqa: BLE001 - a page selectolax cannot read is no page to rank
            return
        self.found.pages += 1
        try:
            candidate = read_page(page.url, html, doc, self.area, self.config.areas, depth)
        except ParseError:
            candidate = None
        if candidate is not None:
            self.found.candidates.append(candidate)
        main, title = _headings(doc)
        parent = max(0.0, min(link_score(main or title, page.url), 10.0))
        for anchor in doc.css("a[href]"):
            href = (anchor.attributes.get("href") or "").strip()
            if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
                continue
            text = clean(anchor.text(separator=" ")) or clean(anchor.attributes.get("title") or "")
            try:
                target = urljoin(page.url, href)
            except ValueError:
                continue
            self._queue(target, text, depth=depth + 1, parent=parent)

    def _queue(self, url: str, text: str, *, depth: int, parent: float) -> bool:
        url = _key(url)
        why = why_not_followed(url, self.site)
        if why is not None:
            self.found.not_followed[why] = self.found.not_followed.get(why, 0) + 1
            return False
        if url in self.read:
            return False
        score = link_score(text, url)
        priority = score + 0.25 * parent - 0.5 * depth
        if self.queued.get(url, float("-inf")) >= priority:
            return False
        self.queued[url] = priority
        self.order += 1
        heapq.heappush(self.frontier, (-priority, self.order, url, score, depth))
        return True


_LOC = re.compile(r"<loc>\s*(.*?)\s*</loc>", re.I | re.S)
_SITEMAP_INDEX = re.compile(r"<sitemapindex\b", re.I)


def _unescape(text: str) -> str:
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')


def _key(url: str) -> str:
    """A URL as discovery compares them: no fragment."""
    return urlsplit(url)._replace(fragment="").geturl()


# --- the register ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partnership:
    id: str
    name: str
    area: str
    home: str | None
    reviews: str | None


def read_register(path: Path) -> list[Partnership]:
    """The ``[[partnership]]`` tables of a register file (config/partnerships.toml's format)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, None, "no register here (--register-file names another)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"not a TOML register: {exc}") from None
    tables = data.get("partnership")
    if not isinstance(tables, list):
        raise ConfigError(path, "partnership", "no [[partnership]] tables")
    found = []
    for n, table in enumerate(tables, 1):
        if not isinstance(table, dict) or not all(isinstance(table.get(key), str) for key in ("id", "name", "area")):
            raise ConfigError(path, f"partnership #{n}", "needs id, name and area as strings")
        home, reviews = table.get("home"), table.get("reviews")
        found.append(Partnership(id=table["id"], name=table["name"], area=table["area"],
                                 home=home if isinstance(home, str) else None,
                                 reviews=reviews if isinstance(reviews, str) else None))
    return found
