"""Long text is read like long text: the brand's passages, more evidence, no reply asked.

Real long text: the shared feeds' entries and saved pages (blog posts, reviews, news, a
forum's posts) that name a brand, read by trafilatura as the crawler reads articles
(``harness.real_text``, which bench/tagging.py --real reads too).
None of them is a complaint, so none should ask for a reply and few should raise an issue.
"""

from __future__ import annotations

import pytest

from harness.real_text import long_texts
from listening.tagging import Tagger, intent
from listening.tagging.passages import passages


@pytest.fixture(scope="module")
def tagged():
    items = long_texts()
    return items, Tagger().tag_many([t for t, _ in items], targets=[{brand: [brand] for brand in b} for _, b in items])


def test_real_long_text_asks_no_reply_and_rarely_raises_an_issue(tagged):
    items, tags = tagged
    assert len(items) >= 8
    assert not [t.intent for t in tags if "needs_reply" in t.intent or "question" in t.intent]
    with_issue = sum(bool(t.issues) for t in tags)
    assert with_issue * 4 <= len(items), [t.issues for t in tags]
    assert {t.lang for t in tags} == {"en"}


# Synthetic (the shared files hold no long complaint): a blog post about lost luggage.
COMPLAINT = ("We flew home from Lisbon last week and I want to write down how it went. " * 8
             + "Then Delta lost our luggage: two bags never arrived, the baggage claim desk sent us "
             "to a lost and found office that was closed, and nobody answered the phone for three "
             "days. Is this how Delta treats families? " + "The rest of the trip was lovely. " * 10)


def test_a_long_complaint_keeps_the_issue_it_names_near_the_brand():
    [tags] = Tagger().tag_many([COMPLAINT], targets=[{"Delta": ["Delta"]}])
    assert tags.issues[:1] == ["Lost item"]
    assert "question" not in tags.intent and "needs_reply" not in tags.intent


def test_words_far_from_the_brand_raise_nothing():
    text = ("Delta announced a new route to Lisbon today. " + "Nothing else happened here. " * 40
            + "Elsewhere, a passenger on another airline found her luggage lost and her bags never "
            "arrived at baggage claim.")
    assert passages(text, ["Delta"]).startswith("Delta announced")
    assert Tagger().tag_many([text], targets=[{"Delta": ["Delta"]}])[0].issues == []


def test_intent_reads_the_characters_it_documents():
    text = "Short and sweet. " * 400 + "I'm switching to Delta"  # past intent.MAX_CHARS
    assert len(text) > intent.MAX_CHARS
    assert "churn_risk" not in intent.detect_normalised(text, "negative", long_form=False)
