"""The shared pipeline: normalise, match, stable ids, tags, and rollups that follow changes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from listening.ids import stable_id
from listening.ingest.canonical import canonical_url, in_page, is_global_id
from listening.ingest.pipeline import Pipeline, clean_text, mention_id
from listening.models import RawMention, Sentiment, Tags


def raw(text: str, ext: str = "1", when: object = "2024-05-01T10:15:00Z", **kw) -> RawMention:
    return RawMention(source="test", source_kind="import", text=text, external_id=ext,
                      published_at=when, **kw)


class FixedTagger:
    """Tags every text the same way, so a test can change the tags between runs."""

    def __init__(self, label: str, issues: list[str]):
        self.label, self.issues = label, issues

    def tag_many(self, texts, declared=None, targets=None):
        return [Tags(sentiment=Sentiment(compound=0.0, label=self.label), issues=self.issues)
                for _ in texts]


def stats(store):
    return sorted((brand, issue, label, n) for brand, issue, label, _, _, n in store.mentions.cells() if n)


def test_clean_text():
    assert clean_text("  A &amp;amp; B\x00\n\tC  ") == "A & B C"
    assert clean_text("bad \ud800 surrogate") == "bad \ufffd surrogate"


def test_ids_are_stable_and_source_scoped():
    assert mention_id("s", "42", None, "x") == mention_id("s", "42", "http://u", "y")
    assert mention_id("s", "42", None, "x") != mention_id("t", "42", None, "x")
    assert mention_id("s", None, "http://u/a#frag", "x") == mention_id("s", None, "http://u/a", "z")


@pytest.mark.parametrize("url,canonical", [
    ("HTTP://www.Example.com:80/a/b/?utm_source=rss&utm_medium=x&b=2&a=1#post-3", "https://example.com/a/b?a=1&b=2"),
    ("https://m.example.com/news/story/amp/", "https://example.com/news/story"),
    ("https://amp.example.com/story.amp?amp=1&fbclid=abc", "https://example.com/story"),
    ("https://example.com:8443/", "https://example.com:8443"),
    ("https://ud.reddit.com/r/homelab/comments/157kyrd/any_reason/", "https://reddit.com/comments/157kyrd"),
    ("https://news.ycombinator.com/item?id=15353312", "https://news.ycombinator.com/item?id=15353312"),
    ("https://www.reddit.com/r/x/comments/3gpbiu/t/?ref=search_posts", "https://reddit.com/comments/3gpbiu"),
    ("https://old.reddit.com/r/X/comments/3GPBIU/other_slug/c0ffee1/", "https://reddit.com/comments/3gpbiu/_/c0ffee1"),
    ("https://redd.it/3gpbiu", "https://reddit.com/comments/3gpbiu"),
    ("https://www.reddit.com/r/homelab/new/", "https://reddit.com/r/homelab/new"),
    ("mailto:a@b.c", None), ("http://[::1", None), ("", None),
])
def test_canonical_urls(url, canonical):
    assert canonical_url(url) == canonical


def test_global_ids_are_uris():
    assert all(map(is_global_id, ["at://did:plc:x/app.bsky.feed.post/3l", "https://a.b/users/c/statuses/1",
                                  "tag:blog.example.com,2024:post-1", "urn:uuid:1"]))
    assert not any(map(is_global_id, ["t3_abc", "/t3_abc", "42", "user:1", "yt:video:abc"]))


def feed_entry(link: str, guid: str, text: str = "@united lost my bag") -> RawMention:
    return RawMention(source="blog-feed", source_kind="feed", text=text, external_id=guid, url=link,
                      published_at="2024-05-01T10:15:00Z")


def html_post(page: str, element: str, text: str = "@united lost my bag", *, alone: bool = True) -> RawMention:
    """As the html spider gives an item: its page-scoped id, the page as URL when it is the page's only item."""
    return RawMention(source="blog-html", source_kind="html", text=text, external_id=in_page(page, element),
                      url=page if alone else f"{page}#{element}", published_at="2024-05-01T10:15:00Z")


def test_one_post_seen_by_a_feed_and_a_page_is_one_mention_listing_both(store, demo_config):
    posts = [f"https://blog.example.com/2024/05/post-{n}/" for n in range(1, 4)]
    html = Pipeline(store, demo_config).run([html_post(p, f"post-{n}") for n, p in enumerate(posts, 1)])
    feed = Pipeline(store, demo_config).run(
        [feed_entry(f"http://www.blog.example.com/2024/05/post-{n}?utm_source=rss", f"https://blog.example.com/?p={n}")
         for n in range(1, 4)])
    assert (html.new, feed.new, feed.duplicates) == (3, 0, 3)
    assert store.mentions.count() == 3
    assert {tuple(d["sources"]) for d in store.mentions.collection.find()} == {("blog-html", "blog-feed")}
    assert {d["source"] for d in store.mentions.collection.find()} == {"blog-html"}  # first source owns the text
    assert stats(store)[0][3] == 3  # rollups count each post once
    again = Pipeline(store, demo_config).run([feed_entry(posts[0], "https://blog.example.com/?p=1")])
    assert (again.new, again.updated, again.duplicates) == (0, 0, 1)


