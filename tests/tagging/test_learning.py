"""Learning from labels: the model store, retraining from labelled mentions, and the
tagger using the newest model (or the lexicon without one)."""

from __future__ import annotations

import csv
import os
import pickle
import subprocess
import sys
import zlib
from datetime import datetime, timezone
from itertools import islice

import pytest

from listening.ingest.pipeline import Pipeline
from listening.models import RawMention, Tags
from listening.store.trained import MAX_BLOB_BYTES, ModelTooLarge
from listening.tagging import Tagger, learning, target_model
from listening.tagging.tagger import model_sentiment, switched
from tests.conftest import ROOT, TWEETS_CSV

BAD_INPUTS = ["", "   ", "😡😡", "https://t.co/abc http://x.y", "\udcff\ud800 surrogates",
              "x" * 100_000, "Das Essen war schrecklich und der Flug hatte Verspätung", "🙂" * 5000]


def _labelled_raws(n: int):
    with open(TWEETS_CSV, newline="", encoding="utf-8") as handle:
        for row in islice(csv.DictReader(handle), n):
            labels = {"sentiment": row["airline_sentiment"], "by": "test"}
            if row["negativereason"]:
                labels["issue"] = row["negativereason"]
            yield RawMention(source="airline-test", source_kind="import", text=row["text"],
                             external_id=row["tweet_id"], published_at=row["tweet_created"],
                             labels=labels)


def test_holdout_is_stable_and_a_fifth():
    keys = [str(i) for i in range(5000)]
    share = sum(map(learning.is_test, keys)) / len(keys)
    assert 0.17 < share < 0.23
    held = [k for k in keys[:200] if learning.is_test(k)]
    # stable across runs: another process, its str hashes salted differently, holds out the same keys
    salt = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    other = subprocess.run([sys.executable, "-c", "from listening.tagging.learning import is_test; "
                            "print([k for k in map(str, range(200)) if is_test(k)])"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT,
                           env={**os.environ, "PYTHONHASHSEED": salt})
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == repr(held) and held


def test_model_repo_round_trip(store):
    assert store.models.latest("tagger") is None
    same_ms = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)  # a tie of trained_at, forced: the newer still wins
    store.models.save("tagger", b"one", {"metrics": {"x": 1}, "trained_at": same_ms})
    second = store.models.save("tagger", b"two", {"metrics": {"x": 2}, "trained_at": same_ms})
    latest = store.models.latest("tagger")
    assert latest["_id"] == second and latest["blob"] == b"two" and latest["metrics"] == {"x": 2}
    assert [m["metrics"]["x"] for m in store.models.history("tagger")] == [2, 1]
    assert "blob" not in store.models.history("tagger")[0]
    with pytest.raises(ModelTooLarge):
        store.models.save("tagger", b"\0" * (MAX_BLOB_BYTES + 1))


def test_retrain_without_labels_is_skipped(store, demo_config):
    result = learning.retrain(store, demo_config)
    assert result["status"] == "skipped" and result["labels"] == 0
    assert Tagger.from_store(store, demo_config).model is None


def test_retrain_from_labelled_mentions_then_tag(store, demo_config):
    counts = Pipeline(store, demo_config).run(_labelled_raws(1500))
    assert counts.new > 1400
    assert store.models.count_labelled() == counts.new

    result = learning.retrain(store, demo_config)
    assert result["status"] == "trained"
    assert result["sentiment"]["macro_f1"] > 0.6  # 1,500 labels only; the full split is in test_evaluate
    assert result["issue"]["n"] > 80
    saved = store.models.latest("tagger", with_blob=False)
    assert saved["metrics"]["sentiment"] == result["sentiment"] and saved["trained_at"]

    tagger = Tagger.from_store(store, demo_config)
    assert tagger.model is not None
    tags = tagger.tag_many(["@united you lost my bag and nobody answers the phone",
                            "@JetBlue thank you, best crew ever!",
                            "¿Dónde está mi maleta? Nadie contesta el teléfono"])
    assert [t.sentiment.method for t in tags] == ["model", "model", "unscored"]
    assert tags[0].sentiment.label == "negative" and "Lost item" in tags[0].issues
    assert tags[1].sentiment.label == "positive"
    assert tags[2].lang == "es" and tags[2].sentiment.label == "unscored"  # never counted as neutral

    # Each airline tweet names one airline: its label taught the sentiment towards it too, and
    # a mention naming two gets the model's sentiment towards each (method says so).
    assert result["towards"]["n"] > 250 and result["towards"]["macro_f1"] > 0.6
    [both] = tagger.tag_many(["Left @united for @JetBlue last month, so much better"],
                             targets=[{"United": ["@united"], "JetBlue": ["@JetBlue"]}])
    assert set(both.towards) == {"United", "JetBlue"}
    assert {s.method for s in both.towards.values()} == {"model"}
    # one-brand labels never show a switch: the switch rule decides it for the model too
    assert {b: s.label for b, s in both.towards.items()} == {"United": "negative", "JetBlue": "positive"}


