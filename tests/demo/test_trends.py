"""The demo's search-only category: recorded Google answers through the real pytrends path."""

from __future__ import annotations

import yaml

from listening.config import Trends
from listening.demo.trends import SOURCE_LABEL, collect_recorded
from listening.metrics.search import period_share, region_shares, share_of_search
from listening.trends import trends_status
from tests.support.trends_replay import CASSETTES

# The ``trends:`` section of demo/listening.yaml (base_url is set when the demo runs).
DEMO_TRENDS_YAML = """
trends:
  categories: []
  search_only:
    food: [pizza, bagel]
  timeframe: today 5-y
  regions: [US-NY, US-IL]
  snapshot_timeframe: 2021-01-01 2021-12-31
  by_region: true
"""


def _demo_trends(demo_config):
    if demo_config.trends.search_only:
        return demo_config
    trends = Trends(**yaml.safe_load(DEMO_TRENDS_YAML)["trends"])
    return demo_config.model_copy(update={"trends": trends})


def test_demo_collects_recorded_pizza_vs_bagel(store, demo_config):
    config = _demo_trends(demo_config)
    summary = collect_recorded(store, config, CASSETTES)
    assert summary["status"] == "ok", summary["failed"]
    assert summary["points_new"] == 2 * 260 + 4 * 261 and summary["related"] == 79
    assert summary["regions"] == 2 * 250 and summary["requests"] == 1 + 2 + 2 + 3 + 2
    by_country = {(r["geo_code"], r["brand"]): r for r in region_shares(store, "food")}
    assert by_country["US", "bagel"]["share"] == 0.03
    assert by_country["US", "bagel"]["share_lo"] < 0.03 < by_country["US", "bagel"]["share_hi"]
    assert "recorded" in summary["source_note"]
    point = store.trends.points(category="food")[0]
    assert point["source"] == SOURCE_LABEL  # the page can say where the numbers come from
    assert set(share_of_search(store, config).values()) == {None}  # the airlines: no search data
    food = period_share(store, "food")
    assert 0.95 < food["pizza"]["share"] < 0.99
    status = trends_status(store, config)
    assert status["categories"] == ["food"] and status["last_run"]["status"] == "ok"
    assert status["cached_requests"] == 4
