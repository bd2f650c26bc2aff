"""``rollup_log``: a writer killed between a batch's mention write and its rollup write leaves
hours the next writer recounts; readers of the rollups learn from it which hours changed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

from listening.ingest.pipeline import Pipeline
from listening.store.rollup_log import KEEP
from tests.ingest.test_pipeline import raw

WRITER = textwrap.dedent("""
    import os, signal, sys
    from pymongo import MongoClient
    from listening.config import PACKAGED_DEMO, load_config
    from listening.models import RawMention
    from listening.ingest.pipeline import Pipeline
    from listening.store import Store
    from listening.store.mentions import MentionRepo

    def die(self, deltas):  # the moment between the two writes, made certain
        os.kill(os.getpid(), signal.SIGKILL)

    MentionRepo.apply_deltas = die
    store = Store(MongoClient(sys.argv[1], tz_aware=True), sys.argv[2])
    Pipeline(store, load_config(PACKAGED_DEMO), batch_size=10).run(  # three batches' rollups held
        RawMention(source="test", source_kind="import", text=f"@united late {i}",
                   external_id=str(i), published_at=f"2024-05-01T{i % 3 + 10}:00:00Z")
        for i in range(30))
""")


def test_the_next_writer_recounts_hours_left_by_a_killed_one(store, mongo_uri, demo_config):
    Pipeline(store, demo_config).run([raw("@united already here", "old", "2024-05-01T10:30:00Z")])
    killed = subprocess.run([sys.executable, "-c", WRITER, mongo_uri, store.db.name], timeout=120)
    assert killed.returncode == -9
    assert store.mentions.count() == 31
    assert sum(r["count"] for r in store.mentions.totals(by=("brand",))) == 1  # short by 30

    Pipeline(store, demo_config)  # any next writer recovers first
    assert sum(r["count"] for r in store.mentions.totals(by=("brand",))) == 31
    assert store.mentions.log.collection.count_documents({"done_at": None}) == 0


def test_a_live_writers_claim_is_left_alone(store):
    store.mentions.log.begin({datetime(2024, 5, 1, 10, tzinfo=timezone.utc)})  # ours: alive
    assert store.mentions.recover() == 0
    assert store.mentions.log.collection.count_documents({"done_at": None}) == 1


def test_day_rollups_and_alert_series_pick_up_batches_from_the_log(store, demo_config):
    """A batch written after a refresh reaches both on the next refresh, without a mention scan."""
    day = datetime(2024, 5, 1, tzinfo=timezone.utc)
    since, until = day, day + timedelta(days=2)
    Pipeline(store, demo_config).run([raw("@united late", "1", "2024-05-01T10:30:00Z"),
                                      raw("@united earlier", "0", "2024-04-28T08:00:00Z")])
    store.daily.refresh()
    store.series_cache.refresh(since, until)
    landed_long_ago(store)

    Pipeline(store, demo_config).run([raw("@united later", "2", "2024-05-01T10:40:00Z"),
                                      raw("@united next day", "3", "2024-05-02T09:00:00Z")])
    assert store.daily.refresh() == 2  # the two days changed; a rebuild would recount all five
    assert store.daily.totals(("brand",), since=since, until=until) == [{"brand": "United", "count": 3}]
    trailing = store.series_cache.TRAILING // timedelta(hours=1)  # re-read on every refresh
    assert store.series_cache.refresh(since, until)["hours"] == 2 + trailing  # not all 48 of the window
    assert sum(n for b, issue, cls, *_, n in store.series_cache.read(since, until)
               if issue == "*" and cls == "all") == 3


def landed_long_ago(store) -> None:
    """As if the batches so far had landed an hour ago: the readers' safety margins (a few
    minutes) no longer re-read them, so what the next refresh sees comes from the log."""
    store.mentions.log.collection.update_many(
        {}, {"$set": {"done_at": datetime.now(timezone.utc) - timedelta(hours=1)}})
    earlier = datetime.now(timezone.utc) - timedelta(minutes=30)
    store.daily.state.update_one({"_id": "daily"}, {"$set": {"as_of": earlier}})
    store.series_cache.state.update_one({"_id": "coverage"}, {"$set": {"scan_from": earlier}})


def test_a_reader_the_log_no_longer_covers_rebuilds(store, demo_config):
    Pipeline(store, demo_config).run([raw("@united late", "1", "2024-05-01T10:30:00Z")])
    long_ago = datetime.now(timezone.utc) - KEEP - timedelta(hours=1)
    assert store.mentions.log.changed_since(long_ago) is None
    store.daily.state.insert_one({"_id": "daily", "as_of": long_ago, "complete_until": long_ago})
    store.daily.refresh()
    assert store.daily.span()[0] == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)


def test_a_correction_reaches_day_rollups_and_alert_series(store, demo_config):
    """Rollups moved outside the ingest path (corrections, rematch) are claimed in the log
    too, so no rebuild is needed."""
    day = datetime(2024, 5, 1, tzinfo=timezone.utc)
    since, until = day, day + timedelta(days=2)
    Pipeline(store, demo_config).run([raw("@united late again", "1", "2024-05-01T10:30:00Z")])
    store.daily.refresh()
    store.series_cache.refresh(since, until)
    landed_long_ago(store)
    (mention,) = store.feed.collection.find({})
    assert mention["sentiment"]["label"] == "negative"

    assert store.feed.correct(mention["_id"], "ana", sentiment="positive")
    assert store.daily.refresh() == 1
    assert store.daily.totals(("label",), since=since, until=until) == [{"label": "positive", "count": 1}]
    store.series_cache.refresh(since, until)
    negative = [n for b, issue, cls, *_, n in store.series_cache.read(since, until)
                if issue == "*" and cls == "negative"]
    assert sum(negative) == 0
    assert store.mentions.log.collection.count_documents({"done_at": None}) == 0


def test_a_refresh_skips_batches_the_last_one_counted(store, demo_config):
    """Batches inside the safety margin are looked at again, but not recounted twice."""
    Pipeline(store, demo_config).run([raw("@united late", "1", "2024-05-01T10:30:00Z")])
    store.daily.refresh()  # the first one builds every day, the batch just finished included
    Pipeline(store, demo_config).run([raw("@united again", "2", "2024-05-02T10:30:00Z")])
    assert store.daily.refresh() == 1  # the second batch's day only
    assert store.daily.refresh() == 0  # still inside the margin, counted already
    day = datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert store.daily.totals(("brand",), since=day, until=day + timedelta(days=2)) == [{"brand": "United", "count": 2}]
