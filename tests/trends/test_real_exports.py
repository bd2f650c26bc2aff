"""The real Google Trends CSV exports (fixtures/google_trends_exports_real) through the csv
backend and the collector, as the demo loads them: six running-shoe brands from two
requests on one scale, and three marketplaces in Malaysia."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from listening.demo.trends import EXPORTS, collect_exports
from listening.metrics.search import period_share, share_series
from listening.trends.csv_backend import read_export
from tests.conftest import FIXTURES

FOLDER = FIXTURES / "google_trends_exports_real"
RUNNING = FOLDER / "reggieflete__running-brands_nike-newbalance-hoka-saucony-asics_CA_weekly.csv"


@pytest.fixture
def collected(store, demo_config):
    return collect_exports(store, demo_config, FOLDER)


def test_six_running_brands_from_two_requests_on_one_scale(store, collected):
    running = collected[0]
    assert running["status"] == "ok"
    geo = running["categories"]["running shoes"]["geo"]
    assert (geo["terms"], geo["requests"], geo["buckets"]) == (6, 2, 262)
    rows = share_series(store, "running shoes", smoothing="none")
    assert {r["geo"] for r in rows} == {"CA"}
    assert len({r["brand"] for r in rows}) == 6 and len(rows) == 6 * 262
    # New Balance came from the second export: on the first export's scale it reads the same
    # as there, because the anchor (Nike) is equal in both files but for the partial last week.
    terms, _, dates, values, _ = read_export(RUNNING.read_text(encoding="utf-8-sig"))
    nb = values[terms.index("New balance Running")]
    stitched = [r for r in rows if r["brand"] == "New balance Running"]
    assert [r["date"] for r in stitched] == dates
    assert all(r["volume_lo"] <= raw + 0.5 + 1e-9 and raw - 0.5 - 1e-9 <= r["volume_hi"]
               for r, raw in zip(stitched, nb))
    assert [r["is_partial"] for r in stitched] == [False] * 261 + [True]
    assert all(r["share_lo"] <= r["share"] <= r["share_hi"] for r in rows if r["share"] is not None)


def test_marketplaces_in_malaysia_and_period_shares(store, collected):
    assert collected[1]["status"] == "ok"
    shares = period_share(store, "online marketplaces")
    assert set(shares) == {"Shopee", "Lazada", "TikTok Shop"}
    assert sum(s["share"] for s in shares.values()) == pytest.approx(1.0)
    assert shares["Shopee"]["share"] > shares["Lazada"]["share"] > shares["TikTok Shop"]["share"]
    assert {r["geo"] for r in share_series(store, "online marketplaces")} == {"MY"}


def test_collecting_again_writes_nothing_new(store, demo_config, collected):
    again = collect_exports(store, demo_config, FOLDER)
    assert [s["points_new"] for s in again] == [0, 0]
    assert [s["points_updated"] for s in again] == [0, 0]
    assert sum(s["points_unchanged"] for s in again) == 6 * 262 + 3 * 72
    assert [e.category for e in EXPORTS] == sorted(store.trends.categories(), reverse=True)


def test_report_carries_every_category_with_its_bands(store, demo_config, collected):
    """``report --json``: search-only categories too, each term's share inside its band."""
    from listening.report import report

    doc = report(store, demo_config)["share_of_search_by_category"]
    assert set(doc) == {"running shoes", "online marketplaces"}
    running = doc["running shoes"]
    assert len(running) == 6 and sum(s["share"] for s in running.values()) == pytest.approx(1.0)
    assert all(s["share_lo"] <= s["share"] <= s["share_hi"] and s["buckets"] == 261 for s in running.values())
    assert max(running, key=lambda b: running[b]["share"]) == "Nike running"
    assert report(store, demo_config, until=datetime(2015, 3, 1, tzinfo=timezone.utc))[
        "share_of_search_by_category"] == {"online marketplaces": {}, "running shoes": {}}
