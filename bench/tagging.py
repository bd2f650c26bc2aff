"""Throughput of the full tagger beside bare VADER, on the shared airline tweets.

    .venv/bin/python bench/tagging.py [--repeat 3] [--batch 1000] [--learned] [--real] [--towards]

Prints mentions/s for bare VADER (default thresholds, no normalisation) and for
``Tagger.tag_many`` (normalise, language, tuned sentiment, issues, intent) in batches
like the pipeline's, then the time for one 100 KB text; with ``--learned`` also for a
tagger with a model trained on the file's training split. All run in this one process
on the same texts. ``--real`` prints what the tagger makes of the other real text instead:
the languages of the recorded API responses, and the reply and issue rates of the real long
text (targets: at most 1 in 8 with ``needs_reply``, 1 in 4 with an issue). ``--towards``
prints the learned sentiment towards a target by 5-fold cross-validation on Dong et al.'s
train split (target: 0.68 macro-F1), with and without the target's own identity.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import real_text  # noqa: E402
from listening.config import PACKAGED_DEMO, load_config  # noqa: E402
from listening.tagging import Tagger, learning, target_model  # noqa: E402
from listening.tagging.accuracy import DEFAULT_LABELS, SHARED, load_labels  # noqa: E402
from listening.tagging.sentiment import _base_analyzer, scorer_for  # noqa: E402


DONG = SHARED / "fixtures" / "target_sentiment_dong2014" / "train.raw"


def best_rates(runs: list, n: int, repeat: int) -> list[float]:
    """Best rate of each run; the runs take turns so that they share the machine's load."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - start)
    return [n / b for b in best]


def real() -> None:
    """Languages of the real API responses; reply and issue rates of the real long text."""
    tagger = Tagger()
    for service, texts in real_text.posts().items():
        tags = tagger.tag_many(texts)
        langs = Counter(t.lang or "und" for t in tags)
        unscored = sum(t.sentiment.label == "unscored" for t in tags)
        print(f"{service:11s} {len(texts):3d} items  languages {dict(langs.most_common())}  unscored {unscored}"
              f"  with an issue {sum(bool(t.issues) for t in tags)}"
              f" (not en: {sum(bool(t.issues) for t in tags if t.lang not in ('en', None))})")
    items = real_text.long_texts()
    tags = tagger.tag_many([t for t, _ in items], targets=[{b: [b] for b in brands} for _, brands in items])
    replies = sum("needs_reply" in t.intent for t in tags)
    issued = sum(bool(t.issues) for t in tags)
    print(f"real long text naming a brand: {len(items)}  needs_reply {replies} ({replies / len(items):.2f}, "
          f"target <= 0.125)  with an issue {issued} ({issued / len(items):.2f}, target <= 0.25)  "
          f"languages {dict(Counter(t.lang or 'und' for t in tags))}")


def towards_cv(folds: int = 5) -> None:
    """Macro-F1 of ``target_model`` by stratified k-fold CV (seed 0) on Dong's train split."""
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    rows = load_labels(DONG)
    labels = np.array([r["sentiment"] for r in rows])
    scorer = scorer_for()
    readings = [target_model.read(r["text"], r["target"], scorer) for r in rows]
    for spaces in (target_model.SPACES, tuple(s for s in target_model.SPACES if s != "target")):
        f1 = []
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(readings, labels):
            model = target_model.TargetModel.fit([readings[i] for i in train], labels[train], spaces)
            classes, margins = model.margins([readings[i] for i in test])
            f1.append(f1_score(labels[test], np.array(classes)[margins.argmax(axis=1)], average="macro"))
        print(f"towards a target, {folds}-fold on {DONG.name} ({len(rows)} rows), spaces {'+'.join(spaces)}:"
              f" macro-F1 {np.mean(f1):.4f} (folds {' '.join(f'{f:.3f}' for f in f1)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--learned", action="store_true", help="also time a learned model")
    parser.add_argument("--real", action="store_true", help="tag the other real text instead")
    parser.add_argument("--towards", action="store_true", help="cross-validate the targeted model")
    args = parser.parse_args()
    if args.real:
        return real()
    if args.towards:
        return towards_cv()
    with open(DEFAULT_LABELS, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    config = load_config(PACKAGED_DEMO)
    analyzer = _base_analyzer()
    tagger = Tagger(config)
    tagger.tag_many(texts[:200])  # load wordsegment, the language model, caches

    def vader():
        for text in texts:
            analyzer.polarity_scores(text)

    def tag(with_tagger):
        def run():
            for i in range(0, len(texts), args.batch):
                with_tagger.tag_many(texts[i:i + args.batch])
        return run

    runs = [vader, tag(tagger)]
    if args.learned:
        train = [r for r in rows if not learning.is_test(r["tweet_id"])]
        model = learning.train([r["text"] for r in train], [r["airline_sentiment"] for r in train],
                               [learning.clean_issue(r["negativereason"]) for r in train],
                               scorer=scorer_for(config))
        runs.append(tag(Tagger(config, model=model)))
    rates = best_rates(runs, len(texts), args.repeat)
    print(f"{len(texts)} mentions, batches of {args.batch}, best of {args.repeat}")
    print(f"bare VADER            {rates[0]:10,.0f} mentions/s")
    for name, rate in zip(("Tagger (lexicon)", "Tagger (learned)"), rates[1:]):
        print(f"{name:20s}  {rate:10,.0f} mentions/s  ({rate / rates[0]:.2f} x VADER)")
    long_text = "The service was terrible and rude. " * 3000  # ~100 KB, scored in chunks
    start = time.perf_counter()
    tagger.tag(long_text)
    print(f"one 100 KB text        {time.perf_counter() - start:10.2f} s (target: under 2 s)")


if __name__ == "__main__":
    main()
