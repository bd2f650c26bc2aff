"""Intent: churn risk, purchase, question, needs a reply."""

from __future__ import annotations

import pytest

from listening.tagging.intent import INTENTS, detect, detect_many


@pytest.mark.parametrize("text, label, expected", [
    ("Never again. I'm switching to Delta", "negative", {"churn_risk", "needs_reply"}),
    ("Please cancel my account, I'm done with you", "negative", {"churn_risk", "needs_reply"}),
    ("@SouthwestAir Looking to book a flight to Denver in May, any deals?", "neutral",
     {"purchase", "question", "needs_reply"}),
    ("How much is your bag fee on international flights?", "neutral",
     {"purchase", "question", "needs_reply"}),
    ("@JetBlue What time does boarding start", "neutral", {"question", "needs_reply"}),
    # A question to nobody in particular is not one the brand must answer.
    ("Looking to book a flight to Denver in May, any deals?", "neutral", {"purchase"}),
    ("Why is flying so expensive these days?", "neutral", set()),
    ("My bag is lost, please help", "negative", {"needs_reply"}),
    ("My bag is lost", "negative", set()),
    ("Great flight, thank you crew!", "positive", set()),
])
def test_intents(text, label, expected):
    assert set(detect(text, label)) == expected


def test_needs_reply_follows_a_complaint_only():
    assert detect("please help", "negative") == ["needs_reply"]
    assert detect("please help", None) == []


@pytest.mark.parametrize("text", ["", None, "🙂", "https://t.co/x", "\udcff", "bad \ud800 byte"])
def test_bad_input_reads_no_intent(text):
    assert detect(text, "neutral") == []  # a broken character is no question


def test_huge_text_of_question_marks():
    assert set(detect("? " * 50_000, "negative")) <= set(INTENTS)


def test_batch():
    assert detect_many(["switching to another bank", "hi"]) == [["churn_risk", "needs_reply"], []]


def test_phrases_fit_the_ngram_index():
    from listening.tagging.intent import _ACTION, _CHURN, _PURCHASE
    from listening.tagging.issues import MAX_PHRASE_WORDS

    assert max(len(p.split()) for p in _CHURN | _PURCHASE | _ACTION) <= MAX_PHRASE_WORDS
