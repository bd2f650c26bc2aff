"""Polite and safe defaults, and the small components that make them (no network)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from scrapy import Request
from scrapy.http import Response

from crawlers import middlewares
from crawlers.middlewares import BackoffMiddleware, ConditionalGetMiddleware, RetryAfterMiddleware
from crawlers.report import SourceReport
from crawlers.runner import crawl_settings
from crawlers.spiders.html import HtmlSpider
from listening.config import parse_config
from listening.ingest.crawl import CrawlError, merge_state, select_sources, summary


def test_defaults_are_polite_and_close_the_control_servers():
    s = crawl_settings({"user_agent": "Listening/1 (+https://example.com/contact)"})
    assert s["USER_AGENT"] == "Listening/1 (+https://example.com/contact)"
    assert s.getbool("TELNETCONSOLE_ENABLED") is False and s.getbool("REMOTE_CONTROL_ENABLED") is False
    assert s.getbool("AUTOTHROTTLE_ENABLED") and s.getfloat("DOWNLOAD_DELAY") >= 1
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert 0 < s.getint("DOWNLOAD_MAXSIZE") <= 64 * 1024 * 1024 and 0 < s.getint("DOWNLOAD_TIMEOUT") <= 60
    assert s.getint("RETRY_TIMES") >= 1 and s.getint("REDIRECT_MAX_TIMES") <= 10
    assert s.getbool("COOKIES_ENABLED") is False
    assert HtmlSpider.custom_settings["ROBOTSTXT_OBEY"] is True
    overridden = crawl_settings({"user_agent": "x", "settings": {"DOWNLOAD_DELAY": 0}})
    assert overridden.getfloat("DOWNLOAD_DELAY") == 0


def test_backoff_doubles_and_honours_retry_after(monkeypatch):
    slept: list[float] = []

    async def sleep(delay):  # the waits asked for, not timed
        slept.append(delay)

    monkeypatch.setattr(middlewares, "asyncio", SimpleNamespace(sleep=sleep))
    mw = BackoffMiddleware(base=0.5, cap=30)

    def wait(meta: dict) -> list[float]:
        slept.clear()
        asyncio.run(mw.process_request(Request("http://x/", meta=meta)))
        return list(slept)

    assert wait({}) == [] and wait({"retry_times": 0}) == []  # a first try goes at once
    assert [wait({"retry_times": n}) for n in (1, 2, 3, 7)] == [[0.5], [1.0], [2.0], [30]]  # doubled, capped
    request = Request("http://x/")
    RetryAfterMiddleware().process_response(request, Response("http://x/", status=429, headers={"Retry-After": "7"}))
    assert request.meta["retry_after"] == 7.0
    assert wait({"retry_times": 1, "retry_after": 7.0}) == [7.0]  # longer than the backoff: it wins
    assert wait({"retry_times": 3, "retry_after": 1.0}) == [2.0]  # shorter: the backoff stands
    assert wait({"retry_times": 1, "retry_after": 3600.0}) == [30]  # still capped


def test_conditional_get_sends_stored_validators_and_keeps_new_ones():
    report = SourceReport("s", "feed")
    spider = SimpleNamespace(state={"validators": {"http://x/f": {"etag": '"abc"', "last_modified": "Mon"}}},
                             report=report)
    mw = ConditionalGetMiddleware(SimpleNamespace(spider=spider))
    request = Request("http://x/f", meta={"start": "http://x/f"})
    mw.process_request(request)
    assert request.headers[b"If-None-Match"] == b'"abc"' and request.headers[b"If-Modified-Since"] == b"Mon"
    mw.process_response(request, Response("http://x/f", headers={"ETag": '"new"'}))
    assert report.as_dict()["validators"] == {"http://x/f": {"etag": '"new"', "last_modified": None}}
    report.problem("http_503", "http://x/f?page=2", start="http://x/f")  # its next page failed
    assert report.as_dict()["validators"] == {}
    listing = Request("http://x/f", meta={"conditional": False})  # an html listing: always in full
    mw.process_request(listing)
    assert b"If-None-Match" not in listing.headers


def test_state_moves_forward_only():
    old = {"cursors": {"k": {"last_time": "2024-05-02T12:00:00+00:00", "last_id": "9"}},
           "validators": {"u": {"etag": "a"}}}
    new = merge_state(old, {"cursors": {"k": {"last_time": "2024-05-01T00:00:00+00:00", "last_id": "1"},
                                        "j": {"last_time": "2024-05-03T00:00:00+00:00", "last_id": "2"}},
                            "validators": {"u": {"etag": "b"}}})
    assert new["cursors"]["k"]["last_id"] == "9" and new["cursors"]["j"]["last_id"] == "2"
    assert new["validators"]["u"] == {"etag": "b"}


def test_source_selection_and_status():
    config = parse_config({"brands": [{"name": "A"}], "sources": [
        {"name": "on", "kind": "feed", "urls": ["http://x/"]},
        {"name": "off", "kind": "feed", "urls": ["http://x/"], "enabled": False}]})
    assert [s.name for s in select_sources(config)] == ["on"]
    assert [s.name for s in select_sources(config, ["off"])] == ["off"]
    try:
        select_sources(config, ["nope"])
    except CrawlError as exc:
        assert "nope" in str(exc) and "on, off" in str(exc)
    else:
        raise AssertionError("unknown source accepted")
    base = {"source": "s", "kind": "feed"}
    assert summary({**base, "pages": 1}, "r")["status"] == "ok"
    assert summary({**base, "pages": 1, "problem_counts": {"timeout": 1}}, "r")["status"] == "partial"
    assert summary({**base, "problem_counts": {"timeout": 2}}, "r")["status"] == "failed"
