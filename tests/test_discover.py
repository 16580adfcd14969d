"""`reposync sources discover`: from a partnership's home page to its page of children's case reviews, against
loopback sites built here (each its own host, 127.0.20.x): a WordPress-style partnership site, a council site with
the page four clicks deep beside pages of reviews about adults, and an old domain that redirects to a new one.

Every request is counted server-side: discovery stays within its budget and never asks for what robots.txt
forbids, a search page, a calendar's months, a document or another site. The pages are synthetic
(tests/fixtures/discover/README.md).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from protego import Protego

from conftest import FIXTURES, ROOT
from mockserver import MockServer, Resource
from reposync.cli import cli
from reposync.config import load_config
from reposync.crawl.discover import ADULTS, BRIEFINGS, CHILDREN, OTHER, read_page, why_not_followed
from selectolax.lexbor import LexborHTMLParser

SITES = FIXTURES / "discover"
UA = "reposync/0.1 (+https://github.com/reposync/reposync; tests)"
WP_REVIEWS = "/learning-from-reviews/safeguarding-practice-reviews/"
COUNCIL_PARTNERSHIP = "/children-and-families/safeguarding-children/synthborough-safeguarding-children-partnership"
COUNCIL_REVIEWS = COUNCIL_PARTNERSHIP + "/child-safeguarding-practice-reviews"
SAR = "/adult-social-care/safeguarding-adults/safeguarding-adults-reviews"
DHR = "/community-safety/domestic-homicide-reviews"
MOVED_REVIEWS = "/professionals/learning-and-improvement/serious-case-reviews"


class Site(dict):
    """A site's pages for MockServer: its fixed pages, then what ``make`` makes of a target; else 404.

    MockServer looks a target up in ``server.pages`` before its own endpoints, so this answers every request
    (robots.txt included) as the site would.
    """

    def __init__(self, pages: dict[str, Resource], make: Callable[[str], Resource | None] | None = None) -> None:
        super().__init__(pages)
        self.make = make

    def __contains__(self, target: object) -> bool:
        return True

    def __getitem__(self, target: str) -> Resource:
        if dict.__contains__(self, target):
            return dict.__getitem__(self, target)
        return (self.make(target) if self.make else None) or Resource(b"not found", status=404)


class Everywhere(dict):
    """``server.moved`` for an old domain: every target answers 301 to the same target on the new site."""

    def __init__(self, new_base: str) -> None:
        super().__init__()
        self.new_base = new_base

    def __contains__(self, target: object) -> bool:
        return True

    def __getitem__(self, target: str) -> str:
        return self.new_base + target


def html(name: str) -> Resource:
    return Resource((SITES / name).read_bytes())


def text(body: str, content_type: str = "text/plain; charset=utf-8") -> Resource:
    return Resource(body.encode("utf-8"), content_type=content_type)


def filler(title: str, links: str = "") -> Resource:
    """A page of a site that lists nothing: a heading, a sentence, links home (and any given)."""
    return Resource(f"<!-- synthetic filler page -->\n<html><head><title>{title}</title></head><body>"
                    f"<nav><a href='/'>Home</a></nav><main><h1>{title}</h1><p>Information about {title.lower()}."
                    f"</p>{links}</main></body></html>".encode())


def title_of(target: str) -> str:
    return target.strip("/").rsplit("/", 1)[-1].replace("-", " ").capitalize() or "Home"


# -- the sites -------------------------------------------------------------------------------------------------------
_MONTH = re.compile(r"^/events/\?month=(\d{4})-(\d{2})$")


def calendar_month(target: str) -> Resource | None:
    """An events calendar without end: every month links the month before and the month after."""
    match = _MONTH.match(target)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    before = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    after = f"{year + (month == 12)}-{month % 12 + 1:02d}"
    return Resource(f"""<!-- synthetic: an events calendar month -->
