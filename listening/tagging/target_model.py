"""A learned model of the sentiment towards a named target: what per-brand sentiment reads
when labels are there.

A tweet's sentiment and the sentiment towards one thing it names differ ("btw textplus is
excellent ... for $T$": neutral towards the iPod). The model reads the text as four feature
spaces plus a few lexicon scores, into a class-balanced linear SVM:
- the whole text with the target's words masked (``$t$``), word 1-2-grams;
- the words left of the target and those right of it, each a space of its own (so "love X"
  and "X love" differ);
- the target itself, one feature per target: a brand's prior (some are talked about badly
  more often); it learns only the targets it was trained on;
- VADER compound/pos/neg of the five words either side and of the whole text, a negation
  next to the target, a contrast word, "!" and "?".

Chosen by five-fold cross-validation on Dong et al.'s train split (docs/tagging.md lists
every variant tried and its figure). Stored as its arrays, never pickled (``arrays`` /
``from_arrays``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC
from vaderSentiment.vaderSentiment import NEGATE

from listening.tagging import towards
from listening.tagging.sentiment import Scorer, normalise

MASK = "$t$"
WINDOW = 5  # words either side read by the lexicon features
NEAR = 3  # a negation this close to the target flips what is said of it
LEXICON_SCALE = 3.0  # dense scores among sparse TF-IDF ones need a louder voice
MIN_DF = 2  # an n-gram seen once teaches nothing and doubled the stored model (8.3 MB on the airline tweets)
C = 0.1  # chosen by 5-fold CV on Dong's train split among 0.03, 0.1, 0.3
SPACES = ("whole", "left", "right", "target")
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*|[!?]", re.UNICODE)
_NEGATE = frozenset(NEGATE) | {"no", "not", "never"}


@dataclass(frozen=True)
class Reading:
    """One (text, target) as the model reads it."""

    whole: str
    left: str
    right: str
    target: str
    dense: tuple[float, ...]


def read(text: object, target: str, scorer: Scorer) -> Reading:
    """The text split around the target's matches; a text not naming it is all "left"."""
    tokens = _TOKEN.findall(normalise(text).lower())
    spans = towards.matches(tokens, target)
    masked = list(tokens)
    for start, end in reversed(spans):
        masked[start:end] = [MASK]
    marks = [i for i, token in enumerate(masked) if token == MASK]
    first, last = (marks[0], marks[-1]) if marks else (len(masked), len(masked) - 1)
    left, right = masked[:first], masked[last + 1:]
    near = masked[max(0, first - NEAR):first]
    dense: list[float] = []
    for words in (left[-WINDOW:], right[:WINDOW], tokens):
        polarity = scorer.polarity(" ".join(words)) if words else {"compound": 0.0, "pos": 0.0, "neg": 0.0}
        dense += [polarity["compound"], polarity["pos"], polarity["neg"]]
    dense += [float(any(w in _NEGATE or w.endswith("n't") for w in near)),
              float(any(w in towards.CONTRAST for w in tokens)), float("!" in tokens), float("?" in tokens)]
    return Reading(" ".join(masked), " ".join(left), " ".join(right),
                   "t_" + "_".join(towards.words(target)), tuple(dense))


def vectoriser(space: str) -> TfidfVectorizer:
    if space == "target":
        return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, dtype=np.float32)
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+",
                           lowercase=False, min_df=MIN_DF, dtype=np.float32)


def _classifier() -> LinearSVC:
    return LinearSVC(C=C, class_weight="balanced")


@dataclass
class TargetModel:
    """The four vectorisers and the SVM."""

    vectorisers: dict[str, TfidfVectorizer]
    svm: LinearSVC

    @classmethod
    def fit(cls, readings: Sequence[Reading], labels: Sequence[str],
            spaces: Sequence[str] = SPACES) -> "TargetModel":
        """Fitted on the readings; ``spaces``: a subset of SPACES, to measure what each adds."""
        vectorisers = {}
        for space in spaces:
            fresh = vectoriser(space)
            try:
                fresh.fit([getattr(r, space) for r in readings])
            except ValueError:  # no n-gram seen MIN_DF times (a few labels): the space teaches nothing
                continue
            vectorisers[space] = fresh
        model = cls(vectorisers, _classifier())
        model.svm.fit(model.features(readings), list(labels))
        return model

    def features(self, readings: Sequence[Reading]) -> csr_matrix:
        dense = np.array([r.dense for r in readings], dtype=np.float64).reshape(len(readings), -1)
        return hstack([*(v.transform([getattr(r, s) for r in readings]) for s, v in self.vectorisers.items()),
                       csr_matrix(LEXICON_SCALE * dense)]).tocsr()

    def margins(self, readings: Sequence[Reading]) -> tuple[list[str], np.ndarray]:
        """The classes and each reading's SVM margins for them."""
        return [str(c) for c in self.svm.classes_], self.svm.decision_function(self.features(readings))
