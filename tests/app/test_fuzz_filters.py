"""Fuzz: what readers type or pick in the dashboard (brands, issues, sources, search text,
their name, a saved query) never reaches MongoDB as an operator or a browser as markup.

Every command the store sends is recorded as MongoDB receives it; a hostile string may
only sit where a value goes, and the answers are exactly the literally matching mentions.
"""

from __future__ import annotations

import html
import re
import string
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pymongo import MongoClient, monitoring

from listening.alerts import manage
from listening.app.common import plain
from listening.metrics import voice as metrics
from listening.query import QuerySyntaxError, parse
from listening.store import Store
from listening.store.feed import LABELS, FeedFilter
from tests.support.strategies import HOSTILE, fuzz, hostile_text

START = datetime(2024, 3, 4, 5, 6, tzinfo=timezone.utc)
SINCE, UNTIL = datetime(2024, 3, 4, tzinfo=timezone.utc), datetime(2024, 3, 8, tzinfo=timezone.utc)
# Operators our own queries use; a user's string must never add another, or become a key.
OURS = {"$gte", "$lt", "$lte", "$gt", "$in", "$ne", "$or", "$set", "$inc", "$setOnInsert", "$push", "$match",
        "$group", "$sum", "$sort", "$project", "$limit", "$count", "$exists", "$eq", "$and", "$unset", "$max", "$min",
        "$first", "$last"}
# Filters match case-insensitively: keep to ASCII, where lower() and re.IGNORECASE agree.
ascii_hostile = st.one_of(st.sampled_from([h for h in HOSTILE if h.isascii()]),
                          st.text(string.printable, min_size=1, max_size=12))


class Sent(monitoring.CommandListener):
    """Every command sent, as the server receives it."""

    def __init__(self):
        self.commands: list[dict] = []

    def started(self, event):
        self.commands.append(event.command)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture(scope="module")
def wire(mongo_uri):
    """A store whose every command is recorded; its database is dropped afterwards."""
    sent = Sent()
    client = MongoClient(mongo_uri, tz_aware=True, event_listeners=[sent])
    store = Store(client, f"test_{uuid.uuid4().hex[:12]}")
    store.ensure_indexes()
    yield store, sent
    client.drop_database(store.db.name)
    client.close()


def strings(value):
    """Every string value in a command."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for inner in value:
            yield from strings(inner)
    elif isinstance(value, str):
        yield value


def keys(value, skip=("documents",)):
    """Every key in a command, nested ones included (inserted documents are data, not queries)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key not in skip:
                yield key
                yield from keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys(inner)


def assert_only_values(sent: Sent, hostile: set[str]) -> None:
    """No operator but ours, and no user string as a key (one that is a plain identifier, like
    ``_id``, cannot be told from our own field names)."""
    suspect = {h for h in hostile if not h.isidentifier()} - OURS
    for command in sent.commands:
        body = {k: v for k, v in command.items() if not k.startswith("$") and k != "lsid"}  # the driver's envelope
        for key in keys(body):
            assert not key.startswith("$") or key in OURS, (key, command)
            assert key not in suspect, (key, command)


@st.composite
def mentions(draw):
    """Names (brands, issues, sources) and mentions carrying them, over three days.

    Without "*" (the config refuses it as an issue name). "|" is in: a rollup cell's id is
    a hash of its parts (``listening.ids.stable_id``), so brand "A|x" + issue "*" and brand
    "A" + issue "x|*" are two cells (they shared one while the parts were joined with "|").
    """
    names = draw(st.lists(ascii_hostile.filter(lambda n: n != "*"), min_size=1, max_size=4, unique=True))
    docs = [{"_id": f"m{i}", "brands": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)),
             "issues": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
             "source": draw(st.sampled_from(names)), "text": draw(ascii_hostile),
             "title": draw(st.none() | ascii_hostile),
             "sentiment": {"label": draw(st.sampled_from(LABELS)), "compound": 0.0},
             "intent": draw(st.lists(st.sampled_from(["question", "needs_reply", "purchase"]), max_size=2)),
             "published_at": START + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))), "fingerprint": str(i)}
            for i in range(draw(st.integers(0, 10)))]
    return names, docs


def load(store: Store, docs: list[dict]) -> None:
    for name in store.db.list_collection_names():
        store.db[name].delete_many({})
    store.mentions.upsert_batch([dict(d) for d in docs])


def literally(flt: FeedFilter, doc: dict) -> bool:
    """The reference: a plain reading of the filter, no regex, no database."""
    text = flt.text.strip().lower()
    return ((not flt.brands or bool(set(doc["brands"]) & set(flt.brands)))
            and (not flt.issues or bool(set(doc["issues"]) & set(flt.issues)))
            and (not flt.sources or doc["source"] in flt.sources)
            and (not flt.labels or doc["sentiment"]["label"] in flt.labels)
            and (not text or text in doc["text"].lower() or text in (doc["title"] or "").lower()))


def choose(draw, names: list[str]) -> tuple[str, ...]:
    return tuple(draw(st.lists(st.sampled_from(names) | ascii_hostile, max_size=2, unique=True)))


