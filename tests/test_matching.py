"""Brand matching: the query language on texts, keyword brands, and the airline tweets."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from listening.config import Brand
from listening.matching import BrandMatcher
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
