"""Date parsing cost: items/s on a feed of good dates beside feeds of unreadable ones.

    .venv/bin/python bench/dates.py [--items 2000]

Good: the airline tweets' own ``tweet_created`` values. Unreadable: the same tweets' first
three words as the date (what a mis-mapped column gives: distinct text, no date in it), and
one placeholder repeated ("N/A", what many exports write). Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.timeparse import parse_time  # noqa: E402

TWEETS = ROOT.parent / "shared" / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    with open(TWEETS, newline="", encoding="utf-8") as handle:
        rows = list(islice(csv.DictReader(handle), args.items))
    feeds = {"good dates": [r["tweet_created"] for r in rows],
             "garbage (text as date)": [" ".join(r["text"].split()[:3]) for r in rows],
             "garbage ('N/A' each)": ["N/A"] * len(rows)}
    print(f"{'feed':<26}{'items/s':>12}{'readable':>10}")
    for name, values in feeds.items():
        start = time.process_time()
        readable = sum(parse_time(v) is not None for v in values)
        rate = len(values) / (time.process_time() - start)
        print(f"{name:<26}{rate:>12,.0f}{readable:>10}", flush=True)


if __name__ == "__main__":
    main()
