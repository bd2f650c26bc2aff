"""The Scrapy project: one spider per source kind (feed, html, json_api), configured by data.

Spiders only parse into ``listening.models.RawMention``; ``crawlers.pipelines``
hands those to the shared ``listening.ingest.pipeline.Pipeline``. ``listening.ingest.crawl`` starts
crawls in a child process (``python -m crawlers.runner``), one per ``listening crawl``.
"""