def test_element_ids_are_scoped_by_their_page(store, demo_config):
    """Two sites' "post-1" (and two replies on one page) are separate mentions."""
    counts = Pipeline(store, demo_config).run([
        html_post("https://one.example/thread/1", "post-1", alone=False),
        html_post("https://two.example/thread/1", "post-1", alone=False),
        html_post("https://two.example/thread/1", "post-2", "@united again", alone=False)])
    assert (counts.read, counts.new, counts.duplicates) == (3, 3, 0)


def test_a_status_read_through_two_instances_is_one_mention(store, demo_config):
    uri = "https://rstats.me/users/simonpcouch/statuses/114870142137562212"
    seen = [RawMention(source=name, source_kind="json_api", text="@united delayed again", external_id=uri,
                       url="https://rstats.me/@simonpcouch/114870142137562212", published_at="2025-07-17T19:07:48Z")
            for name in ("fosstodon", "mastodon-social")]
    assert Pipeline(store, demo_config).run(seen[:1]).new == 1
    assert Pipeline(store, demo_config).run(seen[1:]).duplicates == 1
    [doc] = store.mentions.collection.find()
    assert doc["key"] == uri and doc["sources"] == ["fosstodon", "mastodon-social"]


def test_mentions_stored_before_global_ids_move_to_them_or_are_found_in_place(store, demo_config):
    """A store written with source-scoped ids (format 1). A feed entry's mention moves to the
    id of its canonical link when the store is opened (its old id kept in ``legacy_id``); an
    html item, which cannot be moved (its page may have had other items), is found by its old
    id when re-collected and updated in place."""
    entry = feed_entry("https://blog.example.com/post-1/", "guid-1")
    reply = RawMention(source="forum", source_kind="html", text="@united lost my bag again",
                       external_id=in_page("https://forum.example.com/t/1", "post-2"),
                       url="https://forum.example.com/t/1#post-2", published_at="2024-05-01T10:15:00Z")
    old_ids = [mention_id("blog-feed", "guid-1", entry.url, entry.text),
               mention_id("forum", "post-2", reply.url, reply.text)]
    for old_id, item, ext in zip(old_ids, (entry, reply), ("guid-1", "post-2")):
        store.mentions.collection.insert_one({
            "_id": old_id, "source": item.source, "source_kind": item.source_kind, "external_id": ext,
            "url": item.url, "text": item.text, "brands": ["United"],
            "published_at": datetime(2024, 5, 1, 10, 15, tzinfo=timezone.utc)})
    counts = Pipeline(store, demo_config).run([entry, reply])
    assert (counts.new, counts.updated) == (0, 2)
    moved = store.mentions.collection.find_one({"source": "blog-feed"})
    assert moved["_id"] == stable_id("mention", "https://blog.example.com/post-1") and moved["legacy_id"] == old_ids[0]
    in_place = store.mentions.collection.find_one({"source": "forum"})
    assert in_place["_id"] == old_ids[1] and in_place["key"] == "https://forum.example.com/t/1#post-2"


def test_unmatched_and_empty_mentions_are_counted_not_stored(store, demo_config):
    counts = Pipeline(store, demo_config).run([
        raw("@united thanks", "1"), raw("nothing about airlines", "2"), raw("   ", "3")])
    assert (counts.read, counts.matched, counts.unmatched, counts.rejected) == (3, 1, 1, 1)
    assert store.mentions.count() == 1


def test_missing_date_is_estimated_and_flagged(store, demo_config):
    before = datetime.now(timezone.utc)
    Pipeline(store, demo_config).run([raw("@JetBlue hi", when="someday maybe")])
    doc = store.mentions.collection.find_one()
    assert doc["date_estimated"] is True
    assert doc["published_at"] >= before.replace(microsecond=0)


def test_retagging_moves_rollups_instead_of_adding(store, demo_config):
    mentions = [raw("@united my flight is late", "1"), raw("@united and @SouthwestAir", "2")]
    Pipeline(store, demo_config, tagger=FixedTagger("neutral", [])).run(mentions)
    assert stats(store) == [("Southwest", "*", "neutral", 1), ("United", "*", "neutral", 2)]
    counts = Pipeline(store, demo_config, tagger=FixedTagger("negative", ["delay"])).run(mentions)
    assert (counts.new, counts.updated) == (0, 2)
    assert stats(store) == [
        ("Southwest", "*", "negative", 1), ("Southwest", "delay", "negative", 1),
        ("United", "*", "negative", 2), ("United", "delay", "negative", 2)]
    again = Pipeline(store, demo_config, tagger=FixedTagger("negative", ["delay"])).run(mentions)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert store.mentions.rebuild_stats() == 4
    assert stats(store) == [
        ("Southwest", "*", "negative", 1), ("Southwest", "delay", "negative", 1),
        ("United", "*", "negative", 2), ("United", "delay", "negative", 2)]


