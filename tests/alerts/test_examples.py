"""Near-duplicate folding and busy authors on crafted inputs: the airline tweets hold no
retweets, so copies are made here from real tweet texts (a retweet prefix, a link, case)."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

from listening.alerts.examples import cover, stories
from tests.conftest import TWEETS_CSV


def real_texts(n: int) -> list[str]:
    with TWEETS_CSV.open(encoding="utf-8") as f:
        rows = [r["text"] for r in csv.DictReader(f) if "Cancelled" in r["text"]]
    return rows[:n]


def test_retweets_and_copies_fold_into_one_example_with_a_count():
    a, b = real_texts(2)
    copies = [a, f"RT @someone: {a}", a.upper(), f"{a} https://t.co/x", b]
    when = datetime(2015, 2, 22, tzinfo=timezone.utc)
    mentions = [{"_id": i, "text": t, "published_at": when} for i, t in enumerate(copies)]
    assert [len(s) for s in stories(mentions)] == [4, 1]
    picks = cover(mentions, ["cancelled"], drop=set(), limit=5)
    assert [p["copies"] for p in picks] == [4, 1]
