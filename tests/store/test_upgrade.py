"""A store written with the old ids (parts joined with "|"), or with a rollup cell a document,
upgrades once, safely.

Each test writes the old documents directly, as the old code did, merged cells included.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from datetime import timedelta

from listening.alerts.check import load_book
from listening.ids import alert_key
from listening.ingest.pipeline import Pipeline
from listening.store import Store
from listening.store.mentions import CELL, TOTAL, rollup_keys
from listening.store.series import _week
from listening.store.trends import POINT_KEY, key_of
from listening.store.upgrade import FORMAT, StoreFormat, joined_ids
from tests.ingest.test_pipeline import FixedTagger, raw
from tests.store.test_trends import _point
from tests.test_ids import HOUR, mention

MENTIONS = [mention("m1", "A|x", []), mention("m2", "A", ["x|*"]), mention("m3", "A", ["x|*"])]
CELLS = [("A", "*", 2), ("A", "x|*", 2), ("A|x", "*", 1)]


def old_sha(*parts) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


def write_old_store(store: Store) -> None:
    """Mentions, rollup cells, day cells, alert series and an open alert as the old code left them."""
    store.mentions.collection.insert_many([dict(m) for m in MENTIONS])
    cells: dict[str, dict] = {}
    for key, n in Counter(k for m in MENTIONS for k in rollup_keys(m) if k[0] is not TOTAL).items():
        brand, issue, label, source, hour = key
        cell = cells.setdefault(f"{brand}|{issue}|{label}|{source}|{hour:%Y-%m-%dT%H}", {
            "brand": brand, "issue": issue, "label": label, "source": source, "hour": hour, "count": 0})
        cell["count"] += n  # "A|x" + "*" and "A" + "x|*": one cell, the first key's fields
    store.mentions.stats.insert_many([{"_id": i, **c} for i, c in cells.items()])
    days = [{**c, "hour": c["hour"].replace(hour=0)} for c in cells.values()]  # from the merged cells
    store.daily.load(days, first=HOUR, last=HOUR, now=HOUR + timedelta(days=2))
    store.series_cache.refresh(HOUR - timedelta(days=1), HOUR + timedelta(days=1))
    week = _week(HOUR)
    store.series_cache.docs.delete_many({})
    store.series_cache.docs.insert_one({"_id": f"A|x|*|negative|s|{week:%Y-%m-%d}", "brand": "A|x", "issue": "*",
                                        "cls": "negative", "source": "s", "week": week, "h": {"10": 3}})
    store.alerts.collection.insert_one({
        "_id": "old-alert", "key": "spike|A|x|*", "open_key": "spike|A|x|*", "rule": "spike", "brand": "A|x",
        "issue": None, "status": "open", "opened_at": HOUR, "last_fired_at": HOUR})
    store.alerts.collection.insert_one({
        "_id": "old-resolved", "key": "spike|A|x|y", "rule": "spike", "brand": "A", "issue": "x|y",
        "status": "resolved", "opened_at": HOUR, "resolved_at": HOUR})


def cells(store: Store) -> list[tuple]:
    return sorted((b, i, n) for b, i, _, _, _, n in store.mentions.cells(HOUR - timedelta(days=1), HOUR + timedelta(days=1)))


def cell_docs(store: Store) -> list[tuple]:
    """The cells of a store that kept one document per cell (format 3 and before)."""
    return sorted((c["brand"], c["issue"], c["count"]) for c in store.mentions.stats.find())


def day_cells(store: Store) -> list[tuple]:
    return sorted((r["brand"], r.get("issue"), r["count"]) for r in store.daily.totals(
        by=("brand", "issue"), since=HOUR.replace(hour=0), until=HOUR + timedelta(days=1), issue=None)) + \
        sorted((r["brand"], r["count"]) for r in store.daily.totals(
            by=("brand",), since=HOUR.replace(hour=0), until=HOUR + timedelta(days=1)))


def series(store: Store) -> list[tuple]:
    since, until = HOUR - timedelta(days=1), HOUR + timedelta(days=1)
    store.series_cache.refresh(since, until)
    return sorted((b, i, c, n) for b, i, c, _, _, n in store.series_cache.read(since, until))


def test_an_old_store_is_recounted_rekeyed_and_marked_once(store, demo_config):
    write_old_store(store)
    assert cell_docs(store) == [("A", "*", 2), ("A|x", "*", 3)]  # the bug: "A" + "x|*" counted under "A|x"
    assert not StoreFormat(store.db).current()

    assert store.upgrade() == {"rollup_cells": 3, "alerts": 2}  # totals with the cells
    assert cells(store) == CELLS and store.mentions.count_between(None, None) == 3
    assert not joined_ids(store.mentions.stats) and not joined_ids(store.series_cache.docs)
    assert day_cells(store) == [("A", "x|*", 2), ("A", 2), ("A|x", 1)]
    assert series(store) == [("A", "*", "all", 2), ("A", "*", "negative", 2), ("A", "x|*", "negative", 2),
                             ("A|x", "*", "all", 1), ("A|x", "*", "negative", 1)]
    alert = store.alerts.get("old-alert")
    assert alert["key"] == alert["open_key"] == alert_key("spike", "A|x", None)
    resolved = store.alerts.get("old-resolved")
    assert resolved["key"] == alert_key("spike", "A", "x|y") and "open_key" not in resolved
    book = load_book(store, [], HOUR + timedelta(hours=1))
    assert list(book.open) == [alert_key("spike", "A|x", None)]  # evaluation grows it, opens no twin
    assert StoreFormat(store.db).meta.find_one({"_id": "format"})["version"] == FORMAT

    # Once: the same store, another process, and a new batch on top.
    other = Store(store.client, store.db.name)
    assert other.upgrade() is None
    Pipeline(other, demo_config, tagger=FixedTagger("negative", [])).run([raw("@united late", "n1")])
    assert cells(other)[:3] == CELLS and len(cells(other)) == 4


def test_an_upgrade_killed_midway_runs_again_to_the_same_end(store):
    write_old_store(store)
    store.mentions.rebuild_stats()  # got this far (cells recounted), then died: no marker
    assert not StoreFormat(store.db).current()
    assert Store(store.client, store.db.name).upgrade() == {"rollup_cells": 3, "alerts": 2}
    again = Store(store.client, store.db.name)
    StoreFormat(store.db).meta.delete_many({})  # even without the marker: nothing left to change
    assert again.upgrade() == {"rollup_cells": 0, "alerts": 0}
    assert store.mentions.count_between(None, None) == 3
    assert cells(store) == CELLS and series(store)[2] == ("A", "x|*", "negative", 2)


def test_a_store_with_a_cell_a_document_is_recounted_into_hour_documents(store, demo_config):
    Pipeline(store, demo_config, tagger=FixedTagger("negative", [])).run(
        [raw("@united late", "n1"), raw("@JetBlue and @united", "n2"), raw("no brand here", "n3")])
    since, until = HOUR - timedelta(days=400), HOUR + timedelta(days=400)
    packed = sorted(store.mentions.cells(since, until))
    store.mentions.stats.delete_many({})  # as format 2 left it: a document per cell, no hour totals
    store.mentions.stats.insert_many([dict(zip((*CELL, "count"), c)) for c in packed])
    store.mentions.hours.delete_many({})
    StoreFormat(store.db).meta.update_one({"_id": "format"}, {"$set": {"version": 2}})
    assert Store(store.client, store.db.name).upgrade() == {"rollup_cells": len(packed), "alerts": 0}
    assert sorted(store.mentions.cells(since, until)) == packed
    assert store.mentions.count_between(None, None) == 2 == store.mentions.collection.count_documents({})


def test_two_processes_opening_an_old_store_at_once_recount_it_once(store):
    write_old_store(store)
    results = []
    threads = [threading.Thread(target=lambda: results.append(Store(store.client, store.db.name).upgrade()))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results, key=str) == [None, {"rollup_cells": 3, "alerts": 2}]
    assert cells(store) == CELLS


def test_connect_and_every_pipeline_upgrade_first(store_env, demo_config):
    write_old_store(store_env)
    connected = Store.connect()
    assert cells(connected) == CELLS and StoreFormat(connected.db).current()

    connected.drop()
    write_old_store(store_env)
    late = [raw("@united late", "n1", "2024-05-01T10:20:00Z")]
    Pipeline(Store(store_env.client, store_env.db.name), demo_config, tagger=FixedTagger("negative", [])).run(late)
    assert cells(store_env) == [*CELLS, ("United", "*", 1)]
    connected.close()


def test_a_new_store_is_marked_without_a_recount(store):
    store.mentions.upsert_batch([dict(m) for m in MENTIONS])
    assert store.upgrade() == {"rollup_cells": 0, "alerts": 0}
    assert StoreFormat(store.db).current() and cells(store) == CELLS
    assert store.mentions.count_between(None, None) == len(MENTIONS)  # kept as they were written


def test_trends_documents_under_old_ids_are_updated_in_place(store):
    """A re-run after the change finds the old points, related queries and regions by their key."""
    repo = store.trends
    points = [_point(), _point("bagel", 2.0), _point("a|", 1.0, geo="b")]
    repo.volume.insert_many([{**p, "_id": old_sha(*key_of(p, POINT_KEY))} for p in points])
    assert repo.upsert_points([dict(p) for p in points]) == {"new": 0, "updated": 0, "unchanged": 3}
    assert repo.upsert_points([_point("bagel", 3.0), _point("a", 4.0, geo="|b")]) == \
        {"new": 1, "updated": 1, "unchanged": 0}
    assert sorted((d["term"], d["stitched"]) for d in repo.points(category="food")) == \
        [("a", 4.0), ("a|", 1.0), ("bagel", 3.0), ("pizza", 58.0)]
    assert repo.count() == 4

    row = {"category": "food", "term": "pizza", "geo": "", "timeframe": "today 12-m", "kind": "rising",
           "query": "pizza hut", "value": 100}
    repo.related.insert_one({**row, "_id": old_sha("pizza", "", "today 12-m", "rising", "pizza hut")})
    region = {"category": "food", "term": "pizza", "parent_geo": "US", "timeframe": "today 12-m",
              "resolution": "REGION", "geo_code": "US-NY", "geo_name": "New York", "value": 5}
    repo.by_region.insert_one({**region, "_id": old_sha("food", "pizza", "US", "today 12-m", "REGION", "US-NY")})
    for _ in range(2):
        repo.upsert_related([{**row, "value": 200}])
        repo.upsert_regions([{**region, "value": 7}])
    assert [(r["query"], r["value"]) for r in repo.rising()] == [("pizza hut", 200)]
    assert [(r["geo_code"], r["value"]) for r in repo.regions()] == [("US-NY", 7)]

