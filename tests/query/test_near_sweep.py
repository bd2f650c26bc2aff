"""NEAR by a sweep over sorted positions matches exactly when the definition says (some left
and right within the distance, either order unless ONEAR), on real tweets one by one and on
all of them joined into one long page."""

from __future__ import annotations

import csv
from itertools import islice

import pytest

from listening.query import parse
from listening.query.compiler import Program
from tests.conftest import TWEETS_CSV


@pytest.fixture(scope="module")
def tweets() -> list[str]:
    with open(TWEETS_CSV, newline="", encoding="utf-8") as handle:
        return [row["text"] for row in islice(csv.DictReader(handle), 3000)]


def defined(parts: Program, text: str, distance: int, ordered: bool) -> bool:
    """The definition, pair by pair (quadratic: fine for a test)."""
    hits = parts.scan(text)
    lefts, rights = ([s for leaf in rule.positive for s in hits.get(leaf, ())] for rule in parts.rules)
    return any(0 <= c - b - 1 <= distance or (not ordered and 0 <= a - d - 1 <= distance)
               for a, b in lefts for c, d in rights)


@pytest.mark.parametrize(("left", "right", "distance", "ordered"), [
    ("united", "flight*", 5, False), ("flight", "delayed", 3, True), ('"customer service"', "hold", 8, False),
    ("(late OR delayed)", "(bag OR luggage)", 10, False)])
def test_the_sweep_matches_the_definition(tweets, left, right, distance, ordered):
    near = Program([("x", parse(f"{left} {'ONEAR' if ordered else 'NEAR'}/{distance} {right}"), ())])
    parts = Program([("l", parse(left), ()), ("r", parse(right), ())])
    got = [bool(near.run(t)) for t in tweets]
    assert got == [defined(parts, t, distance, ordered) for t in tweets]
    assert any(got) and not all(got)
    page = "\n".join(tweets)
    assert bool(near.run(page)) == defined(parts, page, distance, ordered)
