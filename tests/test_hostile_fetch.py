"""Hostile pages on the wire: odd encodings come out right, and nothing is fetched off a source's own site.

Encodings: each case through ``fetch.decode``, and all of them in one live sync
against the loopback server, each page a source of its own.

Site bounds: a source's site is the scheme, host and port of its url. Pages on
the loopback server link everywhere else (a second server on another port is
another site; so is the same server under the name ``localhost``); a live sync
records those links as text and requests none of them, nor any report PDF, nor
a next link off the site. Redirects off the site go through a mock transport,
which sees every request the fetcher makes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlite_utils
import tomli_w

from conftest import ROOT
from mockserver import MockServer, Resource
from reposync import parsers
from reposync.config import Crawl, load_config, site_of
from reposync.errors import EXIT_OK, EXIT_TEMPORARY, NeedsPerson
from reposync.crawl.fetch import Fetcher, decode
from reposync.sync import run_sync

UA = "reposync/0.1 (+https://github.com/reposync/reposync; tests)"
GENERIC = "generic" if "generic" in parsers.PARSERS else "york"


@pytest.fixture
def elsewhere() -> Iterator[MockServer]:
    """Another site: the same address, another port."""
    mock = MockServer().start()
    yield mock
    mock.stop()


def write_config(tmp_path: Path, sources: list[dict]) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    table = {
        "crawl": {"delay": 0.0, "timeout": 2.0, "retries": 0, "user_agent": UA,
                  "check_links_days": 0},  # report links are asked about in tests/test_linkcheck.py
        "documents": {"fetch": False},  # and report documents fetched in tests/test_documents_sync.py
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": sources,
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def local(source_id: str, url: str) -> dict:
    return {"id": source_id, "kind": "local", "parser": GENERIC, "area": "York", "url": url}


def entries(tmp_path: Path) -> list[dict]:
    db = sqlite_utils.Database(tmp_path / "catalogue.db")
    try:
        return list(db.query("SELECT source, title, url FROM entries ORDER BY source, title"))
    finally:
        db.close()


def page(*items: str, title: str = "Safeguarding practice reviews", head: str = "") -> str:
    lis = "".join(f"<li>{item}</li>" for item in items)
    return (f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head><body><main>"
            f"<h1>{title}</h1><ul>{lis}</ul></main></body></html>")


# --- encodings -----------------------------------------------------------------------------------------------------

SMART = "Child A\u2019s \u201cfamily\u201d review \u2013 caf\u00e9"  # ’ “ ” – é: windows-1252 has them all
LATIN = "Child R, caf\u00e9 \u00a3 review \u00bd"  # latin-1 proper: é £ ½
MIXED = "Child M\u2019s review \u2013 na\u00efve"
CP1252_META = b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'

# id: (body, Content-Type, the text it must decode to)
DECODE_CASES = {
    "cp1252, header says so": (SMART.encode("cp1252"), "text/html; charset=windows-1252", SMART),
    "cp1252, no charset anywhere": (SMART.encode("cp1252"), "text/html", SMART),
    "cp1252, no Content-Type at all": (SMART.encode("cp1252"), None, SMART),
    "cp1252, meta charset only": (CP1252_META + SMART.encode("cp1252"), "text/html",
                                  CP1252_META.decode() + SMART),
    "latin-1, header says so": (LATIN.encode("latin-1"), "text/html; charset=ISO-8859-1", LATIN),
    "latin-1, no charset": (LATIN.encode("latin-1"), "text/html", LATIN),
    "latin-1 label on windows-1252 bytes (read as browsers do)": (SMART.encode("cp1252"),
                                                                 "text/html; charset=iso-8859-1", SMART),
    "ascii label on windows-1252 bytes": (SMART.encode("cp1252"), "text/html; charset=us-ascii", SMART),
    "UTF-8 BOM": (b"\xef\xbb\xbf" + SMART.encode("utf-8"), "text/html", SMART),
    "UTF-8 BOM beats a header saying windows-1252": (b"\xef\xbb\xbf" + SMART.encode("utf-8"),
                                                    "text/html; charset=windows-1252", SMART),
    "UTF-16 BOM": (SMART.encode("utf-16"), "text/html", SMART),
    "header says utf-8, bytes are windows-1252": (SMART.encode("cp1252"), "text/html; charset=utf-8", SMART),
    "header says windows-1252, bytes are utf-8": (SMART.encode("utf-8"), "text/html; charset=windows-1252", SMART),
    "header says latin-1, bytes are utf-8": (SMART.encode("utf-8"), "text/html; charset=iso-8859-1", SMART),
    "header utf-8, meta windows-1252, bytes windows-1252": (CP1252_META + SMART.encode("cp1252"),
                                                           "text/html; charset=utf-8", CP1252_META.decode() + SMART),
    "utf-8 with one pasted windows-1252 quote": (MIXED.encode("utf-8") + b" \x93sic\x94",
                                                 "text/html; charset=utf-8", MIXED + " \u201csic\u201d"),
    "an unknown charset label": (SMART.encode("cp1252"), "text/html; charset=x-nonesuch", SMART),
    "a charset that is not a charset (unicode_escape)": (b"\\u2019 " + SMART.encode("cp1252"),
                                                         "text/html; charset=unicode_escape", "\\u2019 " + SMART),
    "a charset that is no text encoding (rot13)": (SMART.encode("cp1252"), "text/html; charset=rot13", SMART),
    "utf-16 label, no BOM, ascii bytes": (b"<p>Child A</p>", "text/html; charset=utf-16", "<p>Child A</p>"),
}


@pytest.mark.parametrize("case", DECODE_CASES, ids=list(DECODE_CASES))
def test_decode(case: str) -> None:
    body, content_type, expected = DECODE_CASES[case]
    text = decode(body, content_type)
    assert text == expected
    assert "\ufffd" not in text and "\u00e2\u20ac" not in text and "\u00c3" not in text  # no U+FFFD, no mojibake


ENTITY_CASES = {
    # id: (parser, html, url, the title it must read)
    "generic: &amp; &ndash; &#8217;": (
        GENERIC, page("<a href='/r.pdf'>Baby B &amp; Baby C &ndash; the twins&#8217; review</a> (published 2014)"),
        "https://www.example.org/reviews", "Baby B & Baby C \u2013 the twins\u2019 review"),
    "generic: smart quotes as characters and as &ldquo; &rdquo; &lsquo; &rsquo;": (
        GENERIC, page("\u201cChild J\u2019s\u201d &ldquo;family&rdquo; &lsquo;review&rsquo; (published 2021)"),
        "https://www.example.org/reviews", "\u201cChild J\u2019s\u201d \u201cfamily\u201d \u2018review\u2019"),
    "generic: markup written as text": (
        GENERIC, page("&lt;script&gt;alert(1)&lt;/script&gt; Child S (published 2020)"),
        "https://www.example.org/reviews", "<script>alert(1)</script> Child S"),
    "generic: an entity without its semicolon, and a double-escaped one": (
        GENERIC, page("Child T &amp Child U &amp;ndash; review (published 2020)"),
        "https://www.example.org/reviews", "Child T & Child U &ndash; review"),
    "nspcc list heading: &#8216; &#8217; &amp;": (
        "nspcc-rolling",
        "<html><body><main><h2>Case reviews published in 2018</h2><h3>2018 - York - Child &#8216;A&#8217; &amp; B"
        "</h3><p>Summary.</p></main></body></html>",
        "https://learning.nspcc.org.uk/case-reviews/recently-published-case-reviews", "Child \u2018A\u2019 & B"),
    "library record: &ldquo; &rdquo; &ndash;": (
        "nspcc-library",
        "<html><body><table><tr><td class='fulllabel'>Title</td><td>Child &ldquo;D&rdquo; &ndash; serious case "
        "review</td></tr></table></body></html>",
        "https://library.nspcc.org.uk/record/1", "Child \u201cD\u201d \u2013 serious case review"),
}


@pytest.mark.parametrize("case", ENTITY_CASES, ids=list(ENTITY_CASES))
def test_entities_and_smart_quotes_in_titles(case: str) -> None:
    name, html, url, title = ENTITY_CASES[case]
    if name not in parsers.PARSERS:
        pytest.skip(f"no {name} parser registered")
    result = parsers.get_parser(name)(html, url)
    assert [e.title for e in result.entries] == [title]


# Each a source of its own in one live sync: (body, Content-Type, title the catalogue must hold).
LIVE_CASES = {
    "cp1252-header": ("Child A\u2019s \u201cfamily\u201d review \u2013 caf\u00e9", "cp1252",
                      "text/html; charset=windows-1252", ""),
    "cp1252-bare": ("Child B\u2019s \u201cfamily\u201d review \u2013 caf\u00e9", "cp1252", "text/html", ""),
    "cp1252-meta": ("Child C\u2019s \u201cfamily\u201d review \u2013 caf\u00e9", "cp1252", "text/html",
                    '<meta charset="windows-1252">'),
    "latin1-header": ("Child D, caf\u00e9 \u00a3 review \u00bd", "latin-1", "text/html; charset=ISO-8859-1", ""),
    "latin1-bare": ("Child E, caf\u00e9 \u00a3 review \u00bd", "latin-1", "text/html", ""),
    "utf8-bom": ("Child F\u2019s \u201cfamily\u201d review \u2013 caf\u00e9", "utf-8-sig", "text/html", ""),
    "utf8-says-cp1252": ("Child G\u2019s \u201cfamily\u201d review \u2013 caf\u00e9", "utf-8",
                         "text/html; charset=windows-1252", ""),
    "cp1252-says-utf8": ("Child H\u2019s \u201cfamily\u201d review \u2013 caf\u00e9", "cp1252",
                         "text/html; charset=utf-8", ""),
    "utf8-with-a-stray-byte": ("Child K\u2019s review \u2013 na\u00efve \u201csic\u201d", "mixed",
                               "text/html; charset=utf-8", ""),
    "entities": ("Baby L &amp; Baby N &ndash; the twins&#8217; review", "ascii", "text/html", ""),
}


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "mixed":  # UTF-8, but the quotes pasted in from a windows-1252 document
        return text.replace("\u201c", "\x00L").replace("\u201d", "\x00R").encode("utf-8") \
            .replace(b"\x00L", b"\x93").replace(b"\x00R", b"\x94")
    return text.encode(encoding)


def test_a_live_sync_reads_every_encoding_right(tmp_path: Path, server: MockServer) -> None:
    sources = []
    for source_id, (title, encoding, content_type, head) in LIVE_CASES.items():
        html = page(f"<a href='/{source_id}.pdf'>{title}</a> (published 10/10/13)", head=head)
        server.pages[f"/{source_id}"] = Resource(_encode(html, encoding), content_type=content_type)
        sources.append(local(source_id, server.url(f"/{source_id}")))
    result = run_sync(load_config(write_config(tmp_path, sources)))
    assert result.exit_code == EXIT_OK, [o.error for o in result.outcomes]
    got = {row["source"]: row["title"] for row in entries(tmp_path)}
    expected = {source_id: case[0] for source_id, case in LIVE_CASES.items()}
    expected["entities"] = "Baby L & Baby N \u2013 the twins\u2019 review"
    assert got == expected
    assert server.count("/robots.txt") == 1 and server.count() == len(LIVE_CASES) + 1


# --- nothing is fetched off the site --------------------------------------------------------------------------------

def offsite_links(server: MockServer, elsewhere: MockServer) -> dict[str, str]:
    """Title -> href: links a page on ``server`` holds to places that are not its site."""
    return {
        "Child OA": elsewhere.url("/reports/child-oa.pdf"),  # another port: another site
        "Child OB": f"http://localhost:{server.port}/reports/child-ob.pdf",  # another host name
        "Child OC": "file:///etc/passwd",
        "Child OD": "javascript:fetch('/steal')",
        "Child OE": "data:text/html,<script>alert(1)</script>",
        "Child OF": "ftp://10.0.0.1/child-of.pdf",
        "Child OG": "//evil.example/child-og.pdf",  # protocol-relative
        "Child OH": "http://10.0.0.1/child-oh.pdf",  # private addresses
        "Child OI": "http://192.168.1.1/admin",
        "Child OJ": "http://169.254.169.254/latest/meta-data/",  # a cloud metadata address
        "Child OK": f"http://[::1]:{server.port}/child-ok.pdf",  # IPv6 loopback
        "Child OL": "https://127.0.0.1:1/child-ol.pdf",
        "Child OM": "//[evil",  # not even a URL
        "Child ON": "/reports/child-on.pdf",  # the source's own site: a report PDF, still never fetched
        "Child OO": "reports/child-oo.PDF?download=1",
    }


def test_links_to_anywhere_else_are_recorded_as_text_and_never_requested(tmp_path: Path, server: MockServer,
                                                                          elsewhere: MockServer) -> None:
    links = offsite_links(server, elsewhere)
    items = [f"<a href=\"{href}\">{title}</a> (published 10/10/13)" for title, href in links.items()]
    server.pages["/reviews"] = Resource(page(*items).encode("utf-8"))
    result = run_sync(load_config(write_config(tmp_path, [local("site", server.url("/reviews"))])))
    assert result.exit_code == EXIT_OK, result.outcomes[0].error
    assert [e.target for e in server.log] == ["/robots.txt", "/reviews"]  # robots.txt and the page: nothing else
    assert all(e.headers["host"] == f"127.0.0.1:{server.port}" for e in server.log)  # never as localhost
    assert elsewhere.count() == 0 and result.requests == 2
    stored = {row["title"]: row["url"] for row in entries(tmp_path)}
    assert set(stored) == set(links)
    assert stored["Child OA"] == links["Child OA"]
    assert stored["Child OG"] == "http://evil.example/child-og.pdf"  # resolved against the page, as text
    assert stored["Child ON"] == server.url("/reports/child-on.pdf")
    # Only http(s) is a link: a file, a script, data, ftp or no URL at all is none (page_url says where it is).
    assert all(stored[title] is None for title in ("Child OC", "Child OD", "Child OE", "Child OF", "Child OM"))


LIBRARY = """<html><head><title>NSPCC Library</title></head><body><table>
<tr><td class="fulllabel">Title</td><td>{title}</td></tr>
<tr><td class="fulllabel">Copy number</td><td>{copy}</td></tr>
<tr><td class="fulllabel">Date of publication</td><td>2015</td></tr>
<tr><td class="fulllabel">Other</td><td><a href="/pdf/{copy}.pdf">{copy}.pdf</a></td></tr>
</table><p>Record {number} of 3</p><a class="navNext" href="{next}">Next record</a></body></html>"""


@pytest.mark.parametrize("where", ["another port", "another host name", "file", "javascript", "protocol-relative",
                                   "not a URL", "https on the same port"])
def test_a_next_link_off_the_site_is_never_followed(tmp_path: Path, server: MockServer, elsewhere: MockServer,
                                                    where: str) -> None:
    if "nspcc-library" not in parsers.PARSERS:
        pytest.skip("no library parser registered")
    off = {
        "another port": elsewhere.url("/record/3"),
        "another host name": f"http://localhost:{server.port}/record/3",
        "file": "file:///etc/passwd",
        "javascript": "javascript:location='/record/3'",
        "protocol-relative": "//evil.example/record/3",
        "not a URL": "http://[::1",
        "https on the same port": f"https://127.0.0.1:{server.port}/record/3",
    }[where]
    server.pages["/record/1"] = Resource(LIBRARY.format(title="Child R1", copy="R1", number=1,
                                                        next="/record/2").encode())
    server.pages["/record/2"] = Resource(LIBRARY.format(title="Child R2", copy="R2", number=2, next=off).encode())
    elsewhere.pages["/record/3"] = Resource(LIBRARY.format(title="Child R3", copy="R3", number=3, next="").encode())
    source = {"id": "library", "kind": "national", "parser": "nspcc-library", "url": server.url("/record/1")}
    result = run_sync(load_config(write_config(tmp_path, [source])))
    [outcome] = result.outcomes
    # Never followed, and the walk did not reach record 3 of 3: cut short, it lands nothing (issue 26).
    assert result.exit_code == EXIT_TEMPORARY and not outcome.complete and outcome.pages == 2
    assert outcome.error.startswith("walk stopped at record 2 of 3: its next link points off the site (")
    assert [e.target for e in server.log] == ["/robots.txt", "/record/1", "/record/2"]
    assert elsewhere.count() == 0 and server.count("/pdf/") == 0  # no next record elsewhere, and no PDF at all
    assert entries(tmp_path) == []


# --- redirects and robots.txt off the site, through a transport that sees every request -------------------------------

SITE = "https://www.example-partnership.org.uk"


class Recorder:
    """A mock transport: robots.txt and pages of SITE, with a redirect where asked; every request logged."""

    def __init__(self, routes: dict[str, httpx.Response]) -> None:
        self.routes = routes
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        return self.routes.get(str(request.url), httpx.Response(404))


def fetcher(recorder: Recorder) -> Fetcher:
    crawl = Crawl(delay=0.0, timeout=1.0, user_agent=UA, max_bytes=100_000, retries=0)
    return Fetcher(crawl, transport=httpx.MockTransport(recorder), sleep=lambda s: None, clock=lambda: 0.0)


@pytest.mark.parametrize("location", [
    "file:///etc/passwd", "ftp://www.example-partnership.org.uk/r.pdf", "//evil.example/x", "http://10.0.0.1/",
    "http://127.0.0.1:8080/admin", "http://[::1]/", "http://[::1", "javascript:alert(1)",
    "data:text/html,<b>x</b>", "http://www.example-partnership.org.uk/reviews",  # https to http: another site
    "https://www.example-partnership.org.uk:8443/reviews", "https://example-partnership.org.uk/reviews",
])
def test_a_redirect_off_the_site_is_never_followed(location: str) -> None:
    recorder = Recorder({f"{SITE}/reviews": httpx.Response(302, headers={"Location": location})})
    with fetcher(recorder) as f, pytest.raises(NeedsPerson, match="off the source's site"):
        f.get(f"{SITE}/reviews", site_of(SITE))
    assert recorder.seen == [f"{SITE}/robots.txt", f"{SITE}/reviews"]


def test_robots_txt_redirected_to_another_host_is_not_requested() -> None:
    recorder = Recorder({
        f"{SITE}/robots.txt": httpx.Response(301, headers={"Location": "http://127.0.0.1:8080/robots.txt"}),
        f"{SITE}/reviews": httpx.Response(200, text="<p>ok</p>"),
    })
    with fetcher(recorder) as f:
        assert f.get(f"{SITE}/reviews", site_of(SITE)).status == 200  # no rules (RFC 9309: unavailable)
    assert recorder.seen == [f"{SITE}/robots.txt", f"{SITE}/reviews"]


def test_robots_txt_redirected_on_the_same_host_is_followed_and_obeyed() -> None:
    http = SITE.replace("https://", "http://")
    recorder = Recorder({
        f"{http}/robots.txt": httpx.Response(301, headers={"Location": f"{SITE}/robots.txt"}),
        f"{SITE}/robots.txt": httpx.Response(200, text="User-agent: *\nDisallow: /private/\n"),
    })
    with fetcher(recorder) as f, pytest.raises(NeedsPerson, match="robots.txt forbids"):
        f.get(f"{http}/private/page", site_of(http))
    assert recorder.seen == [f"{http}/robots.txt", f"{SITE}/robots.txt"]


def test_a_link_with_a_control_character_is_refused_cleanly() -> None:
    """urlsplit drops tabs and newlines, so such a link looks on-site; httpx will not send it: a clean refusal."""
    recorder = Recorder({})
    with fetcher(recorder) as f, pytest.raises(NeedsPerson, match="not a URL that can be requested"):
        f.get(f"{SITE}/re\nviews\x00", site_of(SITE))
    assert f"{SITE}/re\nviews\x00" not in recorder.seen
