"""What ``--sync-on-commit`` costs the embedded store: inserts per second with and without it.

    .venv/bin/python bench/durability.py [--batches 40] [--singles 300]

Starts throwaway servers on temporary folders (the server's default; the default with every
write asking for the journal, ``j=true``, as our client does; ``--sync-on-commit``), then
times, on each: batches of 500 mention-sized documents (the tweets of the shared airline
fixture, as the pipeline's bulk upsert writes them) and single acknowledged inserts (how an
alert, a run record or an outbox e-mail is written). Prints the rates; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pymongo import MongoClient, UpdateOne  # noqa: E402

from listening.store.embedded import start_server  # noqa: E402

TWEETS = ROOT.parent / "shared" / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"
BATCH = 500


def texts() -> list[str]:
    with open(TWEETS, newline="", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def measure(sync: bool, journal: bool, corpus: list[str], batches: int, singles: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, uri = start_server(str(Path(tmp) / "db"), Path(tmp) / "log", sync_on_commit=sync)
        client: MongoClient = MongoClient(uri, journal=journal)
        try:
            mentions = client.bench.mentions
            start = time.perf_counter()
            for b in range(batches):
                ops = [UpdateOne({"_id": f"{b}-{i}"}, {"$set": {"text": corpus[(b * BATCH + i) % len(corpus)],
                                                                "brands": ["Acme"], "source": "bench"}},
                                 upsert=True) for i in range(BATCH)]
                mentions.bulk_write(ops, ordered=False)
            bulk_rate = batches * BATCH / (time.perf_counter() - start)
            alerts = client.bench.alerts
            start = time.perf_counter()
            for i in range(singles):
                alerts.insert_one({"_id": i, "rule": "spike", "brand": "Acme", "status": "open"})
            single_rate = singles / (time.perf_counter() - start)
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=60)
    return bulk_rate, single_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--singles", type=int, default=300)
    args = parser.parse_args()
    corpus = texts()
    print(f"{'mode':<26}{'bulk mentions/s':>18}{'single inserts/s':>18}")
    for name, sync, journal in (("server default (no sync)", False, False),
                                ("write concern j=true", False, True),
                                ("--sync-on-commit", True, False)):
        bulk, single = measure(sync, journal, corpus, args.batches, args.singles)
        print(f"{name:<26}{bulk:>18,.0f}{single:>18,.0f}")


if __name__ == "__main__":
    main()
