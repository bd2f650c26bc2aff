"""The query parser: every operator, precedence, and errors that point at the right column."""

from __future__ import annotations

import pytest

from listening.config import ConfigError, parse_config
from listening.query import And, Field, Near, Not, Or, QuerySyntaxError, Term, parse


@pytest.mark.parametrize("query, tree", [
    ("united", Term("united")),
    ("united airlines", And((Term("united"), Term("airlines")))),
    ("united AND airlines", And((Term("united"), Term("airlines")))),
    ("a OR b", Or((Term("a"), Term("b")))),
    ("NOT a", Not(Term("a"))),
    ("a NOT b", And((Term("a"), Not(Term("b"))))),
    ('"united airlines"', Term("united airlines", phrase=True)),
    ("refund*", Term("refund*")),
    ('"united air*"', Term("united air*", phrase=True)),
    ("{US}", Term("US", case_sensitive=True)),
    ('{"US Airways"}', Term("US Airways", phrase=True, case_sensitive=True)),
    ("{US Air}", Term("US Air", phrase=True, case_sensitive=True)),
    ("@united", Term("@united")),
    ("#jetblue", Term("#jetblue")),
    ("a NEAR/3 b", Near(Term("a"), Term("b"), 3)),
    ("a ONEAR/0 b", Near(Term("a"), Term("b"), 0, ordered=True)),
    ("(a OR b) NEAR/2 c", Near(Or((Term("a"), Term("b"))), Term("c"), 2)),
    ("a NEAR/2 b ONEAR/1 c", Near(Near(Term("a"), Term("b"), 2), Term("c"), 1, ordered=True)),
    ("source:reddit", Field("source", Term("reddit"))),
    ("lang:en", Field("lang", Term("en"))),
    ('author:"Jane Doe"', Field("author", Term("Jane Doe", phrase=True))),
    ("source:(reddit OR hn*)", Field("source", Or((Term("reddit"), Term("hn*"))))),
    ("title:(late OR delay*)", Field("title", Or((Term("late"), Term("delay*"))))),
    ("text:refund", Field("text", Term("refund"))),
    ("TITLE:x", Field("title", Term("x"))),
    ("NEARBY ORDER ANDROID NOTE", And(tuple(Term(w) for w in ("NEARBY", "ORDER", "ANDROID", "NOTE")))),
    ('"and"', Term("and", phrase=True)),
    ("10:30", Term("10:30")),
])
def test_each_operator_parses(query, tree):
    assert parse(query) == tree


@pytest.mark.parametrize("query, shown", [
    # OR binds loosest, then AND (or a space), then NOT, then NEAR, then fields.
    ("a OR b AND c", "(a OR (b AND c))"),
    ("a AND b OR c", "((a AND b) OR c)"),
    ("NOT a AND b", "((NOT a) AND b)"),
    ("NOT a NEAR/1 b", "(NOT (a NEAR/1 b))"),
    ("NOT NOT a", "(NOT (NOT a))"),
    ("a b OR c d", "((a AND b) OR (c AND d))"),
    ("(a OR b) (c OR d)", "((a OR b) AND (c OR d))"),
    ("title:a b", "(title:a AND b)"),
    ("a OR (b OR c)", "(a OR b OR c)"),
])
def test_precedence(query, shown):
    assert str(parse(query)) == shown


@pytest.mark.parametrize("query", [
    '(@united OR "united airlines" OR {UA}) NEAR/3 (late* OR delay*) NOT source:reddit',
    'title:("big news" OR launch*) lang:en author:(bob OR "Jane Doe")',
    "a ONEAR/0 b NEAR/4 (c OR d) OR NOT #e",
])
def test_printing_round_trips(query):
    tree = parse(query)
    assert parse(str(tree)) == tree


@pytest.mark.parametrize("query, column, says", [
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("united AND", 11, "ends too early"),
    ("united OR", 10, "ends too early"),
    ("united NOT", 11, "ends too early"),
    ("united NEAR/3", 14, "ends too early"),
    ("OR united", 1, "OR needs"),
    ("AND united", 1, "AND needs"),
    ("a OR OR b", 6, "OR needs"),
    ("NEAR/2 b", 1, "NEAR/2 needs"),
    ("(a OR b", 1, "( is never closed"),
    ("a OR (b AND (c)", 6, "( is never closed"),
    ("a OR b)", 7, ") closes nothing"),
    ("()", 2, "empty ( )"),
    ('"united airlines', 1, "quote is never closed"),
    ('a "b" "c', 7, "quote is never closed"),
    ("{US", 1, "{ is never closed"),
    ("US}", 3, "} closes nothing"),
    ("{}", 1, "empty"),
    ('""', 1, "empty"),
    ("a and b", 3, "write AND"),
    ("a or b", 3, "write OR"),
    ("not a", 1, "write NOT"),
    ("a NEAR b", 3, "NEAR/n"),
    ("a near/2 b", 3, "NEAR/n"),
    ("a -b", 3, "NOT b"),
    ("ref*und", 4, "wildcard * may only end"),
    ('"abc de*f"', 8, "wildcard * may only end"),
    ("r*", 1, "at least two"),
    ("!!!", 1, "no letters"),
    ("foo:bar", 1, "unknown field 'foo'"),
    ("a NEAR/3 (b AND c)", 3, "NEAR/3 joins"),
    ("(NOT a) ONEAR/1 b", 9, "ONEAR/1 joins"),
    ("a NEAR/1 source:x", 3, "NEAR/1 joins"),
    ("source:(a AND b)", 1, "source: takes a value"),
    ("lang:NOT", 6, "looks like an operator"),
    ("title:source:x", 7, "cannot sit inside title:"),
    ("united ^", 8, "no letters"),
])
def test_errors_point_at_the_column(query, column, says):
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    err = caught.value
    assert err.column == column, err.pretty()
    assert says in err.reason, err.pretty()
    assert str(err).startswith(f"column {column}: ")
    assert err.pretty().splitlines()[1].index("^") == column - 1


def test_a_bad_query_fails_config_validation_with_its_column():
    raw = {"brands": [{"name": "United", "terms": ["United"]},
                      {"name": "Delta", "query": "@delta AND (late OR"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert "brands.1.query" in str(caught.value)
    assert "column 12: this ( is never closed" in str(caught.value)


def test_a_good_query_passes_config_validation():
    config = parse_config({"brands": [{"name": "Delta", "query": "@delta OR (delta NEAR/3 flight*)"}]})
    assert config.brands[0].query == "@delta OR (delta NEAR/3 flight*)"


def test_columns_count_the_whole_query_when_it_has_several_lines():
    query = "@united OR\n(late AND"
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.column == 12
    assert caught.value.pretty() == "(late AND\n^ this ( is never closed"
    with pytest.raises(QuerySyntaxError) as caught:
        parse('a OR\n  "b  c*d"')
    assert caught.value.column == 13 and caught.value.pretty().splitlines()[1] == "       ^ a wildcard * may only end a word (refund*)"
