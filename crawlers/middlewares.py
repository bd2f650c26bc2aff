"""Downloader middlewares: a confined crawler, conditional GET from stored validators,
backoff between retries, and a size limit that holds after decompression."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from listening.errors import CrawlError

SCHEMES = ("http", "https")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(IgnoreRequest, CrawlError):
    """A request the crawler will not make; the message says why (the spider records it)."""


class TooLarge(IgnoreRequest, CrawlError):
    """A response whose body, once decompressed, passes ``DOWNLOAD_MAXSIZE``; the message says by how much."""


def host_port(url: str) -> tuple[str, int]:
    """(lower-case host, port) of an http(s) URL, the port filled in from the scheme."""
    parts = urlsplit(url)
    return (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))


def private_kind(address: Address) -> str | None:
    """Why ``address`` is not on the public internet ("loopback", "private"...), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


async def resolve(host: str) -> Address | None:
    """The address Scrapy will connect to: through the reactor's caching resolver, so the
    download reuses this very answer. None when the name does not resolve (the download
    then fails as unreachable)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    from twisted.internet import reactor

    try:
        return ipaddress.ip_address(await maybe_deferred_to_future(reactor.resolve(host)))
    except (DNSLookupError, ValueError):
        return None


class ConfinedMiddleware:
    """Only http(s), only public addresses, for every request: start URLs, followed links,
    next pages and redirects (a redirect comes back through here as a new request).

    A hostile or careless page, feed or API cannot make us read local files (``file://``,
    ``data:``) or reach this machine's network (loopback, private, link-local: a cloud's
    metadata address). A source with ``allow_private_host`` may reach the host:port of its
    own URLs however they resolve (an intranet forum, a test server on 127.0.0.1); nothing
    else. Runs first, so robots.txt is never fetched from a refused address either.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ConfinedMiddleware":
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        if parts.scheme not in SCHEMES:
            raise Refused(f"scheme {parts.scheme or '(none)'}: only http and https are fetched")
        if host_port(request.url) in getattr(self.crawler.spider, "own_hosts", ()):
            return None
        address = await resolve(parts.hostname or "")
        kind = address and private_kind(address)
        if kind:
            raise Refused(f"{parts.hostname} is a {kind} address ({address}); only a source's own host "
                          "may be, with allow_private_host")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        """A redirect elsewhere than http(s): refused here with its reason (Scrapy's
        RedirectMiddleware leaves it alone, and it would read as a bare http_302)."""
        location = response.headers.get(b"Location") if 300 <= response.status < 400 else None
        if location:
            target = urljoin(request.url, location.decode("latin-1").strip())
            if urlsplit(target).scheme not in SCHEMES:
                raise Refused(f"redirect to {target[:100]}: only http and https are followed")
        return response


class ConditionalGetMiddleware:
    """Send ``If-None-Match`` / ``If-Modified-Since`` from the source's state; keep new validators.

    The spider holds the state (``spider.state["validators"]``) and its ``report``
    collects the validators of this crawl with their start URL; ``listening.ingest.crawl``
    saves those of start URLs that completed, so a page whose links or next pages failed
    is read in full again. A 304 reaches the spider, which counts it as not modified.
    A request with ``meta["conditional"] = False`` is always read in full (an html listing:
    a 304 would hide its links).
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ConditionalGetMiddleware":
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        known = getattr(spider, "state", {}).get("validators", {}).get(request.url)
        if not known or request.meta.get("retry_times") or request.meta.get("conditional") is False:
            return None
        if known.get("etag"):
            request.headers.setdefault(b"If-None-Match", known["etag"])
        if known.get("last_modified"):
            request.headers.setdefault(b"If-Modified-Since", known["last_modified"])
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        report = getattr(self.crawler.spider, "report", None)
        if report is not None and response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            if etag or modified:
                report.validators[response.url] = {
                    "etag": etag.decode("latin-1") if etag else None,
                    "last_modified": modified.decode("latin-1") if modified else None,
                    "start": request.meta.get("start")}
        return response


class BackoffMiddleware:
    """Wait before sending a retried request: ``RETRY_BACKOFF_BASE`` x 2^(retry - 1), capped.

    Scrapy's RetryMiddleware re-schedules at once; a struggling server deserves a pause.
    A ``Retry-After`` (seconds) on the failed response wins when it is longer.
    Runs first in the chain, so the wait holds no download slot.
    """

    def __init__(self, base: float, cap: float):
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "BackoffMiddleware":
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED") or settings.getfloat("RETRY_BACKOFF_BASE") <= 0:
            raise NotConfigured
        return cls(settings.getfloat("RETRY_BACKOFF_BASE"), settings.getfloat("RETRY_BACKOFF_MAX"))

    async def process_request(self, request: Request) -> None:
        retries = request.meta.get("retry_times", 0)
        if retries:
            delay = min(self.cap, max(self.base * 2 ** (retries - 1), request.meta.get("retry_after", 0)))
            await asyncio.sleep(delay)
        return None


class RetryAfterMiddleware:
    """Note a response's ``Retry-After`` (seconds) for BackoffMiddleware.

    Sits just outside RetryMiddleware, so it sees the response before the retry copy is made.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        after = response.headers.get(b"Retry-After")
        if after and after.isdigit():
            request.meta["retry_after"] = float(after)  # copied onto the retry request
        return response


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, fixed for requests that wait for robots.txt together.

    In Scrapy 2.19 with the asyncio reactor, every request waiting for a site's
    robots.txt awaits the same Deferred, whose first waiter swallows the result: the
    third and later requests get None and are let through unchecked. After the wait
    the parser is in ``_parsers`` already, so read it from there.
    """

    async def robot_parser(self, request: Request):
        parser = await super().robot_parser(request)
        current = self._parsers.get(urlparse_cached(request).netloc, parser)
        return parser if isinstance(current, Deferred) else current


class BoundedDecompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression, whose size-limit refusal is a bare IgnoreRequest (read as a failed
    download), raised as ``TooLarge`` with the sizes instead: a few KB that inflate past the
    limit is a compression bomb, recorded ``too_large`` like any page over the limit."""

    def process_response(self, request: Request, response: Response) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            inflated = getattr(exc.__cause__, "decompressed_size", None)  # Scrapy's size-limit error
            if inflated is None:
                raise
            limit = request.meta.get("download_maxsize", self._max_size)
            raise TooLarge(f"{len(response.body):,} B compressed inflated past the size limit "
                           f"({limit:,} B; stopped at {inflated:,} B): a compression bomb, "
                           "or a page too big to read") from exc
