"""The datasette-dashboards dashboard in config/metadata.yml: its four charts' queries on the bundled catalogue
(tests/test_browser.py draws them in Chromium), and `reposync serve` pointing them at a catalogue of any name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from datasette_server import METADATA, build_catalogue
from reposync import serve

yaml = pytest.importorskip("yaml")


def dashboard() -> dict:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))["plugins"]["datasette-dashboards"]["reviews"]


def test_the_four_charts_the_issue_asks_for() -> None:
    charts = dashboard()["charts"]
    assert list(charts) == ["reviews-per-year", "anonymous-per-year", "completeness", "lag"]
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
    # The anonymous ones, as the catalogue groups them (snapshots/, by hand): 2014 Child C twice (the yearly
    # list's and the library's are not grouped: "Child C" is too common a name to join anonymous records on);
    # 2016 Child BS, Child N twice; 2017 Child AB, Child F and Family twice; 2018 Charlie and Sam, Children F,
    # G and H, Child H1; 2019 Katie, John; 2022 Babies with injuries.
    anonymous = {r["year"]: r["reviews"] for r in data["anonymous-per-year"] if r["published"] == "anonymous"}
    assert anonymous == {2014: 2, 2016: 3, 2017: 3, 2018: 3, 2019: 2, 2022: 1}
    york_bars = {r["state"]: r["reviews"] for r in data["completeness"] if r["partnership"] == "York"}
    assert york_bars == {"in national": york["in_national"], "queued": york["queued"],
                         "missing": york["local_reviews"] - york["in_national"] - york["queued"]}
    assert len(data["lag"]) == lags and data["lag"][0]["lag_days"] == 10.0  # Baby A: 0 to 20 days


def test_serve_points_the_charts_at_a_catalogue_of_another_name(tmp_path: Path) -> None:
    metadata = serve.metadata_for(tmp_path / "reviews-2026.db", METADATA)
    charts = metadata["plugins"]["datasette-dashboards"]["reviews"]["charts"]
    assert {c["db"] for c in charts.values()} == {"reviews-2026"}
    assert "reviews-2026" in metadata["databases"]
