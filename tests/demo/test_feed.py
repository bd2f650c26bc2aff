"""The demo source: the airline tweets as a paged social API, crawled by the normal json_api spider."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections import Counter
from datetime import datetime, timezone

import pytest
from rich.console import Console

from listening.demo import build as demo
from listening.demo.feed import DEMO_SOURCE, SEARCH_PATH, load_tweets, page, serve_tweets
from listening.ingest import crawl
from tests.conftest import TWEETS_CSV

ROWS = 300


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    """The first ROWS rows of Tweets.csv plus one repeated row (the real file has 130)."""
    path = tmp_path_factory.mktemp("demo") / "Tweets.csv"
    with open(TWEETS_CSV, newline="", encoding="utf-8") as src, open(path, "w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        rows = [row for _, row in zip(range(ROWS), reader)]
        writer.writerows(rows + rows[:1])
    return path


def test_pages_are_newest_first_with_next_token_and_since_id(small_csv):
    tweets = load_tweets(small_csv)
    assert len(tweets) == ROWS + 1
    first = page(tweets, {"max_results": "100"})
    assert first["meta"]["result_count"] == 100 and first["meta"]["next_token"] == "100"
    times = [t["created_at"] for t in first["data"]]
    assert times == sorted(times, reverse=True)
    last = page(tweets, {"max_results": "100", "next_token": "300"})
    assert last["meta"]["result_count"] == 1 and "next_token" not in last["meta"]
    newest = first["data"][0]["id"]
    assert page(tweets, {"since_id": newest})["data"] == []


def test_feed_serves_json_over_http(small_csv):
    server, url = serve_tweets(small_csv)
    try:
        with urllib.request.urlopen(f"{url}{SEARCH_PATH}?max_results=2") as response:
            doc = json.load(response)
    finally:
        server.shutdown()
        server.server_close()
    tweet = doc["data"][0]
    assert set(tweet) >= {"id", "text", "created_at", "author", "labels"}
    assert tweet["created_at"].endswith("Z")


def test_crawl_stores_every_row_with_labels_then_adds_nothing(store, demo_config, small_csv, monkeypatch):
    monkeypatch.setattr(demo, "TWEETS", small_csv)
    console = Console(file=io.StringIO())
    counts = demo.build(store, demo_config, console=console)
    assert counts["read"] == ROWS + 1
    assert counts["new"] + counts["unmatched"] == ROWS
    assert counts["duplicates"] == 1
    assert store.mentions.count() == counts["new"]
    with open(small_csv, newline="", encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    doc = store.db["mentions"].find_one({"external_id": first["tweet_id"]})
    assert doc["source"] == "demo_tweets" and doc["source_kind"] == "json_api"
    assert doc["author"] == first["name"] and doc["text"] == first["text"]
    assert doc["published_at"] == datetime(2015, 2, 24, 19, 35, 52, tzinfo=timezone.utc)  # 11:35:52 -0800
    assert doc["labels"] == {"sentiment": first["airline_sentiment"], "by": "demo_tweets"}
    negative = store.db["mentions"].find_one({"labels.sentiment": "negative"})
    assert negative["labels"]["issue"]

    # The tweets' labels trained the learned model, and the feed was read again through it.
    assert counts["re-tagged by the learned model"] > 0
    methods = Counter(d["sentiment"]["method"] for d in store.db["mentions"].find({}, {"sentiment.method": 1}))
    assert methods["model"] >= 0.9 * store.mentions.count(), methods
    said = demo.welcome(store, demo_config, counts)
    assert "Sentiment: the learned model trained on the tweets' own labels" in said
    assert f"Built the demo: {counts['new']:,} airline tweets" in said and "February 2015" in said
    assert "/alerts" in said
    alerts, mail = store.alerts.count(), store.outbox.counts()

    again = demo.build(store, demo_config, console=console)
    assert again["pages"] == 1 and again["read"] == 0 and again["new"] == 0
    assert (store.alerts.count(), store.outbox.counts()) == (alerts, mail)  # a re-run adds no alert, no mail
    assert "nothing new was added" in demo.welcome(store, demo_config, again)
    run = store.runs.recent("crawl", limit=1)[0]
    assert run["sources"]["demo_tweets"]["status"] == "ok"


def test_shipped_demo_config_matches_the_feed(demo_config):
    source = next(s for s in demo_config.sources if s.name == DEMO_SOURCE["name"])
    assert source.mapping == DEMO_SOURCE["mapping"] and source.urls == DEMO_SOURCE["urls"]
    assert not source.enabled  # only `listening demo` crawls it
    assert crawl.select_sources(demo_config) == []
