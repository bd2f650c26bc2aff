"""Every preset and feed flavour on the services' real recorded responses
(fixtures/api_responses_real, see its PROVENANCE.md), through the real pipeline and store:
items in the response -> mentions stored, and which fields are filled."""

from __future__ import annotations

import html
import json
import re
from datetime import timezone

import pytest
from scrapy import Request
from scrapy.http import TextResponse, XmlResponse

from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.json_api import JsonApiSpider
from listening.config import Config
from listening.ingest.pipeline import Pipeline
from listening.models import RawMention
from tests.conftest import FIXTURES

REAL = FIXTURES / "api_responses_real"
FIELDS = ("text", "title", "author", "url", "lang")
# A brand every text matches, so each readable item is stored and counted.
EVERYTHING = Config.model_validate({"brands": [{"name": "Any", "query": "NOT qqqzzzxx"}]})


def parse_json(preset: str, path: str, url: str) -> tuple[JsonApiSpider, list]:
    spider = JsonApiSpider(source={"name": preset, "kind": "json_api", "preset": preset, "urls": [url]})
    response = TextResponse(url, body=(REAL / path).read_bytes(), encoding="utf-8",
                            request=Request(url, meta={"start": url, "page": 1}),
                            headers={"Content-Type": "application/json"})
    return spider, list(spider.parse(response))


def parse_feed(path: str, url: str) -> tuple[FeedSpider, list]:
    spider = FeedSpider(source={"name": "feed", "kind": "feed", "urls": [url]})
    response = XmlResponse(url, body=(REAL / path).read_bytes(), request=Request(url, meta={"start": url, "page": 1}))
    return spider, list(spider.parse(response))


def stored(store, out: list) -> tuple[list[dict], dict[str, int]]:
    """Run the spider's items through the pipeline; the stored mentions and how many have each field."""
    mentions = [o for o in out if isinstance(o, RawMention)]
    with Pipeline(store, EVERYTHING) as pipeline:
        counts = pipeline.run(mentions)
    assert counts.rejected == 0 and counts.unmatched == 0
    docs = list(store.mentions.collection.find())
    assert all(d["published_at"].tzinfo is not None and d["published_at"].utcoffset().total_seconds() == 0
               for d in docs) and not any(d["date_estimated"] for d in docs)
    return docs, {f: sum(1 for d in docs if d.get(f)) for f in FIELDS}


HN = "https://hn.algolia.com/api/v1/search_by_date?query=nodejs"
APPSTORE = "https://itunes.apple.com/us/rss/customerreviews/id=811377230/json"
MASTODON = "https://fosstodon.org/api/v1/timelines/tag/rstats?limit=5"
BLUESKY = "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts?q=redistricting"
JSON_CASES = [  # preset, recorded body, request URL, items -> stored, fields filled, next page
    ("hackernews", "hackernews/SiukAlator_HackersNews__search_by_date.json", HN, 20,
     {"text": 20, "title": 20, "author": 20, "url": 20, "lang": 18}, f"{HN}&page=1"),
    ("reddit", "reddit_json/praw_search_body.json", "https://www.reddit.com/r/all/search.json?q=praw&raw_json=1", 6,
     {"text": 6, "title": 6, "author": 6, "url": 6, "lang": 6}, None),  # after: null
    ("bluesky", "bluesky/bskyr_2025_search_body.json", BLUESKY, 25,
     {"text": 25, "title": 0, "author": 25, "url": 25, "lang": 25}, f"{BLUESKY}&cursor=25"),
    ("mastodon", "mastodon/rtoot_default_body.json", MASTODON, 5,
     {"text": 5, "title": 0, "author": 5, "url": 5, "lang": 5}, f"{MASTODON}&max_id=114869144097749491"),
    ("appstore", "appstore/podfinder__testdata_reviews.json", APPSTORE, 50,
     {"text": 50, "title": 50, "author": 50, "url": 50, "lang": 50},
     "https://itunes.apple.com/us/rss/customerreviews/page=2/id=811377230/sortby=mostrecent/json"),
]


@pytest.mark.parametrize("preset,path,url,count,filled,next_url", JSON_CASES)
def test_presets_on_recorded_responses(store, preset, path, url, count, filled, next_url):
    spider, out = parse_json(preset, path, url)
    assert [r.url for r in out if isinstance(r, Request)] == ([next_url] if next_url else [])
    assert sum(isinstance(o, RawMention) for o in out) == count and not spider.report.problems
    docs, fields = stored(store, out)
    assert len(docs) == count and fields == filled


