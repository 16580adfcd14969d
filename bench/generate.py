"""A synthetic national collection for the sync benchmarks, written with reposync's own ``Archive``.

At scale 1 it is about the real size: 1,500 NSPCC Library records (one record a page, each linking the
next with ``navNext``, sorted by year, newest first), seven yearly lists of 100 entries and two rolling
pages of 30, in the markup of the bundled snapshot pages (tests/fixtures and snapshots/ hold the real
ones). Scale k multiplies the library records and the number of yearly lists; pages keep a realistic size.

Every record is SYNTHETIC (the manifest note says so): the titles name invented pseudonyms ("Child QZ123");
area names are drawn from config/areas.toml so that the area lookup does the work it does on real pages.
Generated archives go to bench/out/ (git-ignored), never into snapshots/.

    python bench/generate.py --scale 10             # writes bench/out/scale-10/{snapshots,config}
    python bench/generate.py --scale 1 --out /tmp/x

``generate(out, scale)`` returns the config path; an archive already generated with the same parameters is
reused (a stamp file records them).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import shutil
import sys
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from reposync.archive import snapshots
from reposync.archive.snapshots import Archive  # noqa: E402

VERSION = 2  # bump when the generated pages change: old archives are regenerated
LIBRARY_RECORDS = 1500
YEARLY_LISTS = 7
YEARLY_ENTRIES = 100
ROLLING_PAGES = 2
ROLLING_ENTRIES = 30
NEWEST_YEAR = 2025
YEARS = 18  # library records spread over 2008-2025

LIBRARY_HOST = "https://library.nspcc.org.uk"
SET_ID = "5E7B0000-BE1C-4A11-9C00-00000000BE1C"  # a placeholder SetID, as in the bundled snapshots
QUERY = ("LabelText=Case%20review&searchterm=%2A&Fields=%40&Media=SCR&Bool=AND&SearchPrecision=20&SortOrder=Y1"
         "&Offset={offset}&Direction=%2E&Dispfmt=F&Dispfmt_b=B27&Dispfmt_f=F13&DataSetName=LIVEDATA")
LAST_MODIFIED = "Wed, 03 Jul 2024 09:14:52 GMT"
NOTE = "SYNTHETIC benchmark page (bench/generate.py): invented records, not real reviews"

TYPES = [
    ("Serious case review", "Serious case review"),
    ("Local child safeguarding practice review", "Local child safeguarding practice review"),
    ("Child practice review", "Child practice review"),
    ("Thematic review", "Thematic review"),
    ("Serious case review", "Serious case review"),
    ("Local child safeguarding practice review", "Local child safeguarding practice review"),
]
ROLES = ["Child", "Child", "Baby", "Children", "Young person", "Family"]
KEYWORDS = ["neglect", "domestic abuse", "multi-agency working", "babies", "parental mental health",
            "information sharing", "child sexual exploitation", "non-accidental injuries", "suicide"]


@contextmanager
def no_fsync():
    """A bulk writer needs no per-file fsync: the archive is rebuilt if the machine dies mid-write."""
    real = os.fsync
    os.fsync = lambda fd: None  # type: ignore[assignment]
    try:
        yield
    finally:
        os.fsync = real  # type: ignore[assignment]


def area_names() -> list[str]:
    data = tomllib.loads((ROOT / "config" / "areas.toml").read_text(encoding="utf-8"))
    names = [area["name"] for area in data.get("area", []) if area.get("nation", "england") == "england"]
    return sorted(names)


def library_url(offset: int) -> str:
    if offset == 1:  # the start: a fresh search
        return f"{LIBRARY_HOST}/HeritageScripts/Hapi.dll/search2?{QUERY.format(offset=1)}"
    return f"{LIBRARY_HOST}/HeritageScripts/Hapi.dll/retrieve2?SetID={SET_ID}&{QUERY.format(offset=offset)}"


def _nav_href(offset: int) -> str:
    return html.escape(f"retrieve2?SetID={SET_ID}&{QUERY.format(offset=offset)}")


@dataclass
class Record:
    number: int  # 1-based position in the result set
    total: int
    title: str
    copy: str
    board: str
    year: int
    abstract: str
    keywords: str
    pdf: str | None


def library_page(r: Record) -> str:
    nav = [f'<a class="navFirst" href="{_nav_href(1)}">First</a>']
    if r.number > 1:
        nav.append(f'<a class="navPrev" href="{_nav_href(r.number - 1)}">Previous</a>')
    if r.number < r.total:
        nav.append(f'<a class="navNext" href="{_nav_href(r.number + 1)}">Next</a>')
        nav.append(f'<a class="navLast" href="{_nav_href(r.total)}">Last</a>')
    other = (f'<a href="{html.escape(r.pdf)}" target="_blank">Full text (PDF)</a>' if r.pdf
             else "No longer available online")
    fields = [("Title", html.escape(r.title)), ("Copy number", r.copy), ("LSCB", html.escape(r.board)),
              ("Author", html.escape(r.board)), ("Date of publication", str(r.year)), ("Media", "Case review"),
              ("Abstract", html.escape(r.abstract)), ("Keywords", html.escape(r.keywords)), ("Other format", other)]
    rows = "\n".join(
        f'  <tr>\n    <td class="fulllabel" valign="top">{label}:</td>\n'
        f'    <td class="fulltext" valign="top">{value}</td>\n  </tr>' for label, value in fields
    )
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<html lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>NSPCC Library catalogue - Full display</title>
<link rel="stylesheet" type="text/css" href="/HeritageOnline/styles/opac.css">
<link rel="shortcut icon" href="/HeritageOnline/images/favicon.ico">
<script type="text/javascript" src="/HeritageOnline/scripts/opac.js"></script>
</head>
<body>
<div id="page">
<div id="header">
  <a href="https://www.nspcc.org.uk/"><img src="/HeritageOnline/images/nspcc-logo.gif" alt="NSPCC" width="150" height="60" border="0"></a>
  <span class="sitetitle">NSPCC Library and Information Service</span>
</div>
<div id="menu">
  <a href="/HeritageScripts/Hapi.dll/search1?DataSetName=LIVEDATA">Quick search</a> |
  <a href="/HeritageScripts/Hapi.dll/search3?DataSetName=LIVEDATA">Advanced search</a> |
  <a href="/HeritageScripts/Hapi.dll/search1?Media=SCR&amp;DataSetName=LIVEDATA">Case reviews</a> |
  <a href="/HeritageScripts/Hapi.dll/savedlist?DataSetName=LIVEDATA">Saved list (0)</a> |
  <a href="/HeritageScripts/Hapi.dll/help?DataSetName=LIVEDATA">Help</a>
</div>
<div id="breadcrumbs">You are here: <a href="https://learning.nspcc.org.uk/">NSPCC Learning</a> &gt; <a href="/HeritageScripts/Hapi.dll/search1?DataSetName=LIVEDATA">Library catalogue</a> &gt; Case review &gt; Full display</div>
<div id="searchsummary">Your search: <b>Case review</b> (all records) sorted by date, newest first</div>
<table class="navbar" width="100%" border="0" cellspacing="0" cellpadding="2">
  <tr>
    <td class="navPosition">Record <b>{r.number}</b> of <b>{r.total}</b></td>
    <td class="navButtons" align="right">{" | ".join(nav)}</td>
  </tr>
</table>
<table class="fullDisplay" width="100%" border="0" cellspacing="0" cellpadding="4">
{rows}
</table>
<div class="recordtools">
  <a href="/HeritageScripts/Hapi.dll/savedlist?Add={r.copy}&amp;DataSetName=LIVEDATA">Add to saved list</a> |
  <a href="javascript:window.print()">Print</a>
</div>
<div id="footer">
  <p>Copyright &copy; NSPCC. Copyright in each case review remains with the safeguarding board or partnership that published it.</p>
  <p>NSPCC, Weston House, 42 Curtain Road, London EC2A 3NH | Registered charity England and Wales 216401. Scotland SC037717.</p>
  <p><a href="https://www.nspcc.org.uk/terms-and-conditions/">Terms and conditions</a> | <a href="https://www.nspcc.org.uk/privacy/">Privacy</a> | Powered by Heritage</p>
</div>
</div>
</body>
</html>
"""


