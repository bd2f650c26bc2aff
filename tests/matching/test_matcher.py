"""Brand matching: the query language on texts, keyword brands, and the airline tweets."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime, timezone

import pytest

from listening import matching  # not "import test_query": pytest would collect it
from listening.config import Brand, parse_config
from listening.ingest.pipeline import Pipeline
from listening.ingest.rematch import rematch
from listening.matching import BrandMatcher
from listening.models import RawMention, Sentiment, Tags
from listening.query import QuerySyntaxError
from listening.store import scan
from tests.conftest import TWEETS_CSV


def hit(query: str, text: str, **fields: str) -> bool:
    return BrandMatcher([Brand(name="b", query=query)]).match(text, **fields) == ["b"]


@pytest.mark.parametrize("query, text, expected", [
    ("united", "Flying United today", True),
    ("united", "reunited at last", False),
    ("united", "#United rocks", True),  # a word also finds its hashtag
    ("united", "@united lost my bag", False),  # ...but not a handle of that name
    ("@united", "@United lost my bag", True),
    ("@united", "united lost my bag", False),
    ("@united", "mail me at bob@united.com", False),
    ("#jetblue", "love #JetBlue", True),
    ("#jetblue", "love JetBlue", False),
    ("jetblue", "JetBlue's new seats", True),
    ('"united airlines"', "United-Airlines flight", True),
    ('"united airlines"', "United. Airlines!", True),
    ('"united airlines"', "airlines united", False),
    ("united airlines", "airlines united", True),
    ("refund*", "Refunded at last", True),
    ("refund*", "no refund", True),
    ("refund*", "nonrefundable", False),
    ('"late fl*"', "Late Flightr again", True),
    ("{US}", "flights in the US", True),
    ("{US}", "tell us", False),
    ("{US} Airways", "us airways", False),
    ('{"US Airways"}', "US Airways", True),
    ('{"US Airways"}', "US airways", False),
    ("{Uni*}", "United", True),
    ("{Uni*}", "united", False),
    ("a AND b", "b a", True),
    ("a AND b", "a", False),
    ("a OR b", "b", True),
    ("a NOT b", "a", True),
    ("a NOT b", "a b", False),
    ("NOT b", "anything", True),
    ("bag NEAR/2 lost", "lost my bag", True),
    ("bag NEAR/1 lost", "lost my new bag", False),
    ("bag ONEAR/2 lost", "lost my bag", False),
    ("lost ONEAR/2 bag", "lost my bag", True),
    ("lost ONEAR/0 bag", "lost bag", True),
    ('"lost my" NEAR/1 bag*', "bags: lost my", True),
    ("(late OR delay*) NEAR/3 @united", "@united delayed again", True),
    ("a NEAR/1 b NEAR/1 c", "a b x c", True),
    ("a NEAR/1 b NEAR/1 c", "a b x x c", False),
    ("bag NEAR/5 bag", "bag", False),  # two different occurrences are needed
])
def test_operators_on_texts(query, text, expected):
    assert hit(query, text) is expected


@pytest.mark.parametrize("query, fields, expected", [
    ("source:reddit", {"source": "Reddit"}, True),
    ("source:reddit", {"source": "hn"}, False),
    ("source:reddit", {}, False),
    ("source:(reddit OR hn)", {"source": "hn"}, True),
    ("source:news*", {"source": "news_google"}, True),
    ("lang:en", {"lang": "en-US"}, True),
    ("lang:en", {"lang": "fr"}, False),
    ("lang:en_GB", {"lang": "en-gb"}, True),
    ("lang:en-GB", {"lang": "en"}, False),
    ("author:bob", {"author": "@Bob"}, True),
    ('author:"Jane Doe"', {"author": "jane doe"}, True),
    ("title:refund", {"title": "Refund news"}, True),
    ("title:refund", {}, False),
    ("text:refund", {"title": "Refund news"}, False),
    ("refund", {"title": "Refund news"}, True),  # a bare term searches title and text
    ("refund NOT source:reddit", {"source": "reddit"}, False),
    ("refund NOT source:reddit", {"source": "hn"}, True),
])
def test_field_filters(query, fields, expected):
    text = "refund" if "refund" in query and "title" not in fields else "nothing here"
    assert hit(query, text, **fields) is expected


def test_near_never_spans_title_and_text():
    assert not hit("news NEAR/0 refund", "refund", title="big news")
    assert hit("news NEAR/0 refund", "news refund", title="x")


def test_keyword_brands_and_exclusions():
    brands = [Brand(name="United", terms=["United Airlines", "United"], handles=["united"],
                    exclusions=["United States"]),
              Brand(name="JetBlue", terms=["JetBlue", "Jet Blue"], handles=["@JetBlue"])]
    m = BrandMatcher(brands)
    assert m.matched_terms("@united to the United States, thanks Jet-Blue") == {
        "United": ["@united"], "JetBlue": ["jet blue"]}
    assert m.match("Flights across the United States") == []
    assert m.match("United flies across the United States") == ["United"]
    assert m.matched_terms("United Airlines!") == {"United": ["united", "united airlines"]}
    assert m.match("", source="x") == []
    assert m.match_many([{"text": "@JetBlue"}, {"text": "hi", "title": "United news"}]) == [
        {"JetBlue": ["@jetblue"]}, {"United": ["united"]}]


def test_matched_terms_report_positive_terms_only():
    m = BrandMatcher([Brand(name="A", query="(refund* OR {US}) NOT spam OR NOT (x OR NOT y)")])
    assert m.matched_terms("US refunds, y") == {"A": ["US", "refund*", "y"]}


def test_brands_come_back_in_config_order():
    brands = [Brand(name=n, terms=[t]) for n, t in (("Z", "zed"), ("A", "ay"), ("M", "em"))]
    assert BrandMatcher(brands).match("em ay zed") == ["Z", "A", "M"]


def test_demo_config_matches_the_labelled_airline(demo_config):
    """>= 99% of tweets match their labelled airline, <= 3% match another one."""
    matcher = BrandMatcher(demo_config.brands)
    names = [b.name for b in demo_config.brands]
    confusion: Counter = Counter()
    right = other = 0
    with open(TWEETS_CSV, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        label = "JetBlue" if row["airline"] == "Delta" else row["airline"]  # see PROVENANCE.md
        found = matcher.match(row["text"])
        right += label in found
        other += any(name != label for name in found)
        confusion.update((label, name) for name in found or ["(none)"])
    print(f"\n{len(rows)} tweets: labelled airline {right / len(rows):.2%}, another airline {other / len(rows):.2%}")
    print("label \\ matched".ljust(16) + "".join(n[:10].rjust(11) for n in [*names, "(none)"]))
    for label in names:
        print(label.ljust(16) + "".join(str(confusion[label, n]).rjust(11) for n in [*names, "(none)"]))
    assert right / len(rows) >= 0.99
    assert other / len(rows) <= 0.03


# -- the query tester and rematch, on a real store -------------------------------------------

class NeutralTagger:
    """Skips the sentiment models: these tests are about brands."""

    def tag_many(self, texts, declared=None, targets=None):
        return [Tags(sentiment=Sentiment(compound=0.0, label="neutral")) for _ in texts]


def ingest(store, config, texts: list[str]) -> None:
    raws = [RawMention(source="test", source_kind="import", text=t, external_id=str(i),
                       published_at=f"2015-02-2{i % 4}T10:00:00Z") for i, t in enumerate(texts)]
    Pipeline(store, config, tagger=NeutralTagger()).run(raws)


TEXTS = [
    "@united my flight is late again",      # 0: 2015-02-20
    "@united thanks for the upgrade",       # 1: 2015-02-21
    "@united lost my bag, delayed too",     # 2: 2015-02-22
    "@JetBlue lovely crew",                 # 3: 2015-02-23
    "@SouthwestAir and @united both late",  # 4: 2015-02-20
]


def test_query_tester_shows_hits_and_near_misses(store, demo_config):
    ingest(store, demo_config, TEXTS)
    report = matching.test_query(store, "@united NOT (late OR delay*)", sample=5)
    assert report["query"] == "(@united AND (NOT (late OR delay*)))"
    assert (report["scanned"], report["matched"], report["near_misses"]) == (5, 1, 3)
    assert [h["text"] for h in report["hits"]] == [TEXTS[1]]
    assert report["hits"][0]["terms"] == ["@united"] and report["hits"][0]["brands"] == ["United"]
    assert {m["text"] for m in report["near_misses_sample"]} == {TEXTS[0], TEXTS[2], TEXTS[4]}
    assert {tuple(m["failed"]) for m in report["near_misses_sample"]} == {("(NOT (late OR delay*))",)}
    near = matching.test_query(store, '"lost my" NEAR/1 bag* @SouthwestAir', sample=5)
    assert [(m["text"], m["failed"]) for m in near["near_misses_sample"]] == [
        (TEXTS[2], ["@SouthwestAir"]), (TEXTS[4], ['("lost my" NEAR/1 bag*)'])]  # most terms first
    assert near["near_miss_terms"] == {"bag* + lost my": 1, "@southwestair": 1}
    older_first = matching.test_query(store, "(@united OR @SouthwestAir) AND thanks", sample=5)
    assert [m["text"] for m in older_first["near_misses_sample"]][:1] == [TEXTS[4]]  # two terms beat newer ones
    assert report["by_brand"] == {"United": 1}
    assert report["terms"] == {"@united": 4}

    since = datetime(2015, 2, 21, tzinfo=timezone.utc)
    recent = matching.test_query(store, "late OR crew", since=since, sample=1)
    assert (recent["scanned"], recent["matched"], len(recent["hits"])) == (3, 1, 1)
    store.mentions.collection.update_one({"text": TEXTS[0]}, {"$set": {"lang": "en"}})  # too short to detect
    in_english = matching.test_query(store, "@united AND lang:en")  # the tester reads lang only when compared
    assert [h["text"] for h in in_english["hits"]] == [TEXTS[0]]
    newest = matching.test_query(store, "@united", limit=2)
    assert (newest["scanned"], [h["text"] for h in newest["hits"]]) == (2, [TEXTS[2]])  # 3 and 2
    with pytest.raises(QuerySyntaxError):
        matching.test_query(store, "late OR")


def test_rematch_applies_new_queries_and_moves_the_rollups(store, demo_config):
    ingest(store, demo_config, TEXTS)
    before = {r["brand"]: r["count"] for r in store.mentions.totals(by=("brand",))}
    assert before == {"United": 4, "JetBlue": 1, "Southwest": 1}

    raw = demo_config.model_dump()
    for brand in raw["brands"]:
        if brand["name"] == "United":
            brand["query"] = "@united NOT late"
    changed_config = parse_config(raw)
    counts = rematch(store, changed_config)
    # 0 and 4 lose United; 2 keeps it, with fewer terms (the demo query also counts "bag*")
    assert counts["scanned"] == 5 and counts["changed"] == 3 and counts["unmatched"] == 1
    assert counts["-United"] == 2
    after = {r["brand"]: r["count"] for r in store.mentions.totals(by=("brand",)) if r["count"]}
    assert after == {"United": 2, "JetBlue": 1, "Southwest": 1}
    doc = store.mentions.collection.find_one({"text": TEXTS[4]})
    assert doc["brands"] == ["Southwest"] and doc["matched_terms"] == {"Southwest": ["@southwestair"]}

    assert rematch(store, changed_config)["changed"] == 0  # idempotent
    assert rematch(store, demo_config)["+United"] == 2  # and reversible
    assert {r["brand"]: r["count"] for r in store.mentions.totals(by=("brand",)) if r["count"]} == before


@pytest.mark.parametrize("query, text, expected", [
    ("nestle", "Nestlé profits", True),
    ("Nestlé", "NESTLE profits", True),
    ('"cafe creme"', "Café Crème", True),
    ("{Nestlé}", "Nestle", False),
    ("{Nestlé}", "Nestlé", True),
    ("strasse", "Straße", False),  # lower case, not case folding: ß stays ß
    ("\ufdfa", "x \ufdfa y", True),  # one word whose decomposition holds spaces
])
def test_accents_are_ignored_unless_cased(query, text, expected):
    assert hit(query, text) is expected


def test_describe_test_and_pickling(store, demo_config):
    import pickle

    ingest(store, demo_config, TEXTS)
    text = matching.describe_test(matching.test_query(store, "@united NOT late", sample=2))
    assert "scanned 5 mentions: 2 match (40.0%), 2 more contain a term but do not match" in text
    assert "near misses rejected by each part" in text and "      2  (NOT late)" in text
    assert "[test] @united: @united thanks for the upgrade" in text
    assert "fails: (NOT late)" in text
    assert "near misses by the query terms they contain (most common first):\n        2  @united" in text
    clone = pickle.loads(pickle.dumps(BrandMatcher(demo_config.brands)))
    assert clone.match("@JetBlue hi") == ["JetBlue"]


def test_rematch_never_overwrites_a_correction_made_meanwhile(store, demo_config):
    ingest(store, demo_config, TEXTS[:1])
    as_read = store.mentions.collection.find_one()
    assert store.feed.correct(as_read["_id"], "ana", issues=["delays"])  # while rematch works
    assert scan.set_brands(store.mentions, [(as_read, {"brands": ["JetBlue"]})]) == []
    now = store.mentions.collection.find_one()
    assert now["brands"] == ["United"] and now["issues"] == ["delays"]
    assert rematch(store, demo_config)["changed"] == 0  # nothing to do after all


def test_fields_nest_with_proximity_and_exclusions_apply_to_queries():
    assert hit('title:("lost my" NEAR/2 bag*)', "x", title="Lost my blue bags")
    assert not hit('title:("lost my" NEAR/2 bag*)', "lost my bag", title="x")
    brand = Brand(name="U", query="@united OR (united NEAR/3 flight*)", exclusions=["United States"])
    m = BrandMatcher([brand])
    assert m.match("flights over the United States") == []
    assert m.match("united flights over the United States") == ["U"]
    assert m.matched_terms("@united over the United States") == {"U": ["@united"]}
