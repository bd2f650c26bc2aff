"""The html spider on the shared real pages (fixtures/html_pages_real): selectors and trafilatura."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawlers.spiders.html import HtmlSpider
from listening.timeparse import parse_time
from tests.conftest import FIXTURES

PAGES = FIXTURES / "html_pages_real"
LIFEHACKER = {"item": "article.reply", "text": ".reply-content ::text", "author": "@data-authorname",
              "id": "@data-id", "time": ".//*[@data-publishtime][1]/@data-publishtime"}


def page(name: str, selectors: dict | None = None, url: str | None = None, body: bytes | None = None):
    url = url or f"http://pages.test/{name}/"
    spider = HtmlSpider(source={"name": "t", "kind": "html", "urls": [url], "selectors": selectors or {}})
    request = Request(url, meta={"start": url, "page": 1})
    response = HtmlResponse(url, body=body if body is not None else (PAGES / name / "source.html").read_bytes(),
                            request=request)
    return spider, response


def test_lifehacker_thread_gives_twelve_replies_with_authors_and_ms_times():
    spider, response = page("lifehacker-post-comment-load", LIFEHACKER)
    items = list(spider.parse(response))
    assert len(items) == 12 and not spider.report.problems
    assert [i.author for i in items][:3] == ["jnovo22", "patrickallan", "jnovo22"]
    assert {i.author for i in items} == {"jnovo22", "patrickallan", "thegrayadder",
                                        "winfredarmandelafuentelati", "timgray"}
    times = [parse_time(i.published_at) for i in items]
    assert times[0] == datetime(2015, 3, 9, 15, 12, 35, 940000, tzinfo=timezone.utc)
    assert min(times) > datetime(2015, 3, 9, 15, 0, tzinfo=timezone.utc)
    assert max(times) == datetime(2015, 3, 9, 16, 37, 2, 284000, tzinfo=timezone.utc)
    # Element ids are scoped by their page (two sites' "post-1" stay apart); a reply is its
    # element on the page, never the page itself.
    assert items[0].external_id == "https://pages.test/lifehacker-post-comment-load#1690284499"
    assert items[0].url == "http://pages.test/lifehacker-post-comment-load/#1690284499"
    assert items[0].title.startswith("How to Program Your Mind")
    assert all("<" not in i.text for i in items)


@pytest.mark.parametrize("name", ["engadget", "theverge", "medium-2"])
def test_articles_without_selectors_match_readabilitys_metadata(name):
    expected = json.loads((PAGES / name / "expected-metadata.json").read_text(encoding="utf-8"))
    spider, response = page(name)
    [item] = spider.parse(response)
    assert item.author == expected["byline"] or expected["byline"].lower().startswith(item.author.lower())
    assert " ".join(item.title.split())[:18] == " ".join(expected["title"].split())[:18]  # og:title may differ
    want = parse_time(expected["publishedTime"])
    if name == "engadget":  # Readability drops the page's -04:00 offset
        want = datetime(2017, 11, 3, 7, 1, tzinfo=timezone.utc)
    assert parse_time(item.published_at) == want
    assert len(item.text) > 1000


def test_listing_follows_links_and_next_page():
    body = b"""<html><body><ul><li><a class=t href="/t/1">1</a></li><li><a class=t href="/t/2">2</a></li></ul>
               <a rel="next" href="?page=2">next</a></body></html>"""
    spider, response = page("forum", {"links": "a.t::attr(href)", "next": "//a[@rel='next']/@href"},
                            url="http://forum.test/list", body=body)
    requests = list(spider.parse(response))
    assert [r.url for r in requests] == ["http://forum.test/t/1", "http://forum.test/t/2",
                                         "http://forum.test/list?page=2"]
    assert [r.meta["page"] for r in requests] == [1, 1, 2]
    assert not any(r.dont_filter for r in requests)  # a detail page linked twice is fetched once
    assert requests[0].callback == spider.parse_detail


def test_truncated_page_keeps_what_it_has_and_says_so():
    body = b'<html><body><div class="post"><b>ana</b><p>Dell fans are loud</p></div><div class="post"><b>be'
    spider, response = page("x", {"item": "div.post", "text": "p ::text", "author": "b::text"},
                            url="http://forum.test/t/1", body=body)
    [item] = spider.parse(response)
    assert (item.author, item.text) == ("ana", "Dell fans are loud") and item.published_at is None
    assert spider.report.problem_counts == {"truncated_html": 1, "bad_item": 1}
    assert spider.report.undated == 1


def test_times_without_a_zone_are_read_in_the_sources_zone():
    spider = HtmlSpider(source={"name": "t", "kind": "html", "urls": ["http://x/"], "timezone": "America/Los_Angeles"})
    assert spider.local_time("3/09/15 8:12am") == datetime(2015, 3, 9, 15, 12, tzinfo=timezone.utc)  # PDT
    assert spider.local_time("2015-03-10 09:30:00 -0800") == datetime(2015, 3, 10, 17, 30, tzinfo=timezone.utc)
    assert spider.local_time("1425913955940") == "1425913955940"  # epoch ms: no zone to apply
    ago = parse_time(spider.local_time("2 hours ago"))
    assert abs((datetime.now(timezone.utc) - ago).total_seconds() - 7200) < 120
    utc_spider = HtmlSpider(source={"name": "t", "kind": "html", "urls": ["http://x/"]})
    assert parse_time(utc_spider.local_time("3/09/15 8:12am")) == datetime(2015, 3, 9, 8, 12, tzinfo=timezone.utc)
