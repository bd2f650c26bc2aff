"""Property tests: compiled queries obey boolean algebra and agree with a slow reference."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from listening.config import Brand
from listening.matching import BrandMatcher
from listening.query import QuerySyntaxError, parse
from listening.query.tokens import words

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "listening-hypothesis")  # not in the repo

VOCAB = ["alpha", "beta", "gamma", "Delta", "US", "us", "@zeta", "#eta", "eta", "alphabet"]
SEPARATORS = [" ", ", ", "-", "! ", "\n", " & "]

texts = st.lists(st.tuples(st.sampled_from(VOCAB), st.sampled_from(SEPARATORS)), max_size=12).map(
    lambda pairs: "".join(w + s for w, s in pairs))
leaves = st.sampled_from([
    "alpha", "beta", "gamma", "delta", "eta", "@zeta", "#eta", "alph*", '"alpha beta"',
    '"beta gam*"', "{US}", "{us}", "us", "zeta"])
positional = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"({p[0]} OR {p[1]})"),
        st.tuples(inner, st.sampled_from(["NEAR", "ONEAR"]), st.integers(0, 3), inner).map(
            lambda p: f"({p[0]} {p[1]}/{p[2]} {p[3]})")),
    max_leaves=4)
queries = st.recursive(
    positional,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"({p[0]} AND {p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} OR {p[1]})"),
        inner.map(lambda q: f"(NOT {q})")),
    max_leaves=6)


@lru_cache(maxsize=4096)
def matcher(query: str) -> BrandMatcher:
    return BrandMatcher([Brand(name="q", query=query)])


def matches(query: str, text: str) -> bool:
    return matcher(query).match(text) == ["q"]


@settings(max_examples=100, deadline=None, database=None)
@given(queries, queries, texts)
def test_and_or_not_are_boolean(a, b, text):
    ma, mb = matches(a, text), matches(b, text)
    assert matches(f"({a}) AND ({b})", text) == (ma and mb)
    assert matches(f"({a}) ({b})", text) == (ma and mb)
    assert matches(f"({a}) OR ({b})", text) == (ma or mb)
    assert matches(f"NOT ({a})", text) == (not ma)
    assert matches(f"NOT ({a} OR {b})", text) == matches(f"(NOT {a}) AND (NOT {b})", text)


@settings(max_examples=40, deadline=None, database=None)
@given(queries, queries, queries, texts)
def test_and_distributes_over_or(a, b, c, text):
    assert matches(f"{a} AND ({b} OR {c})", text) == matches(f"({a} AND {b}) OR ({a} AND {c})", text)


def reference(term: str, text: str) -> list[int]:
    """Where a term starts, by brute force over the words (the documented rules)."""
    found = words(text)
    cased = term.startswith("{")
    body = term.strip("{}\"")
    prefix = body.endswith("*")
    wanted = words(body.rstrip("*"))
    norm = (lambda w: w) if cased else str.lower
    hits = []
    for i in range(len(found) - len(wanted) + 1):
        window = found[i:i + len(wanted)]
        first = window[0]
        if first.startswith("#") and not wanted[0].startswith("#"):
            first = first[1:]  # a word also matches its hashtag
        got = [norm(first), *map(norm, window[1:])]
        want = list(map(norm, wanted))
        if got[:-1] == want[:-1] and (got[-1].startswith(want[-1]) if prefix else got[-1] == want[-1]):
            hits.append(i)
    return hits


@settings(max_examples=150, deadline=None, database=None)
@given(leaves, texts)
def test_terms_agree_with_the_reference(term, text):
    assert matches(term, text) == bool(reference(term, text))


@settings(max_examples=150, deadline=None, database=None)
@given(st.sampled_from(["alpha", "beta", "eta", "US"]), st.sampled_from(["beta", "gamma", "@zeta", "us"]),
       st.integers(0, 3), st.booleans(), texts)
def test_near_agrees_with_the_reference(left, right, distance, ordered, text):
    ls, rs = reference(left, text), reference(right, text)
    gaps = [r - l - 1 for l in ls for r in rs] + ([] if ordered else [l - r - 1 for l in ls for r in rs])
    op = "ONEAR" if ordered else "NEAR"
    assert matches(f"{left} {op}/{distance} {right}", text) == any(0 <= g <= distance for g in gaps)


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(queries, min_size=2, max_size=5), texts)
def test_brands_compiled_together_match_as_if_alone(qs, text):
    together = BrandMatcher([Brand(name=f"b{i}", query=q) for i, q in enumerate(qs)]).match(text)
    assert together == [f"b{i}" for i, q in enumerate(qs) if matches(q, text)]


QUERYISH = st.lists(st.sampled_from(
    ["a", "b", "é", " ", " ", "AND", "OR", "NOT", "NEAR/2", "ONEAR/0", "(", ")", '"', "{", "}", "*",
     "@", "#", ":", "-", "\n", "title:", "source:", "lang:", "and", "NEAR"]), max_size=14).map("".join)


@settings(max_examples=200, deadline=None, database=None)
@given(QUERYISH)
def test_any_input_parses_or_fails_with_a_column(query):
    try:
        tree = parse(query)
    except QuerySyntaxError as err:
        assert 1 <= err.column <= len(query) + 1
        assert "^" in err.pretty()
        return
    assert parse(str(tree)) == tree
    BrandMatcher([Brand(name="q", query=query)]).match("a b ab é", title="a", source="a")