<html><head><title>Events {year}-{month:02d}</title></head><body><main><h1>Events: {year}-{month:02d}</h1>
<ul><li><a href="/events/neglect-training-{year}-{month:02d}/">Neglect training</a> 12/{month:02d}/{year}</li>
<li><a href="/events/learning-from-reviews-briefing-{year}-{month:02d}/">Learning from case reviews: briefing</a>
 20/{month:02d}/{year}</li></ul>
<p><a href="/events/?month={before}">Previous month</a> <a href="/events/?month={after}">Next month</a>
<a href="/events/?month={after}&amp;view=list">List view</a></p></main></body></html>""".encode())


def wordpress_site(server: MockServer) -> Site:
    base = server.base
    pages = ["/", "/about-us/", "/professionals/", "/professionals/training/", "/professionals/procedures/",
             "/learning-from-reviews/", WP_REVIEWS, "/learning-from-reviews/7-minute-briefings/",
             "/learning-from-reviews/rapid-review-process/", "/parents-and-carers/", "/events/", "/news/",
             "/members/case-reviews-archive/"]
    posts = ["/2024/05/new-multi-agency-threshold-document/", "/2024/03/safer-sleep-week/",
             "/2024/02/practice-review-child-q-published/", "/2023/06/practice-review-siblings-r-and-s/"]

    def urlset(paths: list[str]) -> Resource:
        locs = "".join(f"<url><loc>{base}{path}</loc></url>" for path in paths)
        return text(f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                    f'sitemap/0.9">{locs}</urlset>', "application/xml")

    fixed = {
        "/robots.txt": text(f"User-agent: *\nDisallow: /wp-admin/\nDisallow: /members/\n"
                            f"Allow: /wp-admin/admin-ajax.php\n\nSitemap: {base}/wp-sitemap.xml\n"),
        "/wp-sitemap.xml": text(f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.'
                                f'org/schemas/sitemap/0.9"><sitemap><loc>{base}/wp-sitemap-posts-page-1.xml</loc>'
                                f'</sitemap><sitemap><loc>{base}/wp-sitemap-posts-post-1.xml</loc></sitemap>'
                                f'</sitemapindex>', "application/xml"),
        "/wp-sitemap-posts-page-1.xml": urlset(pages),
        "/wp-sitemap-posts-post-1.xml": urlset(posts),
        "/": html("wordpress/home.html"),
        "/learning-from-reviews/": html("wordpress/learning-from-reviews.html"),
        WP_REVIEWS: html("wordpress/safeguarding-practice-reviews.html"),
        "/learning-from-reviews/7-minute-briefings/": html("wordpress/7-minute-briefings.html"),
        "/news/": html("wordpress/news.html"),
        "/events/": calendar_month("/events/?month=2024-05"),
    }

    def make(target: str) -> Resource | None:
        if target.startswith("/events/?"):
            return calendar_month(target)
        if target.endswith("/") and "?" not in target:  # the site's other pages and posts
            return filler(title_of(target))
        return None

    return Site(fixed, make)


def council_site(server: MockServer) -> Site:
    fixed = {
        "/robots.txt": text("User-agent: *\nDisallow: /search\nDisallow: /admin/\n"),
        "/": html("council/home.html"),
        "/children-and-families": html("council/children-and-families.html"),
        "/children-and-families/safeguarding-children": html("council/safeguarding-children.html"),
        COUNCIL_PARTNERSHIP: html("council/partnership.html"),
        COUNCIL_REVIEWS: html("council/practice-reviews.html"),
        SAR: html("council/safeguarding-adults-reviews.html"),
        DHR: html("council/domestic-homicide-reviews.html"),
        "/adult-social-care": html("council/adult-social-care.html"),
        "/adult-social-care/safeguarding-adults": html("council/safeguarding-adults.html"),
        "/community-safety": html("council/community-safety.html"),
    }

    def make(target: str) -> Resource | None:  # every other service page: a page of information
        if "?" in target or "." in target.rsplit("/", 1)[-1]:
            return None
        return filler(title_of(target), "<p><a href='/contact-us'>Contact us</a> <a href='/a-to-z'>A to Z</a></p>")

    return Site(fixed, make)


def moved_site(server: MockServer) -> Site:
    return Site({
        "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),  # no sitemap: /sitemap.xml answers 404
        "/": html("moved/home.html"),
        "/professionals": html("moved/professionals.html"),
        "/professionals/learning-and-improvement": html("moved/learning.html"),
        MOVED_REVIEWS: html("moved/reviews.html"),
    }, lambda target: filler(title_of(target)) if "." not in target and "?" not in target else None)


def quiet_site(server: MockServer) -> Site:
    """A site on which nothing lists reviews."""
    links = "<a href='/about'>About</a> <a href='/parents'>Parents</a> <a href='/training'>Training</a>"
    return Site({"/": filler("Synthford Safeguarding Children Partnership", links)},
                lambda target: filler(title_of(target)) if "?" not in target else None)


@pytest.fixture
def sites() -> Iterator[dict[str, MockServer]]:
    servers = {name: MockServer(host=f"127.0.20.{n}").start()
               for n, name in enumerate(("wordpress", "council", "old", "new", "quiet"), 1)}
    servers["wordpress"].pages = wordpress_site(servers["wordpress"])
    servers["council"].pages = council_site(servers["council"])
    servers["new"].pages = moved_site(servers["new"])
    servers["old"].moved = Everywhere(servers["new"].base)
    servers["quiet"].pages = quiet_site(servers["quiet"])
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    path = folder / "sources.toml"
    path.write_text(f"""# sources for the discovery tests: this comment must survive --write.
