"""Share of search maths, smoothing, the store-backed series and share of voice beside it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listening.config import Brand, Trends
from listening.metrics.search import (period_share, share_of_search, share_series, shares, smooth, voice_vs_search,
                                      voice_vs_search_series, window_for)
from listening.trends import collect
from tests.support.clock import FakeClock
from tests.support.trends_replay import replay_server

UTC = timezone.utc


def test_shares_and_worst_case_bands():
    value = np.array([[60.0], [30.0], [10.0]])
    share, lo, hi = shares(value, value - 0.5, value + 0.5)
    assert share[:, 0].tolist() == pytest.approx([0.6, 0.3, 0.1])
    assert lo[0, 0] == pytest.approx(59.5 / (59.5 + 30.5 + 10.5))
    assert hi[2, 0] == pytest.approx(10.5 / (10.5 + 29.5 + 59.5))
    assert (lo <= share).all() and (share <= hi).all()


def test_smoothing_windows_and_partial_buckets_left_out():
    assert (window_for("MONTH"), window_for("WEEK"), window_for("DAY")) == (12, 4, 7)
    assert window_for("WEEK", "none") == 1 and window_for("WEEK", 8) == 8
    rows = np.array([[1.0, 2.0, 3.0, 4.0, 100.0]])
    out = smooth(rows, 2, [False, False, False, False, True])
    assert out[0, :4].tolist() == [1.0, 1.5, 2.5, 3.5] and np.isnan(out[0, 4])
    unsmoothed = smooth(rows, 1, [False] * 4 + [True])
    assert unsmoothed[0, 3] == 4.0 and np.isnan(unsmoothed[0, 4])


@pytest.fixture
def food(store, demo_config):
    """Pizza and Bagel as brands, their real recorded 5-year weekly search volumes collected."""
    brands = [Brand(name="Pizza", search_term="pizza", category="food"),
              Brand(name="Bagel", search_term="bagel", category="food")]
    with replay_server() as server:
        config = demo_config.model_copy(update={"brands": brands, "trends": Trends(
            base_url=server.url, timeframe="today 5-y", related=False, pacing_seconds=0)})
        summary = collect(store, config, clock=FakeClock(), sleep=lambda s: None)
    assert summary["status"] == "ok"
    return config


def test_share_series_rows_with_bands_and_smoothing(store, food):
    rows = share_series(store, "food")
    assert len(rows) == 2 * 260
    last = [r for r in rows if r["is_partial"]]
    assert {r["brand"] for r in last} == {"Pizza", "Bagel"} and all(r["smoothed_share"] is None for r in last)
    pizza = [r for r in rows if r["brand"] == "Pizza" and not r["is_partial"]]
    assert all(r["share_lo"] <= r["share"] <= r["share_hi"] for r in pizza)
    assert all(r["smoothed_lo"] <= r["smoothed_share"] <= r["smoothed_hi"] for r in pizza)
    assert pizza[0]["window"] == 4
    # the share of a week is its two recorded values' ratio
    first = [r for r in rows if r["date"] == rows[0]["date"]]
    volumes = {r["brand"]: r["volume"] for r in first}
    assert first[0]["share"] == pytest.approx(volumes[first[0]["brand"]] / sum(volumes.values()))


def test_share_of_search_for_a_period_and_null_without_data(store, food, demo_config):
    since, until = datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    found = share_of_search(store, food, since=since, until=until)
    assert set(found) == {"Pizza", "Bagel"} and found["Pizza"] + found["Bagel"] == pytest.approx(1)
    assert 0.9 < found["Pizza"] < 1
    detail = period_share(store, "food", since=since, until=until)
    assert detail["Pizza"]["share_lo"] <= found["Pizza"] <= detail["Pizza"]["share_hi"]
    assert 52 <= detail["Pizza"]["buckets"] <= 54
    assert share_of_search(store, food, since=datetime(2030, 1, 1, tzinfo=UTC)) == {"Pizza": None, "Bagel": None}
    assert set(share_of_search(store, demo_config).values()) == {None}  # airlines: no search data


def test_share_of_voice_beside_share_of_search(store, food):
    week = datetime(2020, 6, 1, tzinfo=UTC)
    docs = []
    for i, brand in enumerate(["Pizza"] * 3 + ["Bagel"] * 7):
        docs.append({"_id": f"m{i}", "brands": [brand], "issues": [], "source": "test", "source_kind": "test",
                     "text": "x", "published_at": week + timedelta(hours=i), "sentiment": {"label": "neutral"},
                     "fingerprint": str(i)})
    store.mentions.upsert_batch(docs)
    rows = {r["brand"]: r for r in voice_vs_search(store, food, since=week, until=week + timedelta(days=7))}
    assert rows["Bagel"]["share_of_voice"] == pytest.approx(0.7) and rows["Bagel"]["mentions"] == 7
    assert rows["Bagel"]["share_of_search"] < 0.1
    assert rows["Bagel"]["gap"] == pytest.approx(0.7 - rows["Bagel"]["share_of_search"])
    assert rows["Pizza"]["gap"] < 0


def test_regions_on_one_scale(store, demo_config):
    brands = [Brand(name="Pizza", search_term="pizza", category="food"),
              Brand(name="Bagel", search_term="bagel", category="food")]
    with replay_server() as server:
        config = demo_config.model_copy(update={"brands": brands, "trends": Trends(
            base_url=server.url, regions=["US-NY", "US-IL"], related=False, pacing_seconds=0)})
        collect(store, config, clock=FakeClock(), sleep=lambda s: None)
    rows = share_series(store, "food", scope="regions")
    first = {(r["term"], r["geo"]): r for r in rows if r["date"] == rows[0]["date"]}
    assert {k: r["volume"] for k, r in first.items()} == {
        ("pizza", "US-NY"): 67, ("pizza", "US-IL"): 69, ("bagel", "US-NY"): 5, ("bagel", "US-IL"): 2}
    assert first["bagel", "US-NY"]["share"] == pytest.approx(5 / 72)


def test_voice_vs_search_per_bucket(store, food):
    week = datetime(2020, 6, 7, tzinfo=UTC)  # a Sunday: Trends weeks start on Sundays
    docs = [{"_id": f"m{i}", "brands": [brand], "issues": [], "source": "test", "source_kind": "test",
             "text": "x", "published_at": week + timedelta(days=2, hours=i), "sentiment": {"label": "neutral"},
             "fingerprint": str(i)} for i, brand in enumerate(["Pizza", "Bagel", "Bagel", "Bagel"])]
    store.mentions.upsert_batch(docs)
    rows = voice_vs_search_series(store, food, "food", since=week - timedelta(days=7),
                                  until=week + timedelta(days=14))
    assert len(rows) == 3 * 2
    hit = {r["brand"]: r for r in rows if r["date"] == week}
    assert hit["Bagel"]["share_of_voice"] == 0.75 and hit["Bagel"]["mentions"] == 3
    assert hit["Bagel"]["gap"] == pytest.approx(0.75 - hit["Bagel"]["share_of_search"])
    assert all(r["share_of_voice"] is None for r in rows if r["date"] != week)


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 8), st.integers(1, 30), st.integers(1, 12), st.data())
def test_smoothed_shares_stay_within_smoothed_bands(n, buckets, window, data):
    values = np.array(data.draw(st.lists(st.lists(st.floats(0, 100), min_size=buckets, max_size=buckets),
                                         min_size=n, max_size=n)))
    partial = data.draw(st.lists(st.booleans(), min_size=buckets, max_size=buckets))
    lo, hi = np.maximum(values - 0.5, 0), values + 0.5
    sm = [smooth(a, window, partial) for a in (values, lo, hi)]
    share, s_lo, s_hi = shares(*sm)
    assert np.isnan(sm[0][:, np.array(partial, dtype=bool)]).all()
    ok = ~np.isnan(share)
    assert (s_lo[ok] <= share[ok] + 1e-12).all() and (share[ok] <= s_hi[ok] + 1e-12).all()
