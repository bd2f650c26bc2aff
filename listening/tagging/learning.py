"""Tagging models learned from labelled mentions, stored in MongoDB and used when present.

When people have labelled mentions (an imported labelled file, or corrections made in
the dashboard), a small scikit-learn model beats any lexicon: TF-IDF word and
character n-grams of the prepared text, the lexicon scorer's four VADER scores, a few
style signals (valence sums, question, exclamations, shouting, thanks) and the issue
rules' hits, into a linear SVM (class-balanced). One model for sentiment, one for
the issue of negative mentions, and one for the sentiment towards a named target
(``target_model``) when labels name their target. Without labels the tagger stays
lexicon-only.
Probabilities are a softmax of the SVM's margins: good for ranking and thresholds, not
calibrated.

Held-out evaluation is deterministic: a label belongs to the test share when the hash
of its key (tweet id, mention id) says so, so every run tests on the same mentions.

    >>> model = train(texts, sentiments, issues)          # doctest: +SKIP
    >>> retrain(store, config)["sentiment"]["macro_f1"]   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.svm import LinearSVC

from listening.tagging import issues as issue_rules
from listening.tagging import target_model
from listening.tagging.sentiment import Scorer, normalise, scorer_for

KIND = "tagger"
SENTIMENT_LABELS = ("negative", "neutral", "positive")
# Issue labels that say "no particular issue": not a class to learn.
NO_ISSUE = frozenset({"", "none", "can't tell", "cant tell", "other", "n/a", "unknown"})
TEST_BUCKETS = 5  # one key in five is held out
MIN_SENTIMENT_LABELS = 30
MIN_ISSUE_LABELS = 30
MIN_PER_CLASS = 3
MAX_FEATURE_CHARS = 2000
ISSUE_MIN_PROBABILITY = 0.4
STYLE_SCALE = 2.0  # dense features among sparse TF-IDF ones need a louder voice
SOFTMAX_SCALE = 3.0  # SVM margins are about -1..1: spread them before the softmax
FORMAT = 3  # 3: arrays and JSON in an .npz (2 was a pickle, no longer read)


def is_test(key: object) -> bool:
    """Whether the label with this key is held out for testing (stable across runs)."""
    digest = hashlib.sha1(f"listening-holdout:{key}".encode()).hexdigest()
    return int(digest, 16) % TEST_BUCKETS == 0


def clean_issue(label: object) -> str | None:
    """An issue label worth learning, or None."""
    if not isinstance(label, str) or label.strip().lower() in NO_ISSUE:
        return None
    return label.strip()


def rule_features(normalised: Sequence[str]) -> np.ndarray:
    """Per text: hits of each built-in issue rule (capped at 2), then its main issue one-hot."""
    ruleset = issue_rules.rule_set(issue_rules.builtin_rules())
    rules = ruleset.rules
    rows = []
    for text in normalised:
        hits = [min(n, 2) for n in ruleset.hits(issue_rules.TextIndex(text[:MAX_FEATURE_CHARS]))]
        best = min(((-hits[i] * rule.weight, i) for i, rule in enumerate(rules) if hits[i]),
                   default=None)
        main = [0.0] * len(rules)
        if best is not None:
            main[best[1]] = 1.0
        rows.append(hits + main)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), 2 * len(rules))


def style_features(normalised: Sequence[str], prepared: Sequence[str], scorer: Scorer) -> np.ndarray:
    """Per text: lexicon valence sums, question, exclamations, length, shouting, thanks."""
    rows = []
    for text, ready in zip(normalised, prepared):
        positive, negative = scorer.lexicon_sums(ready[:MAX_FEATURE_CHARS])
        words = text[:MAX_FEATURE_CHARS].split()
        rows.append([min(positive, 8) / 4, min(negative, 8) / 4, float("?" in text),
                     min(text.count("!"), 4) / 4, min(len(words), 40) / 40,
                     sum(1 for w in words if len(w) > 2 and w.isupper()) / 4,
                     float("thank" in text.lower())])
    return STYLE_SCALE * np.asarray(rows, dtype=np.float64).reshape(len(rows), 7)


def _softmax(margins: np.ndarray) -> np.ndarray:
    margins = margins if margins.ndim == 2 else np.column_stack([-margins, margins])
    exp = np.exp(SOFTMAX_SCALE * (margins - margins.max(axis=1, keepdims=True)))
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass
class LearnedModel:
    """Vectorisers and classifiers; stored as their arrays (``to_bytes``), never pickled."""

    word: TfidfVectorizer
    char: TfidfVectorizer
    sentiment: LinearSVC | None
    issue: LinearSVC | None
    towards: target_model.TargetModel | None = None
    trained_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    n_labels: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT

    def features(self, normalised: Sequence[str], prepared: Sequence[str],
                 polarities: Sequence[dict], scorer: Scorer) -> csr_matrix:
        """The model's inputs from a scorer's normalised and prepared texts and polarities."""
        texts = [p[:MAX_FEATURE_CHARS] for p in prepared]
        lexical = np.array([[p["compound"], p["pos"], p["neu"], p["neg"]] for p in polarities],
                           dtype=np.float64).reshape(len(texts), 4)
        return hstack([self.word.transform(texts), self.char.transform(texts),
                       csr_matrix(lexical), csr_matrix(rule_features(normalised)),
                       csr_matrix(style_features(normalised, prepared, scorer))]).tocsr()

    def predict_sentiment(self, features: csr_matrix) -> list[dict[str, float]]:
        """Per text, the probability of each sentiment label."""
        if self.sentiment is None or features.shape[0] == 0:
            return [{} for _ in range(features.shape[0])]
        probs = _softmax(self.sentiment.decision_function(features))
        return [dict(zip(self.sentiment.classes_, row.tolist())) for row in probs]

    def predict_issue(self, features: csr_matrix) -> list[tuple[str, float] | None]:
        """Per text, the most likely issue label and its probability."""
        if self.issue is None or features.shape[0] == 0:
            return [None] * features.shape[0]
        probs = _softmax(self.issue.decision_function(features))
        best = probs.argmax(axis=1)
        return [(str(self.issue.classes_[i]), float(row[i])) for i, row in zip(best, probs)]

    def predict_towards(self, readings: Sequence[target_model.Reading]) -> list[dict[str, float]]:
        """Per (text, target) reading, the probability of each sentiment towards the target."""
        if self.towards is None or not readings:
            return [{} for _ in readings]
        classes, margins = self.towards.margins(readings)
        return [dict(zip(classes, row.tolist())) for row in _softmax(margins)]

    def to_bytes(self) -> bytes:
        """The model as plain arrays and JSON in an ``.npz``: nothing a reader would execute."""
        arrays: dict[str, np.ndarray] = {"meta": _json_array({
            "format": self.format, "trained_at": self.trained_at.isoformat(),
            "n_labels": self.n_labels, "metrics": self.metrics})}
        vectorisers = {"word": self.word, "char": self.char}
        svms = {"sentiment": self.sentiment, "issue": self.issue}
        if self.towards is not None:
            vectorisers.update({f"towards.{s}": v for s, v in self.towards.vectorisers.items()})
            svms["towards"] = self.towards.svm
        for name, vectoriser in vectorisers.items():
            terms = sorted(vectoriser.vocabulary_, key=vectoriser.vocabulary_.get)
            arrays[f"{name}.terms"] = _json_array(terms)
            arrays[f"{name}.idf"] = vectoriser.idf_
        for name, svm in svms.items():
            if svm is not None:
                arrays[f"{name}.classes"] = _json_array([str(c) for c in svm.classes_])
                arrays[f"{name}.coef"] = svm.coef_
                arrays[f"{name}.intercept"] = svm.intercept_
        out = io.BytesIO()
        np.savez_compressed(out, **arrays)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> "LearnedModel":
        """A model back from ``to_bytes``; refuses anything else (``allow_pickle=False``)."""
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            meta = _from_json(arrays["meta"])
            if meta.get("format") != FORMAT:  # older features: retrain to use it
                raise TypeError(f"model format {meta.get('format')}, need {FORMAT}")
            word, char = _vectorisers()
            for name, vectoriser in (("word", word), ("char", char)):
                _restore(vectoriser, arrays, name)
            svms = {name: _svm(arrays, name) if f"{name}.coef" in arrays else None
                    for name in ("sentiment", "issue", "towards")}
            aimed = None
            if svms["towards"] is not None:  # models trained before targets were learned have none
                aimed = target_model.TargetModel(
                    {s: _restore(target_model.vectoriser(s), arrays, f"towards.{s}")
                     for s in target_model.SPACES if f"towards.{s}.terms" in arrays}, svms["towards"])
        return cls(word, char, svms["sentiment"], svms["issue"], aimed,
                   trained_at=datetime.fromisoformat(meta["trained_at"]),
                   n_labels=meta["n_labels"], metrics=meta["metrics"])

    def describe(self) -> dict[str, Any]:
        return {"trained_at": self.trained_at, "n_labels": self.n_labels, "metrics": self.metrics}


def _json_array(value: object) -> np.ndarray:
    return np.frombuffer(json.dumps(value, default=lambda v: v.item()).encode(), dtype=np.uint8)


def _from_json(array: np.ndarray) -> Any:
    return json.loads(array.tobytes().decode())


def _restore(vectoriser: TfidfVectorizer, arrays, name: str) -> TfidfVectorizer:
    """A fitted vectoriser from its stored terms and idf."""
    vectoriser.vocabulary_ = {t: i for i, t in enumerate(_from_json(arrays[f"{name}.terms"]))}
    vectoriser.idf_ = arrays[f"{name}.idf"]
    return vectoriser


def _svm(arrays, name: str) -> LinearSVC:
    """A fitted LinearSVC from its classes, coefficients and intercepts."""
    svm = _classifier()
    svm.classes_ = np.array(_from_json(arrays[f"{name}.classes"]))
    svm.coef_ = arrays[f"{name}.coef"]
    svm.intercept_ = arrays[f"{name}.intercept"]
    svm.n_features_in_ = svm.coef_.shape[1]
    return svm


def _vectorisers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=40_000, sublinear_tf=True,
                           lowercase=True, token_pattern=r"(?u)\b\w[\w']*\b", dtype=np.float32)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3,
                           max_features=60_000, sublinear_tf=True, dtype=np.float32)
    return word, char


def _classifier() -> LinearSVC:
    return LinearSVC(C=0.1, class_weight="balanced")


def train(texts: Sequence[str], sentiments: Sequence[str | None], issues: Sequence[str | None],
          *, scorer: Scorer | None = None,
          targets: Sequence[str | None] | None = None) -> LearnedModel:
    """Fit the vectorisers on every text, then a classifier per task that has labels;
    ``targets`` (one per text, or None) also trains the sentiment towards a target on the
    rows that name theirs."""
    scorer = scorer or scorer_for()
    normalised, prepared, polarities = inputs(texts, scorer)
    word, char = _vectorisers()
    clipped = [p[:MAX_FEATURE_CHARS] for p in prepared]
    word.fit(clipped)
    char.fit(clipped)
    model = LearnedModel(word, char, None, None)
    features = model.features(normalised, prepared, polarities, scorer)
    s_rows = [i for i, s in enumerate(sentiments) if s in SENTIMENT_LABELS]
    if _learnable([sentiments[i] for i in s_rows], MIN_SENTIMENT_LABELS):
        model.sentiment = _classifier().fit(features[s_rows], [sentiments[i] for i in s_rows])
    i_rows = [i for i, label in enumerate(issues) if label]
    labels = [issues[i] for i in i_rows]
    if _learnable(labels, MIN_ISSUE_LABELS):
        common = {c for c in set(labels) if labels.count(c) >= MIN_PER_CLASS}
        i_rows = [i for i in i_rows if issues[i] in common]
        model.issue = _classifier().fit(features[i_rows], [issues[i] for i in i_rows])
    t_rows = [i for i in s_rows if targets is not None and targets[i]]
    if targets is not None and _learnable([sentiments[i] for i in t_rows], MIN_SENTIMENT_LABELS):
        model.towards = target_model.TargetModel.fit(
            [target_model.read(texts[i], targets[i], scorer) for i in t_rows],
            [sentiments[i] for i in t_rows])
    model.n_labels = {"sentiment": len(s_rows), "issue": len(i_rows),
                      "towards": len(t_rows) if model.towards is not None else 0}
    return model


def inputs(texts: Sequence[object], scorer: Scorer) -> tuple[list[str], list[str], list[dict]]:
    """(normalised, prepared, polarity) per text: what ``LearnedModel.features`` reads."""
    normalised = [normalise(t) for t in texts]
    prepared = [scorer.prepare_normalised(n) for n in normalised]
    return normalised, prepared, [scorer.polarity_prepared(p) for p in prepared]


def _learnable(labels: Sequence[str | None], minimum: int) -> bool:
    return len(labels) >= minimum and len({label for label in labels if label}) >= 2


def evaluate(model: LearnedModel, texts: Sequence[str], sentiments: Sequence[str | None],
             issues: Sequence[str | None], *, scorer: Scorer | None = None,
             targets: Sequence[str | None] | None = None) -> dict[str, Any]:
    """Accuracy and macro-F1 of each task on labelled texts the model did not see."""
    scorer = scorer or scorer_for()
    features = model.features(*inputs(texts, scorer), scorer)
    out: dict[str, Any] = {}
    rows = [i for i, s in enumerate(sentiments) if s in SENTIMENT_LABELS]
    if model.sentiment is not None and rows:
        probs = model.predict_sentiment(features[rows])
        pred = [max(p, key=p.get) for p in probs]
        truth = [sentiments[i] for i in rows]
        out["sentiment"] = _scores(truth, pred)
    aimed = [i for i in rows if targets is not None and targets[i]]
    if model.towards is not None and aimed and targets is not None:
        probs = model.predict_towards([target_model.read(texts[i], targets[i], scorer) for i in aimed])
        out["towards"] = _scores([sentiments[i] for i in aimed], [max(p, key=p.get) for p in probs])
    rows = [i for i, label in enumerate(issues) if label]
    if model.issue is not None and rows:
        pred = [p[0] if p else "" for p in model.predict_issue(features[rows])]
        truth = [issues[i] for i in rows]
        out["issue"] = _scores(truth, pred)
    return out


def _scores(truth: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    labels = sorted(set(truth))
    return {"n": len(truth), "accuracy": round(float(accuracy_score(truth, pred)), 4),
            "macro_f1": round(float(f1_score(truth, pred, labels=labels, average="macro",
                                             zero_division=0)), 4)}


def issue_name(label: str, config=None) -> str:
    """Our issue name for a learned issue label.

    A label that names a taxonomy issue is that issue; one from a known labelled data
    set (the airline tweets' reasons) maps to its built-in issue; any other label is
    an issue of its own (its department falls back to customer care).
    """
    names = {rule.name.lower(): rule.name for rule in issue_rules.rules_for(config)}
    if label.lower() in names:
        return names[label.lower()]
    return issue_rules.issue_for_label(label) or label


def label_target(doc: dict) -> str | None:
    """The target a labelled mention's sentiment is about: its brand's first matched term
    when it names one brand (naming several, one label says nothing of each)."""
    terms = doc.get("matched_terms") or {}
    if len(terms) != 1:
        return None
    found = next(iter(terms.values())) or []
    return found[0] if found and isinstance(found[0], str) else None


def _examples(store) -> tuple[list, list, list, list, list]:
    keys, texts, sentiments, issues, targets = [], [], [], [], []
    for doc in store.models.labelled():
        labels = doc.get("labels") or {}
        text = doc.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        sentiment = str(labels.get("sentiment", "")).strip().lower() or None
        keys.append(doc["_id"])
        texts.append(text)
        sentiments.append(sentiment if sentiment in SENTIMENT_LABELS else None)
        issues.append(clean_issue(labels.get("issue")))
        targets.append(label_target(doc))
    return keys, texts, sentiments, issues, targets


def retrain(store, config=None) -> dict[str, Any]:
    """Train on the store's labelled mentions, test on the held-out share, save, report.

    The saved model is refitted on every label once the held-out metrics are known.
    A label of a mention naming one brand also teaches the sentiment towards it (its
    matched term is the target). Returns ``{"status": "trained" | "skipped", "labels": n,
    "sentiment": {...}, "towards": {...}, "issue": {...}, "model_id": ...}``; "skipped"
    says why (too few labels).
    """
    keys, texts, sentiments, issues, targets = _examples(store)
    n_sentiment = sum(s is not None for s in sentiments)
    n_issue = sum(i is not None for i in issues)
    report: dict[str, Any] = {"labels": len(texts), "sentiment_labels": n_sentiment,
                              "issue_labels": n_issue}
    if n_sentiment < MIN_SENTIMENT_LABELS and n_issue < MIN_ISSUE_LABELS:
        return {**report, "status": "skipped",
                "reason": f"need at least {MIN_SENTIMENT_LABELS} labelled mentions"}
    scorer = scorer_for(config)
    test = [is_test(k) for k in keys]

    def part(values, want):
        return [v for v, t in zip(values, test) if t == want]

    held_out = train(part(texts, False), part(sentiments, False), part(issues, False), scorer=scorer,
                     targets=part(targets, False))
    metrics = evaluate(held_out, part(texts, True), part(sentiments, True), part(issues, True),
                       scorer=scorer, targets=part(targets, True))
    model = train(texts, sentiments, issues, scorer=scorer, targets=targets)
    model.metrics = metrics
    meta = {"trained_at": model.trained_at, "n_labels": model.n_labels, "metrics": metrics,
            "format": FORMAT, "test_share": 1 / TEST_BUCKETS}
    model_id = store.models.save(KIND, model.to_bytes(), meta)
    return {**report, "status": "trained", **metrics, "model_id": str(model_id),
            "trained_at": model.trained_at.isoformat()}


def load(store) -> LearnedModel | None:
    """The newest stored model, or None when there is none (or it cannot be read)."""
    doc = store.models.latest(KIND)
    if not doc:
        return None
    try:
        return LearnedModel.from_bytes(doc["blob"])
    except Exception:  # an unreadable model must not stop tagging: fall back to lexicon
        return None