[crawl]
delay = 0.0     # loopback sites
timeout = 2.0
retries = 0
user_agent = "{UA}"

[paths]
db = "../catalogue.db"
snapshots = "../snapshots"
reports = "../reports"

[[source]]
id = "york"
kind = "local"
parser = "generic"
area = "York"
url = "http://127.0.20.99/york"
""", encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def discover_json(config: Path, url: str, *extra: str) -> tuple[Result, dict]:
    result = run("sources", "discover", url, "--area", "Leeds", "--config", str(config), "--format", "json", *extra)
    return result, json.loads(result.stdout)


def robots_allowed(server: MockServer) -> None:
    """Nothing the site's robots.txt forbids was asked for (checked against the server's own log)."""
    robots = server.pages["/robots.txt"]
    rules = Protego.parse(robots.body.decode())
    asked = [entry.target for entry in server.log]
    assert all(rules.can_fetch(server.url(target), UA) for target in asked), asked


# -- the three sites -----------------------------------------------------------------------------------------------
def test_wordpress_site_the_page_of_reviews_not_briefings_news_or_the_calendar(config: Path, sites):
    wp = sites["wordpress"]
    result, found = discover_json(config, wp.url("/"))
    assert result.exit_code == 0, result.output
    assert found["start"] == wp.url("/") and found["moved"] is None
    assert found["best"] == {"url": wp.url(WP_REVIEWS), "entries": 4, "reviews": 4}
    ranks = {c["url"]: c["rank"] for c in found["candidates"]}
    assert ranks[wp.url("/learning-from-reviews/7-minute-briefings/")] == "briefings"  # 8 entries, ranked below
    assert ranks.get(wp.url("/news/")) in (None, "other listings")  # if read: news items, ranked below
    assert found["candidates"][0]["url"] == wp.url(WP_REVIEWS)
    asked = [entry.target for entry in wp.log]
    assert found["requests"] == len(asked) <= 60
    assert asked[:2] == ["/", "/robots.txt"] or asked[:2] == ["/robots.txt", "/"]
    assert "/wp-sitemap.xml" in asked and "/wp-sitemap-posts-page-1.xml" in asked  # robots.txt's Sitemap: line
    robots_allowed(wp)
    assert not [t for t in asked if t.startswith("/members/")]  # linked and in the sitemap, forbidden
    assert not [t for t in asked if "?month=" in t or "?s=" in t or t.endswith(".pdf")]  # the endless calendar
    assert all(entry.headers["user-agent"] == UA for entry in wp.log)
    print(f"wordpress: {len(asked)} requests")


def test_an_endless_calendar_is_never_walked_and_the_budget_holds(config: Path, sites):
    wp = sites["wordpress"]
    for target in (WP_REVIEWS, "/learning-from-reviews/7-minute-briefings/", "/learning-from-reviews/"):
        del wp.pages[target]  # the site without its pages of reviews: nothing stops the crawl early
    wp.pages["/"] = Resource(wp.pages["/"].body.replace(b"<h2>Latest news</h2>", b"<h2>Latest news</h2><p>"
                             b'<a href="/events/?month=2024-06">Learning from case reviews: events in June</a></p>'))
    result, found = discover_json(config, wp.url("/"))
    assert result.exit_code == 65 and found["best"] is None, result.output
    asked = [entry.target for entry in wp.log]
    assert found["requests"] == len(asked) <= 60
    assert not [t for t in asked if "?" in t]  # not one month of the calendar, however well its link reads
    robots_allowed(wp)
    print(f"wordpress without its pages of reviews: {len(asked)} requests")


def test_council_site_four_clicks_deep_and_reviews_about_adults_ranked_out(config: Path, sites):
    council = sites["council"]
    result, found = discover_json(config, council.url("/"))
    assert result.exit_code == 0, result.output
    assert found["best"] == {"url": council.url(COUNCIL_REVIEWS), "entries": 5, "reviews": 5}
    by_url = {c["url"]: c for c in found["candidates"]}
    # Beside it, and each listing more entries than it: read, and ranked out as reviews about adults.
    for path, entries in ((SAR, 8), (DHR, 6)):
        assert by_url[council.url(path)]["entries"] == entries
        assert by_url[council.url(path)]["rank"] == "reviews about adults (ranked out)"
        assert "ranked out" in by_url[council.url(path)]["why"]
    assert by_url[council.url(COUNCIL_REVIEWS)]["depth"] == 4
    asked = [entry.target for entry in council.log]
    assert found["requests"] == len(asked) <= 60
    robots_allowed(council)
    assert not [t for t in asked if t.startswith(("/search", "/whats-on")) or t.endswith(".pdf")]
    assert "/sitemap.xml" in asked  # asked once, answered 404: the links do
    print(f"council: {len(asked)} requests")


def test_old_domain_that_redirects_everything_is_followed_and_said(config: Path, sites):
    old, new = sites["old"], sites["new"]
    result = run("sources", "discover", old.url("/"), "--area", "Wakefield", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert f"moved: {old.url('/')} redirects to another site, {new.url('/')}; that site was crawled" in result.output
    assert f"The best: {new.url(MOVED_REVIEWS)}" in result.output
    for title in ("Child W - Local Child Safeguarding Practice Review", "Baby Y - Serious Case Review"):
        assert title in result.output  # the best one's preview
    assert f'url = "{new.url(MOVED_REVIEWS)}"' in result.output and "Nothing written" in result.output
    old_asked = [entry.target for entry in old.log]
    assert set(old_asked) <= {"/", "/robots.txt"} and len(old_asked) <= 3  # the old site: only to learn the move
    assert len(old_asked) + len(new.log) <= 60
    robots_allowed(new)
    print(f"old domain: {len(old_asked)} requests, new: {len(new.log)} requests")


def test_a_start_page_sent_to_another_port_of_its_host_is_followed(config: Path, sites):
    """As http://host/ sending everything to https://host/ does: the same host, another site."""
    new = sites["new"]
    other_port = MockServer(host=new.host).start()
    try:
        other_port.moved = Everywhere(new.base)
        result, found = discover_json(config, other_port.url("/"))
        assert result.exit_code == 0, result.output
        assert found["moved"] == new.url("/") and found["best"]["url"] == new.url(MOVED_REVIEWS)
    finally:
        other_port.stop()