@dataclass
class ListEntry:
    heading: str
    summary: str
    learning: str
    recommendations: str
    keywords: str
    pdf: str


def list_entries(rng: random.Random, areas: list[str], count: int, year: int, prefix: str) -> list[ListEntry]:
    out = []
    for i in range(count):
        area = "Anonymous" if rng.random() < 0.06 else rng.choice(areas)
        kind, _ = rng.choice(TYPES)
        title = f"{rng.choice(ROLES)} {prefix}{i + 1}"
        month = ["January", "March", "June", "September", "December"][i % 5] + " " if year < 2016 else ""
        words = rng.sample(KEYWORDS, 3)
        out.append(ListEntry(
            heading=f"{month}{year} - {area} - {title}",
            summary=f"{kind}. The overview report considers how agencies worked with the child and family.",
            learning="the learning identified by the review is summarised in the overview report.",
            recommendations="made to the board and its partner agencies; see the overview report.",
            keywords=", ".join(words),
            pdf=f"https://library.nspcc.org.uk/HeritageScripts/Hapi.dll/filetransfer/{year}{prefix}{i + 1}.pdf",
        ))
    return out


def _entries_html(entries: list[ListEntry], heading_tag: str) -> str:
    blocks = []
    for e in entries:
        blocks.append(f"""        <{heading_tag}>{html.escape(e.heading)}</{heading_tag}>
        <p>{html.escape(e.summary)}</p>
        <p><strong>Background:</strong> set out in the overview report.</p>
        <p><strong>Learning:</strong> {html.escape(e.learning)}</p>
        <p><strong>Recommendations:</strong> {html.escape(e.recommendations)}</p>
        <p><strong>Keywords:</strong> {html.escape(e.keywords)}</p>
        <p><a href="{html.escape(e.pdf)}">Read the overview report</a></p>
""")
    return "\n".join(blocks)


