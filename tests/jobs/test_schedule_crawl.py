"""Scheduled crawls: a real Scrapy crawl of a local paged API in a subprocess, one run record;
kill -9 of the scheduler in the middle of a crawl, then a clean re-run: exact counts.
"""

from __future__ import annotations

import csv
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from listening.config import PACKAGED_DEMO, load_config
from listening.demo.feed import DEMO_SOURCE, SEARCH_PATH, load_tweets, serve_tweets
from listening.ingest.pipeline import clean_text
from listening.matching import BrandMatcher
from tests.conftest import TWEETS_CSV
from tests.jobs.test_schedule import spawn, wait_for

ROWS = 400
PAGE = 100  # 4 pages, a second or more apart (the spiders' polite default delays)


@pytest.fixture
def feed(tmp_path):
    path = tmp_path / "tweets.csv"
    with open(TWEETS_CSV, newline="", encoding="utf-8") as src, open(path, "w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(row for _, row in zip(range(ROWS), reader))
    server, url = serve_tweets(path)
    yield path, url
    server.shutdown()
    server.server_close()


@pytest.fixture
def config_path(tmp_path, feed) -> Path:
    raw = yaml.safe_load(PACKAGED_DEMO.read_text(encoding="utf-8"))
    source = {**DEMO_SOURCE, "enabled": True, "every_minutes": 1,
              "urls": [f"{feed[1]}{SEARCH_PATH}?max_results={PAGE}"]}
    raw["sources"] = [source]
    raw["schedule"] = {"disabled": ["trends", "retrain", "retention", "digest", "outbox", "alerts"],
                       "crawl_timeout_minutes": 2, "stop_grace_seconds": 5}
    path = tmp_path / "listening.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def expected_mentions(csv_path: Path, config) -> int:
    """Distinct tweets that name an airline: what one clean crawl must store."""
    matcher = BrandMatcher(config.brands)
    return len({t["id"] for t in load_tweets(csv_path)
                if matcher.match(clean_text(t["text"]), source=DEMO_SOURCE["name"],
                                 author=t["author"]["username"])})


def crawlers() -> list[int]:
    """Live Scrapy runner processes of this test's database (other tests may crawl too)."""
    mine = f"LISTENING_DB={os.environ['LISTENING_DB']}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().split()[2]
            except OSError:
                continue
            if b"crawlers.runner" in cmdline and mine in environ and state != "Z":
                pids.append(int(entry.name))
    return pids


def test_kill_9_during_a_crawl_then_a_clean_rerun_stores_everything_once(store_env, tmp_path, feed, config_path):
    store, job = store_env, f"crawl:{DEMO_SOURCE['name']}"
    expected = expected_mentions(feed[0], load_config(config_path))
    first = spawn(config_path, tmp_path, "first", "--speedup", "60", "--lease-ttl", "2")
    try:
        wait_for(crawlers, 60, "the Scrapy crawl to start")
        wait_for(lambda: store.runs.recent_scheduled(job), 10, "the crawl's run record")
        time.sleep(1.5)  # a page or two in
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    wait_for(lambda: not crawlers(), 20, "the crawl to die with its scheduler")
    assert store.mentions.count() < expected
    (killed,) = store.runs.recent_scheduled(job)  # the first reader closes it: its process is gone
    assert killed["status"] == "abandoned" and f":{first.pid}) is gone" in killed["error"]

    second = spawn(config_path, tmp_path, "second", "--speedup", "60", "--lease-ttl", "2")
    try:
        wait_for(lambda: any(r["status"] == "ok" for r in store.runs.recent_scheduled(job)), 90, "a clean crawl")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        second.kill()
    assert not crawlers()
    assert store.mentions.collection.count_documents({}) == expected
    assert sum(r["count"] for r in store.mentions.totals(by=("brand",))) == \
        sum(len(d["brands"]) for d in store.mentions.collection.find({}, {"brands": 1}))
    runs = {r["_id"]: r for r in store.runs.recent_scheduled(job)}
    assert runs[killed["_id"]]["status"] == "abandoned"
    ok = next(r for r in runs.values() if r["status"] == "ok")
    assert ok["counts"]["new"] + ok["counts"]["unchanged"] + ok["counts"]["updated"] == expected
    assert ok["sources"][DEMO_SOURCE["name"]]["status"] == "ok"  # the crawl's own record is this run
    crawls = store.runs.recent("crawl")  # the kind the alert rules' coverage check reads
    assert {r["_id"] for r in crawls} == set(runs) and all(r["scheduled_job"] == job for r in crawls)
