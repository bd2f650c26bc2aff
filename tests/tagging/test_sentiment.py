"""Sentiment: tuned for customer talk, measured on the airline tweets, and no worse on
general text than the VADER it starts from."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from listening.models import Sentiment
from listening.tagging import sentiment
from listening.tagging.accuracy import load_labels, scores
from listening.tagging.issues import fix_text
from listening.tagging.learning import is_test
from listening.tagging.sentiment import Scorer, bare_vader, normalise, score, score_many, scorer_for
from tests.conftest import TWEETS_CSV
from tests.support.strategies import fuzz

# Product and film review snippets with a clear sentiment, none about customer service.
GENERAL = [
    ("This is the best pair of headphones I have ever owned.", "positive"),
    ("The battery lasts all day and charges quickly. Love it.", "positive"),
    ("A beautiful, moving film with a wonderful cast.", "positive"),
    ("Great value for money, I would recommend it to anyone.", "positive"),
    ("The plot was gripping and the ending was brilliant.", "positive"),
    ("Works perfectly, easy to set up, very happy with this purchase.", "positive"),
    ("One of the funniest comedies I've seen in years.", "positive"),
    ("The sound quality is excellent and the build feels solid.", "positive"),
    ("An absolute delight from start to finish.", "positive"),
    ("My kids adore this game, it's fun and clever.", "positive"),
    ("Gorgeous photography and a superb score.", "positive"),
    ("Comfortable shoes, they fit great and look nice.", "positive"),
    ("The acting was terrible and the story made no sense.", "negative"),
    ("It broke after two days. Complete waste of money.", "negative"),
    ("Boring, predictable and far too long.", "negative"),
    ("The worst movie I have seen this year.", "negative"),
    ("Cheap plastic, feels flimsy, and the screen scratches easily.", "negative"),
    ("I was very disappointed with this blender, it leaks.", "negative"),
    ("The dialogue is awful and the jokes fall flat.", "negative"),
    ("Stopped working after a week, do not buy.", "negative"),
    ("A dull, lifeless sequel that nobody asked for.", "negative"),
    ("The charger gets dangerously hot. Horrible product.", "negative"),
    ("Painfully slow pacing and a ridiculous twist.", "negative"),
    ("The zipper ripped the first time I used the bag. Poor quality.", "negative"),
    ("The film runs two hours and ten minutes.", "neutral"),
    ("The box contains a cable, a charger and a manual.", "neutral"),
    ("It is available in black, white and blue.", "neutral"),
    ("The director also wrote the screenplay.", "neutral"),
    ("I bought this for my brother's birthday.", "neutral"),
    ("The second season was released in March.", "neutral"),
    ("The blender has three speed settings.", "neutral"),
    ("It was filmed in Toronto and Vancouver.", "neutral"),
    ("The laptop weighs about two kilograms.", "neutral"),
    ("The movie is based on a novel from 1962.", "neutral"),
]


@pytest.fixture(scope="module")
def tweets():
    """The fixed test split (one tweet in five); test_evaluate measures the whole file."""
    return [r for r in load_labels(TWEETS_CSV) if r["sentiment"] and is_test(r["key"])]


def test_lexicon_beats_bare_vader_on_airline_tweets(tweets):
    truth = [r["sentiment"] for r in tweets]
    texts = [r["text"] for r in tweets]
    vader = scores(truth, [bare_vader(t).label for t in texts], ["negative", "neutral", "positive"])
    tuned = scores(truth, [s.label for s in score_many(texts)], ["negative", "neutral", "positive"])
    assert vader["macro_f1"] < 0.48
    assert tuned["macro_f1"] >= 0.60, tuned
    assert tuned["accuracy"] >= vader["accuracy"] + 0.15


def test_not_worse_than_vader_on_general_text():
    truth = [label for _, label in GENERAL]
    vader = sum(bare_vader(t).label == y for t, y in GENERAL)
    tuned = sum(score(t).label == y for t, y in GENERAL)
    assert tuned >= vader, (tuned, vader)
    assert tuned >= 0.8 * len(truth)


def test_domain_lexicon_is_scoped():
    """Without the domain lexicon the scorer is VADER itself."""
    plain = Scorer(domain=False)
    for text, _ in GENERAL:
        assert plain.polarity(text)["compound"] == pytest.approx(bare_vader(text).compound, abs=1e-3)


@pytest.mark.parametrize("text", [
    "Flight delayed 3 hours and still on hold",
    "@united my flight was Cancelled Flightled and I'm stranded",
    "thanks for nothing, lost my bag again",
    "Been waiting 45 min for a callback. #NeverAgain",
])
def test_complaints_are_negative(text):
    assert score(text).label == "negative"


def test_normalise_social_text():
    text = "@united Cancelled Flightled &amp; Late Flightr!!! http://t.co/x #NeverAgain sooooo bad"
    assert normalise(text) == "Cancelled Flightled & Late Flightr!!! Never Again sooooo bad"
    # The airline set's curators' edits are undone only where that set is read.
    assert normalise(fix_text(text, "airline_tweets")) == "cancelled & later!!! Never Again sooooo bad"
    assert fix_text("Late Flight news", "another_set") == "Late Flight news"
    assert Scorer().prepare("sooooo goooood") == "soo good"


def test_brand_names_are_not_opinions(demo_config):
    assert bare_vader("@united flight 1234 to Denver").label == "positive"  # VADER: "united" 1.8
    assert scorer_for(demo_config).score("@united flight 1234 to Denver").label == "neutral"


def test_config_lexicon_and_thresholds(demo_config):
    config = demo_config.model_copy(deep=True)
    config.sentiment.lexicon = {"meh": -2.0, "red eye": -1.5}
    config.sentiment.positive_threshold = 0.5
    scorer = scorer_for(config)
    assert scorer.score("the food was meh").label == "negative"
    assert scorer.score("it was another red eye").label == "negative"
    assert scorer.score("it was fine").label == "neutral"  # 0.2 < 0.5


def test_non_english_is_not_scored():
    result = score("Das Essen war schrecklich und der Flug hatte vier Stunden Verspätung")
    assert result.label == "unscored" and result.method == "unscored"  # a class apart, not neutral


@pytest.mark.parametrize("text", [
    "", "   ", "😡😡😡", "🙂", "https://example.com/a https://t.co/b", "\udcff\ud800 broken",
    b"\xff\xfe bytes", None, 12345, "x" * 100_000, "terrible " * 15_000,
])
def test_bad_input_never_crashes(text):
    result = score(text)
    assert isinstance(result, Sentiment)
    assert -1.0 <= result.compound <= 1.0


def test_long_text_keeps_its_tone():
    text = "The service was terrible and rude. " * 3000  # ~100 KB
    result = score(text)
    assert result.label == "negative"


def test_emoji_carries_sentiment():
    assert score("😠😠").label == "negative"
    assert score("😍").label == "positive"


def test_score_many_matches_score():
    texts = ["great crew, thank you!", "bag lost again", "what time is boarding?"]
    assert [s.label for s in score_many(texts)] == [score(t).label for t in texts]
    assert sentiment.score_many([]) == []



def test_faster_negation_check_agrees_with_vader():
    """Our analyzer overrides VADER's negation check for speed: same answer for every
    three words before a sentiment word, over the words the check looks for."""
    words = ["never", "So", "this", "without", "doubt", "NOT", "isn't", "least", "good"]
    ours, theirs = sentiment._ServiceAnalyzer, SentimentIntensityAnalyzer
    for before in itertools.product(words, repeat=3):
        window = [*before, "good"]
        for start in range(3):
            assert (ours._negation_check(1.0, window, start, 3)
                    == theirs._negation_check(1.0, window, start, 3)), (window, start)


IDIOM_PARTS = ["yeah Right", "kiss of death", "the bomb", "to die for", "sort of", "kind of",
               "bad ass", "bus stop", "beating heart", "the", "of", "good", "great"]


@settings(fuzz, max_examples=400)
@given(st.lists(st.sampled_from(IDIOM_PARTS), min_size=2, max_size=6).map(lambda p: " ".join(p).split()))
def test_faster_idiom_check_agrees_with_vader(words):
    """... and its idiom check, which it hands only the six words around the sentiment word."""
    for i in range(3, len(words)):
        assert (sentiment._ServiceAnalyzer._special_idioms_check(1.0, words, i)
                == SentimentIntensityAnalyzer._special_idioms_check(1.0, words, i))


def test_the_airline_sets_edits_are_undone_where_that_set_is_read():
    from listening.demo.feed import load_tweets
    from listening.tagging.accuracy import DEFAULT_LABELS

    raw = DEFAULT_LABELS.read_text(encoding="utf-8")
    assert raw.count("Cancelled Flight") > 100 and raw.count("Late Flight") > 100
    served = [t["text"] for t in load_tweets(DEFAULT_LABELS)]
    loaded = [r["text"] for r in load_labels(DEFAULT_LABELS)]
    for texts in (served, loaded):
        assert not any("Cancelled Flight" in t or "Late Flight" in t for t in texts)
