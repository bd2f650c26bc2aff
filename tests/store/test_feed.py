"""The feed's slice scans, paging and escaping, and the day rollups against the hourly ones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from listening.store.feed import FeedFilter
from tests.support.dashboard_seed import NEWEST, seed

UTC = timezone.utc
SINCE, UNTIL = datetime(2015, 2, 1, tzinfo=UTC), datetime(2015, 3, 1, tzinfo=UTC)


def test_pages_cover_every_mention_once_newest_first(store, demo_config):
    ids = seed(store, demo_config)
    seen, until, exclude = [], UNTIL, ()
    while True:
        page = store.feed.newest(since=SINCE, until=until, limit=3, exclude=exclude)
        if not page.mentions:
            break
        seen += [m["_id"] for m in page.mentions]
        last = page.mentions[-1]["published_at"]
        until = last + timedelta(milliseconds=1)
        exclude = tuple(m["_id"] for m in page.mentions if m["published_at"] == last)
    assert seen == ids


def test_filters_and_text_are_values_never_operators(store, demo_config):
    ids = seed(store, demo_config)
    page = store.feed.newest(FeedFilter(brands=("United", "JetBlue"), labels=("negative",)),
                             since=SINCE, until=UNTIL)
    assert [m["_id"] for m in page.mentions] == [ids[1], ids[2], ids[3]]
    assert [m["_id"] for m in store.feed.newest(FeedFilter(text="WIFI"), since=SINCE, until=UNTIL).mentions] == [ids[4]]
    for hostile in (".*", "(", "$ne", '{"$gt": ""}', "\\"):
        assert store.feed.newest(FeedFilter(text=hostile), since=SINCE, until=UNTIL).mentions == []
    assert store.feed.newest(FeedFilter(brands=('{"$ne": null}',)), since=SINCE, until=UNTIL).mentions == []


def test_a_scan_stops_at_its_budget_and_says_how_far_it_got(store, demo_config):
    seed(store, demo_config)
    page = store.feed.newest(FeedFilter(text="no such words"), since=SINCE, until=UNTIL, budget=3)
    assert page.mentions == [] and not page.complete
    assert page.reached == NEWEST - timedelta(hours=2)  # the third newest


def test_day_rollups_match_the_hourly_ones_and_follow_corrections(store, demo_config):
    ids = seed(store, demo_config)
    now = datetime(2015, 2, 24, 12, 30, tzinfo=UTC)  # the 24th is the running day
    store.daily.refresh(now)
    assert store.daily.span() == (datetime(2015, 2, 23, 5, tzinfo=UTC), datetime(2015, 2, 24, 11, tzinfo=UTC))
    by = ("brand", "label")
    hourly = sorted(map(str, store.mentions.totals(by, since=SINCE, until=UNTIL)))
    assert sorted(map(str, store.daily.totals(by, since=SINCE, until=UNTIL))) == hourly
    assert store.daily.cells.count_documents({}) > 0  # the 23rd is a complete day
    # all time, and windows whose edges are not midnight: day cells inside, hourly ones at the edges
    for since, until in ((None, None), (None, datetime(2015, 2, 23, 17, tzinfo=UTC)),
                         (datetime(2015, 2, 23, 9, tzinfo=UTC), None),
                         (datetime(2015, 2, 22, 9, tzinfo=UTC), datetime(2015, 2, 24, 10, tzinfo=UTC))):
        hourly = sorted(map(str, store.mentions.totals(by, since=since, until=until)))
        assert sorted(map(str, store.daily.totals(by, since=since, until=until))) == hourly, (since, until)

    store.feed.correct(ids[7], "dana", sentiment="negative")  # the 23rd's Virgin America mention
    store.daily.refresh(now + timedelta(minutes=1))
    rows = store.daily.totals(("label",), since=SINCE, until=UNTIL, brands=["Virgin America"])
    assert rows == [{"label": "negative", "count": 1}]
    issues = store.daily.totals(("issue",), since=SINCE, until=UNTIL, issue=None)
    assert {r["issue"] for r in issues} == {i for m in store.mentions.collection.find() for i in m["issues"]}