def yearly_page(year: int, entries: list[ListEntry]) -> str:
    """The newer nspcc.org.uk site's yearly list (as the bundled 2014-2018 pages)."""
    return f"""<!DOCTYPE html>
<html lang="en-GB" class="no-js">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Case reviews published in {year} | NSPCC</title>
<link rel="stylesheet" href="/static/css/main.min.css?v=20150121">
<script src="/static/js/modernizr.min.js"></script>
</head>
<body class="t-content-page">
<a href="#main" class="skip-link">Skip to main content</a>
<header class="site-header" role="banner">
  <a href="/" class="site-header__logo"><img src="/static/img/nspcc-logo.svg" alt="NSPCC"></a>
  <nav class="site-nav" role="navigation" aria-label="Main navigation">
    <ul>
      <li><a href="/what-you-can-do/">What you can do</a></li>
      <li><a href="/preventing-abuse/">Preventing abuse</a></li>
      <li><a href="/services-and-resources/">Services and resources</a></li>
      <li><a href="/what-we-do/">What we do</a></li>
    </ul>
  </nav>
</header>
<main id="main" role="main">
  <div class="page-header">
    <h1 class="page-header__title">Case reviews published in {year}</h1>
  </div>
  <div class="layout">
    <div class="layout__main">
      <div class="rich-text">
        <p>Executive summaries and overview reports of serious case reviews published in {year}, newest first.</p>
{_entries_html(entries, "h3")}
      </div>
    </div>
    <aside class="layout__side">
      <h2>Case reviews</h2>
      <ul><li><a href="/preventing-abuse/child-protection-system/case-reviews/">Case reviews</a></li></ul>
    </aside>
  </div>
</main>
<footer class="site-footer"><p>&copy; NSPCC. Registered charity England and Wales 216401.</p></footer>
</body>
</html>
"""


def rolling_page(entries: list[ListEntry]) -> str:
    """learning.nspcc.org.uk's rolling page (as the bundled 2025 page)."""
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Recently published case reviews | NSPCC Learning</title>
<link rel="stylesheet" href="/dist/css/main.4f1c2a.css">
</head>
<body class="template-content-page">
<header class="site-header">
  <nav class="primary-nav" aria-label="Main menu">
    <ul class="primary-nav__list">
      <li><a href="/safeguarding-child-protection">Safeguarding and child protection</a></li>
      <li><a href="/case-reviews">Case reviews</a></li>
    </ul>
  </nav>
</header>
<main id="main-content">
<div class="page-hero">
  <h1 class="page-hero__title">Recently published case reviews</h1>
  <p class="page-hero__meta">Last updated: <span class="date">02 Sept 2025</span></p>
</div>
<div class="content-body">
  <div class="rich-text">
    <h2>Case reviews published in 2025</h2>
    <p>Executive summaries and overview reports of case reviews published in 2025.</p>
{_entries_html(entries, "h3")}
  </div>
