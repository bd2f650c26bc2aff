"""Real crawls on 127.0.0.1 (tests/sites.py) through listening.ingest.crawl.run into a real store.

One crawl of every source kind plus the fault endpoints, then the same crawl again: the
second adds nothing. The crawls run once per module (each is a Scrapy child process).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pymongo import MongoClient
from rich.console import Console

from harness.sites import Handler, Site
from listening.config import parse_config
from listening.ingest import crawl
from listening.store import Store
from tests.conftest import FIXTURES
from tests.crawlers.test_spider_feed import GOOGLE_NEWS, only_items

SETTINGS = {**crawl.LOCAL_SETTINGS, "DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 1,
            "DOWNLOAD_MAXSIZE": 1024 * 1024, "DOWNLOAD_WARNSIZE": 0}
FEEDS = ["atom_mediarss_reddit_1.xml", "atom_example_reddit.xml", "rss_2.0_reddit.xml",
         "rss_2.0_wirecutter.xml", "rss_2.0_cloudflare.xml", "atom_mediarss_youtube_1.xml"]
PAGES = FIXTURES / "html_pages_real"
LIFEHACKER_REPLIES = [  # (author, data-publishtime in ms) in page order
    ("jnovo22", 1425913955940), ("patrickallan", 1425914092673), ("jnovo22", 1425916025643),
    ("thegrayadder", 1425914763123), ("patrickallan", 1425915151767),
    ("winfredarmandelafuentelati", 1425915223760), ("patrickallan", 1425915354678),
    ("winfredarmandelafuentelati", 1425916018531), ("timgray", 1425916808063),
    ("patrickallan", 1425917276269), ("timgray", 1425918339646), ("patrickallan", 1425919022284)]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def local(config: dict) -> dict:
    """Every source may reach its own host on 127.0.0.1 (``allow_private_host``): the
    explicit allowance a local test server needs, which no source has by default."""
    return {**config, "sources": [{**s, "allow_private_host": True} for s in config["sources"]]}


def site_config(base: str, *, slow: bool = True):
    """Every kind of source on the local site; ``Everything`` matches all t_ sources."""
    return parse_config(local({
        "brands": [{"name": "Dell", "terms": ["Dell"]},
                   {"name": "Everything", "query": "source:t_*"}],
        "user_agent": "ListeningCentreTest/1.0 (+https://example.com/contact)",
        "sources": [
            {"name": "t_feeds", "kind": "feed", "urls": [f"{base}/feeds/{f}" for f in FEEDS]},
            {"name": "t_search", "kind": "feed", "urls": [base + "/feeds/rss_2.0_reddit.xml?q={query}"]},
            {"name": "t_hn", "kind": "json_api", "preset": "hackernews",
             "urls": [f"{base}/api/hackernews?query=Dell&tags=(story,comment)&hitsPerPage=2"]},
            {"name": "t_reddit", "kind": "json_api", "preset": "reddit",
             "urls": [f"{base}/api/reddit?q=Dell&sort=new&limit=2"]},
            {"name": "t_mastodon", "kind": "json_api", "preset": "mastodon",
             "urls": [f"{base}/api/mastodon?limit=2"]},
            {"name": "t_bluesky", "kind": "json_api", "preset": "bluesky",
             "urls": [f"{base}/api/bluesky?q=Dell&sort=latest&limit=2"]},
            {"name": "t_appstore", "kind": "json_api", "preset": "appstore",
             "urls": [base + "/us/rss/customerreviews/page=1/id={app_id}/sortby=mostrecent/json"]},
            {"name": "t_forum", "kind": "html", "urls": [f"{base}/forum/"], "timezone": "America/Los_Angeles",
             "selectors": {
                "links": "li.thread a::attr(href)", "next": "a.next::attr(href)", "item": "div.post",
                "text": ".body ::text", "author": ".author::text", "time": "time::attr(datetime)",
                "id": "@id"}},
            {"name": "t_lifehacker", "kind": "html", "urls": [f"{base}/pages/lifehacker-post-comment-load/"],
             "selectors": {"item": "article.reply", "text": ".reply-content ::text",
                           "author": "@data-authorname", "id": "@data-id",
                           "time": ".//*[@data-publishtime][1]/@data-publishtime"}},
            {"name": "t_articles", "kind": "html",
             "urls": [f"{base}/pages/{p}/" for p in ("engadget", "theverge", "medium-2")]},
            {"name": "t_bad_feeds", "kind": "feed", "urls": [
                f"{base}/fault/{f}" for f in ("500", "404", "slow" if slow else "404", "garbage",
                                              "redirect-loop", "truncated.xml", "latin1.xml", "dates.xml")]},
            {"name": "t_bad_json", "kind": "json_api", "preset": "hackernews",
             "urls": [f"{base}/fault/bad.json", f"{base}/fault/wrong-shape.json"]},
            {"name": "t_bad_html", "kind": "html", "urls": [
                f"{base}/fault/oversized", f"{base}/fault/oversized-unannounced", f"{base}/fault/gzip-bomb",
                f"{base}/fault/truncated.html",
                f"{base}/private/page"]},
            {"name": "t_bad_mapping", "kind": "json_api", "mapping": {"items": "data"},
             "urls": [f"{base}/api/reddit"]},
        ]}))


@pytest.fixture(scope="module")
def crawled(mongo_uri):
    """The site, the store, and the rows of two identical crawls."""
    site = Site.start()
    client = MongoClient(mongo_uri, tz_aware=True)
    store = Store(client, f"test_crawl_{uuid.uuid4().hex[:8]}")
    store.ensure_indexes()
    config = site_config(site.url)
    events: list[dict] = []
    try:
        first = crawl.run(store, config, settings=SETTINGS, progress=events.append,
                          variables={"app_id": "1234"})
        stored_after_first = store.mentions.count()
        hits_after_first = dict(site.hits)
        # the same sources, less the slow one (its timeouts are tested once)
        second = crawl.run(store, site_config(site.url, slow=False), settings=SETTINGS, variables={"app_id": "1234"})
        yield {"store": store, "site": site, "first": {r["source"]: r for r in first},
               "second": {r["source"]: r for r in second}, "events": events,
               "stored_after_first": stored_after_first, "hits_after_first": hits_after_first}
    finally:
        site.stop()
        client.drop_database(store.db.name)
        client.close()


def mentions(store: Store, source: str) -> list[dict]:
    return list(store.db["mentions"].find({"sources": source}).sort([("published_at", -1), ("_id", 1)]))


def test_every_good_source_is_stored_with_counts(crawled):
    first = crawled["first"]
    expected = {"t_feeds": 30, "t_hn": 3, "t_reddit": 3, "t_mastodon": 2, "t_bluesky": 3,
                "t_appstore": 3, "t_forum": 6, "t_lifehacker": 12, "t_articles": 3}
    for source, n in expected.items():
        row = first[source]
        # t_search reads a post t_feeds reads too: whichever writes it second counts a duplicate
        assert (row["status"], row["items"], row["new"] + row["duplicates"], row["rejected"]) == ("ok", n, n, 0), row
        assert len(mentions(crawled["store"], source)) == n
    assert first["t_forum"]["pages"] == 2 + 4  # two listing pages, four threads


def test_query_templates_give_one_feed_per_brand_term(crawled):
    hits = crawled["hits_after_first"]
    assert hits["/feeds/rss_2.0_reddit.xml"] == 1 + 2  # t_feeds, then ?q=Dell and ?q=Everything (its name)
    row = crawled["first"]["t_search"]
    assert (row["pages"], row["items"], row["new"] + row["duplicates"]) == (2, 2, 2)
    [doc] = mentions(crawled["store"], "t_search")  # the same entry twice, and t_feeds's post
    assert sorted(doc["sources"]) == ["t_feeds", "t_search"]


def test_feed_items_keep_authors_times_links_and_plain_text(crawled):
    docs = {d["title"]: d for d in mentions(crawled["store"], "t_feeds")}
    wirecutter = next(d for d in docs.values() if d["url"] and "nytimes.com/wirecutter" in d["url"])
    assert wirecutter["author"] == "James Austin"
    assert wirecutter["published_at"] == utc(2022, 9, 20, 11, 0, 17)
    assert "<" not in wirecutter["text"] and "&amp;" not in wirecutter["text"]
    cloudflare = next(d for d in docs.values() if d["author"] == "Luke Valenta")
    assert cloudflare["published_at"] == utc(2021, 10, 14, 12, 59, 53)
    homelab = [d for d in docs.values() if d["url"] and "/r/homelab/" in d["url"]]
    assert len(homelab) == 25
    assert all(d["author"] and not d["author"].startswith("/u/") for d in homelab)  # as Reddit's JSON names them
    assert min(d["published_at"] for d in homelab) == utc(2023, 7, 23, 10, 4, 53)
    assert max(d["published_at"] for d in homelab) == utc(2023, 7, 23, 17, 38, 30)
    assert any("Dell" in d["brands"] for d in homelab)


def test_lifehacker_replies_have_authors_and_epoch_ms_times(crawled):
    docs = mentions(crawled["store"], "t_lifehacker")
    got = sorted((d["author"], d["published_at"]) for d in docs)
    want = sorted((a, datetime.fromtimestamp(ms / 1000, tz=timezone.utc)) for a, ms in LIFEHACKER_REPLIES)
    assert got == want
    first = next(d for d in docs if d["external_id"].endswith("/pages/lifehacker-post-comment-load#1690284499"))
    assert first["text"].startswith("This is one of my hardest habits to break.")
    assert not any(d["date_estimated"] for d in docs)


def test_forum_posts_listing_detail_next(crawled):
    docs = {d["author"]: d for d in mentions(crawled["store"], "t_forum")}
    assert set(docs) == {"ana", "ben", "cy", "dee", "eve", "fay"} and len(mentions(crawled["store"], "t_forum")) == 6
    assert docs["ana"]["published_at"] == utc(2015, 3, 9, 15, 0)
    assert docs["ben"]["published_at"] == utc(2015, 3, 9, 15, 12)  # "3/09/15 8:12am" in the source's zone (PDT)
    assert docs["cy"]["published_at"] == utc(2015, 3, 9, 15, 47, 5, 643000)  # epoch ms
    assert docs["dee"]["published_at"] == utc(2015, 3, 10, 17, 30)
    for missing_or_absurd in ("eve", "fay"):
        assert docs[missing_or_absurd]["date_estimated"] is True
    assert docs["ana"]["url"].endswith("/forum/thread/1#p1-1")
    assert crawled["first"]["t_forum"]["undated"] == 1


def test_articles_without_selectors_use_trafilatura(crawled):
    docs = {d["author"]: d for d in mentions(crawled["store"], "t_articles")}
    assert docs["Alex Heath"]["published_at"] == utc(2023, 6, 7, 20, 54, 26, 829000)
    assert docs["Courtney Kirchoff"]["published_at"] == utc(2015, 2, 24, 19, 56, 33, 374000)
    engadget = next(d for d in docs.values() if "Xbox" in d["title"])
    assert engadget["published_at"] == utc(2017, 11, 3, 7, 1)
    assert "Xbox One X" in engadget["text"] and len(engadget["text"]) > 5000


def test_json_api_presets_map_ids_authors_times_urls(crawled):
    store = crawled["store"]
    hn = {d["external_id"]: d for d in mentions(store, "t_hn")}
    assert set(hn) == {"40234567", "40234001", "40200123"}
    assert hn["40234567"]["text"].startswith("I switched to Dell XPS last year & never looked back.")
    assert hn["40234567"]["published_at"] == utc(2024, 5, 2, 14, 3, 11)
    assert hn["40234567"]["url"] == "https://news.ycombinator.com/item?id=40234567"
    reddit = {d["external_id"]: d for d in mentions(store, "t_reddit")}
    assert set(reddit) == {f"https://www.reddit.com/comments/{i}" for i in ("1cib9x1", "1cia2b0", "1ci0001")}
    first = reddit["https://www.reddit.com/comments/1cib9x1"]
    assert first["author"] == "rackguy" and first["key"] == "https://reddit.com/comments/1cib9x1"
    assert first["extra"] == {"subreddit": "homelab", "score": 12}
    # alice is the instance's own account: her acct gets its host (here the local server's)
    mastodon = {d["author"].split("@")[0] if d["author"].startswith("alice@") else d["author"]: d
                for d in mentions(store, "t_mastodon")}
    assert mastodon["alice"]["text"] == "New #Dell monitor arrived & it's lovely Second paragraph"
    assert mastodon["bob@chaos.social"]["lang"] == "de"
    bluesky = {d["author"]: d for d in mentions(store, "t_bluesky")}
    assert bluesky["carol.bsky.social"]["url"] == "https://bsky.app/profile/carol.bsky.social/post/3kryxy2ab4c2x"
    assert bluesky["carol.bsky.social"]["published_at"] == utc(2024, 5, 2, 10)
    appstore = {d["external_id"]: d for d in mentions(store, "t_appstore")}
    assert set(appstore) == {"10987654321", "10987650000", "10987600000"}
    assert appstore["10987654321"]["published_at"] == utc(2024, 5, 2, 1, 22, 4)
    assert appstore["10987654321"]["extra"]["rating"] == "1"


def test_faults_are_recorded_per_source_and_the_rest_is_stored(crawled):
    store, first = crawled["store"], crawled["first"]
    bad_feeds = first["t_bad_feeds"]
    run = store.runs.get(bad_feeds["run_id"])
    assert run["status"] == "partial"
    kinds = run["sources"]["t_bad_feeds"]["problem_counts"]
    assert kinds["http_500"] == 1 and kinds["http_404"] == 1
    assert kinds["timeout"] == 1 and kinds["redirect_loop"] == 1 and kinds["malformed_xml"] >= 1
    assert kinds["bad_charset"] == 1
    assert run["sources"]["t_bad_feeds"]["http_status"] == {"500": 1, "404": 1}
    assert crawled["hits_after_first"]["/fault/500"] == 2  # one retry (RETRY_TIMES=1)
    # the good entries of the truncated, latin-1 and dated feeds are still stored
    docs = {d["external_id"]: d for d in mentions(store, "t_bad_feeds")}
    assert {"d-1", "d-2", "d-3"} <= set(docs)
    assert docs["d-1"]["date_estimated"] and docs["d-2"]["date_estimated"]
    assert docs["d-3"]["published_at"] == utc(2022, 9, 20, 11, 0, 17)
    assert bad_feeds["undated"] >= 1
    json_kinds = run["sources"]["t_bad_json"]["problem_counts"]
    assert json_kinds == {"bad_json": 1, "wrong_shape": 1}
    html_kinds = run["sources"]["t_bad_html"]["problem_counts"]
    assert html_kinds["too_large"] == 3 and html_kinds["robots_disallowed"] == 1
    bomb = next(p for p in run["sources"]["t_bad_html"]["problem_examples"] if p["url"].endswith("/gzip-bomb"))
    assert bomb["kind"] == "too_large" and "compression bomb" in bomb["detail"], bomb  # not download_failed
    assert html_kinds["truncated_html"] == 1
    assert run["sources"]["t_bad_mapping"]["status"] == "failed"
    assert "config" in run["sources"]["t_bad_mapping"]["problem_counts"]


def test_run_record_has_per_source_counts(crawled):
    row = crawled["first"]["t_hn"]
    run = crawled["store"].runs.get(row["run_id"])
    assert run["job"] == "crawl" and run["finished_at"] is not None
    detail = run["sources"]["t_hn"]
    keys = ("fetched", "pages", "items", "matched", "new", "updated", "rejected", "http_errors")
    assert {k: detail[k] for k in keys} == \
        {"fetched": 2, "pages": 2, "items": 3, "matched": 3, "new": 3, "updated": 0, "rejected": 0, "http_errors": 0}
    assert detail["duration_s"] > 0
    assert run["counts"]["new"] == crawled["stored_after_first"]
    assert any(e["source"] == "t_hn" and e["done"] for e in crawled["events"])


def test_second_crawl_adds_nothing_and_fetches_only_what_changed(crawled):
    store, second = crawled["store"], crawled["second"]
    assert store.mentions.count() == crawled["stored_after_first"]
    assert sum(r["new"] for r in second.values()) == 0
    assert second["t_feeds"]["not_modified"] == len(FEEDS) and second["t_feeds"]["items"] == 0
    assert second["t_lifehacker"]["not_modified"] == 1
    for source in ("t_hn", "t_reddit", "t_bluesky", "t_appstore"):  # newest first: stop at known items
        assert second[source]["pages"] == 1, second[source]
    state = store.sources.get("t_hn")
    assert list(state["cursors"].values())[0]["last_id"] == "40234567"
    overview = {o["source"]: o for o in store.sources.overview()}
    assert overview["t_hn"]["last_crawl"]["status"] == "ok" and overview["t_hn"]["last_ok_at"]
    assert overview["t_hn"]["newest_item_at"] == utc(2024, 5, 2, 14, 3, 11)
    assert overview["t_bad_mapping"]["last_crawl"]["status"] == "failed"
    assert overview["t_bad_mapping"]["last_ok_at"] is None



def test_a_crawl_that_cannot_run_is_a_failed_run_record(store):
    config = parse_config({"brands": [{"name": "Dell"}],
                           "sources": [{"name": "t_x", "kind": "feed", "urls": ["http://127.0.0.1:9/feed"]}]})
    with pytest.raises(crawl.CrawlError, match="exited with code"):
        crawl.run(store, config, settings={"LOG_LEVEL": "NO-SUCH-LEVEL"})
    [run] = store.runs.recent("crawl")
    assert run["status"] == "failed" and "exited with code" in run["error"]
    assert store.sources.get("t_x")["cursors"] == {}
    with pytest.raises(crawl.CrawlError, match="unknown source"):
        crawl.run(store, config, ["t_y"])
    with pytest.raises(crawl.CrawlError, match="names no contact"):
        crawl.run(store, config.model_copy(update={"user_agent": "python-requests"}))


class ChangingFeed(Handler):
    """``/news``: the real Google News feed, cut to its newest entry until ``full`` is set
    (derived: no recording holds two states of one feed)."""

    full = False

    def route(self, path: str, query: dict[str, str]) -> None:
        if path != "/news":
            return super().route(path, query)
        body = GOOGLE_NEWS.read_bytes()
        if not type(self).full:
            body = only_items(body, lambda i: i == 0)
        return self.send(200, body, "application/rss+xml")


def test_a_feed_that_gains_older_unseen_entries_stores_them_all(store):
    site = Site.start(ChangingFeed)
    config = parse_config(local({"brands": [{"name": "Everything", "query": "source:t_*"}],
                                 "user_agent": "ListeningCentreTest/1.0 (+https://example.com/contact)",
                                 "sources": [{"name": "t_news", "kind": "feed", "urls": [f"{site.url}/news"]}]}))
    try:
        [first] = crawl.run(store, config, settings=SETTINGS)
        site.server.RequestHandlerClass.full = True
        [second] = crawl.run(store, config, settings=SETTINGS)
        [third] = crawl.run(store, config, settings=SETTINGS)
    finally:
        site.stop()
    assert (first["items"], first["new"]) == (1, 1)
    assert (second["items"], second["known"], second["new"]) == (37, 1, 37)
    assert (third["items"], third["known"], third["new"]) == (0, 38, 0)
    assert store.mentions.count() == 38
    assert len(store.sources.get("t_news")["seen"]) == 38


class Blog(Handler):
    """``/blog/``: a listing (synthetic, with an ETag of its own) of real recorded pages, one of
    which answers 503 until ``recovered`` and one whose text changes when ``edited`` (a
    synthetic edit of the real page: no recording holds two versions of one post);
    ``/blog/feed``: its RSS feed (synthetic too), linking each post without its trailing
    slash and with a tracking parameter."""

    recovered = False
    edited = False
    POSTS = ["/pages/engadget/", "/pages/theverge/", "/blog/flaky", "/blog/edited"]

    def route(self, path: str, query: dict[str, str]) -> None:
        cls = type(self)
        if path == "/blog/":
            links = "".join(f'<a class="post" href="{p}">post</a>' for p in self.POSTS)
            return self.send_body(f"<html><body>{links}</body></html>".encode())
        if path == "/blog/feed":  # the blog's RSS: the same posts, linked as feeds do
            items = "".join(f"<item><title>post {i}</title><link>http://{self.headers['Host']}{p.rstrip('/')}"
                            f"?utm_source=rss</link><guid>{i}</guid><description>post {i}</description></item>"
                            for i, p in enumerate(self.POSTS))
            return self.send(200, f'<rss version="2.0"><channel><title>Blog</title>{items}</channel></rss>'.encode(),
                             "application/rss+xml")
        if path == "/blog/flaky":
            if not cls.recovered:
                return self.send(503, b"busy", "text/plain")
            return self.send_body((PAGES / "medium-2" / "source.html").read_bytes())
        if path == "/blog/edited":
            body = (PAGES / "lifehacker-post-comment-load" / "source.html").read_bytes()
            return self.send_body(body.replace(b"Program Your Mind", b"Program Your Mind, Edited") if cls.edited else body)
        return super().route(path, query)

    def send_body(self, body: bytes) -> None:
        """200 with an ETag of the body, or 304 when the client has it."""
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == etag:
            return self.send(304, b"", None)
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None


def age_seen(store: Store, source: str, hours: float) -> None:
    """Move the source's recorded read times ``hours`` back, as if that much time had passed
    since its last crawl (a synthetic change of the stored state, not of any page)."""
    doc = store.sources.collection.find_one({"_id": source})
    seen = [{**s, "t": s["t"] - timedelta(hours=hours)} for s in doc["seen"]]
    store.sources.collection.update_one({"_id": source}, {"$set": {"seen": seen}})


def test_failed_posts_are_read_next_time_and_seen_ones_after_the_recheck_window(store):
    site = Site.start(Blog)
    config = parse_config(local({
        "brands": [{"name": "Everything", "query": "source:t_*"}],
        "user_agent": "ListeningCentreTest/1.0 (+https://example.com/contact)",
        "sources": [{"name": "t_blog", "kind": "html", "urls": [f"{site.url}/blog/"], "recheck_hours": 6,
                     "selectors": {"links": "a.post::attr(href)"}}]}))
    handler = site.server.RequestHandlerClass
    edited = {"url": f"{site.url}/blog/edited"}
    try:
        [first] = crawl.run(store, config, settings=SETTINGS)
        after_first = store.sources.get("t_blog")["validators"]
        handler.recovered = handler.edited = True
        [second] = crawl.run(store, config, settings=SETTINGS)  # within the window
        before_window = store.db["mentions"].find_one(edited)["title"]
        age_seen(store, "t_blog", 7)
        [third] = crawl.run(store, config, settings=SETTINGS)  # every post due again
        [fourth] = crawl.run(store, config, settings=SETTINGS)
    finally:
        site.stop()
    assert (first["status"], first["pages"], first["new"], first["http_errors"]) == ("partial", 4, 3, 1)
    assert after_first == {}  # the crawl did not complete: no validator advanced
    # the post that failed is read; the three read by the first crawl are not asked for
    assert (second["status"], second["pages"], second["known"], second["new"], second["updated"]) == \
        ("ok", 2, 3, 1, 0)
    assert "Edited" not in before_window
    # past the window each post is asked for again, by conditional GET where a crawl that
    # completed kept its validators (the recovered post: 304); the edited one updates its mention
    assert (third["pages"], third["not_modified"], third["new"], third["updated"], third["unchanged"],
            third["known"]) == (4, 1, 0, 1, 2, 0)
    assert (fourth["pages"], fourth["not_modified"], fourth["known"], fourth["new"]) == (1, 0, 4, 0)
    assert site.hits["/blog/"] == 4  # the listing, read in full each time
    assert "Edited" in store.db["mentions"].find_one(edited)["title"]
    assert store.mentions.count() == 4


def test_a_blog_read_by_its_pages_and_its_feed_is_one_mention_per_post(store):
    site = Site.start(Blog)
    config = parse_config(local({
        "brands": [{"name": "Everything", "query": "source:t_*"}],
        "user_agent": "ListeningCentreTest/1.0 (+https://example.com/contact)",
        "sources": [{"name": "t_blog", "kind": "html", "urls": [f"{site.url}/blog/"],
                     "selectors": {"links": "a.post::attr(href)"}},
                    {"name": "t_blog_feed", "kind": "feed", "urls": [f"{site.url}/blog/feed"]}]}))
    try:
        first = {r["source"]: r for r in crawl.run(store, config, settings=SETTINGS)}
        site.server.RequestHandlerClass.recovered = True
        second = {r["source"]: r for r in crawl.run(store, config, settings=SETTINGS)}
        third = {r["source"]: r for r in crawl.run(store, config, settings=SETTINGS)}
    finally:
        site.stop()
    assert (first["t_blog"]["items"], first["t_blog"]["http_errors"], first["t_blog_feed"]["items"]) == (3, 1, 4)
    assert sum(r["new"] for r in first.values()) == 4  # whichever source wrote a post first
    assert second["t_blog"]["items"] == 1  # the post that failed, read now; its feed copy was stored
    assert sum(r["new"] for r in (*second.values(), *third.values())) == 0
    docs = list(store.mentions.collection.find())
    assert len(docs) == 4 and all(set(d["sources"]) == {"t_blog", "t_blog_feed"} for d in docs)


def test_the_summary_names_every_figure_with_its_reason_at_80_columns(crawled):
    second, first = crawled["second"], crawled["first"]
    assert crawl.explain(second["t_feeds"])[1] == \
        "  fetched 6 pages: 6 not modified (answered 304: unchanged since the last crawl)"
    # t_search reads one post twice and one t_feeds reads too: whichever source writes it first
    # stores it, so the split between new and duplicates depends on timing, never the reason.
    [stored] = [line for line in crawl.explain(first["t_search"]) if line.startswith("  stored: ")]
    assert stored in ("  stored: 1 new, 1 duplicates (a post stored already: twice in this crawl, "
                      "or read by another source)",
                      "  stored: 2 duplicates (a post stored already: twice in this crawl, or read by another source)")
    bad = crawl.explain(first["t_bad_feeds"])
    assert "  1 http 500 (the server answered 500)" in bad and "  1 timeout (no answer in time)" in bad
    # dates.xml and latin1.xml (no validators) are read again; d-1 differs between them, so it is re-read
    assert crawl.explain(second["t_bad_feeds"])[1:3] == [
        "  fetched 4 pages: 4 read", "  1 items parsed, 12 known (seen unchanged within the re-check window, skipped)"]
    out = io.StringIO()
    console = Console(file=out, width=80)
    for row in [*first.values(), *second.values()]:
        for line in crawl.explain(row):
            console.print(line, markup=False, highlight=False)
    lines = out.getvalue().splitlines()
    assert lines and all(len(line) <= 80 for line in lines) and "…" not in out.getvalue()


def test_progress_counts_the_spiders_pages_not_robots_txt(crawled):
    [last] = [e for e in crawled["events"] if e["source"] == "t_lifehacker" and e["done"]]
    assert crawled["hits_after_first"]["/robots.txt"] >= 1
    assert (last["pages"], last["items"]) == (1, 12)
