"""Fuzz: the feed, html and json_api spiders on damaged real pages and generated garbage.

Whatever a server sends, a parse yields items or records a problem; no exception escapes
the callback, and every item survives the hand-off to the parent process and its pipeline.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from unittest import mock

import feedparser
from hypothesis import example, given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse

from crawlers import handoff
from crawlers.items import Rejected
from crawlers.pipelines import HandOffPipeline
from crawlers.presets import names
from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.html import HtmlSpider
from crawlers.spiders.json_api import JsonApiSpider
from listening.models import RawMention
from tests.support.strategies import (ENCODINGS, FEED_FILES, HTML_FILES, as_json_text, control_chars, deep_json, fuzz,
                                      giant_text, hostile_text, json_values, mutated, nested_json, surrogates)

URL = "http://fuzz.test/page"
SAMPLES = sorted((Path(__file__).parents[1] / "data").glob("*.json"))
charsets = st.one_of(st.none(), st.sampled_from([*ENCODINGS, "bogus-charset", "", "utf-8; q=0"]))


def respond(cls, body: bytes, content_type: str, charset: str | None) -> Response:
    """A response as Scrapy would build it from the server's bytes and Content-Type."""
    header = content_type + (f"; charset={charset}" if charset is not None else "")
    return cls(URL, body=body, headers={"Content-Type": header}, request=Request(URL, meta={"start": URL, "page": 1}))


def parse(spider, response) -> list:
    """The mentions and rejects the callback yields (besides requests), as many as its report counts."""
    out = list(spider.parse(response))
    items = [o for o in out if isinstance(o, (RawMention, Rejected))]
    assert all(isinstance(o, (RawMention, Rejected, Request)) for o in out)
    assert spider.report.items == sum(isinstance(o, RawMention) for o in items)
    return items


def hand_off(items: list) -> list[dict]:
    """The items through the real hand-off pipeline, read back as the parent reads the pipe."""
    pipe = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with mock.patch.object(handoff, "channel", lambda: pipe):
        stage = HandOffPipeline(mock.Mock())
        for item in items:
            stage.process_item(item)
        pipe.flush()
    return [json.loads(line) for line in io.TextIOWrapper(io.BytesIO(pipe.buffer.getvalue()), encoding="utf-8")]


def assert_storable(value, depth: int = 0) -> None:
    """What MongoDB keeps as plain data: no key an operator or a path, nested under its 100 levels."""
    assert depth < 100
    if isinstance(value, dict):
        for key, inner in value.items():
            assert not key.startswith("$") and "." not in key and "\x00" not in key, key
            assert_storable(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            assert_storable(inner, depth + 1)


def ingest_all(make_pipeline, items: list) -> None:
    """Hand off, then the parent's side: every message counted, read = matched + unmatched + rejected."""
    for item in items:
        if isinstance(item, RawMention):
            assert_storable(item.model_dump())
    with make_pipeline() as pipeline:
        for message in hand_off(items):
            if message["t"] == "item":
                pipeline.add(RawMention.model_validate(message["m"]))
            else:
                pipeline.reject()
        pipeline.flush()
    c = pipeline.counts
    assert c.read == len(items) == c.matched + c.unmatched + c.rejected
    assert c.matched == c.new + c.updated + c.unchanged + c.duplicates


# -- feed ------------------------------------------------------------------------------
@fuzz
@given(mutated(FEED_FILES), charsets, st.sampled_from(["application/rss+xml", "application/atom+xml", "text/xml",
                                                        "text/html", "application/octet-stream"]))
def test_feed_damaged_real_feeds(ingest, body, charset, content_type):
    spider = FeedSpider(source={"name": "fuzz", "kind": "feed", "urls": [URL]})
    items = parse(spider, respond(XmlResponse, body, content_type, charset))
    assert items or spider.report.problem_counts or b"<entry" not in body and b"<item" not in body
    ingest_all(ingest, items)


@fuzz
@given(st.binary(max_size=2048) | st.text().map(str.encode), charsets)
@example(b"<rss A=''><_></_></rss>", None)  # found by this test: well-formed, so an empty feed, not an error
def test_feed_garbage_bytes(body, charset):
    spider = FeedSpider(source={"name": "fuzz", "kind": "feed", "urls": [URL]})
    response = respond(XmlResponse, body, "application/rss+xml", charset)
    assert not parse(spider, response)
    read = feedparser.parse(response.body, response_headers={"content-type": response.headers[b"Content-Type"].decode()})
    empty_feed = not read.bozo and read.get("version")  # garbage that is a well-formed feed without entries
    assert spider.report.problem_counts.keys() == (set() if empty_feed else {"malformed_xml"})


FEED_ENTRY = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
              "<item><title>{title}</title><link>{link}</link><author>{author}</author>"
              "<description>{text}</description><guid>{guid}</guid><pubDate>{date}</pubDate></item></channel></rss>")


@fuzz
@given(st.fixed_dictionaries({k: hostile_text | giant_text | st.lists(control_chars).map("".join)
                              for k in ("title", "link", "author", "text", "guid", "date")}))