# -- what it writes, and when it writes nothing -------------------------------------------------------------------
def test_write_appends_the_best_as_sources_add_does(config: Path, sites):
    council = sites["council"]
    before = config.read_text(encoding="utf-8")
    result = run("sources", "discover", council.url("/"), "--area", "Bradford", "--id", "synthborough",
                 "--config", str(config), "--write")
    assert result.exit_code == 0, result.output
    assert "Candidates (" in result.output and "ranked out" in result.output
    after = config.read_text(encoding="utf-8")
    assert after.startswith(before)
    added = after[len(before):]
    assert added.startswith("\n# Bradford: added by `reposync sources discover` on ") and "(5 entries)" in added
    loaded = load_config(config)
    assert [(s.id, s.url, s.area.name) for s in loaded.sources][1:] == [
        ("synthborough", council.url(COUNCIL_REVIEWS), "Bradford")]


def test_a_site_that_lists_no_reviews_exits_65_and_writes_nothing(config: Path, sites):
    quiet = sites["quiet"]
    before = config.read_bytes()
    result, found = discover_json(config, quiet.url("/"), "--write")
    assert result.exit_code == 65, result.output
    assert found["best"] is None and found["candidates"] == []
    assert "nothing on its site lists children's case reviews" in result.stderr
    assert config.read_bytes() == before
    assert len(quiet.log) <= 60


