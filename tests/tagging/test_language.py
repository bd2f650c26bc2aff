"""Language per item: the text decides, length-aware; a declared language is only a prior.

The real multilingual check runs on the real App Store reviews and Bluesky posts of
``api_responses_real``. Those recordings hold English text only (every item declares or
reads as English), so the non-English sentences below are synthetic, written for this
test: the one property the real files lack.
"""

from __future__ import annotations

import json

import pytest

from listening.tagging import Tagger, language
from tests.conftest import FIXTURES

REAL = FIXTURES / "api_responses_real"


def appstore_reviews() -> list[str]:
    feed = json.loads((REAL / "appstore" / "podfinder__testdata_reviews.json").read_text(encoding="utf-8"))
    return [e["content"]["label"] for e in feed["feed"]["entry"] if "content" in e]


def bluesky_posts() -> list[tuple[str, list[str] | None]]:
    body = json.loads((REAL / "bluesky" / "bskyr_2025_search_body.json").read_text(encoding="utf-8"))
    return [(p["record"]["text"], p["record"].get("langs")) for p in body["posts"]]


def test_real_reviews_and_posts_are_english_or_too_short_to_tell():
    reviews = [language.detect(t) for t in appstore_reviews()]
    assert len(reviews) == 50
    assert reviews.count("en") == 48
    assert {t for t, lang in zip(appstore_reviews(), reviews) if lang != "en"} == {"10k boys", "E"}
    posts = bluesky_posts()
    assert [language.detect(text) for text, _ in posts] == ["en"] * len(posts) == ["en"] * 25
    assert all(langs in (None, ["en"]) for _, langs in posts)  # what Bluesky itself declared


def test_declared_language_is_a_prior_not_an_override():
    # English posts on a site that declares Swedish (or <html lang="ru">) stay English ...
    assert {language.detect(text, declared="sv-SE") for text, _ in bluesky_posts()} == {"en"}
    assert {language.detect(text, declared="ru") for text in appstore_reviews()[:40]} == {"en"}
    # ... and the declaration decides only where the text cannot: "10k boys", "E".
    assert language.detect("10k boys", declared="en-US") == "en"
    assert language.detect("E", declared="nl") == "nl"
    assert language.detect("10k boys") is None


# Synthetic (see the module docstring): no real non-English text in the shared fixtures.
NON_ENGLISH = {
    "Das ist was wir in der Stadt haben": "de",  # two English-looking words, German all the same
    "Ik ben heel tevreden over deze app, hij werkt snel en is makkelijk in gebruik. "
    "Wel mis ik een donkere modus.": "nl",
    "Het is een leuke podcast maar de laatste afleveringen waren veel te lang en saai.": "nl",
    "Det här är en bra podd men appen kraschar ofta när jag försöker spela upp ett avsnitt.": "sv",
}


@pytest.mark.parametrize("text,lang", NON_ENGLISH.items())
def test_the_text_decides_whatever_was_declared(text, lang):
    assert language.detect(text) == lang
    assert language.detect(text, declared="en-US") == lang


def test_short_text_may_stay_undetermined():
    assert language.detect("Top app!") is None
    assert language.detect("Top app!", declared="nl-NL") == "nl"
    assert language.primary("sv_SE") == "sv" and language.primary("und") is None
    assert language.primary("not a tag") is None


def test_tagger_stores_the_language_it_used(demo_config):
    english = bluesky_posts()[1][0]
    dutch = list(NON_ENGLISH)[1]
    tags = Tagger(demo_config).tag_many([english, dutch, "Top app!", "Top app!"],
                                        declared=["sv-SE", "en", None, "nl"])
    assert [t.lang for t in tags] == ["en", "nl", None, "nl"]
    assert tags[0].sentiment.method == "lexicon"
    # Never an English lexicon on Dutch text, nor on text of undetermined language.
    assert [t.sentiment.label for t in tags[1:]] == ["unscored"] * 3
