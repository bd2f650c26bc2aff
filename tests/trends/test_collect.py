"""``listening trends`` end to end: replay server -> pytrends -> stitching -> store -> runs."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest

from listening.config import Trends
from listening.trends import collect, search_terms
from tests.support.clock import FakeClock
from tests.support.trends_replay import replay_server

FOOD = {"food": ["pizza", "bagel"]}
WEEKLY_POINTS = 2 * 260  # pizza and bagel, worldwide, 5 years weekly
REGION_POINTS = 4 * 261  # pizza and bagel x New York and Illinois


@pytest.fixture
def server():
    with replay_server() as srv:
        yield srv


def _config(demo_config, **trends):
    options = dict(categories=[], search_only=FOOD, timeframe="today 5-y", regions=["US-NY", "US-IL"],
                   snapshot_timeframe="2021-01-01 2021-12-31", pacing_seconds=2, backoff_seconds=10,
                   max_retries=4, breaker_threshold=3, breaker_cooldown_seconds=600)
    options.update(trends)
    return demo_config.model_copy(update={"trends": Trends(**options)})


def test_search_terms_per_category(demo_config):
    groups = search_terms(_config(demo_config, categories=None))
    assert [t.term for t in groups["airlines"]][:2] == ["United Airlines", "US Airways"]
    assert [t.brand for t in groups["airlines"]][0] == "United"
    assert [(t.term, t.search_only) for t in groups["food"]] == [("pizza", True), ("bagel", True)]


def test_collect_stores_points_related_and_a_run_and_a_rerun_costs_nothing(store, demo_config, server):
    config = _config(demo_config, base_url=server.url)
    clock = FakeClock()
    seen = []
    summary = collect(store, config, clock=clock, sleep=clock.sleep,
                      progress=lambda done, total, msg: seen.append((done, total)))
    assert summary["status"] == "ok" and summary["points_new"] == WEEKLY_POINTS + REGION_POINTS
    assert summary["requests"] == 1 + 2 + 2 + 3  # cookie, 2 x (explore + multiline), explore + 2 related
    assert seen[-1] == (3, 3)
    assert store.trends.count() == WEEKLY_POINTS + REGION_POINTS
    last = store.trends.points(category="food", geo="", terms=["pizza"])[-1]
    assert last["is_partial"] and last["raw"] == 58 and last["stitched"] == 58
    assert (last["lo"], last["hi"]) == (57.5, 58.5) and last["error"] == 0.5
    assert last["batch_id"].startswith("food:geo:0:") and last["source"] == server.url
    breakout = store.trends.rising(term="pizza", breakout_only=True)
    assert [r["query"] for r in breakout][:1] == ["licorice pizza"]
    run = store.runs.get(summary["run_id"])
    assert run["status"] == "ok" and run["counts"]["requests"] == 8 and run["breaker"]["state"] == "closed"

    before = server.requests()
    again = collect(store, config, clock=clock, sleep=clock.sleep)
    assert again["requests"] == 0 and server.requests() == before
    assert again["points_new"] == 0 and again["points_unchanged"] == WEEKLY_POINTS + REGION_POINTS
    assert store.trends.count() == WEEKLY_POINTS + REGION_POINTS


def test_429s_back_off_honouring_retry_after(store, demo_config, server):
    config = _config(demo_config, base_url=server.url, regions=[], related=False)
    clock = FakeClock()
    server.fail(2, retry_after=120)
    summary = collect(store, config, clock=clock, sleep=clock.sleep)
    assert summary["status"] == "ok" and summary["rate_limited"] == 2 and summary["retries"] == 2
    assert sum(1 for s in clock.slept if s >= 120) == 2
    assert store.trends.count() == WEEKLY_POINTS


def test_breaker_opens_then_a_later_run_resumes_without_losing_or_duplicating(store, demo_config, server):
    config = _config(demo_config, base_url=server.url)
    clock = FakeClock()

    def block_after_first_batch(done, total, message):
        if done == 1:
            server.fail(1000)  # Google starts answering 429, for a long time

    first = collect(store, config, clock=clock, sleep=clock.sleep, progress=block_after_first_batch)
    assert first["stopped_by_breaker"] and first["status"] == "partial"
    assert first["breaker"]["state"] == "open" and first["rate_limited"] == 3
    assert store.trends.count() == WEEKLY_POINTS  # the finished category is kept
    run = store.runs.get(first["run_id"])
    assert run["breaker"]["state"] == "open" and "circuit breaker open" in run["error"]
    assert store.trends.breaker("pytrends:" + server.url)["state"] == "open"

    # still blocked: the next run asks Google nothing, and still writes nothing twice
    asked = server.requests()
    second = collect(store, config, clock=clock, sleep=clock.sleep)
    assert second["stopped_by_breaker"] and server.requests() == asked and second["requests"] == 0
    assert store.trends.count() == WEEKLY_POINTS

    # after the cooldown Google answers again: the run finishes what was left
    server.fail(0)
    clock.now += timedelta(seconds=601)
    third = collect(store, config, clock=clock, sleep=clock.sleep)
    assert third["status"] == "ok" and third["breaker"]["state"] == "closed"
    assert third["cache_hits"] >= 1 and third["points_new"] == REGION_POINTS
    assert store.trends.count() == WEEKLY_POINTS + REGION_POINTS
    assert len(store.trends.rising(term="pizza")) == 11


def test_csv_exports_backend_behind_the_same_interface(store, demo_config, server, tmp_path):
    # The export is written from the real recorded answer (never invented numbers).
    recorded = _config(demo_config, base_url=server.url, regions=[], related=False)
    collect(store, recorded, clock=FakeClock(), sleep=lambda s: None)
    points = store.trends.points(category="food", geo="")
    dates = sorted({p["date"] for p in points})
    raw = {(p["term"], p["date"]): p["raw"] for p in points}
    with open(tmp_path / "multiTimeline.csv", "w", newline="", encoding="utf-8") as fh:
        fh.write("Category: All categories\n\n")
        writer = csv.writer(fh)
        writer.writerow(["Week", "pizza: (Worldwide)", "bagel: (Worldwide)"])
        for d in dates:
            writer.writerow([d.strftime("%Y-%m-%d"), int(raw["pizza", d]),
                             "<1" if raw["bagel", d] == 0 else int(raw["bagel", d])])
    (tmp_path / "relatedQueries.csv").write_text("Category: All categories\n\nTOP\npizza hut,100\n")
    store.trends.volume.delete_many({})
    from_csv = _config(demo_config, backend="csv", csv_dir=str(tmp_path), regions=[], related=False)
    summary = collect(store, from_csv)
    assert summary["status"] == "ok" and summary["points_new"] == WEEKLY_POINTS
    again = store.trends.points(category="food", geo="")
    assert {(p["term"], p["date"]): p["raw"] for p in again} == raw
    assert all(p["resolution"] == "WEEK" for p in again)


def test_csv_backend_names_the_missing_comparison(store, demo_config, tmp_path):
    config = _config(demo_config, backend="csv", csv_dir=str(tmp_path), regions=[], related=False)
    summary = collect(store, config)
    assert summary["status"] == "failed" and "export that comparison" in summary["failed"][0]["error"]


def test_csv_by_region_export(tmp_path):
    from listening.trends import CsvBackend, TrendsRequest
    # the export format only: made-up terms and numbers
    (tmp_path / "geoMap.csv").write_text(
        "Category: All categories\n\nCountry,term a: (1/1/21 - 12/31/21),term b: (1/1/21 - 12/31/21)\n"
        "Atlantis,90%,10%\nLemuria,,\n", encoding="utf-8")
    rows = CsvBackend(tmp_path).interest_by_region(TrendsRequest.of(["term b", "term a"]))
    assert [(r.geo_name, r.term, r.value, r.has_data) for r in rows] == [
        ("Atlantis", "term b", 10, True), ("Atlantis", "term a", 90, True),
        ("Lemuria", "term b", 0, False), ("Lemuria", "term a", 0, False)]


def test_csv_export_marks_the_running_bucket_partial(tmp_path):
    from datetime import datetime, timezone

    from listening.trends import CsvBackend, TrendsRequest
    # the export format only: made-up terms, so nobody mistakes these for search data
    (tmp_path / "multiTimeline.csv").write_text(
        "\ufeffCategory: All categories\n\nWeek,term a: (Worldwide),term b: (Worldwide)\n"
        "2023-03-12,65,2\n2023-03-19,58,<1\n", encoding="utf-8")
    backend = CsvBackend(tmp_path, now=datetime(2023, 3, 22, tzinfo=timezone.utc))
    frame = backend.interest_over_time(TrendsRequest.of(["Term B", "term a"]))
    assert frame.values == [[2, 0.5], [65, 58]] and frame.partial == [False, True]
    assert frame.resolution == "WEEK"
