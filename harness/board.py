"""A generated message board on 127.0.0.1 for shared crawls (tests/test_crawl_redis.py, bench/crawl_redis.py).

    board = Board.open("t_board", pages=12, topics=10, latency=0.1, redis_url=url, workers=2)
    rows = board.crawl(store, settings)   # every worker crawls the board's source at once
    board.paths       # every page a crawl should fetch; board.hits counts what it did fetch

``/board/page/N`` lists ``topics`` topics and links page N+1; ``/board/topic/K`` is one post
naming Dell. Each page is answered after ``latency`` seconds, as a remote site would be. The
first page waits until ``workers`` workers have joined the source's shared crawl in Redis,
so that all of them take part however slowly they start.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from redis import Redis

from crawlers.redis_queue import source_keys
from harness.sites import Handler, Site
from listening.config import Config, parse_config
from listening.ingest import crawl
from listening.store import Store

JOIN_TIMEOUT = 120.0


class BoardHandler(Handler):
    site: "Board"

    def route(self, path: str, query: dict[str, str]) -> None:
        if path not in self.site.paths:
            return super().route(path, query)
        kind, _, number = path.removeprefix("/board/").partition("/")
        if path == self.site.paths[0]:
            self.site.wait_for_workers()
        time.sleep(self.site.latency)
        body = self.site.page(int(number)) if kind == "page" else self.site.topic(int(number))
        self.send(200, body.encode(), "text/html; charset=utf-8")
        self.site.finished = time.monotonic()


class Board(Site):
    """The board's server, its shape, and when its crawl started and ended."""

    name: str
    pages: int
    topics: int
    latency: float
    redis_url: str
    workers: int
    paths: list[str]
    started: float | None = None
    finished: float | None = None

    @classmethod
    def open(cls, name: str, *, pages: int, topics: int, latency: float, redis_url: str, workers: int) -> "Board":
        board = cls.start(BoardHandler)
        board.name, board.pages, board.topics, board.latency = name, pages, topics, latency
        board.redis_url, board.workers = redis_url, workers
        board.paths = [f"/board/page/{n}" for n in range(1, pages + 1)] + \
                      [f"/board/topic/{k}" for k in range(1, pages * topics + 1)]
        return board

    def config(self) -> Config:
        """One brand, Dell, and the board as an html source."""
        source = {"name": self.name, "kind": "html", "urls": [f"{self.url}{self.paths[0]}"], "max_pages": self.pages,
                  "allow_private_host": True,  # the board is on 127.0.0.1
                  "selectors": {"links": "li.topic a::attr(href)", "next": "a.next::attr(href)", "item": "div.post",
                                "text": ".body ::text", "author": ".author::text", "time": "time::attr(datetime)",
                                "id": "@id"}}
        return parse_config({"brands": [{"name": "Dell", "terms": ["Dell"]}], "sources": [source],
                             "user_agent": "ListeningCentreTest/1.0 (+https://example.com/contact)"})

    def crawl(self, store: Store, settings: dict[str, Any]) -> list[dict]:
        """``listening.ingest.crawl.run`` of the board by every worker at once (``REDIS_URL`` set); a row each."""
        config = self.config()
        with ThreadPoolExecutor(self.workers) as pool:
            runs = [pool.submit(crawl.run, store, config, [self.name], settings=settings, timeout=600)
                    for _ in range(self.workers)]
            return [run.result()[0] for run in runs]

    def pages_per_second(self) -> float:
        """Pages served from the moment every worker had joined to the last one."""
        return len(self.paths) / (self.finished - self.started)

    def page(self, n: int) -> str:
        first = (n - 1) * self.topics + 1
        links = "".join(f'<li class="topic"><a href="/board/topic/{k}">Topic {k}</a></li>'
                        for k in range(first, first + self.topics))
        more = f'<a class="next" href="/board/page/{n + 1}">Next</a>' if n < self.pages else ""
        return f"<html><head><title>Board page {n}</title></head><body><ul>{links}</ul>{more}</body></html>"

    @staticmethod
    def topic(k: int) -> str:
        post = (f'<div class="post" id="post-{k}"><span class="author">user{k % 17}</span>'
                f'<time datetime="2015-03-09T{k // 60 % 24:02d}:{k % 60:02d}:00Z"></time>'
                f'<div class="body"><p>Topic {k}: my Dell laptop runs hot after update {k}.</p></div></div>')
        return f"<html><head><title>Topic {k}</title></head><body>{post}</body></html>"

    def wait_for_workers(self) -> None:
        """Hold the first page until every worker has joined the crawl (at most ``JOIN_TIMEOUT``)."""
        deadline = time.monotonic() + JOIN_TIMEOUT
        with Redis.from_url(self.redis_url) as client:
            while int(client.get(source_keys(self.name).workers) or 0) < self.workers and time.monotonic() < deadline:
                time.sleep(0.05)
        self.started = time.monotonic()
