"""A writer killed between a batch's mention write and its rollup write: the next writer
recounts the hours it had claimed, so rollups match mentions again."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone

from listening.pipeline import Pipeline
from tests.test_pipeline import raw

WRITER = textwrap.dedent("""
    import os, signal, sys
    from pymongo import MongoClient
    from listening.config import PACKAGED_DEMO, load_config
    from listening.models import RawMention
    from listening.pipeline import Pipeline
    from listening.store import Store
    from listening.store.mentions import MentionRepo

    def die(self, deltas):  # the moment between the two writes, made certain
        os.kill(os.getpid(), signal.SIGKILL)

    MentionRepo._apply_deltas = die
    store = Store(MongoClient(sys.argv[1], tz_aware=True), sys.argv[2])
    Pipeline(store, load_config(PACKAGED_DEMO)).run(
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
    assert store.mentions.claims.collection.count_documents({}) == 0


def test_a_live_writers_claim_is_left_alone(store):
    store.mentions.claims.claim({datetime(2024, 5, 1, 10, tzinfo=timezone.utc)})  # ours: alive
    assert store.mentions.recover() == 0
    assert store.mentions.claims.collection.count_documents({}) == 1
