"""One call that tags a batch of mention texts: sentiment, issues, intent, language.

Each text is normalised once and shared by every tagger. With a learned model (see
``listening.tagging.learning``) sentiment comes from it and its issue joins the rule issues;
without one, everything is lexicon and rules. A text that fails to tag gets an unscored,
issue-free result rather than stopping the batch.

Long text (news, blog posts, long reviews: ``passages.is_long``) is read like long text:
issues and intent come from the passages around the brand's terms (``targets``), an issue
needs more evidence there than one generic word (LONG_* below), and it never asks for a
reply. Issue rules are English: text detected as another language gets none.

    >>> Tagger(config).tag_many(["@united lost my bag, again"])[0].issues   # doctest: +SKIP
    ['Lost item']
    >>> Tagger.from_store(store, config)   # uses the newest trained model if any  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from typing import Iterator, Mapping, Sequence

from listening.config import Config
from listening.models import Sentiment, Tags
from listening.tagging import intent, issues, language, learning, passages, target_model, towards
from listening.tagging.sentiment import (SCORED_LANGS, as_text, language_scorers, normalise, scorable,
                                        scorer_for, unscored)

log = logging.getLogger(__name__)
# Long text: an issue needs LONG_MIN_HITS, and one more per LONG_WORDS_PER_HIT words of
# the brand's passages, a single word ("service", "screen", "book") counting LONG_WORD_WEIGHT.
LONG_MIN_HITS = 2
LONG_WORDS_PER_HIT = 100
LONG_WORD_WEIGHT = 0.5


class Tagger:
    """Tags texts with the lexicon, taxonomy and (optionally) learned model of one config."""

    def __init__(self, config: Config | None = None, *, model: learning.LearnedModel | None = None):
        self.config = config
        self.model = model
        self.scorer = scorer_for(config)
        self.others = language_scorers(config)  # languages with a lexicon of their own
        self.rules = issues.rule_set(issues.rules_for(config))
        self._issue_names: dict[str, str] = {}

    @classmethod
    def from_store(cls, store, config: Config | None = None) -> "Tagger":
        """A tagger using the newest model trained from the store's labels, if any."""
        return cls(config, model=learning.load(store))

    def tag(self, text: object) -> Tags:
        return self.tag_many([text])[0]

    def tag_many(self, texts: Sequence[object], declared: Sequence[str | None] | None = None,
                 targets: Sequence[Mapping[str, Sequence[str]]] | None = None) -> list[Tags]:
        """Tags for each text, in order. ``declared``: each text's feed or page language,
        a prior for the texts whose own words cannot tell (``language.detect``);
        ``targets``: each text's matched terms per brand, where long text is read and what
        the sentiment towards each brand is read from."""
        texts = list(texts)
        priors = list(declared) if declared is not None else [None] * len(texts)
        terms = [dict(t) for t in targets] if targets is not None else [{} for _ in texts]
        try:
            with collector_paused():
                return self._tag_batch(texts, priors, terms)
        except Exception:  # one bad text must not lose the batch: tag one by one
            log.exception("batch tagging failed; tagging %d texts one by one", len(texts))
            return [self._tag_one_safely(*item) for item in zip(texts, priors, terms)]

    def _tag_one_safely(self, text: object, prior: str | None, terms: dict) -> Tags:
        try:
            return self._tag_batch([text], [prior], [terms])[0]
        except Exception:
            log.exception("could not tag a text of %d characters", len(as_text(text)))
            return Tags(sentiment=unscored(), lang=None)

    def _tag_batch(self, texts: list[object], priors: list[str | None],
                   terms: list[dict]) -> list[Tags]:
        normalised = [normalise(text) for text in texts]
        indexes = [issues.TextIndex(text[:issues.MAX_CHARS]) for text in normalised]
        langs = [language.detect_words(ix.text, ix.tokens, prior) for ix, prior in zip(indexes, priors)]
        scored = [i for i, lang in enumerate(langs) if scorable(lang, normalised[i], SCORED_LANGS)]
        prepared = {i: self.scorer.prepare_normalised(normalised[i]) for i in scored}
        polarity = {i: self.scorer.polarity_prepared(prepared[i]) for i in scored}
        nothing = unscored()
        sentiments: list[Sentiment] = [nothing] * len(texts)
        for i in scored:
            sentiments[i] = self.scorer.sentiment(polarity[i])
        for i, lang in enumerate(langs):
            if lang in self.others and normalised[i]:
                other = self.others[lang]
                sentiments[i] = other.sentiment(other.polarity_prepared(other.prepare_normalised(normalised[i])))
        learned_issue: dict[int, str] = {}
        if self.model is not None and scored:
            learned_issue = self._apply_model(scored, normalised, prepared, polarity, sentiments)
        out = []
        for i, index in enumerate(indexes):
            label = sentiments[i].label if sentiments[i].method != "unscored" else None
            if passages.is_long(index.text):
                words = [term for brand_terms in terms[i].values() for term in brand_terms]
                near = issues.TextIndex(passages.passages(index.text, words) if words else index.text)
                needed = max(LONG_MIN_HITS, len(near.tokens) / LONG_WORDS_PER_HIT)
                found = self.rules.classify(near, needed, LONG_WORD_WEIGHT)
                intents = intent.detect_normalised(near, label, long_form=True)
            else:
                found = self.rules.classify(index)
                intents = intent.detect_normalised(index, label, has_handle=intent.has_handle(texts[i]))
            if not issues.has_rules(langs[i]):
                found = []  # English phrases say nothing of a Dutch review
            if i in learned_issue:
                found = [learned_issue[i], *(f for f in found if f != learned_issue[i])]
            # Every value is built here from checked parts: skip pydantic's validation.
            out.append(Tags.model_construct(
                sentiment=sentiments[i] if sentiments[i] is not nothing else unscored(),
                issues=found, lang=langs[i], intent=intents,
                towards=self._towards(texts[i], terms[i]) if i in scored and len(terms[i]) > 1 else {}))
        return out

    def _towards(self, text: object, terms: dict) -> dict[str, Sentiment]:
        """Per brand of a mention naming several, the sentiment towards it: the learned model
        of it when the model learned from targeted labels (method ``model``), else the lexicon
        on its own passages (the raw text: its @handles are where brands are named); a brand
        whose terms have no passage keeps the mention's sentiment (absent here). A switch
        ("left X for Y") decides either way: labels of one-brand mentions never teach it."""
        raw = as_text(text)
        aimed = self.model.towards if self.model is not None else None
        first = {brand: next((t for t in brand_terms if towards.names(raw, t)), None)
                 for brand, brand_terms in terms.items()}
        named = {brand: term for brand, term in first.items() if term}
        if aimed is not None:
            readings = [target_model.read(raw, term, self.scorer) for term in named.values()]
            return {brand: model_sentiment(switched(probs, towards.switch_role(raw, term)))
                    for (brand, term), probs in zip(named.items(), self.model.predict_towards(readings))}
        found = {}
        for brand, term in named.items():
            sentiment = self.scorer.towards(raw, term)
            if sentiment is not None:
                found[brand] = sentiment
        return found

    def _apply_model(self, scored: list[int], normalised: list[str], prepared: dict,
                     polarity: dict, sentiments: list[Sentiment]) -> dict[int, str]:
        """Model sentiment for scored texts; the model's issue for negative ones."""
        features = self.model.features([normalised[i] for i in scored],
                                       [prepared[i] for i in scored], [polarity[i] for i in scored],
                                       self.scorer)
        for i, probs in zip(scored, self.model.predict_sentiment(features)):
            if probs:
                sentiments[i] = model_sentiment(probs)
        learned = {}
        for i, guess in zip(scored, self.model.predict_issue(features)):
            if guess and sentiments[i].label == "negative" and guess[1] >= learning.ISSUE_MIN_PROBABILITY:
                learned[i] = self._issue_name(guess[0])
        return learned

    def _issue_name(self, label: str) -> str:
        if label not in self._issue_names:
            self._issue_names[label] = learning.issue_name(label, self.config)
        return self._issue_names[label]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a batch.

    A batch makes tens of thousands of short-lived objects and no cycles; the
    collections they trigger rescan every long-lived object in the process, about a
    tenth of the tagging time (bench/tagging.py: 0.52 -> 0.56 x VADER). Reference
    counting still frees them. Left alone when someone else already paused it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def switched(probs: dict[str, float], role: int) -> dict[str, float]:
    """Probabilities with the switch's side on top (``towards.switch_role``: -1 left it, +1
    went to it): the top label and that side trade places; no switch, no change."""
    if not role or not probs:
        return probs
    wanted, top = ("positive" if role > 0 else "negative"), max(probs, key=probs.get)
    out = dict(probs)
    out[wanted], out[top] = probs.get(top, 0.0), probs.get(wanted, 0.0)
    return out


def model_sentiment(probs: dict[str, float]) -> Sentiment:
    """A learned model's probabilities as a Sentiment: compound = P(positive) - P(negative)."""
    pos, neg = probs.get("positive", 0.0), probs.get("negative", 0.0)
    neu = probs.get("neutral", max(0.0, 1.0 - pos - neg))
    label = max(probs, key=probs.get)
    return Sentiment(compound=round(pos - neg, 4), pos=round(pos, 3), neu=round(neu, 3),
                     neg=round(neg, 3), label=label, method="model")
