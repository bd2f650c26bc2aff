"""The json_api spider and its presets, against sample responses in each API's documented shape."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import TextResponse

from crawlers.items import Rejected
from crawlers.presets import load_preset, names
from crawlers.spiders.base import expand_urls
from crawlers.spiders.json_api import JsonApiSpider, Mapping
from listening.models import RawMention
from listening.timeparse import parse_time
from tests.conftest import FIXTURES

DATA = Path(__file__).resolve().parents[1] / "data"


def spider(preset: str | None = None, mapping: dict | None = None, state: dict | None = None,
           urls: list[str] | None = None) -> JsonApiSpider:
    return JsonApiSpider(source={"name": "t", "kind": "json_api", "preset": preset, "mapping": mapping or {},
                                 "urls": urls or ["http://api.test/x"]}, state=state)


def respond(url: str, body: str | bytes, start: str | None = None, page: int = 1) -> TextResponse:
    request = Request(url, meta={"start": start or url, "page": page})
    return TextResponse(url, body=body if isinstance(body, bytes) else body.encode(), encoding="utf-8",
                        request=request, headers={"Content-Type": "application/json"})


def parse(s: JsonApiSpider, url: str, sample: str) -> tuple[list, list[str]]:
    out = list(s.parse(respond(url, (DATA / sample).read_text(encoding="utf-8"))))
    return [o for o in out if not isinstance(o, Request)], [o.url for o in out if isinstance(o, Request)]


APPSTORE = "https://itunes.apple.com/us/rss/customerreviews/page={}/id=1234/sortby=mostrecent/json"
PRESET_CASES = [  # preset, sample, request URL, ids, next URL
    ("hackernews", "hackernews.json", "https://hn.algolia.com/api/v1/search_by_date?query=Dell&hitsPerPage=2",
     ["40234567", "40234001"], "https://hn.algolia.com/api/v1/search_by_date?query=Dell&hitsPerPage=2&page=1"),
    ("hackernews", "hackernews.1.json", "https://hn.algolia.com/api/v1/search_by_date?query=Dell&page=1",
     ["40200123"], None),
    ("reddit", "reddit.json", "https://www.reddit.com/search.json?q=Dell&sort=new",
     ["https://www.reddit.com/comments/1cib9x1", "https://www.reddit.com/comments/1cia2b0"],
     "https://www.reddit.com/search.json?q=Dell&sort=new&after=t3_1cia2b0"),
    ("reddit", "reddit.t3_1cia2b0.json", "https://www.reddit.com/search.json?q=Dell&after=t3_1cia2b0",
     ["https://www.reddit.com/comments/1ci0001"], None),
    ("mastodon", "mastodon.json", "https://mastodon.social/api/v1/timelines/tag/dell?limit=2",
     ["https://mastodon.social/users/alice/statuses/112372801111111111",
      "https://chaos.social/users/bob/statuses/112372700000000000"],
     "https://mastodon.social/api/v1/timelines/tag/dell?limit=2&max_id=112372700000000000"),
    ("mastodon", "mastodon.112372700000000000.json",
     "https://mastodon.social/api/v1/timelines/tag/dell?max_id=112372700000000000", [], None),
    ("bluesky", "bluesky.json", "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts?q=Dell",
     ["at://did:plc:abc123/app.bsky.feed.post/3kryxy2ab4c2x", "at://did:plc:def456/app.bsky.feed.post/3kryxw7zzzz2a"],
     "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts?q=Dell&cursor=2"),
    ("appstore", "appstore.1.json", APPSTORE.format(1), ["10987654321", "10987650000"], APPSTORE.format(2)),
    ("appstore", "appstore.2.json", APPSTORE.format(2), ["10987600000"], None),  # a single review comes as an object, not a list
]


@pytest.mark.parametrize("preset,sample,url,ids,next_url", PRESET_CASES)
def test_presets_read_ids_and_next_page(preset, sample, url, ids, next_url):
    items, requests = parse(spider(preset), url, sample)
    assert [i.external_id for i in items] == ids
    assert all(isinstance(i, RawMention) and i.text and i.author and parse_time(i.published_at) for i in items)
    assert requests == ([next_url] if next_url else [])


def test_every_shipped_preset_has_a_sample_and_compiles():
    tested = {case[0] for case in PRESET_CASES}
    assert set(names()) == tested == {"hackernews", "reddit", "mastodon", "bluesky", "appstore"}
    for name in names():
        Mapping(load_preset(name))


def test_preset_fields_in_detail():
    [comment, story], _ = parse(spider("hackernews"), "https://hn.algolia.com/x", "hackernews.json")
    assert comment.text == "I switched to Dell XPS last year &amp; never looked back. Battery is fine."
    assert comment.title == "Ask HN: Which laptop for Linux?" and comment.published_at == 1714658591
    assert story.text == "Thinking of a Dell or a ThinkPad." and story.author == "dang"
    [first, _], _ = parse(spider("bluesky"), "https://b/x", "bluesky.json")
    assert first.url == "https://bsky.app/profile/carol.bsky.social/post/3kryxy2ab4c2x" and first.lang == "en"
    [post, selfless], _ = parse(spider("reddit"), "https://www.reddit.com/x", "reddit.json")
    assert post.text == "Dell R730XD deal\n\nPicked up a Dell R730XD for $300. Worth it?"
    assert selfless.text == "Dell iDRAC licence question\n\n"
    assert post.url == "https://www.reddit.com/r/homelab/comments/1cib9x1/dell_r730xd_deal/"
    [review, _], _ = parse(spider("appstore"), "https://itunes.apple.com/x", "appstore.1.json")
    assert review.title == "Crashes at check-in" and review.extra == {"rating": "1", "version": "5.12.0"}
    assert parse_time(review.published_at) == datetime(2024, 5, 2, 1, 22, 4, tzinfo=timezone.utc)


def test_wrong_shapes_are_recorded_not_raised():
    s = spider("hackernews")
    assert list(s.parse(respond("http://a/1", '{"error": "rate limited"}'))) == []
    assert list(s.parse(respond("http://a/2", '{"hits": "nope"}'))) == []
    assert list(s.parse(respond("http://a/3", '{"hits": [1, 2'))) == []
    assert list(s.parse(respond("http://a/4", b"\xff\xfe garbage"))) == []
    out = list(s.parse(respond("http://a/5", '{"hits": [7, {"objectID": "1"}], "hitsPerPage": 9}')))
    assert [type(o) for o in out] == [Rejected, Rejected]
    assert s.report.problem_counts == {"wrong_shape": 2, "bad_json": 2, "bad_item": 2}
    assert s.report.incomplete == {"http://a/1", "http://a/2", "http://a/3", "http://a/4"}


REAL_HN = FIXTURES / "api_responses_real/hackernews/SiukAlator_HackersNews__search_by_date.json"
HN_URL = "https://hn.algolia.com/api/v1/search_by_date?query=nodejs"


def hn_page(state: dict | None = None, keep=lambda i: True, recheck_hours: float = 24) -> tuple[JsonApiSpider, list]:
    """The real recorded Hacker News page (20 hits, newest first), or the hits ``keep`` picks
    (derived: no recording holds two states of one search)."""
    doc = json.loads(REAL_HN.read_text(encoding="utf-8"))
    doc["hits"] = [h for i, h in enumerate(doc["hits"]) if keep(i)]
    s = JsonApiSpider(source={"name": "t", "kind": "json_api", "preset": "hackernews", "urls": [HN_URL],
                              "recheck_hours": recheck_hours}, state=state)
    return s, list(s.parse(respond(HN_URL, json.dumps(doc))))


def test_paging_stops_at_a_page_of_known_items_never_by_date():
    first, out = hn_page()
    assert sum(isinstance(o, RawMention) for o in out) == 20 and isinstance(out[-1], Request)
    # the same page again: every hit seen within the window, skipped, and no next page
    again, out = hn_page({"seen": first.report.seen})
    assert out == [] and again.report.known == 20
    # an earlier crawl saw only the 5 newest hits: the 15 older ones are new although their
    # dates are older than the newest seen, so they are read and paging goes on
    newest, _ = hn_page(keep=lambda i: i < 5)
    later, out = hn_page({"seen": newest.report.seen, "cursors": newest.report.cursors})
    items = [o for o in out if isinstance(o, RawMention)]
    assert len(items) == 15 and later.report.known == 5 and isinstance(out[-1], Request)
    assert max(parse_time(i.published_at) for i in items) < min(
        parse_time(c["last_time"]) for c in newest.report.cursors.values())


def test_items_seen_longer_ago_than_the_recheck_window_are_read_again():
    first, _ = hn_page()
    again, out = hn_page({"seen": first.report.seen}, recheck_hours=0)
    assert sum(isinstance(o, RawMention) for o in out) == 20 and again.report.known == 0
    assert not any(isinstance(o, Request) for o in out)  # all of them seen before: no next page


def start_requests(s: JsonApiSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]
    return asyncio.run(collect())


def test_since_param_goes_on_the_first_request():
    state = {"cursors": {"https://m/tag?limit=2": {"last_time": "2024-05-02T12:00:00+00:00", "last_id": "42"}}}
    s = spider(mapping={"items": "@", "text": "content", "id": "id", "since_param": "since_id"}, state=state,
               urls=["https://m/tag?limit=2"])
    [request] = start_requests(s)
    assert request.url == "https://m/tag?limit=2&since_id=42" and request.meta["start"] == "https://m/tag?limit=2"


def test_labels_and_a_bad_mapping():
    s = spider(mapping={"items": "data", "text": "t", "labels": {"sentiment": "l.s", "issue": "l.i"}})
    [item] = s.parse(respond("http://x/", json.dumps({"data": [{"t": "hi", "l": {"s": "negative", "i": None}}]})))
    assert item.labels == {"sentiment": "negative", "by": "t"}
    broken = spider(mapping={"items": "data"})
    assert broken.mapping is None and broken.report.problem_counts == {"config": 1}


def test_url_templates_fill_query_per_term_and_variables():
    pairs = expand_urls(["{api}/s?q={query}", "https://x/feed"], ["United Airlines", "JetBlue"], {"api": "http://h:1/"})
    assert pairs == [("{api}/s?q=United+Airlines", "http://h:1/s?q=United+Airlines"),
                     ("{api}/s?q=JetBlue", "http://h:1/s?q=JetBlue"), ("https://x/feed", "https://x/feed")]
    with pytest.raises(KeyError, match="NOPE"):
        expand_urls(["{nope}/x"], [], {})


def test_example_config_sources_compile():
    from listening.config import load_config
    from tests.conftest import ROOT

    config = load_config(ROOT / "listening.example.yaml")
    for source in config.sources:
        if source.kind == "json_api":
            Mapping.for_source(source.preset, source.mapping)
        assert expand_urls(source.urls, ["Acme Air"], {})


@pytest.mark.parametrize("expression", ["a", "a.b", "a.b.c", "missing", "a.missing.c", "n"])
def test_dotted_paths_answer_like_jmespath(expression):
    import jmespath

    from crawlers.spiders.json_api import compile_expression

    data = {"a": {"b": {"c": 1}, "x": [1]}, "n": None}
    assert compile_expression(expression).search(data) == jmespath.search(expression, data)