def test_mastodon_ids_are_global_and_authors_carry_their_domain():
    # The Link header of this recording names max_id=114869144097749491 too (the last status).
    _, out = parse_json("mastodon", "mastodon/rtoot_default_body.json", MASTODON)
    assert [m.external_id for m in out if isinstance(m, RawMention)][:2] == [
        "https://rstats.me/users/simonpcouch/statuses/114870142137562212",
        "https://mastodon.social/users/useR_conf/statuses/114869631572884594"]
    assert all("@" in m.author for m in out if isinstance(m, RawMention))
    # fosstodon's own accounts have no domain in acct: the account's page gives it
    # (synthetic: every account in the recording is remote).
    status = json.loads((REAL / "mastodon/rtoot_default_body.json").read_text(encoding="utf-8"))[0]
    status["account"].update(acct="someone", url="https://fosstodon.org/@someone")
    spider = JsonApiSpider(source={"name": "m", "kind": "json_api", "preset": "mastodon", "urls": [MASTODON]})
    response = TextResponse(MASTODON, body=json.dumps([status]).encode(), encoding="utf-8",
                            request=Request(MASTODON, meta={"start": MASTODON, "page": 1}))
    [mention, _next] = spider.parse(response)
    assert mention.author == "someone@fosstodon.org"


def test_bluesky_keeps_full_links_and_embed_text():
    _, out = parse_json("bluesky", "bluesky/bskyr_2025_search_body.json", BLUESKY)
    texts = [m.text for m in out if isinstance(m, RawMention)]
    assert not any("open.substack.com/pub/christac..." in t for t in texts)
    [post] = [t for t in texts if "open.substack.com" in t]
    assert "https://open.substack.com/pub/christackett/p/the-pawn-or-the-collaborator?r=92vnq&utm_medium=ios" in post
    assert "The Pawn or the Collaborator?" in post  # the link card's title and description
    quote = next(t for t in texts if t.startswith("Prayers they win."))
    assert "joint list of the witnesses" in quote  # the quoted post
    assert "https://drive.google.com/file/d/1wZ7W8GA3EuJuAhpZWL8We4AyfVe8fjki/view?usp=sharing" in quote


def test_appstore_reviews_have_the_storefront_language_hint(store):
    _, out = parse_json("appstore", "appstore/podfinder__testdata_reviews.json", APPSTORE)
    mentions = [m for m in out if isinstance(m, RawMention)]
    assert {m.extra["storefront"] for m in mentions} == {"us"} and {m.extra["lang_hint"] for m in mentions} == {"en"}
    assert {m.url for m in mentions} == {"https://itunes.apple.com/us/review?id=811377230&type=Podcast"}
    docs, _ = stored(store, out)
    assert len({d["_id"] for d in docs}) == 50  # one app page for all, but each review is its own mention


REDDIT_USER = "reddit_rss/Lissy93_feeds__reddit.atom"
REDDIT_HOME = "reddit_rss/rbren_rss-parser__reddit-home.rss"
GOOGLE_NEWS = "google_news/PythonHomework__tests_data_google_news.xml"
FEED_CASES = [  # recorded feed, its URL, entries -> stored, fields filled
    (REDDIT_USER, "https://www.reddit.com/user/lissy93/submitted.rss", 25,
     {"text": 25, "title": 25, "author": 25, "url": 25, "lang": 24}),
    (REDDIT_HOME, "https://www.reddit.com/.rss", 24, {"text": 24, "title": 24, "author": 24, "url": 24, "lang": 23}),
    (GOOGLE_NEWS, "https://news.google.com/rss?hl=en-US", 38,
     {"text": 38, "title": 38, "author": 38, "url": 38, "lang": 38}),
]


@pytest.mark.parametrize("path,url,count,filled", FEED_CASES)
def test_feed_flavours_on_recorded_feeds(store, path, url, count, filled):
    spider, out = parse_feed(path, url)
    assert len(out) == count and not spider.report.problems
    docs, fields = stored(store, out)
    assert len(docs) == count and fields == filled
    assert not any("submitted by" in d["text"] or "View full coverage" in d["text"] for d in docs)


@pytest.mark.parametrize("path", [REDDIT_USER, REDDIT_HOME])
def test_reddit_rss_is_title_and_body_by_a_bare_username(path):
    _, out = parse_feed(path, "https://www.reddit.com/.rss")
    assert all(m.text.startswith(m.title) for m in out)
    assert not any(m.author.startswith("/u/") for m in out)
    link_posts = [m for m in out if m.text == m.title]  # the body was only "submitted by ..."
    assert len(link_posts) == {REDDIT_USER: 16, REDDIT_HOME: 19}[path]


def test_google_news_is_the_items_own_headline_by_its_publisher():
    _, out = parse_feed(GOOGLE_NEWS, "https://news.google.com/rss?hl=en-US")
    first = out[0]
    assert first.author == "The Washington Post"
    assert first.title == first.text == ("Live updates: Trump asserts \u2018normal people\u2019 would close the case "
                                         "on his impeachment")
    assert not any(m.title.endswith(f" - {m.author}") for m in out)
    assert len({m.author for m in out}) > 20 and all(len(m.text) < 300 for m in out)
    assert all(parse_time_utc(m.published_at) for m in out)


