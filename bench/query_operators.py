"""Brand query cost per operator on long texts: milliseconds per KB at growing sizes.

    .venv/bin/python bench/query_operators.py [--mb 2]

The text is the shared airline tweets joined into one page (as a long forum thread or news
page arrives), cut to 0.25 MB, 0.5 MB, 1 MB ... up to ``--mb``. Each query uses one operator
on words that occur all over that text. Linear matching shows as a flat ms/KB column.
Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.query import parse  # noqa: E402
from listening.query.compiler import Program  # noqa: E402

TWEETS = ROOT.parent / "shared" / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"
QUERIES = {
    "term": "flight",
    "phrase": '"my flight"',
    "wildcard": "flight*",
    "OR": "flight OR delayed OR bag",
    "AND": "flight AND delayed",
    "NOT": "flight AND NOT refund",
    "NEAR/5": "united NEAR/5 flight*",
    "ONEAR/5": "flight ONEAR/5 delayed",
    "nested NEAR": "(united NEAR/5 flight*) NEAR/10 (late OR delayed)",
}


def page(mb: float) -> str:
    with open(TWEETS, newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    text, size = [], 0
    while size < mb * 1_000_000:
        for t in texts:
            text.append(t)
            size += len(t) + 1
            if size >= mb * 1_000_000:
                break
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0)
    args = parser.parse_args()
    full = page(args.mb)
    sizes = [s for s in (0.25, 0.5, 1.0, 2.0, 4.0) if s <= args.mb]
    print(f"{'operator':<14}" + "".join(f"{f'{s:g} MB ms/KB':>16}" for s in sizes))
    for name, query in QUERIES.items():
        program = Program([("Acme", parse(query), ())])
        cells = []
        for size in sizes:
            text = full[: int(size * 1_000_000)]
            start = time.process_time()
            program.run(text)
            cells.append((time.process_time() - start) * 1000 / (len(text) / 1000))
        print(f"{name:<14}" + "".join(f"{c:>16.3f}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