@fuzz
@given(mentions(), st.data())
def test_feed_filters_match_literally(wire, world, data):
    store, sent = wire
    names, docs = world
    load(store, docs)
    flt = FeedFilter(brands=choose(data.draw, names), issues=choose(data.draw, names),
                     sources=choose(data.draw, names), text=data.draw(st.just("") | ascii_hostile | st.sampled_from(
                         [d["text"][1:4] for d in docs] or [""])),
                     labels=tuple(data.draw(st.lists(st.sampled_from(LABELS), max_size=2))))
    sent.commands.clear()
    page = store.feed.newest(flt, since=SINCE, until=UNTIL, limit=100)
    waiting = store.feed.needs_reply(list(flt.brands) or names, since=SINCE, until=UNTIL, limit=100, flt=flt)
    assert_only_values(sent, {*names, *flt.brands, *flt.issues, *flt.sources, flt.text})
    sent_strings = {s for command in sent.commands for s in strings(dict(command))}
    assert flt.text.strip() not in sent_strings - {*names, *flt.brands, *flt.issues, *flt.sources}  # matched here
    assert sorted(m["_id"] for m in page.mentions) == sorted(d["_id"] for d in docs if literally(flt, d))
    times = [m["published_at"] for m in page.mentions]
    assert times == sorted(times, reverse=True)  # newest first; a tie in either order
    reply = FeedFilter(flt.brands or tuple(names), flt.issues, flt.sources, flt.labels, flt.text)
    assert {m["_id"] for m in waiting.mentions} == {
        d["_id"] for d in docs if literally(reply, d) and {"question", "needs_reply"} & set(d["intent"])}


@fuzz
@given(mentions(), st.data(), st.booleans())
def test_dashboard_counts_match_literally(wire, world, data, daily):
    store, sent = wire
    names, docs = world
    load(store, docs)
    if daily:
        store.daily.refresh()  # day cells: the path the dashboard reads for whole days
    brands, issues, sources = (list(choose(data.draw, names)) for _ in range(3))
    labels = data.draw(st.lists(st.sampled_from(LABELS), max_size=2))
    sent.commands.clear()
    series = metrics.volume_series(store, since=SINCE, until=UNTIL, brands=brands, issues=issues, sources=sources,
                                   labels=labels, bucket="day")
    examples = {i: store.series.examples(b, SINCE, UNTIL, issue=i, limit=100) for b in brands[:1] for i in issues[:1]}
    assert_only_values(sent, {*names, *brands, *issues, *sources})
    expected = Counter()
    for d in docs:
        for brand in d["brands"]:
            for issue in issues or ["*"]:
                if ((not brands or brand in brands) and (issue == "*" or issue in d["issues"])
                        and (not sources or d["source"] in sources)
                        and (not labels or d["sentiment"]["label"] in labels)):
                    day = d["published_at"].replace(hour=0, minute=0)
                    expected[(day, d["sentiment"]["label"], d["source"])] += 1
    assert {(r["time"], r["label"], r["source"]): r["count"] for r in series} == dict(expected)
    for issue, found in examples.items():
        assert {m["_id"] for m in found} == {d["_id"] for d in docs if brands[0] in d["brands"]
                                             and issue in d["issues"] and d["sentiment"]["label"] == "negative"}


@fuzz
@given(mentions(), hostile_text, hostile_text, hostile_text, st.lists(hostile_text, max_size=2))
def test_names_notes_and_saved_queries_are_stored_as_written(wire, world, who, note, brand, issues):
    store, sent = wire
    _, docs = world
    load(store, docs)
    store.alerts.insert({"_id": "a1", "status": "open", "brand": brand, "issue": None, "opened_at": START,
                         "rule": "r", "severity": "high", "observed": 1.0, "expected": 0.5})
    sent.commands.clear()
    query = '"' + " ".join(re.findall(r"\w+", who)) + '"' if re.search(r"\w", who) else "x"
    store.brand_queries.save(brand, query, who)
    if docs:
        assert store.feed.mark_handled(docs[0]["_id"], who, note=note)
        store.feed.correct(docs[0]["_id"], who, issues=issues)
    acting = " ".join(who.split())[:200]
    try:
        manage.acknowledge(store, "a1", who)
    except manage.AlertStateError:
        assert not acting
    assert_only_values(sent, {who, note, brand, *issues})
    assert store.brand_queries.current()[brand] | {"at": None} == {"query": query, "by": who, "at": None}
    if docs:
        handled = store.mentions.get(docs[0]["_id"])
        assert handled["handled"]["by"] == who and handled["handled"]["note"] == note
    assert store.alerts.get("a1").get("acknowledged_by") == (acting or None)


@fuzz
@given(st.one_of(hostile_text, st.text(), st.lists(st.sampled_from(HOSTILE), max_size=6).map("\n".join)))
def test_plain_renders_as_the_text_itself(text):
    """Markdown (CommonMark with raw HTML on, the riskiest reading) of ``plain(text)`` shows
    ``text``: the same characters (plus invisible word joiners), no element but paragraphs and
    line breaks."""
    rendered = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(plain(text))
    assert set(re.findall(r"</?([a-z0-9]+)", rendered)) <= {"p", "br"}, rendered
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace("\u2060", "")  # plain's word joiners
    assert shown.split() == text.replace("\x00", "\ufffd").split()  # CommonMark shows NUL as U+FFFD


@fuzz
@given(st.one_of(hostile_text, st.text(string.printable, max_size=40),
                 st.lists(st.sampled_from(HOSTILE + ["AND", "OR", "NOT", "NEAR/2", '"', "(", ")", "title:", "{"]),
                          max_size=8).map(" ".join)))
def test_any_query_parses_or_fails_with_a_column(query):
    """What a reader types in the query tester: a tree, or a QuerySyntaxError pointing at the mistake."""
    try:
        tree = parse(query)
    except QuerySyntaxError as err:
        assert 1 <= err.column <= len(query) + 1
        return
    assert parse(str(tree)) == tree
