"""Unscored is a class of its own, end to end: stored, counted apart in the rollups and
the report, left out of sentiment shares and net sentiment, never neutral.

The Dutch and Swedish mentions are synthetic: the shared recordings hold no non-English
text naming a brand (tests/tagging/test_language.py says how that was checked).
"""

from __future__ import annotations

import pytest

from listening.ingest.pipeline import Pipeline
from listening.metrics.voice import brand_summary, sentiment_trend
from listening.models import RawMention, sentiment_label
from listening.report import report

TEXTS = [
    ("@united thank you, great crew!", None),
    ("@united lost my bag, terrible", None),
    ("@united mijn koffer is kwijt en niemand neemt de telefoon op, wat een slechte service", None),
    ("@united bagaget kom aldrig fram och ingen svarar i telefon", "sv-SE"),
    ("@united thanks for nothing, the worst delay ever and no help at all", "sv-SE"),  # English on a Swedish site
]


@pytest.fixture
def seeded(store, demo_config):
    Pipeline(store, demo_config).run(
        RawMention(source="t", source_kind="import", text=text, external_id=str(i), lang=lang,
                   published_at=f"2024-05-0{i + 1}T12:00:00Z") for i, (text, lang) in enumerate(TEXTS))
    return store


def test_stored_with_their_language_and_unscored(seeded):
    docs = {d["external_id"]: d for d in seeded.mentions.collection.find({})}
    assert [docs[str(i)]["lang"] for i in range(5)] == ["en", "en", "nl", "sv", "en"]
    assert [docs[str(i)]["sentiment"]["label"] for i in range(5)] == [
        "positive", "negative", "unscored", "unscored", "negative"]
    assert docs["2"]["sentiment"]["method"] == "unscored"


def test_rollups_count_unscored_apart_and_shares_leave_it_out(seeded, demo_config):
    cells = {row["label"]: row["count"] for row in seeded.mentions.totals(("label",))}
    assert cells == {"positive": 1, "negative": 2, "unscored": 2}
    united = brand_summary(seeded, demo_config)["United"]
    assert united["mentions"] == 5 and united["unscored"] == 2
    assert united["sentiment"] == pytest.approx({"positive": 1 / 3, "neutral": 0.0, "negative": 2 / 3})
    assert united["net_sentiment"] == pytest.approx(-1 / 3)
    [week] = [r for r in sentiment_trend(seeded, demo_config, bucket="week") if r["brand"] == "United"]
    assert (week["mentions"], week["unscored"], week["neutral"]) == (5, 2, 0)  # 2024-05-01..05: one ISO week
    assert week["net_sentiment"] == pytest.approx(-1 / 3)
    assert report(seeded, demo_config)["brands"]["United"]["unscored"] == 2


def test_a_mention_stored_before_unscored_was_a_class_counts_as_unscored():
    assert sentiment_label({"label": "neutral", "method": "unscored"}) == "unscored"
    assert sentiment_label(None) == "unscored"
    assert sentiment_label({"label": "neutral", "method": "lexicon"}) == "neutral"


def test_a_person_may_score_an_unscored_mention(seeded):
    doc = seeded.mentions.collection.find_one({"external_id": "2"})
    assert seeded.feed.correct(doc["_id"], "dana", sentiment="negative")
    cells = {row["label"]: row["count"] for row in seeded.mentions.totals(("label",))}
    assert cells == {"positive": 1, "negative": 3, "unscored": 1}


def test_a_language_with_its_own_lexicon_is_scored_with_it_alone(demo_config):
    from listening.tagging import Tagger

    config = demo_config.model_copy(deep=True)
    config.sentiment.languages = {"nl": {"slecht": -2.5, "kwijt": -1.5, "geweldig": 3.0}}
    dutch, swedish = TEXTS[2][0], TEXTS[3][0]
    tags = Tagger(config).tag_many([dutch, "@united de bemanning was fantastisch en alles was perfect geregeld",
                                    swedish])
    assert [t.lang for t in tags] == ["nl", "nl", "sv"]
    assert tags[0].sentiment.label == "negative" and tags[0].sentiment.method == "lexicon"
    # "perfect" is an English word VADER knows; the Dutch lexicon does not, so: neutral.
    assert tags[1].sentiment.label == "neutral"
    assert tags[2].sentiment.label == "unscored"