def test_max_pages_bounds_every_request(config: Path, sites):
    council = sites["council"]
    result, found = discover_json(config, council.url("/"), "--max-pages", "6")
    assert result.exit_code == 65 and found["best"] is None  # four clicks deep is out of reach of six requests
    assert len(council.log) == found["requests"] <= 6


@pytest.mark.parametrize(("args", "words"), [
    (["URL", "--area", "Atlantis"], "unknown area 'Atlantis'"),
    (["ftp://example.org/", "--area", "Leeds"], "must be an http(s) URL"),
    (["not a url", "--area", "Leeds"], "must be an http(s) URL"),
    (["URL", "--area", "Leeds", "--id", "york"], "'york' is already a source"),
])
def test_bad_input_exits_2_before_any_request(config: Path, sites, args: list[str], words: str):
    council = sites["council"]
    before = config.read_bytes()
    args = [council.url("/") if arg == "URL" else arg for arg in args]
    result = run("sources", "discover", *args, "--config", str(config), "--write")
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert config.read_bytes() == before and len(council.log) == 0


@pytest.mark.parametrize(("target", "code"), [("/status/503", 75), ("/status/404", 65)])
def test_a_start_page_that_cannot_be_read_fails_in_one_line(config: Path, server: MockServer, target: str,
                                                             code: int):
    before = config.read_bytes()
    result = run("sources", "discover", server.url(target), "--area", "Leeds", "--config", str(config), "--write")
    assert result.exit_code == code, result.output
    assert config.read_bytes() == before


def test_a_page_found_that_is_already_a_source_exits_2_and_writes_nothing(config: Path, sites):
    council = sites["council"]
    text_ = config.read_text(encoding="utf-8").replace("http://127.0.20.99/york", council.url(COUNCIL_REVIEWS))
    config.write_text(text_, encoding="utf-8")
    result = run("sources", "discover", council.url("/"), "--area", "Bradford", "--config", str(config), "--write")
    assert result.exit_code == 2 and "already configured, as source 'york'" in result.output, result.output
    assert config.read_text(encoding="utf-8") == text_


