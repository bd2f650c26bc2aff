"""One mention per real post across sources, on the real pages (fixtures/html_pages_real)
through the html and feed spiders, the pipeline and the store."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import XmlResponse

from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.html import byline
from listening.config import Config
from listening.ingest.pipeline import Pipeline
from tests.crawlers.test_spider_html import LIFEHACKER, page

EVERYTHING = Config.model_validate({"brands": [{"name": "Any", "query": "NOT qqqzzzxx"}]})
# The Verge's Vision Pro hands-on served as a blog post page: one `article` per page.
POST = "https://blog.example.com/2023/06/vision-pro-hands-on/"
# Synthetic: the real feeds link to pages we have no copy of, so this one links to the
# page above the way a blog's feed does (another spelling, tracking parameters, a guid).
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>
<item><title>Vision Pro hands-on</title><link>http://www.blog.example.com/2023/06/vision-pro-hands-on?utm_source=rss</link>
<guid isPermaLink="false">https://blog.example.com/?p=7</guid><pubDate>Mon, 05 Jun 2023 22:00:00 GMT</pubDate>
<description>Apple's Vision Pro is the Retina display moment for headsets</description></item>
</channel></rss>""".encode()


def read_feed() -> list:
    spider = FeedSpider(source={"name": "blog-feed", "kind": "feed", "urls": ["https://blog.example.com/feed"]})
    url = "https://blog.example.com/feed"
    return list(spider.parse(XmlResponse(url, body=FEED, request=Request(url, meta={"start": url, "page": 1}))))


def read_page(name: str, selectors: dict, url: str, source: str = "blog-html") -> list:
    spider, response = page(name, selectors, url=url)
    spider.source.name = source
    return [item.model_copy(update={"source": source}) for item in spider.parse(response)]


def test_a_post_read_by_its_page_and_its_feed_is_one_mention(store):
    html = read_page("theverge", {"item": "article", "id": "@id"}, POST)
    assert len(html) == 1 and html[0].url == POST
    with Pipeline(store, EVERYTHING) as pipeline:
        first = pipeline.run(html)
    with Pipeline(store, EVERYTHING) as pipeline:
        second = pipeline.run(read_feed())
    assert (first.new, second.new, second.duplicates) == (1, 0, 1)
    [doc] = store.mentions.collection.find()
    assert doc["sources"] == ["blog-html", "blog-feed"] and doc["key"] == POST.rstrip("/")
    with Pipeline(store, EVERYTHING) as pipeline:
        again = pipeline.run(html + read_feed())
    assert (again.new, again.updated, store.mentions.count()) == (0, 0, 1)


def test_two_sites_element_ids_stay_apart(store):
    """The same thread (12 replies, ids from data-id) on two sites: 24 mentions, and 12 on a re-read."""
    one = read_page("lifehacker-post-comment-load", LIFEHACKER, "https://one.example/thread/1", "one")
    two = read_page("lifehacker-post-comment-load", LIFEHACKER, "https://two.example/thread/1", "two")
    with Pipeline(store, EVERYTHING) as pipeline:
        counts = pipeline.run(one + two)
    assert (counts.read, counts.new, counts.duplicates) == (24, 24, 0)
    with Pipeline(store, EVERYTHING) as pipeline:
        again = pipeline.run(one)
    assert (again.new, again.unchanged, store.mentions.count()) == (0, 12, 24)


def test_a_byline_label_is_not_an_author():
    """trafilatura's guesses on pages whose byline reads "Posted on <date>" (the issue's cases)."""
    assert [byline(a) for a in ("Posted on", "Posted", "By", "posted by Jane Doe", "By John Smith", "Jane Doe")] == [
        None, None, None, "Jane Doe", "John Smith", "Jane Doe"]