</div>
</main>
<footer class="site-footer"><p>&copy; NSPCC 2025.</p></footer>
</body>
</html>
"""


def yearly_url(year: int, part: int) -> str:
    base = f"https://www.nspcc.org.uk/preventing-abuse/child-protection-system/case-reviews/{year}/"
    return base if part == 0 else f"{base}part-{part}/"


def rolling_url(number: int) -> str:
    return f"https://learning.nspcc.org.uk/case-reviews/rolling-{number}"


def library_records(scale: int, areas: list[str], rng: random.Random) -> tuple[int, object]:
    """(count, iterator of records), newest year first, made lazily: 150k pages never sit in memory."""
    total = LIBRARY_RECORDS * scale

    def records():
        for number in range(1, total + 1):
            year = NEWEST_YEAR - (number - 1) * YEARS // total
            kind, type_text = rng.choice(TYPES)
            area = "Anonymous" if rng.random() < 0.06 else rng.choice(areas)
            role = rng.choice(ROLES)
            code = f"Q{chr(65 + number % 26)}{number}"
            board = area if area == "Anonymous" else f"{area} Safeguarding Children Board"
            yield Record(
                number=number,
                total=total,
                title=f"{type_text}: {role} {code}",
                copy=f"NC{500000 + number}",
                board=board,
                year=year,
                abstract=f"{kind} about {role.lower()} {code}: how agencies worked with the family.",
                keywords=", ".join(rng.sample(KEYWORDS, 3)),
                pdf=None if number % 40 == 0 else
                f"{LIBRARY_HOST}/HeritageScripts/Hapi.dll/filetransfer/{year}NC{500000 + number}.pdf"
                f"?filename={year}NC{500000 + number}.pdf&DataSetName=LIVEDATA",
            )

    return total, records()


def write_config(folder: Path, sources: list[dict]) -> Path:
    import tomli_w

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "areas.toml", folder / "areas.toml")
    table = {
        "crawl": {"delay": 0.0, "timeout": 30.0, "retries": 0, "full_walk_days": 7, "check_links_days": 0,
                  "user_agent": "reposync/0.1 (+https://github.com/reposync/reposync; benchmark)"},
        "paths": {"db": "../catalogue.db", "snapshots": "../snapshots", "reports": "../reports"},
        "source": sources,
    }
    path = folder / "sources.toml"
    path.write_text(tomli_w.dumps(table), encoding="utf-8")
    return path


def generate(out: Path, scale: int, *, seed: int = 7, quiet: bool = False) -> Path:
    """Write (or reuse) the archive and config of one scale; return the config path."""
    out = Path(out)
    stamp = out / "stamp.json"
    wanted = {"version": VERSION, "scale": scale, "seed": seed}
    config_path = out / "config" / "sources.toml"
    if stamp.exists() and config_path.exists() and json.loads(stamp.read_text()) == wanted:
        return config_path
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    rng = random.Random(seed)
    areas = area_names()
    archive = Archive(out / "snapshots")
    sources: list[dict] = []

    def add(url: str, text: str) -> None:
        body = text.encode("utf-8")
        digest = archive.store(body)
        archive.record(snapshots.ManifestRow(
            url=url, fetched_at="2026-11-20T02:00:00+00:00", status=200, content_type="text/html; charset=utf-8",
            bytes=len(body), etag=f'"{digest[:16]}"', last_modified=LAST_MODIFIED, sha256=digest, note=NOTE,
        ))

    with no_fsync():
        for number in range(ROLLING_PAGES):
            entries = list_entries(rng, areas, ROLLING_ENTRIES, NEWEST_YEAR, f"R{number}Q")
            add(rolling_url(number), rolling_page(entries))
            sources.append({"id": f"nspcc-rolling-{number}", "kind": "national", "parser": "nspcc-rolling",
                            "url": rolling_url(number)})
        for part in range(scale):
            for year in range(2012, 2012 + YEARLY_LISTS):
                entries = list_entries(rng, areas, YEARLY_ENTRIES, year, f"Y{part}Q")
                add(yearly_url(year, part), yearly_page(year, entries))
                sources.append({"id": f"nspcc-{year}" + (f"-{part}" if part else ""), "kind": "national",
                                "parser": "nspcc-yearly", "url": yearly_url(year, part)})
        total, records = library_records(scale, areas, rng)
        for record in records:
            add(library_url(record.number), library_page(record))
            if not quiet and record.number % 10000 == 0:
                print(f"  scale {scale}: {record.number}/{total} library records", file=sys.stderr)
        sources.append({"id": "nspcc-library", "kind": "national", "parser": "nspcc-library",
                        "url": library_url(1)})
    write_config(out / "config", sources)
    stamp.write_text(json.dumps(wanted))
    if not quiet:
        print(f"  generated scale {scale} in {time.perf_counter() - started:.1f} s: {out}", file=sys.stderr)
    return config_path


def mirror_target(url: str) -> str:
    """Where a mirror on one loopback host serves a page: its path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "out" / f"scale-{args.scale}"
    print(generate(out, args.scale, seed=args.seed))


if __name__ == "__main__":
    main()
