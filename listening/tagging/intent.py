"""What a mention's author means to do: leave, buy, or get an answer.

``churn_risk`` ("switching to", "never again", "cancel my account"), ``purchase``
("looking to buy", "how much is"), ``question`` (asks the brand something) and
``needs_reply`` (a question, a complaint that asks for action, or a customer about to
leave): the last one feeds the social-care queue. Rules on normalised text, so they need
no labels.

Only short-form text addressed to the brand asks or needs a reply: a post, review or
comment of at most ``passages.LONG_FORM_CHARS`` characters that names the brand's handle,
says "you"/"your", or makes a request ("please", "help", "can you"). A "?" in an essay or
a news story is rhetoric or a quotation, never a question to the brand (docs/tagging.md).

    >>> detect("@Delta never again. Switching to another airline", "negative")
    ['churn_risk', 'needs_reply']
"""

from __future__ import annotations

from typing import Iterable, Sequence

import re

from listening.tagging.issues import TextIndex, register_phrases, tokens
from listening.tagging.passages import is_long
from listening.tagging.sentiment import as_text, normalise

INTENTS = ("churn_risk", "purchase", "question", "needs_reply")
MAX_CHARS = 5000


def _phrases(*items: str) -> frozenset[str]:
    """Phrases as token n-grams, looked up in a TextIndex's n-grams."""
    return register_phrases(" ".join(tokens(item)) for item in items)


_CHURN = _phrases(
    "switching to", "switch to", "switched to", "switching airlines", "switching providers",
    "never again", "never flying", "never fly with", "never ordering", "never buying",
    "never using", "never use you", "won't be flying", "won't fly", "will not fly",
    "won't be using", "won't be back", "will not be back", "not coming back", "never coming back",
    "cancel my account", "cancel my subscription", "cancel my membership", "cancel my card",
    "close my account", "closing my account", "cancelling my account", "canceling my account",
    "unsubscribe", "taking my business", "take my business", "lost a customer",
    "lost my business", "losing a customer", "done with you", "i'm done with", "last time i",
    "find another", "finding another", "going with another", "time to switch",
    "looking for alternatives", "goodbye", "bye bye", "do not fly", "don't fly",
)
_PURCHASE = _phrases(
    "want to buy", "wanna buy", "looking to buy", "thinking of buying", "thinking about buying",
    "planning to buy", "going to buy", "about to buy", "ready to buy", "where can i buy",
    "want to book", "looking to book", "planning to book", "about to book", "thinking of booking",
    "trying to book", "how much is", "how much are", "how much does", "how much for",
    "price for", "prices for", "fares to", "fare to", "do you sell", "have any deals",
    "any deals", "any sales", "any discounts", "in stock", "pre-order", "preorder",
    "add to cart", "sign me up", "take my money", "need a ticket", "need tickets",
    "buy tickets", "book tickets", "book a flight", "book flights", "subscribe",
)
# A mention that opens with one of these asks something, even without a "?".
QUESTION_WORDS = frozenset("""who what when where why how which can could would will is are am
do does did should shall may any anyone has have isn't aren't don't doesn't didn't won't
can't""".split())
_ACTION = _phrases(
    "please", "pls", "plz", "help", "dm me", "dm us", "contact me", "call me", "call back",
    "get back to me", "respond", "reply", "fix", "refund", "sort this", "sort it",
    "anyone", "someone", "assist", "assistance", "need", "asap", "urgent", "waiting for",
    "still waiting", "are you going to", "what will you do", "hello",
)


_HANDLE = re.compile(r"(?<![\w@])@\w+")
_YOU = frozenset(("you", "your", "yours", "you're", "you've", "you'll", "u", "ur", "ya", "y'all"))
_REQUEST = _phrases("please", "pls", "plz", "help", "dm me", "dm us", "can you", "could you",
                    "would you", "will you", "can i", "how do i", "how can i", "let me know")


def detect(text: object, sentiment_label: str | None = None) -> list[str]:
    """The intents of one text; ``sentiment_label`` lets complaints ask for a reply."""
    return detect_normalised(normalise(text), sentiment_label, has_handle=has_handle(text))


def has_handle(text: object) -> bool:
    """Whether the raw text names an @handle (normalising removes them)."""
    raw = as_text(text)
    return "@" in raw and bool(_HANDLE.search(raw))


def detect_normalised(text: str | TextIndex, sentiment_label: str | None = None, *,
                      has_handle: bool = False, long_form: bool | None = None) -> list[str]:
    """``detect`` for text already through ``sentiment.normalise`` (or its TextIndex).

    ``long_form`` defaults to the text's length; long text gets no question or reply.
    """
    index = text if isinstance(text, TextIndex) else TextIndex(text[:MAX_CHARS])
    if len(index.text) > MAX_CHARS:  # read what we document, not what the issue rules read
        index = TextIndex(index.text[:MAX_CHARS])
    text = index.text
    if not text:
        return []
    grams = index.grams
    found = []
    if not _CHURN.isdisjoint(grams):
        found.append("churn_risk")
    if not _PURCHASE.isdisjoint(grams):
        found.append("purchase")
    if is_long(text) if long_form is None else long_form:
        return found
    addressed = has_handle or not _YOU.isdisjoint(grams) or not _REQUEST.isdisjoint(grams)
    question = addressed and ("?" in text or bool(index.tokens) and index.tokens[0] in QUESTION_WORDS)
    if question:
        found.append("question")
    asks = sentiment_label == "negative" and not _ACTION.isdisjoint(grams)
    if question or asks or "churn_risk" in found:
        found.append("needs_reply")
    return found


def detect_many(texts: Iterable[object],
                sentiment_labels: Sequence[str | None] | None = None) -> list[list[str]]:
    texts = list(texts)
    labels = sentiment_labels if sentiment_labels is not None else [None] * len(texts)
    return [detect(text, label) for text, label in zip(texts, labels)]
