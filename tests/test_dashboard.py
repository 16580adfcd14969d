"""The datasette-dashboards dashboard in config/metadata.yml: its four charts' queries on the bundled catalogue
(tests/test_browser.py draws them in Chromium), and `reposync serve` pointing them at a catalogue of any name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from datasette_server import METADATA, build_catalogue
from reposync.ops import serve

yaml = pytest.importorskip("yaml")


def dashboard() -> dict:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))["plugins"]["datasette-dashboards"]["reviews"]


def test_the_four_charts_the_issue_asks_for_and_coverage() -> None:
    charts = dashboard()["charts"]
    # coverage: the register's partnerships read last night, of all (issue 20; tests/test_national.py)
    assert list(charts) == ["coverage", "reviews-per-year", "anonymous-per-year", "completeness", "lag"]
    assert all(c["library"] == "vega-lite" and c["db"] == "catalogue" for c in charts.values())
    assert sorted(sum(dashboard()["layout"], [])) == sorted(charts)


def test_each_chart_query_gives_the_catalogues_figures(tmp_path: Path) -> None:
    _, db_path = build_catalogue(tmp_path)
    charts = dashboard()["charts"]
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        data = {slug: [dict(r) for r in conn.execute(chart["query"])] for slug, chart in charts.items()}
        national_reviews = conn.execute("SELECT count(*) FROM reviews WHERE national_entries > 0").fetchone()[0]
        york = dict(conn.execute("SELECT * FROM completeness WHERE source = 'york'").fetchone())
        lags = conn.execute("SELECT count(*) FROM review_lag").fetchone()[0]
    assert sum(r["reviews"] for r in data["reviews-per-year"]) == national_reviews
    assert sum(r["reviews"] for r in data["anonymous-per-year"]) == national_reviews
    # The anonymous ones, worked out from the entries in Python: a review none of whose national entries names
    # an area, in the year of the review. (How many there are follows how link.py groups anonymous records;
    # 2018's three, Charlie and Sam, Children F, G and H and Child H1, and 2022's Babies with injuries are
    # each one review in every listing: snapshots/, by hand.)
    with sqlite3.connect(db_path) as conn:
        named: dict[int, bool] = {}
        for review_id, area in conn.execute("SELECT review_id, area FROM entries WHERE kind = 'national'"):
            named[review_id] = named.get(review_id, False) or area is not None
        years = dict(conn.execute("SELECT id, published_year FROM reviews"))
    expected: dict[int, int] = {}
    for review_id, has_area in named.items():
        if not has_area:
            expected[years[review_id]] = expected.get(years[review_id], 0) + 1
    anonymous = {r["year"]: r["reviews"] for r in data["anonymous-per-year"] if r["published"] == "anonymous"}
    assert anonymous == expected and anonymous[2018] == 3 and anonymous[2022] == 1
    york_bars = {r["state"]: r["reviews"] for r in data["completeness"] if r["partnership"] == "York"}
    assert york_bars == {"in national": york["in_national"], "queued": york["queued"],
                         "missing": york["local_reviews"] - york["in_national"] - york["queued"]}
    assert len(data["lag"]) == lags and data["lag"][0]["lag_days"] == 10.0  # Baby A: 0 to 20 days


def test_serve_points_the_charts_at_a_catalogue_of_another_name(tmp_path: Path) -> None:
    metadata = serve.metadata_for(tmp_path / "reviews-2026.db", METADATA)
    charts = metadata["plugins"]["datasette-dashboards"]["reviews"]["charts"]
    assert {c["db"] for c in charts.values()} == {"reviews-2026"}
    assert "reviews-2026" in metadata["databases"]