def test_a_stored_model_is_plain_arrays_and_a_pickle_is_never_loaded(store, demo_config, tmp_path):
    texts, sentiments, issues, targets = [], [], [], []
    for raw in _labelled_raws(600):
        texts.append(raw.text)
        sentiments.append(raw.labels["sentiment"])
        issues.append(learning.clean_issue(raw.labels.get("issue")))
        targets.append(raw.text.split()[0] if raw.text.startswith("@") else None)  # the airline's handle
    model = learning.train(texts, sentiments, issues, targets=targets)
    assert model.towards is not None
    back = learning.LearnedModel.from_bytes(model.to_bytes())
    scorer = learning.scorer_for()
    probe = texts[:50]
    features, again = (m.features(*learning.inputs(probe, scorer), scorer) for m in (model, back))
    assert back.predict_sentiment(again) == model.predict_sentiment(features)
    assert back.predict_issue(again) == model.predict_issue(features)
    readings = [target_model.read(t, "@united", scorer) for t in probe]
    assert back.predict_towards(readings) == model.predict_towards(readings)

    marker = tmp_path / "ran"  # synthetic: the old format, a zlib pickle, carrying a payload
    store.models.save(learning.KIND, zlib.compress(pickle.dumps(Touch(marker))))
    assert learning.load(store) is None and not marker.exists()


class Touch:
    """Unpickling this writes ``path``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (type(self.path).write_text, (self.path, "ran"))


def test_unreadable_model_falls_back_to_lexicon(store, demo_config):
    store.models.save(learning.KIND, b"not a pickle")
    assert learning.load(store) is None
    assert Tagger.from_store(store, demo_config).tag_many(["my bag was lost"])[0].sentiment.method == "lexicon"


def test_tagger_survives_bad_input(demo_config):
    tags = Tagger(demo_config).tag_many(BAD_INPUTS + [None, b"\xff\xfe", 42])  # type: ignore[list-item]
    assert len(tags) == len(BAD_INPUTS) + 3 and all(isinstance(t, Tags) for t in tags)
    by_text = dict(zip(BAD_INPUTS, tags))
    assert by_text[""].sentiment.method == "unscored"
    assert by_text["https://t.co/abc http://x.y"].lang is None
    assert by_text["Das Essen war schrecklich und der Flug hatte Verspätung"].lang == "de"
    assert by_text["Das Essen war schrecklich und der Flug hatte Verspätung"].sentiment.label == "unscored"


def test_tagger_tags_everything(demo_config):
    [tags] = Tagger(demo_config).tag_many(
        ["@united flight Cancelled Flightled, on hold 2 hours. Switching to Delta. Why?"])
    assert tags.sentiment.label == "negative" and tags.lang == "en"
    assert tags.issues[:1] == ["Cancellation"] and "Customer service" in tags.issues  # the main issue first
    assert {"churn_risk", "question", "needs_reply"} <= set(tags.intent)


def test_a_switch_puts_its_side_on_top():
    probs = {"negative": 0.2, "neutral": 0.1, "positive": 0.7}
    assert switched(probs, -1) == {"negative": 0.7, "neutral": 0.1, "positive": 0.2}
    assert switched(probs, 1) == probs == switched(probs, 0)


def test_model_sentiment_shape():
    result = model_sentiment({"negative": 0.7, "neutral": 0.2, "positive": 0.1})
    assert result.label == "negative" and result.compound == pytest.approx(-0.6)
    assert result.method == "model"
