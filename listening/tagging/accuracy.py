"""How good are the tags? Measured on a labelled file, beside bare VADER.

``run(labels_path, out_dir)`` reads a labelled CSV or JSONL (by default the shared
airline tweets), scores sentiment with bare VADER, the lexicon scorer and a model
learned on the file's training split (tested on its fixed test split), compares our
issues with the file's issue column (for the airline tweets, ``negativereason``: nine
concrete reasons, "Can't Tell" left out), and saves confusion matrices as PNG. Each
macro-F1 comes with a 95% bootstrap interval: on a test split of a few thousand rows a
figure moves by about a point either way by chance alone. ``render(metrics)`` turns the result into a rich table for the CLI.

    >>> metrics = run()                      # doctest: +SKIP
    >>> metrics["sentiment"]["lexicon"]["macro_f1"]   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from listening.settings import settings
from listening.tagging import issues as issue_rules
from listening.tagging import language, learning, target_model
from listening.tagging.issues import label_sets
from listening.tagging.sentiment import bare_vader, scorer_for

SHARED = settings().shared_dir
DEFAULT_LABELS = SHARED / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"
DEFAULT_LANG = "en"  # the airline tweets are English: the prior for the texts too short to tell
SENTIMENTS = ["negative", "neutral", "positive"]
NONE = "(none)"
BOOTSTRAP_ROUNDS = 1000
# Our built-in issues -> the airline tweets' negative reasons (data: taxonomy.yaml's label_sets).
AIRLINE_SET = "airline_tweets"
ISSUE_REASON = label_sets()[AIRLINE_SET]
ID_COLUMNS = ("tweet_id", "id", "_id", "external_id")
SENTIMENT_COLUMNS = ("airline_sentiment", "sentiment", "label")
ISSUE_COLUMNS = ("negativereason", "issue")


DONG_POLARITY = {"-1": "negative", "0": "neutral", "1": "positive"}


def _dong(path: Path) -> list[dict[str, str]]:
    """Dong et al.'s ``.raw`` format: a tweet with ``$T$`` where the target stood, the target,
    the polarity (-1, 0, 1) towards it, three lines each."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    if len(lines) < 3 or "$T$" not in lines[0]:
        raise ValueError(f"{path}: not a .raw file of target-labelled text ($T$ in the first line)")
    return [{"text": lines[i].replace("$T$", lines[i + 1].strip()), "target": lines[i + 1].strip(),
             "sentiment": DONG_POLARITY.get(lines[i + 2].strip(), "")}
            for i in range(0, len(lines) - 2, 3)]


def load_labels(path: str | Path) -> list[dict[str, Any]]:
    """Rows as ``{key, text, sentiment, issue, target, lang}`` from a labelled CSV, JSONL or
    ``.raw`` (target-labelled, Dong et al. 2014) file."""
    path = Path(path)
    if path.suffix.lower() == ".raw":
        raw = _dong(path)
    elif path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with open(path, encoding="utf-8", errors="replace") as handle:
            raw = [json.loads(line) for line in handle if line.strip()]
    else:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            raw = list(csv.DictReader(handle))
    rows = []
    for n, row in enumerate(raw):
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        if "airline_sentiment" in row:  # the airline tweets: undo their curators' edits
            text = issue_rules.fix_text(text, AIRLINE_SET)
        key = next((row[c] for c in ID_COLUMNS if row.get(c) not in (None, "")), n)
        sentiment = next((str(row[c]).strip().lower() for c in SENTIMENT_COLUMNS
                          if row.get(c) not in (None, "")), None)
        issue = next((row[c] for c in ISSUE_COLUMNS if row.get(c) not in (None, "")), None)
        lang, target = row.get("lang"), row.get("target")
        rows.append({"key": key, "text": text, "lang": lang if isinstance(lang, str) and lang else None,
                     "target": target.strip() if isinstance(target, str) and target.strip() else None,
                     "sentiment": sentiment if sentiment in SENTIMENTS else None,
                     "issue": learning.clean_issue(issue)})
    return rows


