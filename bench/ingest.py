"""Import throughput beside bare VADER on the same texts, in one run.

    .venv/bin/python bench/ingest.py [CSV] [--uri URI] [--pairs N]

Prints mentions/s of the full import pipeline (parse, normalise, match, tag, bulk upsert
with rollups, on a fresh embedded store, or on the MongoDB at ``--uri`` / ``$TEST_MONGO_URI``
in databases ``bench_ingest`` and ``bench_ceiling``, dropped before and after) and of bare
single-core VADER, and their ratio.
It also prints the store's own ceiling: the same tagged documents, written again with
nothing but ``insert_many`` into a fresh collection with the same indexes. No pipeline
can beat that figure on this store, whatever it does with its CPUs.
This machine's speed drifts by a third within a minute (the ceiling read 1,722 to 2,067/s in
three runs), so pipeline and ceiling are measured in ``--pairs`` back-to-back pairs, each in a new
process (cold, as an import starts: models loaded, caches empty) on fresh databases, and the
median pair's ratio is the figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.config import PACKAGED_DEMO, load_config  # noqa: E402
from listening.ingest.importer import import_file  # noqa: E402
from listening.ingest.pipeline import Pipeline  # noqa: E402
from listening.store import Store  # noqa: E402
from harness.mongo import add_uri_option, bench_server  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared/fixtures/twitter_us_airline_sentiment/Tweets.csv"
BATCH = 1000


def bare_vader(texts: list[str]) -> float:
    analyzer = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return len(texts) / (time.perf_counter() - start)


def pipeline_rate(store: Store, path: Path, rejects: Path) -> tuple[float, dict]:
    config = load_config(PACKAGED_DEMO)
    pipeline = Pipeline(store, config)
    start = time.perf_counter()
    import_file(pipeline, path, config.import_mapping, source="bench", rejects_path=rejects)
    elapsed = time.perf_counter() - start
    pipeline.close()
    return pipeline.counts.read / elapsed, pipeline.counts.as_dict()


def insert_ceiling(source: Store, target: Store) -> float:
    """Mentions/s of bare ``insert_many`` of the stored mentions into an indexed collection."""
    docs = list(source.mentions.collection.find({}))
    target.mentions.ensure_indexes()
    start = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        target.mentions.collection.insert_many(docs[i:i + BATCH], ordered=False)
    return len(docs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV, help="labelled tweets (default: the shared ones)")
    add_uri_option(parser)
    parser.add_argument("--pairs", type=int, default=5, help="pipeline and ceiling measured this many times (default 5)")
    parser.add_argument("--one-pair", type=Path, metavar="REJECTS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_pair:  # a pair in a process of its own, for the parent
        print(json.dumps(measure_pair(args.uri, args.csv, args.one_pair)))
        return
    with open(args.csv, newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    vader = bare_vader(texts)
    pairs = []
    with tempfile.TemporaryDirectory() as tmp, bench_server(args.uri, Path(tmp)) as server:
        for _ in range(args.pairs):
            pairs.append(json.loads(subprocess.run(
                [sys.executable, __file__, str(args.csv), "--uri", server.uri, "--one-pair", str(Path(tmp) / "r.jsonl")],
                check=True, capture_output=True, text=True).stdout.splitlines()[-1]))
            print(f"pair {len(pairs)}: pipeline {pairs[-1][0]:,.0f}/s, ceiling {pairs[-1][2]:,.0f}/s, "
                  f"{pairs[-1][0] / pairs[-1][2]:.2f}", flush=True)
    rate, counts, ceiling = sorted(pairs, key=lambda p: p[0] / p[2])[len(pairs) // 2]
    print(f"store:             {server.name}")
    print(f"mentions:          {len(texts):,}")
    print(f"bare VADER:        {vader:,.0f} texts/s (one core)")
    print(f"import pipeline:   {rate:,.0f} mentions/s  {counts}")
    print(f"ratio:             {rate / vader:.2f} x bare VADER (target >= 0.5)")
    print(f"store ceiling:     {ceiling:,.0f} mentions/s = {ceiling / vader:.2f} x bare VADER "
          "(insert_many of the same documents, same indexes, no tagging, no rollups)")
    print(f"pipeline/ceiling:  {rate / ceiling:.2f}, the median of {len(pairs)} pairs "
          f"({min(p[0] / p[2] for p in pairs):.2f}-{max(p[0] / p[2] for p in pairs):.2f}; target >= 0.7)")
    print(f"                   (median pipeline {statistics.median(p[0] for p in pairs):,.0f}/s, "
          f"ceiling {statistics.median(p[2] for p in pairs):,.0f}/s)")


def measure_pair(uri: str, path: Path, rejects: Path) -> tuple[float, dict, float]:
    """(pipeline mentions/s, its counts, ceiling mentions/s), one right after the other."""
    stores = [Store.connect(uri, db_name=name) for name in ("bench_ingest", "bench_ceiling")]
    try:
        for s in stores:  # a database an earlier pair, or run, left on the server
            s.drop()
            s.ensure_indexes()
        rate, counts = pipeline_rate(stores[0], path, rejects)
        return rate, counts, insert_ceiling(*stores)
    finally:
        for s in stores:
            s.drop()
            s.close()


if __name__ == "__main__":
    main()