def test_feed_hostile_fields(ingest, fields):
    from xml.sax.saxutils import escape

    body = FEED_ENTRY.format(**{k: escape(v) for k, v in fields.items()}).encode("utf-8", "surrogatepass")
    spider = FeedSpider(source={"name": "fuzz", "kind": "feed", "urls": [URL]})
    items = parse(spider, respond(XmlResponse, body, "application/rss+xml", None))
    for item in items:
        assert item.url is None or item.url.startswith("http")
    ingest_all(ingest, items)


# -- html ------------------------------------------------------------------------------
REPLIES = {"item": "article.reply, div.comment, p", "text": ".//text()", "author": "@data-authorname",
           "id": "@data-id", "time": ".//*[@data-publishtime][1]/@data-publishtime", "url": "./a/@href"}


@fuzz
@given(mutated(HTML_FILES), charsets, st.booleans())
def test_html_damaged_real_pages(ingest, body, charset, as_items):
    selectors = REPLIES if as_items else {}
    spider = HtmlSpider(source={"name": "fuzz", "kind": "html", "urls": [URL], "selectors": selectors})
    items = parse(spider, respond(HtmlResponse, body, "text/html", charset))
    assert items or spider.report.problem_counts
    ingest_all(ingest, items)


@fuzz
@given(st.binary(max_size=4096), st.sampled_from(["text/html", "application/pdf", "image/png", ""]), charsets)
def test_html_garbage_bytes(body, content_type, charset):
    cls = HtmlResponse if content_type == "text/html" else Response
    spider = HtmlSpider(source={"name": "fuzz", "kind": "html", "urls": [URL], "selectors": REPLIES})
    items = parse(spider, respond(cls, body, content_type, charset))
    assert items or spider.report.problem_counts


@fuzz
@given(st.lists(st.tuples(hostile_text | giant_text, hostile_text, hostile_text), min_size=1, max_size=5))
def test_html_hostile_replies(ingest, replies):
    from html import escape

    posts = "".join(f'<div class="comment" data-authorname="{escape(a)}" data-id="{escape(i)}">{escape(t)}</div>'
                    for t, a, i in replies)
    body = f"<html><body>{posts}</body></html>".encode("utf-8", "surrogatepass")
    spider = HtmlSpider(source={"name": "fuzz", "kind": "html", "urls": [URL], "selectors": REPLIES})
    ingest_all(ingest, parse(spider, respond(HtmlResponse, body, "text/html", "utf-8")))


# -- json_api --------------------------------------------------------------------------
MAPPING = {"items": "data.items", "text": "body", "id": "id", "author": "user.name", "time": "at", "url": "link",
           "title": "title", "lang": "lang", "labels": {"sentiment": "mood"}, "extra": {"raw": "raw"}}
item_fields = st.fixed_dictionaries({}, optional={
    "body": json_values | giant_text | st.lists(surrogates | control_chars, min_size=1).map("".join),
    "id": json_values | surrogates, "user": json_values | st.fixed_dictionaries({"name": json_values | surrogates}),
    "at": json_values, "link": json_values | surrogates, "title": json_values, "lang": json_values,
    "mood": json_values, "raw": json_values | st.integers(1, 900).map(lambda n: json.loads(nested_json(n)))})


def api_spider(preset: str | None = None) -> JsonApiSpider:
    mapping = {} if preset else MAPPING
    return JsonApiSpider(source={"name": "fuzz", "kind": "json_api", "urls": [URL], "preset": preset,
                                 "mapping": mapping})


@fuzz
@given(st.lists(item_fields | json_values, max_size=6))
def test_json_api_hostile_items(ingest, entries):
    # json.dumps escapes lone surrogates as \udXXX, which json.loads gives back: as an API would send them
    body = json.dumps({"data": {"items": entries}}).encode()
    spider = api_spider()
    items = parse(spider, respond(TextResponse, body, "application/json", "utf-8"))
    readable = [isinstance(e, dict) and isinstance(e.get("body"), str) and bool(e["body"].strip()) for e in entries]
    assert [isinstance(i, RawMention) for i in items] == readable  # one mention or one reject per entry
    ingest_all(ingest, items)


@fuzz
@given(st.one_of(deep_json, json_values.map(as_json_text), st.binary(max_size=512).map(lambda b: b.decode("latin-1")),
                 st.sampled_from(SAMPLES).map(lambda p: p.read_text(encoding="utf-8"))),
       st.sampled_from([None, *names()]), charsets, st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_json_api_garbage_pages(body, preset, charset, encoding):
    spider = api_spider(preset)
    out = parse(spider, respond(TextResponse, body.encode(encoding, "replace"), "application/json", charset))
    assert out or spider.report.problem_counts or spider.report.pages == 1


@fuzz
@given(st.sampled_from(SAMPLES).map(lambda p: p.read_bytes()).flatmap(
    lambda b: st.integers(0, len(b.rstrip()) - 1).map(lambda n: b[:n])), st.sampled_from(names()))
def test_json_api_truncated_samples(body, preset):
    spider = api_spider(preset)
    assert parse(spider, respond(TextResponse, body, "application/json", "utf-8")) == []
    assert spider.report.problem_counts.keys() <= {"bad_json", "wrong_shape"} and spider.report.problem_counts
