"""A librarian's first visit, in a real browser: `reposync serve` on a catalogue built from the snapshots,
opened in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Searches for a pseudonym, narrows by a facet, opens the saved queries, signs in and rejects a link, and
asserts what each page shows. Screenshots of every step go into the test's temporary directory.
Without chromium the test skips, except under CI (CI=true), where a missing browser fails it.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from datasette_server import METADATA, YORK_TITLES, build_catalogue, running_datasette

from reposync.reports.completeness import LOCAL_REVIEW_TYPES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI=true: the browser test must run in CI; .ci/run installs chromium)")
    pytest.skip(why)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"no browser at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed: pip install -e '.[test]'")
        raise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def titles(page: Any, column: str = "title") -> list[str]:
    return [cell.strip() for cell in page.locator(f"table.rows-and-columns td.col-{column}").all_inner_texts()]


def test_a_librarian_searches_narrows_and_decides(browser: Any, tmp_path: Path) -> None:
    _, db_path = build_catalogue(tmp_path)
    with sqlite3.connect(db_path) as conn:
        york_by_date = [r[0] for r in conn.execute(
            "SELECT title FROM entries WHERE source = 'york' ORDER BY published DESC")]
        local = conn.execute("SELECT id FROM entries WHERE source = 'york' AND title = 'Baby A'").fetchone()[0]
        linked = conn.execute("SELECT entry_b FROM links WHERE entry_a = ? AND decision IN ('auto', 'accepted') "
                              "ORDER BY entry_b LIMIT 1", [local]).fetchone()
        national = linked[0] if linked else conn.execute(
            "SELECT id FROM entries WHERE kind = 'national' AND la_codes LIKE '%E06000014%' "
            "AND pseudonyms LIKE '%\"baby a\"%' ORDER BY id LIMIT 1").fetchone()[0]
        # As if the matcher had only proposed York's Baby A link: it waits in the review queue for a person.
        conn.execute("INSERT INTO links (entry_a, entry_b, features, decision) VALUES (?, ?, '{}', 'review') "
                     "ON CONFLICT (entry_a, entry_b) DO UPDATE SET decision = 'review'", [local, national])
        queue = conn.execute("SELECT count(*) FROM links WHERE decision = 'review'").fetchone()[0]
        unlinked = {r[0] for r in conn.execute(
            "SELECT title FROM entries e WHERE kind = 'local' AND NOT EXISTS (SELECT 1 FROM links l "
            "WHERE l.entry_a = e.id AND l.decision IN ('auto', 'accepted')) AND review_type IN "
            f"({', '.join(repr(t) for t in LOCAL_REVIEW_TYPES)})")}
    shots = tmp_path / "screenshots"
    shots.mkdir()

    with running_datasette(db_path, tmp_path / "serve.log") as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)

        # The home page: what the catalogue is, where to start, whose copyright.
        page.goto(server.url + "/")
        assert page.locator("h1").inner_text() == "Child safeguarding case reviews"
        body = page.locator("body").inner_text()
        assert "metadata and links only" in body.lower() and "copyright" in body
        assert "NSPCC national case review repository" in body
        page.screenshot(path=shots / "01-home.png", full_page=True)

        # Every entry, newest first; a full-text search for a pseudonym.
        page.get_by_role("link", name="every entry").click()
        page.wait_for_url(re.compile(r"/catalogue/entries\?"))
        assert "sorted by published descending" in page.locator("h3").first.inner_text()
        page.fill("#_search", "Baby")
        page.press("#_search", "Enter")
        page.wait_for_url(re.compile(r"_search=Baby"))
        found = titles(page)
        assert "Baby A" in found
        assert all(re.search(r"\bbab(y|ies)\b", title, re.I) for title in found), found
        assert 'search matches "Baby"' in page.locator("h3").first.inner_text()
        page.screenshot(path=shots / "02-search-baby.png", full_page=True)

        # Narrow by a facet: York's page.
        page.locator("#facet-source").get_by_role("link", name="york", exact=True).click()
        page.wait_for_url(re.compile(r"source=york"))
        assert titles(page) == ["Baby A"]
        assert page.locator("table.rows-and-columns td.col-source").all_inner_texts() == ["york"]
        page.screenshot(path=shots / "03-search-and-facet.png", full_page=True)

        # York's five entries, newest first: drop the search, keep the facet.
        page.goto(server.url + "/catalogue/entries?_col=title&_col=published&_col=review_type&_col=source")
        page.locator("#facet-source").get_by_role("link", name="york", exact=True).click()
        page.wait_for_url(re.compile(r"source=york"))
        assert titles(page) == york_by_date and set(york_by_date) == YORK_TITLES
        assert page.locator("#facet-status").is_visible()
        page.screenshot(path=shots / "04-york-newest-first.png", full_page=True)

        # A saved query, from the home page.
        page.goto(server.url + "/")
        page.get_by_role("link", name="local reviews missing from the national repository").click()
        page.wait_for_url(re.compile(r"/catalogue/local_not_in_national"))
        assert page.locator("h1").inner_text() == "Local reviews missing from the national repository"
        shown = set(titles(page))
        assert shown == unlinked and "Child B" in shown
        assert "Messages from reviews" not in shown  # a learning document, counted apart
        page.screenshot(path=shots / "05-local-missing.png", full_page=True)

        # The review queue, readable by anyone; deciding needs the sign-in link `reposync serve` printed.
        page.goto(server.url + "/catalogue/links_to_review")
        assert page.locator("h1").inner_text() == "Links to review"
        assert page.locator("table.rows-and-columns tbody tr").count() == queue
        assert page.goto(server.url + "/catalogue/reject_link").status == 403
        page.goto(server.sign_in_url)
        page.wait_for_url(server.url + "/")
        assert page.locator(".actor").inner_text().strip() == "root"
        page.goto(server.url + "/catalogue/links_to_review")
        rows = page.locator("table.rows-and-columns tbody tr")
        assert page.locator("td.col-accept a").count() == page.locator("td.col-reject a").count() == queue
        row = rows.filter(has=page.locator("td.col-local_entry", has_text=local)).filter(
            has=page.locator("td.col-national_entry", has_text=national))
        assert row.locator("td.col-local_title").inner_text().strip() == "Baby A"
        page.screenshot(path=shots / "06-review-queue.png", full_page=True)

        # Reject it: the reject link opens the form filled in with the two ids.
        row.locator("td.col-reject a").click()
        page.wait_for_url(re.compile(r"/catalogue/reject_link\?local_entry="))
        assert "reject_link" in page.locator("h1").inner_text()
        assert page.locator("input[name=local_entry]").input_value() == local
        assert page.locator("input[name=national_entry]").input_value() == national
        page.screenshot(path=shots / "07-reject-form.png", full_page=True)
        page.locator("form.sql input[type=submit]").click()
        page.wait_for_url(server.url + "/catalogue/links_to_review")
        assert "Link rejected" in page.locator(".message-info").inner_text()
        assert page.locator("table.rows-and-columns tbody tr").count() == queue - 1
        page.screenshot(path=shots / "08-rejected.png", full_page=True)
        with sqlite3.connect(db_path) as conn:
            decision, decided_at = conn.execute("SELECT decision, decided_at FROM links WHERE entry_a = ? "
                                                "AND entry_b = ?", [local, national]).fetchone()
        assert decision == "rejected" and ISO_UTC.match(decided_at)

        # Now York's Baby A is missing on both sides.
        page.goto(server.url + "/")
        page.get_by_role("link", name="national reviews missing from the local page").click()
        page.wait_for_url(re.compile(r"/catalogue/national_not_in_local"))
        assert national in page.locator("table.rows-and-columns td.col-entry").all_inner_texts()
        page.screenshot(path=shots / "09-national-missing.png", full_page=True)
        page.goto(server.url + "/catalogue/local_not_in_national")
        assert "Baby A" in titles(page)

    assert len(list(shots.glob("*.png"))) == 9


CHARTS = ("reviews-per-year", "anonymous-per-year", "completeness", "lag")


def chart_queries() -> dict[str, str]:
    import yaml

    dashboard = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["plugins"]["datasette-dashboards"]["reviews"]
    return {slug: chart["query"] for slug, chart in dashboard["charts"].items()}


def chart_texts(page: Any, chart: str) -> set[str]:
    """The words a chart shows (vega-embed draws SVG: axis labels, legend, titles are text elements)."""
    return {t.strip() for t in page.locator(f"#chart-{chart} svg text").all_text_contents() if t.strip()}


def bars(page: Any, chart: str) -> int:
    return page.locator(f"#chart-{chart} svg .mark-rect path").count()


def test_the_dashboard_draws_its_charts_with_no_network(browser: Any, tmp_path: Path) -> None:
    """The four charts of the dashboard, drawn from vega files Datasette serves itself: every request the page
    makes off this machine is refused (and none is tried), and each chart shows the catalogue's figures."""
    _, db_path = build_catalogue(tmp_path)
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        data = {slug: [dict(r) for r in conn.execute(sql)] for slug, sql in chart_queries().items()}
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with running_datasette(db_path, tmp_path / "serve.log") as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        requested: list[str] = []
        offsite: list[str] = []
        errors: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))

        def local_only(route: Any) -> None:
            if route.request.url.startswith(server.url + "/"):
                route.continue_()
            else:
                offsite.append(route.request.url)
                route.abort()

        page.route("**/*", local_only)

        # The menu's Dashboards page leads to it.
        page.goto(server.url + "/-/dashboards")
        page.get_by_role("link", name="Case reviews at a glance").click()
        page.wait_for_url(server.url + "/-/dashboards/reviews")
        assert page.locator("h1").inner_text() == "Case reviews at a glance"
        for chart in CHARTS:
            page.wait_for_selector(f"#chart-{chart} svg .mark-rect path", state="attached")
        page.wait_for_timeout(500)  # the last frame
        page.screenshot(path=shots / "10-dashboard.png", full_page=True)
        assert [t.strip() for t in page.locator(".dashboard-card-title").all_inner_texts()] == [
            "Coverage: the register's partnerships whose page was read last night, of all",  # none: no register
            "National reviews per year, by type", "National reviews per year published anonymously",
            "Completeness per partnership (local reviews)", "Days from local publication to the national repository"]

        # Each chart shows what its query gives: a bar per row, the years, types and partnerships as labels.
        by_type = data["reviews-per-year"]
        assert bars(page, "reviews-per-year") == len(by_type)
        assert {str(r["year"]) for r in by_type} | {r["type"] for r in by_type} <= chart_texts(page, "reviews-per-year")
        anonymous = data["anonymous-per-year"]
        assert bars(page, "anonymous-per-year") == len(anonymous)
        assert {"anonymous", "area named"} <= chart_texts(page, "anonymous-per-year")
        shown = chart_texts(page, "completeness")
        assert {"York", "in national", "missing"} <= shown
        assert {r["partnership"] for r in data["completeness"]} <= shown
        assert bars(page, "completeness") == len(data["completeness"])
        york = next(r for r in data["completeness"] if r["partnership"] == "York" and r["state"] == "in national")
        labels = page.locator("#chart-completeness svg .mark-rect path").evaluate_all(
            "paths => paths.map(p => p.getAttribute('aria-label'))")
        assert f"Local reviews: {york['reviews']}; partnership: York; state: in national" in labels
        assert data["lag"] and bars(page, "lag") >= 1 and "Local reviews" in chart_texts(page, "lag")

        assert not errors, errors
        assert not offsite, offsite
        scripts = [u for u in requested if u.endswith(".js")]
        for library in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
            assert any(u.startswith(server.url + "/-/static-plugins/datasette_dashboards/")
                       and u.endswith("/" + library) for u in scripts), (library, scripts)

        # One chart on its own page, as a phone shows it.
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.route("**/*", local_only)
        phone.goto(server.url + "/-/dashboards/reviews/completeness")
        # (a chart's own page names its container after the dashboard)
        phone.wait_for_selector("#chart-reviews svg .mark-rect path", state="attached")
        phone.wait_for_timeout(500)
        assert "York" in chart_texts(phone, "reviews")
        phone.screenshot(path=shots / "11-completeness-chart-phone.png", full_page=True)
        assert not offsite, offsite
    assert len(list(shots.glob("*.png"))) == 2


