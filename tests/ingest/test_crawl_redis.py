"""Two crawler processes share one crawl through Redis (scrapy-redis, crawlers/scheduler.py).

Both start at once against a local board and one ``redis-server``; every page must be
fetched exactly once across the two, both must do part of the work, and every mention
must land in the store once. ``-s`` shows the combined throughput.
"""

from __future__ import annotations

import pytest
from redis import Redis
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawlers.redis_queue import SharedScheduler, source_keys
from harness.board import JOIN_TIMEOUT, Board
from harness.redis_server import redis_server
from listening.ingest import crawl

SETTINGS = {**crawl.LOCAL_SETTINGS, "DOWNLOAD_TIMEOUT": JOIN_TIMEOUT + 60}
PAGES, TOPICS = 16, 10  # 16 listing pages + 160 topics


@pytest.fixture
def redis_url():
    with redis_server() as url:
        yield url


def test_two_workers_fetch_every_page_once(store, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)  # read by crawlers/settings.py in each crawler process
    board = Board.open("t_board", pages=PAGES, topics=TOPICS, latency=0.1, redis_url=redis_url, workers=2)
    try:
        rows = board.crawl(store, SETTINGS)
    finally:
        board.stop()

    fetched = {path: n for path, n in board.hits.items() if path != "/robots.txt"}  # each worker reads robots.txt
    assert fetched == dict.fromkeys(board.paths, 1)
    split = [row["pages"] for row in rows]
    assert sum(split) == len(board.paths) and all(split), split
    assert all(row["status"] == "ok" for row in rows), rows
    assert sum(row["new"] for row in rows) == PAGES * TOPICS and not any(row["updated"] for row in rows)
    assert store.mentions.count() == PAGES * TOPICS
    with Redis.from_url(redis_url) as client:
        assert client.keys("listening:*") == []  # the last worker out forgot the crawl
    print(f"\nshared crawl: {len(board.paths)} pages by 2 workers ({split[0]} + {split[1]}), "
          f"{board.pages_per_second():.1f} pages/s (each page answered after 0.1 s, 2 requests per worker)")


def test_workers_skip_each_others_start_requests_but_not_retries(redis_url):
    crawler = get_crawler(Spider, {"REDIS_URL": redis_url, "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter"})
    spider = Spider.from_crawler(crawler, name="t_src")
    start = Request("http://127.0.0.1/start", dont_filter=True, meta={"is_start_request": True})
    with Redis.from_url(redis_url) as client:
        client.sadd(source_keys("t_src").seen, "left by a killed crawl")
        first, second = SharedScheduler.from_crawler(crawler), SharedScheduler.from_crawler(crawler)
        first.open(spider)
        assert client.scard(source_keys("t_src").seen) == 0  # the first worker in starts afresh
        second.open(spider)
        assert first.enqueue_request(start) and not second.enqueue_request(start.copy())
        assert second.enqueue_request(start.replace(meta={**start.meta, "retry_times": 1}))
        assert first.next_request() and second.next_request() and first.next_request() is None
        assert first.has_pending_requests()  # idle, but the second is busy: its page may add links
        assert not second.has_pending_requests()  # both idle and nothing queued: the crawl is over
        first.close("finished")
        assert client.exists(source_keys("t_src").seen)  # the second still needs the seen-set
        second.close("finished")
        assert client.keys("listening:*") == []
