"""How brand matching scales with the number of query terms: mentions/s at 10 .. 10,000 terms.

    .venv/bin/python bench/matching.py [--rounds 3] [--corpus-words 0.1]

Texts: the shared airline tweets. Brands: the six airlines (their handles and names: the
10-term case), plus generated brands whose queries use every operator (phrases,
wildcards, NEAR, NOT, case-sensitive terms, hashtags) until the terms add up to N.
Generated terms are made-up brand names, except a share (``--corpus-words``) drawn from
the tweets' own vocabulary, so that bigger configs also mean more hits, as in life.
Rates are per CPU second (best of several passes, sizes interleaved), so that other
jobs on a shared machine disturb them less.
Target (issue 11): 10,000 terms no slower than 1.5x the 10-term case.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listening.config import Brand  # noqa: E402
from listening.matching import BrandMatcher  # noqa: E402
from listening.query import parse  # noqa: E402
from listening.query.ast import terms  # noqa: E402
from listening.query.tokens import words  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LISTENING_SHARED", ROOT.parent / "shared"))
TWEETS = SHARED / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"
AIRLINES = {
    "United": '@united OR "United Airlines"',
    "US Airways": '@USAirways OR "US Airways"',
    "American": '@AmericanAir OR "American Airlines"',
    "Southwest": "@SouthwestAir",
    "JetBlue": "@JetBlue OR JetBlue",
    "Virgin America": "@VirginAmerica",
}
SYLLABLES = "ka lo mi ne ru sa ti vo ze qua bri sto plen dor fex gah jum wix yol".split()


def brands_with(n_terms: int, vocabulary: list[str], share: float, rng: random.Random) -> list[Brand]:
    """The six airlines plus generated brands, ``n_terms`` terms in all."""
    brands = [Brand(name=name, query=q) for name, q in AIRLINES.items()]
    left = n_terms - sum(len(terms(parse(b.query))) for b in brands)
    i = 0
    while left > 0:
        size = min(left, 50)
        brands.append(Brand(name=f"Brand {i}", query=_query(size, vocabulary, share, rng)))
        left -= size
        i += 1
    return brands


def _query(size: int, vocabulary: list[str], share: float, rng: random.Random) -> str:
    """A query of exactly ``size`` terms: OR-ed names, a NEAR clause and a NOT clause."""
    def term() -> str:
        if rng.random() < share:
            return rng.choice(vocabulary)
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        kind = rng.random()
        if kind < 0.15:
            return f'"{name} {"".join(rng.choice(SYLLABLES) for _ in range(2))}"'
        if kind < 0.25:
            return name + "*"
        if kind < 0.30:
            return "{" + name.capitalize() + "}"
        if kind < 0.40:
            return rng.choice("@#") + name
        return name
    if size < 5:
        return " OR ".join(term() for _ in range(size))
    names = " OR ".join(term() for _ in range(size - 4))
    return f"({names} OR ({term()} NEAR/3 {term()})) NOT ({term()} OR {term()})"


def load_texts() -> list[str]:
    with open(TWEETS, encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per size; the best counts")
    parser.add_argument("--corpus-words", type=float, default=0.1,
                        help="share of generated terms that are words of the tweets")
    parser.add_argument("--sizes", default="10,100,1000,10000")
    args = parser.parse_args()
    texts = load_texts()
    vocabulary = sorted({w.lower() for t in texts for w in words(t) if w.isalpha() and len(w) > 3})
    print(f"{len(texts)} tweets, {len(vocabulary)} distinct words; best of {args.rounds} passes")
    for share in sorted({0.0, args.corpus_words}):
        print(f"\ngenerated terms: {share:.0%} words of the tweets, the rest made-up names")
        print(f"{'terms':>7} {'brands':>7} {'compile s':>10} {'mentions/s':>11} {'vs 10':>6} {'matches':>8}")
        sizes = [int(n) for n in args.sizes.split(",")]
        setups = [setup(n, vocabulary, share) for n in sizes]
        best = [float("inf")] * len(sizes)
        for _ in range(args.rounds):  # sizes interleaved, so a busy moment hits them all
            for i, (matcher, *_rest) in enumerate(setups):
                gc.collect()  # else a full collection lands on the same size every round
                started = time.process_time()  # CPU time: other jobs on the machine count less
                found = [matcher.matched_terms(t) for t in texts]
                best[i] = min(best[i], time.process_time() - started)
                setups[i] = (matcher, *_rest[:2], sum(len(f) for f in found))
        for (matcher, counted, compiled, matches), seconds in zip(setups, best):
            rate = len(texts) / seconds
            print(f"{counted:>7} {len(matcher.brands):>7} {compiled:>10.2f} {rate:>11,.0f} "
                  f"{best[0] and seconds / best[0]:>6.2f}x {matches:>8}")


def setup(n: int, vocabulary: list[str], share: float) -> tuple[BrandMatcher, int, float, int]:
    """A matcher over ``n`` terms, its term count and its compile time."""
    brands = brands_with(n, vocabulary, share, random.Random(n))
    counted = sum(len(terms(parse(b.query))) for b in brands if b.query)
    started = time.perf_counter()
    matcher = BrandMatcher(brands)
    return matcher, counted, time.perf_counter() - started, 0

if __name__ == "__main__":
    main()