def scores(truth: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over ``labels`` with its 95% bootstrap interval, per-class
    precision/recall/F1 and the confusion matrix."""
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, pred, labels=list(labels), zero_division=0)
    shown = list(labels) + ([NONE] if NONE in pred and NONE not in labels else [])
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, pred)), 4),
        "macro_f1": round(float(f1_score(truth, pred, labels=list(labels), average="macro",
                                         zero_division=0)), 4),
        "macro_f1_ci": macro_f1_interval(truth, pred, labels),
        "per_class": {label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                              "f1": round(float(f), 4), "support": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
        "labels": shown,
        "confusion": confusion_matrix(truth, pred, labels=shown).tolist(),
    }


def macro_f1_interval(truth: Sequence[str], pred: Sequence[str], labels: Sequence[str],
                      rounds: int = BOOTSTRAP_ROUNDS) -> list[float]:
    """The 2.5th and 97.5th percentiles of macro-F1 over resamples of the rows (seeded, so
    stable): how far a figure on a test split of this size can move by chance alone."""
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    t = np.array([index.get(x, k) for x in truth])
    p = np.array([index.get(x, k) for x in pred])
    if not len(t):
        return [0.0, 0.0]
    rows = np.random.default_rng(0).integers(0, len(t), size=(rounds, len(t)))
    offsets = (np.arange(rounds) * (k + 1))[:, None]
    def per_class(hit):  # counts per resample and class, rows x (k + 1)
        return np.bincount((hit + offsets).ravel(), minlength=rounds * (k + 1)).reshape(rounds, k + 1)[:, :k]
    tt, pp = t[rows], p[rows]
    tp = per_class(np.where(tt == pp, tt, k))
    f1 = 2 * tp / np.maximum(per_class(tt) + per_class(pp), 1)
    low, high = np.percentile(f1.mean(axis=1), [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def main_reason(found: Sequence[str], mapping: dict[str, str] = ISSUE_REASON) -> str:
    """The reason of a mention's main issue: the first of its issues that maps to one."""
    return next((mapping[i] for i in found if i in mapping), NONE)


def run(labels_path: str | Path | None = None, out_dir: str | Path | None = None, *,
        config=None, learn: bool = True, lang: str | None = None,
        train_path: str | Path | None = None) -> dict[str, Any]:
    """Evaluate sentiment and issues on a labelled file; write PNGs to ``out_dir`` if given.

    ``lang`` is the file's language, a prior like a feed's (a row's ``lang`` column wins):
    only texts too short to tell take it. A row with a ``target`` is scored for the
    sentiment towards it. With ``train_path`` the learned model trains on that file and
    every row of ``labels_path`` is its test; else the file's own split is used.

    Returns ``{"data", "sentiment": {"vader", "lexicon", "test": {"vader", "lexicon",
    "learned"}}, "issues": {"rules", "test": {"rules", "learned"}}, "mapping", "plots"}``.
    """
    path = Path(labels_path) if labels_path else DEFAULT_LABELS
    if not path.is_file():
        raise FileNotFoundError(f"no labelled file at {path} (give one with --labels, "
                                "or set LISTENING_SHARED to the folder holding fixtures/)")
    rows = load_labels(path)
    train_rows = load_labels(train_path) if train_path else None
    lang = lang or (DEFAULT_LANG if path == DEFAULT_LABELS else None)
    scorer = scorer_for(config)
    test = [True] * len(rows) if train_rows is not None else [learning.is_test(r["key"]) for r in rows]
    metrics: dict[str, Any] = {"data": {"path": str(path), "rows": len(rows),
                                        "test_rows": sum(test),
                                        "train": str(train_path) if train_path else None},
                               "sentiment": {"test": {}}, "issues": {"test": {}},
                               "mapping": ISSUE_REASON, "plots": []}

    s_rows = [i for i, r in enumerate(rows) if r["sentiment"]]
    truth = [rows[i]["sentiment"] for i in s_rows]
    vader = [bare_vader(rows[i]["text"]).label for i in s_rows]
    texts = [rows[i]["text"] for i in s_rows]
    langs = language.detect_many(texts, [rows[i]["lang"] or lang for i in s_rows])
    lexicon = [s.label for s in scorer.score_many(texts, langs, [rows[i]["target"] for i in s_rows])]
    in_test = [test[i] for i in s_rows]
    metrics["sentiment"]["vader"] = scores(truth, vader, SENTIMENTS)
    metrics["sentiment"]["lexicon"] = scores(truth, lexicon, SENTIMENTS)
    for name, pred in (("vader", vader), ("lexicon", lexicon)):
        metrics["sentiment"]["test"][name] = scores(_pick(truth, in_test), _pick(pred, in_test),
                                                    SENTIMENTS)

    i_rows = [i for i, r in enumerate(rows) if r["issue"]]
    reasons = sorted({rows[i]["issue"] for i in i_rows})
    mapping = ISSUE_REASON if set(ISSUE_REASON.values()) & set(reasons) else {}
    if i_rows:
        found = issue_rules.classify_many([rows[i]["text"] for i in i_rows], config)
        truth_i = [rows[i]["issue"] for i in i_rows]
        rules = [main_reason(f, mapping) if mapping else (f[0] if f else NONE) for f in found]
        metrics["issues"]["rules"] = scores(truth_i, rules, reasons)
        in_test_i = [test[i] for i in i_rows]
        metrics["issues"]["test"]["rules"] = scores(_pick(truth_i, in_test_i),
                                                    _pick(rules, in_test_i), reasons)

    if learn:
        metrics.update(_learned(rows, test, scorer, reasons, train_rows))
    if out_dir:
        metrics["plots"] = save_plots(metrics, Path(out_dir))
    return metrics


def _learned(rows, test, scorer, reasons, train_rows=None) -> dict[str, Any]:
    """The learned model trained on the training rows, scored on the test rows: a row with a
    target by the model of the sentiment towards it (``target_model``), others by the
    whole-text model."""
    if train_rows is None:
        train_rows = [r for r, t in zip(rows, test) if not t]
    test_rows = [r for r, t in zip(rows, test) if t]
    model = learning.train([r["text"] for r in train_rows], [r["sentiment"] for r in train_rows],
                           [r["issue"] for r in train_rows], scorer=scorer,
                           targets=[r["target"] for r in train_rows])
    features = model.features(*learning.inputs([r["text"] for r in test_rows], scorer), scorer)
    out: dict[str, Any] = {"sentiment": {}, "issues": {}}
    s_idx = [i for i, r in enumerate(test_rows) if r["sentiment"]]
    if model.sentiment is not None and s_idx:
        probs = model.predict_sentiment(features[s_idx])
        aimed = [k for k, i in enumerate(s_idx) if test_rows[i]["target"]]
        if model.towards is not None and aimed:
            readings = [target_model.read(test_rows[s_idx[k]]["text"], test_rows[s_idx[k]]["target"], scorer)
                        for k in aimed]
            for k, p in zip(aimed, model.predict_towards(readings)):
                probs[k] = p
        out["sentiment"] = scores([test_rows[i]["sentiment"] for i in s_idx],
                                  [max(p, key=p.get) for p in probs], SENTIMENTS)
    i_idx = [i for i, r in enumerate(test_rows) if r["issue"]]
    if model.issue is not None and i_idx:
        guesses = model.predict_issue(features[i_idx])
        out["issues"] = scores([test_rows[i]["issue"] for i in i_idx],
                               [g[0] if g else NONE for g in guesses], reasons)
    return {"learned": out, "trained_on": model.n_labels}


def _pick(values: Sequence, mask: Sequence[bool]) -> list:
    return [v for v, m in zip(values, mask) if m]


def save_plots(metrics: dict[str, Any], out_dir: Path) -> list[str]:
    """One confusion-matrix PNG per evaluated tagger; returns their paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out_dir.mkdir(parents=True, exist_ok=True)
    panels = [("sentiment_vader", "Sentiment: bare VADER", metrics["sentiment"].get("vader")),
              ("sentiment_lexicon", "Sentiment: lexicon", metrics["sentiment"].get("lexicon")),
              ("sentiment_learned", "Sentiment: learned (test split)",
               metrics.get("learned", {}).get("sentiment")),
              ("issues_rules", "Issues: rules", metrics["issues"].get("rules")),
              ("issues_learned", "Issues: learned (test split)",
               metrics.get("learned", {}).get("issues"))]
    paths = []
    for name, title, result in panels:
        if not result:
            continue
        labels, matrix = result["labels"], result["confusion"]
        size = 3 + 0.55 * len(labels)
        figure = Figure(figsize=(size, size * 0.85), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        image = axes.imshow(matrix, cmap="Blues")
        figure.colorbar(image, ax=axes, fraction=0.046)
        axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
        axes.set_yticks(range(len(labels)), labels, fontsize=8)
        axes.set_xlabel("predicted")
        axes.set_ylabel("labelled")
        axes.set_title(f"{title}\nmacro-F1 {result['macro_f1']:.3f}, accuracy {result['accuracy']:.3f}",
                       fontsize=9)
        peak = max(max(row) for row in matrix) or 1
        for y, row in enumerate(matrix):
            for x, value in enumerate(row):
                axes.text(x, y, str(value), ha="center", va="center", fontsize=7,
                          color="white" if value > peak / 2 else "black")
        figure.tight_layout()
        target = out_dir / f"confusion_{name}.png"
        figure.savefig(target)
        paths.append(str(target))
    return paths


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """``listening evaluate --json``: each tagger on the test rows (the file's test split, or
    every row when the model trained on ``--train``) as ``{macro_f1, accuracy, ci, n,
    per_class}``."""
    def brief(result):
        return None if not result else {"macro_f1": result["macro_f1"], "accuracy": result["accuracy"],
                           "ci": result["macro_f1_ci"], "n": result["n"], "per_class": result["per_class"]}

    learned = metrics.get("learned", {})
    test = metrics["sentiment"]["test"]
    return {"data": metrics["data"],
            "sentiment": {"lexicon": brief(test.get("lexicon")), "vader": brief(test.get("vader")),
                          "learned": brief(learned.get("sentiment"))},
            "issues": {"rules": brief(metrics["issues"]["test"].get("rules")),
                       "learned": brief(learned.get("issues"))},
            "plots": metrics["plots"]}


def render(metrics: dict[str, Any]):
    """The metrics as a rich renderable: a summary table, then per-class issue figures."""
    from rich.console import Group
    from rich.table import Table

    summary = Table(title=f"Tagging quality on {Path(metrics['data']['path']).name} "
                          f"({metrics['data']['rows']} rows, {metrics['data']['test_rows']} in the test split)")
    for column in ("task", "tagger", "data", "n", "accuracy", "macro-F1", "95% interval"):
        summary.add_column(column, justify="left" if column in ("task", "tagger", "data") else "right")
    learned = metrics.get("learned", {})
    lines = [("sentiment", "bare VADER", "all", metrics["sentiment"].get("vader")),
             ("sentiment", "lexicon", "all", metrics["sentiment"].get("lexicon")),
             ("sentiment", "bare VADER", "test", metrics["sentiment"]["test"].get("vader")),
             ("sentiment", "lexicon", "test", metrics["sentiment"]["test"].get("lexicon")),
             ("sentiment", "learned", "test", learned.get("sentiment")),
             ("issues", "rules", "all", metrics["issues"].get("rules")),
             ("issues", "rules", "test", metrics["issues"]["test"].get("rules")),
             ("issues", "learned", "test", learned.get("issues"))]
    for task, tagger, data, result in lines:
        if result:
            low, high = result["macro_f1_ci"]
            summary.add_row(task, tagger, data, str(result["n"]), f"{result['accuracy']:.3f}",
                            f"{result['macro_f1']:.3f}", f"{low:.3f}-{high:.3f}")
    parts: list = [summary]
    for title, result in (("Issues, rules (all rows)", metrics["issues"].get("rules")),
                          ("Issues, learned (test split)", learned.get("issues"))):
        if not result:
            continue
        table = Table(title=title)
        for column in ("issue", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "issue" else "right")
        for label, row in result["per_class"].items():
            table.add_row(label, f"{row['precision']:.2f}", f"{row['recall']:.2f}",
                          f"{row['f1']:.2f}", str(row["support"]))
        parts.append(table)
    if metrics.get("plots"):
        parts.append("Confusion matrices: " + ", ".join(metrics["plots"]))
    return Group(*parts)