def test_the_html_report_reads_well_on_a_phone(browser: Any, tmp_path: Path) -> None:
    """The night's HTML report at a phone's width: nothing wider than the screen (long URLs and titles wrap,
    tables become one card per row), text at a readable size, the linked national entry shown by title."""
    from reposync.reports import night as report
    from reposync.catalogue import open_db

    _, db_path = build_catalogue(tmp_path)
    db = open_db(db_path)
    try:
        built = report.build(db)
    finally:
        db.close()
    path = tmp_path / "report.html"
    path.write_text(report.render_html(built), encoding="utf-8")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    linked = page.locator("h2", has_text="Linked").locator("xpath=following-sibling::ul[1]/li").first
    assert linked.locator("a").all_inner_texts() == ["Baby A", "its page", "Baby A"]
    assert "(nspcc-2013, York, 2013-10)" in linked.inner_text()
    york = page.locator("table.cards tr", has=page.locator("td", has_text="+1 linked"))
    assert york.locator("td[data-label='area']").inner_text() == "York"
    assert york.locator("td").first.bounding_box()["width"] <= 390  # one card per row, not a wide table
    page.locator("h2", has_text="Linked").scroll_into_view_if_needed()
    page.screenshot(path=shots / "12-report-phone.png", full_page=False)
    page.screenshot(path=shots / "13-report-phone-full.png", full_page=True)
