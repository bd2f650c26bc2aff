"""Ids made of several parts: distinct keys never share a document, whatever their names hold.

Joined with "|", brand "A|x" + issue "*" and brand "A" + issue "x|*" were one rollup
cell (their counts merged); the same held for alert series, Trends points, related
queries, regions and alert keys.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from listening.ids import alert_key, stable_id
from tests.store.test_trends import _point

HOUR = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)


def mention(_id: str, brand: str, issues: list[str], label: str = "negative") -> dict:
    return {"_id": _id, "brands": [brand], "issues": issues, "source": "s", "text": "t",
            "sentiment": {"label": label, "compound": -0.5}, "published_at": HOUR + timedelta(minutes=5),
            "fingerprint": _id}


def test_stable_id_keeps_parts_and_types_apart():
    assert stable_id("A|x", "*") != stable_id("A", "x|*")
    assert stable_id("a", "b") != stable_id("a,b") != stable_id('a","b')
    assert len({stable_id(p) for p in (None, "None", "null", 1, "1", 1.5, "1.5", True, "true", "")}) == 10
    assert stable_id("a", None) != stable_id("a")
    assert stable_id("A", "b") == stable_id("A", "b") and len(stable_id("A")) == 24
    assert len(stable_id("A", length=20)) == 20
    assert stable_id("bad \ud800 surrogate") != stable_id("bad \ud801 surrogate")  # no UnicodeEncodeError
    with pytest.raises(TypeError):
        stable_id(HOUR)  # a datetime is formatted by the caller, to the precision its key means


def test_rollup_cells_of_colliding_names_stay_apart(store):
    """Brand "A|x" (every issue) and brand "A" with issue "x|*": separate counts."""
    store.mentions.upsert_batch([mention("m1", "A|x", []), mention("m2", "A", ["x|*"]),
                                 mention("m3", "A", ["x|*"])])
    cells = sorted((brand, issue, n) for brand, issue, _, _, _, n in store.mentions.cells())
    assert cells == [("A", "*", 2), ("A", "x|*", 2), ("A|x", "*", 1)]
    assert sorted((r["brand"], r["count"]) for r in store.mentions.totals(by=("brand",))) == \
        [("A", 2), ("A|x", 1)]
    assert store.mentions.totals(by=("brand", "issue"), issue=None) == [
        {"brand": "A", "issue": "x|*", "count": 2}]
    assert store.mentions.rebuild_stats() == 3
    assert sorted((brand, issue, n) for brand, issue, _, _, _, n in store.mentions.cells()) == cells


def test_alert_series_of_colliding_names_stay_apart(store):
    store.mentions.upsert_batch([mention("m1", "A|x", []), mention("m2", "A", ["x|*"]),
                                 mention("m3", "A", ["x|*"])])
    since, until = HOUR - timedelta(days=1), HOUR + timedelta(days=1)
    store.series_cache.refresh(since, until)
    series = sorted((b, i, c, n) for b, i, c, _, _, n in store.series_cache.read(since, until))
    assert series == [("A", "*", "all", 2), ("A", "*", "negative", 2), ("A", "x|*", "negative", 2),
                      ("A|x", "*", "all", 1), ("A|x", "*", "negative", 1)]


def test_trends_keys_with_a_bar_in_a_term_stay_apart(store):
    """Joined, ("a|", "b") and ("a", "|b") were one point, one related query, one region."""
    repo = store.trends
    assert repo.upsert_points([_point("a|", 1.0, geo="b"), _point("a", 2.0, geo="|b")])["new"] == 2
    assert sorted((d["term"], d["stitched"]) for d in repo.points(category="food")) == [("a", 2.0), ("a|", 1.0)]

    base = {"category": "food", "geo": "", "timeframe": "today 12-m", "kind": "rising", "value": 100}
    repo.upsert_related([{**base, "term": "pizza|", "query": "hut"}, {**base, "term": "pizza", "query": "|hut"}])
    assert repo.related.count_documents({}) == 2

    region = {"category": "food", "parent_geo": "US", "timeframe": "today 12-m", "resolution": "REGION",
              "geo_name": "x", "value": 5}
    repo.upsert_regions([{**region, "term": "pizza|", "geo_code": "US-NY"},
                         {**region, "term": "pizza", "geo_code": "|US-NY"}])
    assert repo.by_region.count_documents({}) == 2


def test_alert_keys_of_colliding_names_stay_apart():
    assert alert_key("spike", "A|x", "y") != alert_key("spike", "A", "x|y")
    assert alert_key("spike|A", "x", None) != alert_key("spike", "A|x", None)
    assert alert_key("spike", "A", None) != alert_key("spike", "A", "None")


def test_rollup_names_an_update_path_cannot_hold_round_trip(store):
    """Sources and issues are users' names: dots, a leading "$", "%" and empty ones are escaped
    in the hour document's field names (``path_part``) and read back as they were."""
    odd = [mention("m1", "A", ["Wi-Fi. Slow", "$refund", "50% off", "nul\x00"]), mention("m2", "A", [""])]
    odd[1]["source"] = "news.google.com"
    store.mentions.upsert_batch(odd)
    store.mentions.upsert_batch([{**odd[0], "fingerprint": "again", "issues": ["Wi-Fi. Slow"]}])
    cells = sorted((issue, source, n) for _, issue, _, source, _, n in store.mentions.cells())
    assert cells == [("", "news.google.com", 1), ("$refund", "s", 0), ("*", "news.google.com", 1),
                     ("*", "s", 1), ("50% off", "s", 0), ("Wi-Fi. Slow", "s", 1), ("nul\x00", "s", 0)]
    assert store.mentions.rebuild_stats() == 4  # a recount keeps no zero cells
