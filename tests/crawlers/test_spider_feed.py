"""The feed spider on the shared real RSS/Atom feeds (fixtures/feeds_real) and on broken ones."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy import Request
from scrapy.http import Response, XmlResponse

from crawlers.spiders.feed import FeedSpider
from listening.timeparse import parse_time
from tests.conftest import FIXTURES

FEEDS = FIXTURES / "feeds_real"


def crawl(body: bytes, url: str = "http://feeds.test/f.xml", state: dict | None = None, status: int = 200):
    spider = FeedSpider(source={"name": "t", "kind": "feed", "urls": [url]}, state=state)
    request = Request(url, meta={"start": url, "page": 1})
    cls = XmlResponse if status == 200 else Response
    out = list(spider.parse(cls(url, body=body, status=status, request=request)))
    return spider, out


@pytest.mark.parametrize("name,count,author,published,title_start", [
    ("atom_mediarss_reddit_1.xml", 25, "", None, None),  # Reddit's /u/ prefix is dropped (crawlers.flavours)
    ("atom_example_reddit.xml", 1, "llogiq", datetime(2020, 5, 18, 5, 44, 47), None),
    ("rss_2.0_reddit.xml", 1, "kevincox_ca", datetime(2021, 11, 2, 0, 46, 8), None),
    ("rss_2.0_wirecutter.xml", 1, "James Austin", datetime(2022, 9, 20, 11, 0, 17), None),
    ("rss_2.0_cloudflare.xml", 1, "Luke Valenta", datetime(2021, 10, 14, 12, 59, 53),
     "Privacy-Preserving Compromised Credential Checking"),
    ("atom_mediarss_youtube_1.xml", 1, "PBS Space Time", datetime(2020, 12, 22, 19, 15, 1), None),
])
def test_real_feeds(name, count, author, published, title_start):
    spider, items = crawl((FEEDS / name).read_bytes())
    assert len(items) == count and spider.report.items == count and not spider.report.problems
    for item in items:
        assert item.author.startswith(author) and item.author == item.author.strip()
        assert item.author and not item.author.startswith("/u/")
        assert item.url.startswith("http") and item.external_id
        assert "<" not in item.text and item.text.strip()
    if published:
        assert parse_time(items[0].published_at) == published.replace(tzinfo=timezone.utc)
    if title_start:
        assert items[0].title.startswith(title_start)


def test_homelab_entries_keep_their_times_and_ids():
    _, items = crawl((FEEDS / "atom_mediarss_reddit_1.xml").read_bytes())
    times = sorted(parse_time(i.published_at) for i in items)
    assert times[0] == datetime(2023, 7, 23, 10, 4, 53, tzinfo=timezone.utc)
    assert times[-1] == datetime(2023, 7, 23, 17, 38, 30, tzinfo=timezone.utc)
    assert all(i.external_id.startswith("t3_") for i in items)
    assert any("Dell" in i.text for i in items)


def test_garbage_is_malformed_xml_and_304_is_not_modified():
    spider, items = crawl(b"\x00\xff<<not a feed")
    assert items == [] and spider.report.problem_counts == {"malformed_xml": 1}
    spider, items = crawl(b"", status=304)
    assert items == [] and spider.report.not_modified == 1 and spider.report.pages == 0


def test_truncated_feed_keeps_the_entries_it_has():
    body = (FEEDS / "atom_mediarss_reddit_1.xml").read_bytes()
    spider, items = crawl(body[: len(body) // 2])
    assert 0 < len(items) < 25
    assert spider.report.problem_counts == {"feed_warning": 1}


def test_known_entries_are_skipped_on_a_rerun():
    url = "http://feeds.test/f.xml"
    state = {"cursors": {url: {"last_time": "2023-07-23T17:00:00+00:00"}}}
    _, items = crawl((FEEDS / "atom_mediarss_reddit_1.xml").read_bytes(), url, state)
    assert items and all(parse_time(i.published_at) >= parse_time("2023-07-23T16:50:00Z") for i in items)
