"""What every source spider shares: its source config, start URLs, paging, state and problems.

The runner passes plain data as spider arguments (``source``: a ``Source`` as a dict,
``state``: the source's stored state, ``terms``: the brand terms for ``{query}``,
``variables``: other URL placeholders); by hand, ``scrapy crawl feed -a source=NAME``
reads the source from listening.yaml. A spider subclass only parses responses.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, AsyncIterator, Iterable
from urllib.parse import quote_plus

import dateparser
import scrapy
from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from crawlers.middlewares import Refused, TooLarge, host_port
from crawlers.report import SourceReport
from listening.config import Config, Source, load_config, query_terms
from listening.ids import stable_id
from listening.settings import named
from listening.timeparse import parse_time

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_urls(templates: Iterable[str], terms: Iterable[str],
                variables: dict[str, str]) -> list[tuple[str, str]]:
    """(cursor key, URL) per start URL: ``{query}`` filled with each term (one URL per term),
    any other ``{name}`` from ``variables`` or ``$NAME``.

    The key keeps the variables unfilled, so a source's cursor survives a new host or port.
    """
    pairs: list[tuple[str, str]] = []
    for template in templates:
        filled = PLACEHOLDER.sub(lambda match: _variable(match.group(1), template, variables), template)
        if "{query}" not in template:
            pairs.append((template, filled))
            continue
        for term in terms:
            query = quote_plus(term)
            pairs.append((template.replace("{query}", query), filled.replace("{query}", query)))
    return list(dict.fromkeys(pairs))


# Links that are no page at all: never requested, never refused (a blog's "mail the author"
# link must not turn every crawl partial). Any other non-http(s) link is refused and recorded.
NOT_PAGES = ("mailto:", "javascript:", "tel:", "sms:")


def absolute_url(response: scrapy.http.Response, link: str | None) -> str | None:
    """``link`` made absolute against the page; None when absent, unparsable (``http://[x``)
    or no page at all (``mailto:``, ``javascript:``...)."""
    if not link or link.strip().lower().startswith(NOT_PAGES):
        return None
    try:
        return response.urljoin(link.strip())
    except ValueError:
        return None


def _variable(name: str, template: str, variables: dict[str, str]) -> str:
    if name == "query":
        return "{query}"
    value = variables.get(name, named(name.upper()))
    if value is None:
        raise KeyError(f"no value for {{{name}}} in {template!r} (set ${name.upper()})")
    return value.rstrip("/")


def _ident(key: str) -> str:
    return stable_id(key, length=16)


def _digest(content: str) -> str:
    return stable_id(content, length=12)


class SourceSpider(scrapy.Spider):
    """Base of the feed, html and json_api spiders."""

    def __init__(self, source: dict | Source | str, state: dict | None = None, terms: list[str] | None = None,
                 variables: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.config: Config | None = None
        if isinstance(source, str):  # `scrapy crawl KIND -a source=NAME`: from listening.yaml
            self.config = load_config()
            source = next((s for s in self.config.sources if s.name == source), None) or json.loads(source)
            terms = terms if terms is not None else query_terms(self.config)
        self.source = source if isinstance(source, Source) else Source.model_validate(source)
        self.state = state or {}
        self.report = SourceReport(self.source.name, self.source.kind)
        self.terms = list(terms or [])
        self.variables = dict(variables or {})

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> "SourceSpider":
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider.on_item_error, signal=signals.item_error)
        return spider

    def closed(self, reason: str) -> None:
        self.report.finish()

    def start_urls_for_source(self) -> list[tuple[str, str]]:
        """(cursor key, URL) of each start URL."""
        try:
            return expand_urls(self.source.urls, self.terms, self.variables)
        except KeyError as exc:
            self.report.problem("config", "", str(exc.args[0]))
            return []

    @cached_property
    def own_hosts(self) -> frozenset[tuple[str, int]]:
        """(host, port) of the source's own URLs, which ConfinedMiddleware lets through
        even when private: only for a source with ``allow_private_host``."""
        if not self.source.allow_private_host:
            return frozenset()
        try:
            return frozenset(host_port(url) for _, url in expand_urls(self.source.urls, self.terms, self.variables))
        except KeyError:
            return frozenset()

    async def start(self) -> AsyncIterator[Any]:
        for key, url in self.start_urls_for_source():
            yield self.page_request(url, start=key, page=1, first=True)

    def page_request(self, url: str, *, start: str, page: int, callback=None, first: bool = False,
                     **meta: Any) -> scrapy.Request:
        """A request that remembers its start URL's cursor key and its page number. Only a
        start URL (``first``) skips the duplicate filter: it is fetched every crawl."""
        return scrapy.Request(url, callback=callback or self.parse, errback=self.on_error,
                              meta={"start": start, "page": page, "handle_httpstatus_list": [304], **meta},
                              dont_filter=first)

    def more_pages(self, page: int) -> bool:
        return page < self.source.max_pages

    def local_time(self, value: Any) -> Any:
        """A time shown without a zone, read in the source's ``timezone`` (UTC when unset)."""
        zone = self.source.timezone
        if not zone or not isinstance(value, str) or not value.strip():
            return value
        try:
            float(value)
            return value  # epoch seconds or milliseconds carry no zone
        except ValueError:
            pass
        settings = {"TIMEZONE": zone, "TO_TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True}
        return dateparser.parse(value, settings=settings) or value

    # -- incremental state ---------------------------------------------------------
    def last_id(self, start: str) -> str | None:
        return (self.state.get("cursors", {}).get(start) or {}).get("last_id")

    @cached_property
    def crawl_started(self) -> datetime:
        return datetime.now(timezone.utc)

    def recall(self, key: str, content: str | None = None) -> str:
        """What earlier crawls knew of an item (``key``: its id, else its URL): "new";
        "edited" (its ``content`` differs); "due" (seen so, but longer ago than the source's
        ``recheck_hours``: read it again, so edits are picked up); "recent" (seen so within
        the window: skip it). By identity, never by date: a feed need not be sorted by time.
        ``content`` None: an html page, whose content is known only once it is read."""
        old = self.state.get("seen", {}).get(_ident(key))
        if old is None:
            return "new"
        if content is not None and old[0] != _digest(content):
            return "edited"
        read_at = parse_time(old[1]) if old[1] else None
        fresh = read_at is not None and self.crawl_started - read_at < timedelta(hours=self.source.recheck_hours)
        return "recent" if fresh else "due"

    def note(self, key: str, content: str | None = None, *, read: bool = True) -> None:
        """Put an item in this crawl's seen-set: read now, or (``read=False``) skipped as
        recent, keeping its old read time. Either way it moves to the set's newest end,
        so an item still listed is never the one forgotten."""
        ident = _ident(key)
        old = self.state.get("seen", {}).get(ident) or [None, None]
        if not read:
            self.report.seen[ident] = list(old)
        else:
            digest = _digest(content) if content is not None else old[0]
            self.report.seen[ident] = [digest, self.crawl_started.isoformat()]

    def recheck(self, key: str, content: str) -> bool:
        """Whether to read an item whose content is at hand (a feed entry, an API item):
        not when it is "recent". Notes it either way."""
        read = self.recall(key, content) != "recent"
        self.note(key, content, read=read)
        return read

    # -- problems --------------------------------------------------------------------
    def on_error(self, failure: Failure) -> None:
        """Record a failed request by kind; the crawl goes on."""
        request = failure.request
        exc = failure.value
        start = request.meta.get("start")
        if isinstance(exc, Refused):  # never fetched: it does not hold its start URL back
            self.report.problem("refused", request.url, str(exc))
            return
        if isinstance(exc, HttpError):
            self.report.http_error(exc.response.status, exc.response.url, start=start)
            return
        if isinstance(exc, TooLarge):  # inflated past the limit: the reason says by how much
            self.report.problem("too_large", request.url, str(exc), start=start)
            return
        if isinstance(exc, (DownloadTimeoutError, TimeoutError)):
            kind = "timeout"
        elif isinstance(exc, (DownloadCancelledError, CancelledError)):  # DOWNLOAD_MAXSIZE
            kind = "too_large"
        elif isinstance(exc, IgnoreRequest) and "redirections" in str(exc):
            kind = "redirect_loop"
        elif isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            kind = "robots_disallowed"
        elif isinstance(exc, (ConnectionRefusedError, DNSLookupError)):
            kind = "unreachable"
        else:
            kind = "download_failed"
        self.report.problem(kind, request.url, f"{type(exc).__name__}: {exc}", start=start)

    def on_spider_error(self, failure: Failure, response) -> None:
        """A parse callback raised: that page is lost, the crawl goes on."""
        self.report.problem("parse_error", response.url, f"{type(failure.value).__name__}: {failure.value}",
                            start=response.meta.get("start"))

    def on_item_error(self, failure: Failure, response=None) -> None:
        """The item pipeline raised (a store write failed)."""
        self.report.problem("store_error", getattr(response, "url", ""),
                            f"{type(failure.value).__name__}: {failure.value}")

    def check_charset(self, response: scrapy.http.Response) -> None:
        """Note a page whose bytes do not fit its declared (or guessed) charset."""
        if not isinstance(response, scrapy.http.TextResponse):
            return
        if "\ufffd" in response.text and b"\xef\xbf\xbd" not in response.body:
            self.report.problem("bad_charset", response.url, f"not valid {response.encoding}")