def test_rollups_are_hourly_utc(store, demo_config):
    Pipeline(store, demo_config).run([raw("@united a", "1", "2024-05-01 10:59:59 +0200"),
                                      raw("@united b", "2", "2024-05-01T09:00:00Z")])
    hours = {hour.isoformat() for _, issue, _, _, hour, _ in store.mentions.cells() if issue == "*"}
    assert hours == {"2024-05-01T08:00:00+00:00", "2024-05-01T09:00:00+00:00"}


def test_hour_totals_count_every_mention_once_through_every_change(store, demo_config):
    """``count_between`` sums the hour totals: a two-brand mention is one, a repeat none, a
    re-dated mention moves hours, and retagging, recounting and rebuilding change nothing."""
    def by_hour() -> list[tuple[int, int]]:
        return [(h, store.mentions.count_between(datetime(2024, 5, 1, h, tzinfo=timezone.utc),
                                                 datetime(2024, 5, 1, h + 1, tzinfo=timezone.utc))) for h in (10, 11)]

    first = [raw("@united and @SouthwestAir late", "1"), raw("@united late", "2"), raw("@united late", "2")]
    Pipeline(store, demo_config, tagger=FixedTagger("negative", ["delay"])).run(first)
    assert store.mentions.count_between(None, None) == 2 and by_hour() == [(10, 2), (11, 0)]
    redated = [raw("@united late", "2", "2024-05-01T11:30:00Z", title="a new version")]
    assert Pipeline(store, demo_config, tagger=FixedTagger("neutral", [])).run(redated).updated == 1
    assert by_hour() == [(10, 1), (11, 1)]
    Pipeline(store, demo_config, tagger=FixedTagger("positive", [])).run(first[:1])  # retagged
    store.mentions.recount_hours({datetime(2024, 5, 1, 10, tzinfo=timezone.utc)})
    assert by_hour() == [(10, 1), (11, 1)]
    store.mentions.rebuild_stats()
    assert by_hour() == [(10, 1), (11, 1)] and store.mentions.count_between(None, None) == 2


def test_rollups_add_up_across_writers_that_do_not_know_each_others_cells(store, demo_config):
    """A second process inserts into cells the first created: its inserts fall back to $inc."""
    from listening.store import Store

    first = [raw("@united late again", "1"), raw("@united still late", "2")]
    second = [raw("@united late", "3"), raw("@united late, new hour", "4", "2024-05-01T11:05:00Z")]
    Pipeline(store, demo_config, tagger=FixedTagger("negative", ["delay"])).run(first)
    other = Store(store.client, store.db.name)
    Pipeline(other, demo_config, tagger=FixedTagger("negative", ["delay"])).run(second)
    by_hour = sorted((hour.hour, issue, n) for _, issue, _, _, hour, n in store.mentions.cells())
    assert by_hour == [(10, "*", 3), (10, "delay", 3), (11, "*", 1), (11, "delay", 1)]


def test_html_items_stored_before_page_scoped_ids_keep_their_ids(store, demo_config):
    reply = html_post("https://forum.example/thread/1", "p1-2", alone=False)
    old_id = mention_id("blog-html", "p1-2", reply.url, reply.text)  # format 1: the bare element id
    store.mentions.collection.insert_one({
        "_id": old_id, "source": "blog-html", "source_kind": "html", "external_id": "p1-2", "url": reply.url,
        "text": reply.text, "brands": ["United"], "published_at": datetime(2024, 5, 1, 10, 15, tzinfo=timezone.utc)})
    counts = Pipeline(store, demo_config).run([reply])
    assert (counts.new, counts.updated, store.mentions.count()) == (0, 1, 1)
    assert store.mentions.get(old_id)["key"] == "https://forum.example/thread/1#p1-2"


def test_a_post_two_writers_insert_at_once_is_counted_once(store, demo_config):
    """Two sources' pipelines write the same new post in the same moment (both looked it up
    before either inserted): the second insert is refused, and its rollups are taken back."""
    from listening.ingest.pipeline import identity

    page = "https://blog.example.com/post-1/"
    winner = Pipeline(store, demo_config)
    winner.run([html_post(page, "post-1")])
    loser = Pipeline(store, demo_config)
    entry = feed_entry(page, "guid-1")
    doc = loser._normalise(entry)
    assert doc["_id"] == identity(entry, entry.text)[0]
    doc.update(brands=["United"], matched_terms={"United": ["@united"]}, sentiment={"label": "neutral", "compound": 0.0},
               issues=[], intent=[], fingerprint="x")
    written, deltas = store.mentions._write_known([doc], known={})  # it looked before the winner's insert landed
    store.mentions.apply_deltas(deltas)
    assert (written.new, written.duplicates) == (0, 1)
    assert [n for _, issue, _, _, _, n in store.mentions.cells() if issue == "*"] == [1]
    assert store.mentions.collection.find_one()["sources"] == ["blog-html", "blog-feed"]
