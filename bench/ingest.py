"""Import throughput beside bare VADER on the same texts, in one run.

    .venv/bin/python bench/ingest.py [CSV]

Prints mentions/s of the full import pipeline (parse, normalise, match, tag, bulk upsert
with rollups, on a fresh embedded store) and of bare single-core VADER, and their ratio.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.config import PACKAGED_DEMO, load_config  # noqa: E402
from listening.importer import import_file  # noqa: E402
from listening.pipeline import Pipeline  # noqa: E402
from listening.store import Store  # noqa: E402
from listening.store.embedded import start_server  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared/fixtures/twitter_us_airline_sentiment/Tweets.csv"


def bare_vader(texts: list[str]) -> float:
    analyzer = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return len(texts) / (time.perf_counter() - start)


def pipeline_rate(path: Path) -> tuple[float, dict]:
    config = load_config(PACKAGED_DEMO)
    with tempfile.TemporaryDirectory() as tmp:
        proc, uri = start_server(str(Path(tmp) / "db"), Path(tmp) / "server.log")
        try:
            store = Store.connect(uri, db_name="bench")
            pipeline = Pipeline(store, config)
            start = time.perf_counter()
            import_file(pipeline, path, config.import_mapping, source="bench",
                        rejects_path=Path(tmp) / "rejects.jsonl")
            elapsed = time.perf_counter() - start
            store.close()
        finally:
            proc.terminate()
            proc.wait()
    return pipeline.counts.read / elapsed, pipeline.counts.as_dict()


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV
    with open(path, newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    vader = bare_vader(texts)
    rate, counts = pipeline_rate(path)
    print(f"mentions:          {len(texts):,}")
    print(f"bare VADER:        {vader:,.0f} texts/s (one core)")
    print(f"import pipeline:   {rate:,.0f} mentions/s  {counts}")
    print(f"ratio:             {rate / vader:.2f} x bare VADER (target >= 0.5)")


if __name__ == "__main__":
    main()
