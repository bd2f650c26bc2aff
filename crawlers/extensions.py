"""Progress for the parent process, on the hand-off channel (``crawlers.handoff``).

``listening crawl`` reads it to draw live progress. Off unless ``LISTENING_PROGRESS``
is set and the crawl was started by ``listening.ingest.crawl``; at most one message per
source every ``LISTENING_PROGRESS_INTERVAL`` seconds.
"""

from __future__ import annotations

import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawlers import handoff


class ProgressReporter:
    """Counts pages and items of one crawler and prints them now and then."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.pages = 0
        self.items = 0
        self._last = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ProgressReporter":
        if not crawler.settings.getbool("LISTENING_PROGRESS") or handoff.channel() is None:
            raise NotConfigured
        ext = cls(crawler, crawler.settings.getfloat("LISTENING_PROGRESS_INTERVAL", 0.5))
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def response_received(self) -> None:
        self.pages += 1
        self._maybe_emit()

    def item_scraped(self) -> None:
        self.items += 1
        self._maybe_emit()

    def spider_closed(self) -> None:
        self._emit(done=True)

    def _maybe_emit(self) -> None:
        if time.monotonic() - self._last >= self.interval:
            self._emit()

    def _emit(self, done: bool = False) -> None:
        self._last = time.monotonic()
        source = getattr(self.crawler.spider, "source", None)
        handoff.send({"t": "progress", "source": source.name if source else self.crawler.spider.name,
                      "pages": self.pages, "items": self.items, "done": done}, flush=True)
