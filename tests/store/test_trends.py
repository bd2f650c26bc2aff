"""The store's Trends repository: idempotent points, the cache, related queries, the breaker."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

UTC = timezone.utc
DAY = datetime(2023, 3, 19, tzinfo=UTC)


def _point(term="pizza", value=58.0, date=DAY, **extra):
    return {"category": "food", "scope": "geo", "term": term, "brand": term, "geo": "", "trends_category": 0,
            "property": "", "resolution": "WEEK", "date": date, "raw": value, "stitched": value,
            "lo": value - 0.5, "hi": value + 0.5, "is_partial": False, "fetched_at": DAY, "run_id": "r1", **extra}


def test_points_are_written_once_and_updated_only_when_they_change(store):
    repo = store.trends
    assert repo.upsert_points([_point(), _point("bagel", 2.0)]) == {"new": 2, "updated": 0, "unchanged": 0}
    assert repo.upsert_points([_point(run_id="r2"), _point("bagel", 3.0, run_id="r2")]) == \
        {"new": 0, "updated": 1, "unchanged": 1}
    docs = {d["term"]: d for d in repo.points(category="food")}
    assert len(docs) == 2 and docs["bagel"]["stitched"] == 3.0 and docs["pizza"]["run_id"] == "r1"
    repo.upsert_points([_point(date=DAY + timedelta(days=7))])
    assert [d["date"] for d in repo.points(terms=["pizza"], since=DAY + timedelta(days=1))] == \
        [DAY + timedelta(days=7)]
    assert repo.categories() == ["food"]


def test_raw_response_cache(store):
    repo = store.trends
    assert repo.get("k") is None
    repo.put("k", {"op": "interest"}, [{"endpoint": "api/explore", "body": "{}"}], "http://x", DAY)
    hit = repo.get("k")
    assert hit["responses"][0]["endpoint"] == "api/explore" and hit["fetched_at"] == DAY
    assert repo.cached_requests() == 1


def test_related_queries_feed_issue_alerts(store):
    base = {"category": "airlines", "term": "United Airlines", "geo": "", "timeframe": "today 12-m",
            "kind": "rising", "fetched_at": DAY}
    store.trends.upsert_related([
        {**base, "query": "united refund", "value": 8550, "formatted": "Breakout", "breakout": True,
         "issues": ["Billing and refunds"]},
        {**base, "query": "united polaris", "value": 300, "formatted": "+300%", "breakout": False, "issues": []},
    ])
    store.trends.upsert_related([{**base, "query": "united polaris", "value": 350, "formatted": "+350%",
                                  "breakout": False, "issues": []}])
    assert [r["query"] for r in store.trends.rising(term="United Airlines")] == ["united refund", "united polaris"]
    assert [r["query"] for r in store.trends.rising(with_issues=True)] == ["united refund"]
    assert store.trends.rising(breakout_only=True)[0]["issues"] == ["Billing and refunds"]
    assert store.trends.related.count_documents({}) == 2


def test_breaker_state_is_kept(store):
    until = DAY + timedelta(hours=1)
    store.trends.save_breaker("pytrends:google", {"state": "open", "open_until": until, "consecutive_429": 3})
    doc = store.trends.breaker("pytrends:google")
    assert doc["state"] == "open" and doc["open_until"] == until
    assert store.trends.breaker("other") is None
