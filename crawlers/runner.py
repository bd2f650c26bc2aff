"""Run one crawl in this process: ``python -m crawlers.runner JOB.json RESULT.json``.

``listening.ingest.crawl`` starts this in a child process for every crawl, because Twisted's
reactor cannot be restarted within one process. The job file holds plain data (the
user agent, the sources with their stored state, URL variables, setting overrides);
items and progress go to the parent through ``crawlers.handoff``; the result file
gets one report per source; logs go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Imported first on purpose: its deprecation shims call inspect.stack(), whose cost grows
# with the stack's depth (0.7 s when the download handler imports it mid-crawl setup).
import scrapy.core.downloader.contextfactory  # noqa: F401, I001
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.misc import load_object

from crawlers import handoff

# Source kind -> spider; imported only when a crawl has that kind (trafilatura is slow to import).
SPIDERS = {"feed": "crawlers.spiders.feed.FeedSpider", "html": "crawlers.spiders.html.HtmlSpider",
           "json_api": "crawlers.spiders.json_api.JsonApiSpider"}


def crawl_settings(job: dict[str, Any]) -> Settings:
    """The project's settings plus what this crawl decides (user agent, progress, overrides)."""
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.setdict({"USER_AGENT": job["user_agent"], "LISTENING_PROGRESS": job.get("progress", True),
                      "SPIDER_MODULES": []},  # spiders come by kind (SPIDERS), not by name
                     priority="cmdline")
    settings.setdict(job.get("settings") or {}, priority="cmdline")
    return settings


def run_job(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Crawl every source of the job at once; one report per source, in job order."""
    settings = crawl_settings(job)
    process = CrawlerProcess(settings)  # LOG_INSTALL_ROOT_HANDLER (default on) installs the handler
    crawlers: list[tuple[dict, Crawler]] = []
    for entry in job["sources"]:
        source = entry["source"]
        spidercls = load_object(SPIDERS[source["kind"]])
        own = settings.copy()
        own.set("CONCURRENT_REQUESTS_PER_DOMAIN", source.get("concurrency", 2), priority="cmdline")
        if own.get("REDIS_URL"):  # a shared queue: take from it only what this worker fetches at once
            own.set("CONCURRENT_REQUESTS", source.get("concurrency", 2), priority="cmdline")
        crawler = Crawler(spidercls, own, init_reactor=not crawlers)  # the first one installs it
        process.crawl(crawler, source=source, state=entry.get("state") or {},
                      terms=job.get("terms") or [], variables=job.get("variables") or {})
        crawlers.append((source, crawler))
    process.start()
    reports = []
    for source, crawler in crawlers:
        spider = crawler.spider
        if spider is None:  # the spider could not even be created
            reports.append({"source": source["name"], "kind": source["kind"], "failed": True})
            continue
        reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        # Cut short (closespider_timeout), or never opened (no reason: e.g. Redis unreachable).
        if reason != "finished":
            spider.report.problem("stopped", "", f"the crawl ended early: {reason or 'it never started, see the log'}")
            report = spider.report  # keep the old cursors and validators
            report.incomplete.update(report.cursors, (v.get("start") for v in report.validators.values()))
        reports.append(spider.report.as_dict())
    return reports


def main(argv: list[str]) -> int:
    job_path, result_path = Path(argv[0]), Path(argv[1])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    try:
        reports = run_job(job)
    finally:
        handoff.close()
    result_path.write_text(json.dumps(reports, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
