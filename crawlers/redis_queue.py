"""One crawl shared by several workers through Redis: scrapy-redis's scheduler, on when ``REDIS_URL`` is set.

Every worker crawling a source pushes the requests it finds into one Redis queue and checks
them against one seen-set, so each page is fetched once, by whichever worker pops it. On
top of ``scrapy_redis.scheduler.Scheduler`` this one

- keys the queue and the seen-set by source (``source_keys``), not by spider kind, so two
  html sources never share a queue;
- checks first tries of start requests against the seen-set too: every worker yields them;
- keeps an idle worker open while another is busy (its pages may still add links), at most
  ``SHARED_QUEUE_MAX_IDLE`` seconds, since a killed worker never finishes;
- forgets the crawl when its last worker leaves (on close, or at exit after a forced stop),
  so the next crawl starts afresh. Workers count themselves in Redis; the count expires
  ``CLOSESPIDER_TIMEOUT`` + 60 s after the last one joined (none lives longer), so a worker
  killed outright cannot hold a source's crawls forever;
- counts its stats without the ``spider`` argument that Scrapy 2.19 deprecates.
"""

from __future__ import annotations

import atexit
import time
import uuid
from typing import NamedTuple

from redis import Redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler

# Lua runs atomically: a worker joining just as the last one leaves cannot lose its requests.
# KEYS are a source's ``Keys`` in order.
_JOIN = """
if redis.call('incr', KEYS[1]) == 1 then redis.call('del', KEYS[2], KEYS[3], KEYS[4]) end
redis.call('expire', KEYS[1], ARGV[1])
"""
_LEAVE = """
redis.call('srem', KEYS[4], ARGV[1])
if redis.call('decr', KEYS[1]) <= 0 then redis.call('del', unpack(KEYS)) end
"""


class Keys(NamedTuple):
    """The Redis keys of one source's shared crawl."""

    workers: str  # how many workers are in the crawl
    requests: str  # the request queue (a sorted set by priority)
    seen: str  # fingerprints of every request queued
    idle: str  # the workers with nothing to do


def source_keys(source: str) -> Keys:
    """``listening:SOURCE:workers`` and so on."""
    return Keys(*(f"listening:{source}:{field}" for field in Keys._fields))


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler for several workers on one crawl of a source (see the module)."""

    def __init__(self, server: Redis, *, max_idle: float = 120.0, ttl: int = 960, **kwargs):
        super().__init__(server, **kwargs)
        self.max_idle = max_idle
        self.ttl = ttl
        self.worker = uuid.uuid4().hex
        self.idle_since: float | None = None
        self.keys = Keys("", "", "", "")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SharedScheduler":
        scheduler = super().from_crawler(crawler)
        scheduler.max_idle = crawler.settings.getfloat("SHARED_QUEUE_MAX_IDLE", scheduler.max_idle)
        timeout = crawler.settings.getint("CLOSESPIDER_TIMEOUT")
        scheduler.ttl = timeout + 60 if timeout else 86_400
        return scheduler

    def open(self, spider: Spider) -> None:
        source = getattr(getattr(spider, "source", None), "name", None) or spider.name
        self.keys = source_keys(source)
        self.queue_key = self.keys.requests
        self.df = load_object(self.dupefilter_cls)(self.server, key=self.keys.seen,
                                                   debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        self.server.eval(_JOIN, len(self.keys), *self.keys, self.ttl)
        atexit.register(self.close, "exit")  # a forced stop (a second SIGTERM) never calls close
        super().open(spider)

    def close(self, reason: str) -> None:
        """Leave the crawl; the last worker out deletes its queue and seen-set."""
        atexit.unregister(self.close)
        self.server.eval(_LEAVE, len(self.keys), *self.keys, self.worker)

    def enqueue_request(self, request: Request) -> bool:
        first_start = request.meta.get("is_start_request") and not request.meta.get("retry_times")
        if (first_start or not request.dont_filter) and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop()
        if request is not None:
            if self.idle_since is not None:
                self.idle_since = None
                self.server.srem(self.keys.idle, self.worker)
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """Asked once this worker is idle: go on while the queue has requests or another worker is busy."""
        if len(self.queue):
            return True
        if self.idle_since is None:
            self.idle_since = time.monotonic()
            self.server.sadd(self.keys.idle, self.worker)
        others_busy = int(self.server.get(self.keys.workers) or 0) > self.server.scard(self.keys.idle)
        return others_busy and time.monotonic() - self.idle_since < self.max_idle
