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
    """Sends the spider's own page and item counts now and then: pages it read or found not
    modified, so robots.txt and retried attempts are not counted as pages."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
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
        self._maybe_emit()

    def item_scraped(self) -> None:
        self._maybe_emit()

    def spider_closed(self) -> None:
        self._emit(done=True)

    def _maybe_emit(self) -> None:
        if time.monotonic() - self._last >= self.interval:
            self._emit()

    def _emit(self, done: bool = False) -> None:
        self._last = time.monotonic()
        spider = self.crawler.spider
        report = spider.report
        handoff.send({"t": "progress", "source": spider.source.name, "pages": report.pages + report.not_modified,
                      "items": report.items, "done": done}, flush=True)
