"""Stores from before global ids, on the real recorded responses: Mastodon statuses stored
under the instance's id and Reddit JSON posts under their fullname move to their global ids
once (``Store.rekey_mentions``), and a re-crawl stores no post twice."""

from __future__ import annotations

import json

from scrapy import Request
from scrapy.http import TextResponse

from crawlers.spiders.json_api import JsonApiSpider
from listening.config import Config
from listening.ingest.pipeline import Pipeline, moved_identity
from listening.models import RawMention
from listening.store import Store
from tests.conftest import FIXTURES
from tests.crawlers.test_identity import POST, read_feed, read_page

REAL = FIXTURES / "api_responses_real"
EVERYTHING = Config.model_validate({"brands": [{"name": "Any", "query": "NOT qqqzzzxx"}]})
MASTODON = ("mastodon/rtoot_default_body.json", "https://fosstodon.org/api/v1/timelines/tag/rstats?limit=5")
REDDIT = ("reddit_json/praw_search_body.json", "https://www.reddit.com/r/all/search.json?q=praw&raw_json=1")
# What the presets mapped before global ids (git history of crawlers/presets/).
OLD = {"mastodon": {"id": "id", "author": "account.acct", "former_id": ""}, "reddit": {"id": "name", "former_id": ""}}


def read(preset: str, source: str, body: bytes, url: str, old: bool = False) -> list[RawMention]:
    spider = JsonApiSpider(source={"name": source, "kind": "json_api", "preset": preset, "urls": [url],
                                   "mapping": OLD[preset] if old else {}})
    response = TextResponse(url, body=body, encoding="utf-8", request=Request(url, meta={"start": url, "page": 1}))
    return [m for m in spider.parse(response) if isinstance(m, RawMention)]


def real(path: str) -> bytes:
    return (REAL / path).read_bytes()


def reopened(store: Store) -> Store:
    """The same database through a new Store, as the next process opens it."""
    return Store(store.client, store.db.name)


def test_an_old_store_moves_to_global_ids_and_a_recrawl_adds_no_duplicate(store):
    old = read("mastodon", "fosstodon", real(MASTODON[0]), MASTODON[1], old=True) + \
        read("reddit", "reddit", real(REDDIT[0]), REDDIT[1], old=True)
    with Pipeline(store, EVERYTHING) as pipeline:
        assert pipeline.run(old).new == 11
    # what an older version left: no key, the instance's ids, no "moved" marker
    store.db["store_meta"].delete_one({"_id": "mention_keys"})
    assert store.mentions.collection.count_documents({"key": {"$exists": True}}) == 0
    status = store.mentions.collection.find_one({"external_id": "114869631729644574"})  # fosstodon's id
    assert store.feed.mark_handled(status["_id"], "ana")
    old_ids = {d["_id"] for d in store.mentions.collection.find()}
    totals = store.mentions.totals(by=("brand",))

    upgraded = reopened(store)
    with Pipeline(upgraded, EVERYTHING) as pipeline:
        again = pipeline.run(read("mastodon", "fosstodon", real(MASTODON[0]), MASTODON[1]) +
                             read("reddit", "reddit", real(REDDIT[0]), REDDIT[1]))
    assert (again.new, again.duplicates, upgraded.mentions.count()) == (0, 0, 11)
    assert upgraded.mentions.totals(by=("brand",)) == totals  # the rollups did not move
    docs = list(upgraded.mentions.collection.find())
    # 10 moved to the id of their uri or permalink; the bridged status (its page is not
    # Mastodon's /@user/ID) kept its id and was found again by its former id
    assert len({d["_id"] for d in docs} & old_ids) == 1 and all(d.get("key") for d in docs if d["_id"] not in old_ids)
    moved = upgraded.mentions.collection.find_one({"key": "https://mastodon.social/users/useR_conf/statuses/"
                                                          "114869631572884594"})
    assert moved["legacy_id"] == status["_id"] and moved["handled"]["by"] == "ana"
    assert [e["mention_id"] for e in upgraded.feed.history(moved["_id"])] == [moved["_id"]]
    assert upgraded.mentions.get(status["_id"])["_id"] == moved["_id"]  # an old link still opens it
    assert upgraded.mentions.collection.find_one({"key": "https://reddit.com/comments/3gpbiu"})

    # the same statuses read through another instance (synthetic: its own ids for them) are
    # the same mentions; the one that did not move is the limit (docs/crawling.md)
    statuses = json.loads(real(MASTODON[0]))
    for s in statuses:
        s["id"] = str(int(s["id"]) + 7)
    other = read("mastodon", "mastodon_social", json.dumps(statuses).encode(),
                 "https://mastodon.social/api/v1/timelines/tag/rstats?limit=5")
    with Pipeline(reopened(store), EVERYTHING) as pipeline:
        second = pipeline.run(other[:4])
    assert (second.new, second.duplicates, store.mentions.count()) == (0, 4, 11)
    assert reopened(store).upgrade() is None and Store.rekey_mentions(reopened(store), lambda d: None) is None