def parse_time_utc(value) -> bool:
    from listening.timeparse import parse_time

    when = parse_time(value)
    return when is not None and when.tzinfo == timezone.utc


REDDIT_JSON = "reddit_json/praw_search_body.json"


def test_reddit_json_and_rss_name_a_post_alike():
    """The two recorded shapes meet at one identity: an RSS entry's link (/r/SUB/comments/ID/slug/)
    and id (t3_ID; "/t3_ID" in the older format, where feedparser resolves it against the
    content's xml:base), a JSON post's permalink (with ?ref=search_posts), url and fullname."""
    from listening.ingest.canonical import canonical_url

    for path in (REDDIT_USER, REDDIT_HOME):
        _, out = parse_feed(path, "https://www.reddit.com/.rss")
        ids = [m.external_id.rsplit("/", 1)[-1].removeprefix("t3_") for m in out]
        assert [canonical_url(m.url) for m in out] == [f"https://reddit.com/comments/{i}" for i in ids]
    _, out = parse_json("reddit", REDDIT_JSON, "https://www.reddit.com/r/all/search.json?q=praw&raw_json=1")
    posts = json.loads((REAL / REDDIT_JSON).read_text(encoding="utf-8"))["data"]["children"]
    for mention, post in zip([m for m in out if isinstance(m, RawMention)], posts, strict=True):
        one = f"https://reddit.com/comments/{post['data']['name'].removeprefix('t3_')}"
        assert canonical_url(mention.external_id) == canonical_url(mention.url) == one
        assert canonical_url("https://www.reddit.com" + post["data"]["permalink"]) == one
        assert canonical_url(post["data"]["url"]) == one  # a self post's url is its own page


def reddit_rss_entry_for(post: dict) -> bytes:
    """The recorded Atom feed cut to one entry that stands for ``post`` as Reddit's RSS shows
    a post (synthetic: the recordings share no post, so the first real entry's id, link,
    title, author and body are set to the JSON post's)."""
    body = (REAL / REDDIT_USER).read_text(encoding="utf-8")
    head, entry = body[:body.index("<entry>")], body[body.index("<entry>"):body.index("</entry>") + 8]
    entry = re.sub(r"<content type=\"html\">.*</content>", lambda _: "<content type=\"html\">"
                   + html.escape(post["selftext_html"] + " submitted by /u/" + post["author"]) + "</content>",
                   entry, flags=re.S)
    entry = re.sub(r"<id>.*?</id>", f"<id>{post['name']}</id>", entry)
    entry = re.sub(r'<link href="[^"]*"', '<link href="' + post["url"] + '"', entry)
    entry = re.sub(r"<title>.*?</title>", lambda _: f"<title>{html.escape(post['title'])}</title>", entry)
    entry = entry.replace("/u/lissy93", "/u/" + post["author"])
    return (head + entry + "</feed>").encode()


@pytest.mark.parametrize("first", ["json", "rss"])
def test_a_reddit_post_read_as_json_and_as_rss_is_one_mention(store, first):
    _, out = parse_json("reddit", REDDIT_JSON, "https://www.reddit.com/r/all/search.json?q=praw&raw_json=1")
    from_json = [m.model_copy(update={"source": "reddit_json"}) for m in out if isinstance(m, RawMention)]
    post = json.loads((REAL / REDDIT_JSON).read_text(encoding="utf-8"))["data"]["children"][0]["data"]
    url = "https://www.reddit.com/user/x/submitted.rss"
    feed = FeedSpider(source={"name": "reddit_rss", "kind": "feed", "urls": [url]})
    [from_rss] = feed.parse(XmlResponse(url, body=reddit_rss_entry_for(post),
                                        request=Request(url, meta={"start": url, "page": 1})))
    assert from_rss.author == from_json[0].author == "dClauzel"  # one author form, no /u/
    runs = [from_json, [from_rss]] if first == "json" else [[from_rss], from_json]
    counts = []
    for batch in runs:
        with Pipeline(store, EVERYTHING) as pipeline:
            counts.append(pipeline.run(batch))
    assert store.mentions.count() == 6  # 6 posts, one of them read twice
    doc = store.mentions.collection.find_one({"key": "https://reddit.com/comments/3gpbiu"})
    assert doc["sources"] == (["reddit_json", "reddit_rss"] if first == "json" else ["reddit_rss", "reddit_json"])
    assert doc["author"] == "dClauzel" and doc["text"].startswith("[PRAW][OAuth2Util] Problem using get_banned()")
    assert sum(c.duplicates for c in counts) == 1 and sum(c.new for c in counts) == 6
