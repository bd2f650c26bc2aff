"""Sentiment towards each brand: ``score(text, target)`` and the per-brand value stored.

The figures come from Dong et al.'s target-labelled tweets (train split only; its test split
is kept aside by its owners). The two-airline sentences are synthetic: the airline tweets
name one airline each, and the property here is a mention naming two.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from listening import score
from listening.ingest.pipeline import Pipeline
from listening.metrics.voice import brand_summary
from listening.models import RawMention
from listening.tagging import accuracy
from tests.conftest import FIXTURES

DONG = FIXTURES / "target_sentiment_dong2014" / "train.raw"


@pytest.mark.parametrize("text, target, label", [
    ("left United for Delta, so much better", "United", "negative"),
    ("left United for Delta, so much better", "Delta", "positive"),
    ("I love Delta but United lost my bag, awful", "United", "negative"),
    ("I love Delta but United lost my bag, awful", "Delta", "positive"),
    ("Unlike United, Delta was great", "United", "negative"),
    ("switched from Verizon to T-Mobile and never looked back", "Verizon", "negative"),
    ("switched from Verizon to T-Mobile and never looked back", "T-Mobile", "positive"),
])
def test_sentiment_towards_a_target(text, target, label):
    assert score(text, target=target).label == label


def test_a_target_the_text_does_not_name_gets_the_whole_text():
    assert score("great crew, thank you", target="KLM") == score("great crew, thank you")


def test_dong_train_split_lexicon_towards_the_target():
    rows = accuracy.load_labels(DONG)
    assert len(rows) == 6248 and all(r["target"] and r["sentiment"] for r in rows)
    scorer = accuracy.scorer_for()
    truth = [r["sentiment"] for r in rows]
    whole = [s.label for s in scorer.score_many([r["text"] for r in rows], ["en"] * len(rows))]
    towards = [s.label for s in scorer.score_many([r["text"] for r in rows], ["en"] * len(rows),
                                                  [r["target"] for r in rows])]
    labels = accuracy.SENTIMENTS
    assert accuracy.scores(truth, whole, labels)["macro_f1"] < 0.45
    # Window and threshold were chosen on the first half; the second half is not tuned on.
    half = len(rows) // 2
    assert accuracy.scores(truth[half:], towards[half:], labels)["macro_f1"] >= 0.50
    assert accuracy.scores(truth, towards, labels)["macro_f1"] >= 0.50


def test_dong_learned_on_its_training_split_towards_the_target():
    metrics = accuracy.run(DONG, lang="en")
    assert metrics["data"]["test_rows"] == 1222
    assert metrics["sentiment"]["test"]["lexicon"]["macro_f1"] >= 0.50
    assert metrics["learned"]["sentiment"]["macro_f1"] >= 0.68


def test_each_brand_of_a_mention_counts_its_own_sentiment(store, demo_config):
    texts = ["Left @united for @JetBlue last month, so much better",
             "@JetBlue thank you, great crew!"]
    Pipeline(store, demo_config).run(
        RawMention(source="t", source_kind="import", text=t, external_id=str(i),
                   published_at="2024-05-01T12:00:00Z") for i, t in enumerate(texts))
    doc = store.mentions.collection.find_one({"external_id": "0"})
    assert doc["brands"] == ["JetBlue", "United"]
    assert {b: s["label"] for b, s in doc["brand_sentiment"].items()} == {"JetBlue": "positive", "United": "negative"}
    summary = brand_summary(store, demo_config)
    assert summary["United"]["net_sentiment"] == pytest.approx(-1.0)
    assert summary["JetBlue"]["net_sentiment"] == pytest.approx(1.0)


def test_evaluate_json_on_a_users_labels(tmp_path):
    labels = tmp_path / "labels.jsonl"
    rows = accuracy.load_labels(DONG)
    with open(labels, "w", encoding="utf-8") as handle:
        for row in rows[:400]:
            handle.write(json.dumps({"text": row["text"], "sentiment": row["sentiment"],
                                     "target": row["target"]}) + "\n")
    train = tmp_path / "train.csv"
    train.write_text("text,sentiment,target\n" + "".join(
        f'"{r["text"].replace(chr(34), "")}",{r["sentiment"]},"{r["target"]}"\n' for r in rows[400:2400]),
        encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "listening", "evaluate", "--labels", str(labels),
                             "--train", str(train), "--lang", "en", "--json", "--out", str(tmp_path / "png")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    for method in ("lexicon", "learned"):
        figures = doc["sentiment"][method]
        assert figures["n"] == 400 and 0 <= figures["ci"][0] <= figures["macro_f1"] <= figures["ci"][1] <= 1
        assert 0 < figures["accuracy"] <= 1
    assert doc["issues"] == {"rules": None, "learned": None}  # no issue column
    assert (tmp_path / "png" / "confusion_sentiment_learned.png").is_file()


def test_evaluate_refuses_a_missing_file(tmp_path):
    result = subprocess.run([sys.executable, "-m", "listening", "evaluate", "--labels",
                             str(tmp_path / "nope.csv"), "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "no labelled file" in result.stderr