def test_two_old_copies_of_one_post_become_one(store):
    """A status an older version stored under its old id and, since, once more under its uri
    (what a re-crawl did before this upgrade): one mention, counted once."""
    old = read("mastodon", "fosstodon", real(MASTODON[0]), MASTODON[1], old=True)
    with Pipeline(store, EVERYTHING) as pipeline:
        pipeline.run(old)
    store.db["store_meta"].delete_one({"_id": "mention_keys"})
    # the global-id copies, as a version between the two stored them (no former id)
    copies = [m.model_copy(update={"former_id": None}) for m in
              read("mastodon", "fosstodon", real(MASTODON[0]), MASTODON[1])]
    store.rekey_mentions(lambda d: None)  # that version: nothing moved
    with Pipeline(store, EVERYTHING) as pipeline:
        assert pipeline.run(copies).new == 5
    assert store.mentions.count() == 10
    store.db["store_meta"].delete_one({"_id": "mention_keys"})
    upgraded = reopened(store)
    with Pipeline(upgraded, EVERYTHING):
        pass
    assert upgraded.mentions.count() == 6  # 4 pairs made one; the bridged status's pair stays two
    [cell] = upgraded.mentions.totals(by=("brand",))
    assert cell["count"] == 6


def as_an_older_version_stored_it(store: Store) -> None:
    """Rewrite every stored mention to the shape an older version gave it: its source-scoped
    id (``legacy_id``), no key, no sources list (synthetic: no older store was recorded)."""
    for doc in list(store.mentions.collection.find()):
        store.mentions.collection.delete_one({"_id": doc["_id"]})
        old = {k: v for k, v in doc.items() if k not in ("key", "legacy_id", "sources")}
        store.mentions.collection.insert_one({**old, "_id": doc.get("legacy_id", doc["_id"])})
    store.db["store_meta"].delete_one({"_id": "mention_keys"})


def test_a_blog_post_an_older_version_stored_twice_becomes_one_mention(store):
    """The issue's blog case in an old store: a post read by its page (html, an article) and
    by its feed was two mentions, each under its source's own id (real page: The Verge)."""
    html, feed = read_page("theverge", {}, POST), read_feed()
    for raws in (html, feed):  # one Store: its Pipelines move nothing after the first look
        with Pipeline(store, EVERYTHING) as pipeline:
            pipeline.run(raws)
        as_an_older_version_stored_it(store)
    store.mentions.rebuild_stats()
    assert store.mentions.count() == 2 and store.mentions.totals(by=("brand",))[0]["count"] == 2
    upgraded = reopened(store)
    with Pipeline(upgraded, EVERYTHING) as pipeline:
        again = pipeline.run(html + feed)
    [doc] = upgraded.mentions.collection.find()
    assert doc["key"] == POST.rstrip("/") and set(doc["sources"]) == {"blog-html", "blog-feed"}
    # which source's copy stands depends on which old one moved first, never the count
    assert (again.matched, again.new) == (2, 0) and again.duplicates >= 1 and upgraded.mentions.totals(by=("brand",))[0]["count"] == 1


def test_a_move_killed_after_its_inserts_finishes_without_losing_a_count(store):
    """A process killed between a batch's inserts and its deletes (synthetic: the copies put
    in by hand) leaves old and moved copies side by side; the next one only deletes the old."""
    with Pipeline(store, EVERYTHING) as pipeline:
        pipeline.run(read("mastodon", "fosstodon", real(MASTODON[0]), MASTODON[1], old=True))
    store.db["store_meta"].delete_one({"_id": "mention_keys"})
    totals = store.mentions.totals(by=("brand",))
    for doc in list(store.mentions.collection.find()):
        if target := moved_identity(doc):
            store.mentions.collection.insert_one({**doc, "_id": target[0], "key": target[1], "legacy_id": doc["_id"]})
    assert store.mentions.count() == 9
    assert reopened(store).rekey_mentions(moved_identity) == {"moved": 0, "merged": 0}
    assert store.mentions.count() == 5 and store.mentions.totals(by=("brand",)) == totals
