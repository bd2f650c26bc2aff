"""``listening evaluate``: the measured targets on the shared airline tweets, the PNGs,
and the rendering."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from sklearn.metrics import f1_score

from listening.tagging import accuracy as evaluate
from tests.conftest import TWEETS_CSV


@pytest.fixture(scope="module")
def result(tmp_path_factory, demo_config):
    out = tmp_path_factory.mktemp("evaluate")
    return evaluate.run(TWEETS_CSV, out, config=demo_config), out


def test_sentiment_targets(result):
    metrics, _ = result
    sentiment = metrics["sentiment"]
    assert sentiment["vader"]["macro_f1"] < 0.48
    assert sentiment["lexicon"]["macro_f1"] >= 0.60
    assert sentiment["test"]["lexicon"]["macro_f1"] >= 0.58  # the 20% test split alone
    assert metrics["learned"]["sentiment"]["macro_f1"] >= 0.79
    assert metrics["learned"]["sentiment"]["n"] == metrics["data"]["test_rows"]


def test_issue_targets(result):
    metrics, _ = result
    rules = metrics["issues"]["rules"]
    assert set(rules["per_class"]) == set(evaluate.ISSUE_REASON.values())
    assert rules["macro_f1"] >= 0.50
    assert metrics["learned"]["issues"]["macro_f1"] >= 0.55
    assert rules["labels"][-1] == evaluate.NONE  # mentions with no mapped issue are counted


def test_every_macro_f1_has_its_interval(result):
    metrics, _ = result
    found = [metrics["sentiment"]["vader"], metrics["sentiment"]["test"]["lexicon"],
             metrics["learned"]["sentiment"], metrics["issues"]["rules"], metrics["learned"]["issues"]]
    for figures in found:
        low, high = figures["macro_f1_ci"]
        assert 0 <= low < figures["macro_f1"] < high <= 1
        assert high - low < 0.15


def test_macro_f1_interval():
    """It brackets the plain macro-F1, is seeded (the same every run), and collapses when
    every row is right."""
    truth = ["a", "b", "c", "a", "b", "x"] * 50
    pred = ["a", "c", "c", "b", "b", "a"] * 50
    plain = f1_score(truth, pred, labels=["a", "b", "c"], average="macro", zero_division=0)
    interval = evaluate.macro_f1_interval(truth, pred, ["a", "b", "c"])
    assert interval == evaluate.macro_f1_interval(truth, pred, ["a", "b", "c"])
    assert interval[0] < plain < interval[1]
    same = evaluate.macro_f1_interval(["a"] * 10 + ["b"] * 10, ["a"] * 10 + ["b"] * 10, ["a", "b"])
    assert same == [1.0, 1.0]


def test_pngs_and_json(result):
    metrics, out = result
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == ["confusion_issues_learned.png", "confusion_issues_rules.png",
                     "confusion_sentiment_learned.png", "confusion_sentiment_lexicon.png",
                     "confusion_sentiment_vader.png"]
    assert all((out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    json.dumps(metrics)  # the CLI can print it as JSON


def test_render(result):
    metrics, _ = result
    console = Console(record=True, width=140)
    console.print(evaluate.render(metrics))
    text = console.export_text()
    assert "bare VADER" in text and "learned" in text and "Lost Luggage" in text
    assert "95% interval" in text


def test_other_labelled_files(tmp_path):
    path = tmp_path / "labels.jsonl"
    rows = [{"id": i, "text": t, "sentiment": s, "issue": ""} for i, (t, s) in enumerate(
        [("great service, thank you", "positive"), ("my bag is lost", "negative"),
         ("what time do you open?", "neutral")] * 20)]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    metrics = evaluate.run(path, learn=False)
    assert metrics["sentiment"]["lexicon"]["accuracy"] == 1.0
    assert metrics["issues"] == {"test": {}}
    assert metrics["plots"] == []