# -- the register ---------------------------------------------------------------------------------------------------
def test_register_only_missing_discovers_and_writes_each_found_page(config: Path, sites, tmp_path: Path):
    register = tmp_path / "partnerships.toml"
    text_ = (SITES / "register.toml").read_text(encoding="utf-8")
    for name, key in (("wordpress", "WORDPRESS"), ("council", "COUNCIL"), ("old", "OLD")):
        text_ = text_.replace(f"http://{key}/", sites[name].url("/"))
    register.write_text(text_, encoding="utf-8")
    result = run("sources", "discover", "--register", "--register-file", str(register), "--only-missing",
                 "--config", str(config), "--write")
    assert result.exit_code == 0, result.output
    assert f"synthshire: {sites['wordpress'].url(WP_REVIEWS)}" in result.output
    assert f"synthcaster: {sites['new'].url(MOVED_REVIEWS)} (moved to {sites['new'].url('/')})" in result.output
    assert "synthwick: no home page known" in result.output
    assert "synthborough" not in result.output and len(sites["council"].log) == 0  # its page is known already
    loaded = load_config(config)
    assert {s.id: s.url for s in loaded.sources if s.id != "york"} == {
        "synthshire": sites["wordpress"].url(WP_REVIEWS), "synthcaster": sites["new"].url(MOVED_REVIEWS)}
    assert {s.id: s.area.name for s in loaded.sources if s.id != "york"} == {
        "synthshire": "Leeds", "synthcaster": "Wakefield"}


# -- how a page ranks ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "url", "rank", "entries"), [
    ("council/practice-reviews.html", "http://a.example/reviews", CHILDREN, 5),
    ("moved/reviews.html", "http://a.example/scrs", CHILDREN, 3),
    ("wordpress/safeguarding-practice-reviews.html", "http://a.example/spr/", CHILDREN, 4),
    ("wordpress/7-minute-briefings.html", "http://a.example/7mb/", BRIEFINGS, 8),
    ("wordpress/news.html", "http://a.example/news/", OTHER, 5),  # five posts that name reviews: still news
    ("council/safeguarding-adults-reviews.html", "http://a.example/sar", ADULTS, 8),
    ("council/domestic-homicide-reviews.html", "http://a.example/dhr", ADULTS, 6),
])
def test_pages_rank_by_what_they_list(config: Path, name: str, url: str, rank: int, entries: int):
    loaded = load_config(config)
    body = (SITES / name).read_text(encoding="utf-8")
    candidate = read_page(url, body, LexborHTMLParser(body), loaded.areas.lookup("Leeds"), loaded.areas, 1)
    assert (candidate.rank, candidate.entries) == (rank, entries), candidate.why


def test_entries_about_adults_are_never_childrens_reviews_even_on_a_childrens_page(config: Path):
    loaded = load_config(config)
    body = (SITES / "council/practice-reviews.html").read_text(encoding="utf-8").replace(
        "</tbody>", "<tr><td><a href='/d/sar-adult-z.pdf'>SAR Adult Z</a></td><td>1 May 2024</td></tr>"
                    "<tr><td><a href='/d/dhr-ms-y.pdf'>DHR Ms Y</a></td><td>2 May 2024</td></tr></tbody>")
    candidate = read_page("http://a.example/r", body, LexborHTMLParser(body), loaded.areas.lookup("Leeds"),
                          loaded.areas, 1)
    assert (candidate.rank, candidate.entries, candidate.reviews, candidate.adults) == (CHILDREN, 7, 5, 2)


# -- what is never followed ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "why"), [
    ("http://a.example/events/?month=2024-05", "a calendar (dates in its query string)"),
    ("http://a.example/whats-on?date=2024-05-01", "a calendar (dates in its query string)"),
    ("http://a.example/events/list/?tribe-bar-date=2024-05-01", "a calendar (dates in its query string)"),
    ("http://a.example/?s=reviews", "a search page"),
    ("http://a.example/search?q=case+reviews", "a search page"),
    ("http://a.example/files/Child-Q.PDF", "a document"),
    ("http://a.example/files/briefing.docx", "a document"),
    ("http://b.example/reviews/", "another site"),
    ("https://a.example/reviews/", "another site"),
    ("http://a.example/wp-admin/", "a log-in, feed or archive page"),
    ("http://a.example/reviews/?page=2", None),
    ("http://a.example/article.aspx?id=123", None),
])
def test_what_is_never_followed(url: str, why: str | None):
    assert why_not_followed(url, ("http", "a.example", 80)) == why
