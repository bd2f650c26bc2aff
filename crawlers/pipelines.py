"""Item pipelines: every mention goes to the shared ``listening.ingest.pipeline.Pipeline``.

Everything after parsing (normalise, match brands, dedupe key, tag, bulk upsert) is
the code ``listening import`` uses, one ``Pipeline`` per source crawl.

- ``HandOffPipeline`` (what ``listening crawl`` uses): the crawl runs in a child
  process and the items go down a pipe to the parent, whose ``Pipeline`` (and warm
  tagger) writes them, in parallel with the crawl.
- ``StorePipeline``: the ``Pipeline`` in this process, for ``scrapy crawl`` by hand.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawlers import handoff
from crawlers.items import Rejected
from listening.models import RawMention


class HandOffPipeline:
    """Sends each item to the parent process (``crawlers.handoff``)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.source = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "HandOffPipeline":
        if handoff.channel() is None:
            raise NotConfigured(f"${handoff.FD_ENV} is not set")
        return cls(crawler)

    def open_spider(self) -> None:
        self.source = self.crawler.spider.source.name

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RawMention):
            handoff.send({"t": "item", "s": self.source, "m": item.model_dump(mode="json", exclude_defaults=True)})
        elif isinstance(item, Rejected):
            handoff.send({"t": "reject", "s": self.source, "reason": item.reason, "url": item.url})
        return item

    def close_spider(self) -> None:
        handoff.flush()


class StorePipeline:
    """Opens the store and a Pipeline in ``open_spider``; flushes in ``close_spider``."""

    def __init__(self, crawler: Crawler, mongo_uri: str | None, db_name: str | None, run_id: str | None):
        self.crawler = crawler
        self.mongo_uri = mongo_uri
        self.db_name = db_name
        self.run_id = run_id
        self.pipeline = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StorePipeline":
        settings = crawler.settings
        if handoff.channel() is not None or not settings.getbool("LISTENING_STORE_ENABLED", True):
            raise NotConfigured("items go to the parent process")
        return cls(crawler, settings.get("LISTENING_MONGO_URI"), settings.get("LISTENING_DB"),
                   settings.get("LISTENING_RUN_ID"))

    def open_spider(self) -> None:
        from listening.config import load_config
        from listening.ingest.pipeline import Pipeline

        config = getattr(self.crawler.spider, "config", None) or load_config()
        self.pipeline = Pipeline(shared_store(self.mongo_uri, self.db_name), config, run_id=self.run_id)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RawMention):
            self.pipeline.add(item)
        elif isinstance(item, Rejected):
            self.pipeline.reject()
        return item

    def close_spider(self) -> None:
        try:
            self.pipeline.flush()
        finally:
            self.pipeline.close()
        report = getattr(self.crawler.spider, "report", None)
        if report is not None:
            report.counts = self.pipeline.counts.as_dict()


@lru_cache(maxsize=None)
def shared_store(uri: str | None, db_name: str | None):
    """One connection per process for all its crawlers (connecting blocks the reactor)."""
    from listening.store import Store

    return Store.connect(uri, db_name)
