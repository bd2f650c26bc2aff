"""Parse a brand query into a tree (lark, LALR) with errors that point at a column.

Precedence, tightest first: field filters, ``NEAR/n``/``ONEAR/n``, ``NOT``, ``AND``
(also written as a space), ``OR``. Operators are upper case; a lower-case ``and`` /
``or`` / ``not`` / ``near`` is refused rather than silently searched as a word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from listening.errors import QuerySyntaxError  # noqa: F401 - re-exported
from listening.query.ast import FIELDS, META_FIELDS, And, Field, Near, Node, Not, Or, Term
from listening.query.tokens import words

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND? not_expr)*
?not_expr: NOT not_expr | near_expr
?near_expr: atom (PROX atom)*
?atom: TERM | PHRASE | CASED | field | "(" or_expr ")"
field: FIELD atom

OR: "OR"
AND: "AND"
NOT: "NOT"
PROX.3: /O?NEAR\/\d+(?![^\s()"{}])/
FIELD.2: /[A-Za-z_]+:/
PHRASE: /"[^"]*"/
CASED: /\{[^{}]*\}/
TERM: /[^\s()"{}]+/
%ignore /\s+/
"""

FRIENDLY = {
    "TERM": "a word", "PHRASE": 'a "phrase"', "CASED": "a {Cased} term", "FIELD": "a field:",
    "LPAR": "(", "RPAR": ")", "OR": "OR", "AND": "AND", "NOT": "NOT", "PROX": "NEAR/n",
    "$END": "the end of the query",
}
OPERATOR_LOOKALIKES = {"and", "or", "not", "near", "onear"}


def parse(query: str) -> Node:
    """Parse ``query``; raise QuerySyntaxError with the column of the first mistake."""
    if not query or not query.strip():
        raise QuerySyntaxError("the query is empty", 1, query or "")
    _check_brackets(query)
    try:
        tree = _parser().parse(query)
    except QuerySyntaxError as exc:  # raised while building the tree
        raise QuerySyntaxError(exc.reason, exc.column, query) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, QuerySyntaxError):
            raise QuerySyntaxError(exc.orig_exc.reason, exc.orig_exc.column, query) from None
        raise
    except UnexpectedInput as exc:
        raise _explain(exc, query) from None
    try:
        _check(tree)
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(exc.reason, exc.column, query) from None
    return tree


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", transformer=_Build(), maybe_placeholders=False)


class _Build(Transformer):
    """Tokens and rules to ``listening.query.ast`` nodes."""

    def TERM(self, tok: Token) -> Term:
        text = str(tok)
        bare = text.rstrip("*").lower()
        if text in ("OR", "AND") or re.fullmatch(r"O?NEAR/\d+", text):
            raise QuerySyntaxError(f"{text} needs a word or phrase on each side", tok.start_pos + 1)
        if bare in OPERATOR_LOOKALIKES or bare.startswith(("near/", "onear/")):
            raise QuerySyntaxError(
                f"{text!r} looks like an operator: write {bare.split('/')[0].upper()}"
                + ("/n with a number" if "near" in bare else "")
                + f', or quote it ("{text}") to search for the word', tok.start_pos + 1)
        if text.startswith("-") and len(text) > 1:
            raise QuerySyntaxError(f"write NOT {text[1:]} to exclude a word", tok.start_pos + 1)
        return _term(text, tok.start_pos + 1)

    def PHRASE(self, tok: Token) -> Term:
        return _term(str(tok)[1:-1], tok.start_pos + 1, phrase=True)

    def CASED(self, tok: Token) -> Term:
        inner = str(tok)[1:-1].strip()
        phrase = inner.startswith('"') and inner.endswith('"') and len(inner) > 1
        if phrase:
            inner = inner[1:-1]
        return _term(inner, tok.start_pos + 1, phrase=phrase or " " in inner.strip(), case_sensitive=True)

    def or_expr(self, items: list) -> Node:
        return Or(_flatten(Or, items))

    def and_expr(self, items: list) -> Node:
        return And(_flatten(And, items))

    def not_expr(self, items: list) -> Node:
        return Not(items[1])

    def near_expr(self, items: list) -> Node:
        node = items[0]
        for op, right in zip(items[1::2], items[2::2]):
            kind, distance = str(op).split("/")
            node = Near(node, right, int(distance), ordered=kind == "ONEAR", column=op.start_pos + 1)
        return node

    def field(self, items: list) -> Node:
        tok, item = items
        name = str(tok)[:-1].lower()
        if name not in FIELDS:
            raise QuerySyntaxError(f"unknown field {name!r}: use one of {', '.join(FIELDS)}", tok.start_pos + 1)
        return Field(name, item, column=tok.start_pos + 1)


def _flatten(kind: type, items: list) -> tuple:
    out: list = []
    for item in items:
        if isinstance(item, Token):
            continue
        out.extend(item.items if isinstance(item, kind) else (item,))
    return tuple(out)


def _term(text: str, column: int, *, phrase: bool = False, case_sensitive: bool = False) -> Term:
    body = text.strip()
    shown = '""' if phrase and not body else repr(text)
    if not body:
        raise QuerySyntaxError(f"{shown} is empty: nothing to search for", column)
    star = body.find("*")
    if star != -1 and star != len(body) - 1:
        lead = len(text) - len(text.lstrip()) + (1 if phrase else 0)
        raise QuerySyntaxError("a wildcard * may only end a word (refund*)", column + lead + star)
    stem = body.rstrip("*")
    if not words(stem):
        raise QuerySyntaxError(f"{shown} has no letters or digits to search for", column)
    if star != -1 and (not re.search(r"\w$", stem) or len(words(stem)[-1].lstrip("@#")) < 2):
        raise QuerySyntaxError("a wildcard needs at least two letters or digits before it (ref*)", column)
    return Term(body, phrase=phrase, case_sensitive=case_sensitive, column=column)


def _check(node: Node, in_field: str | None = None) -> None:
    """What the grammar cannot say: NEAR takes words, fields hold the right things."""
    if isinstance(node, (And, Or)):
        for item in node.items:
            _check(item, in_field)
    elif isinstance(node, Not):
        _check(node.item, in_field)
    elif isinstance(node, Near):
        for side in (node.left, node.right):
            if not _positional(side):
                op = ("ONEAR" if node.ordered else "NEAR") + f"/{node.distance}"
                raise QuerySyntaxError(
                    f"{op} joins words, phrases or (a OR b) groups, not AND/NOT or source:/lang:/author:",
                    node.column)
            _check(side, in_field)
    elif isinstance(node, Field):
        if in_field:
            raise QuerySyntaxError(f"{node.name}: cannot sit inside {in_field}:", node.column)
        if node.name in META_FIELDS and not _values(node.item):
            raise QuerySyntaxError(
                f"{node.name}: takes a value, a \"quoted value\" or (a OR b), e.g. {node.name}:reddit",
                node.column)
        _check(node.item, node.name)


def _positional(node: Node) -> bool:
    if isinstance(node, Term):
        return True
    if isinstance(node, Or):
        return all(_positional(item) for item in node.items)
    if isinstance(node, Near):
        return True
    if isinstance(node, Field):
        return node.name not in META_FIELDS and _positional(node.item)
    return False


def _values(node: Node) -> bool:
    if isinstance(node, Term):
        return True
    return isinstance(node, Or) and all(isinstance(item, Term) for item in node.items)


def _check_brackets(query: str) -> None:
    """Unbalanced ( ) { } and unclosed quotes, reported where they open."""
    opened: list[tuple[str, int]] = []
    i = 0
    while i < len(query):
        ch = query[i]
        if ch in '"{':
            close = query.find('"' if ch == '"' else "}", i + 1)
            if close == -1:
                what = "quote" if ch == '"' else "{"
                raise QuerySyntaxError(f"this {what} is never closed", i + 1, query)
            i = close + 1
            continue
        if ch == "(":
            opened.append((ch, i + 1))
        elif ch == ")":
            if not opened:
                raise QuerySyntaxError("this ) closes nothing", i + 1, query)
            opened.pop()
        elif ch == "}":
            raise QuerySyntaxError("this } closes nothing", i + 1, query)
        i += 1
    if opened:
        raise QuerySyntaxError("this ( is never closed", opened[-1][1], query)


def _explain(exc: UnexpectedInput, query: str) -> QuerySyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        return QuerySyntaxError(f"unexpected {query[exc.pos_in_stream]!r}", exc.pos_in_stream + 1, query)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = getattr(exc, "expected", None) or getattr(exc, "accepts", None) or ()
        return QuerySyntaxError(f"the query ends too early: expected {_expected(expected)}",
                                len(query.rstrip()) + 1, query)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    if tok.type == "RPAR":
        return QuerySyntaxError("empty ( ) or an operator with nothing after it", tok.start_pos + 1, query)
    return QuerySyntaxError(f"unexpected {str(tok)!r}: expected {_expected(exc.accepts or exc.expected)}",
                            tok.start_pos + 1, query)


def _expected(names) -> str:
    order = list(FRIENDLY)
    shown = sorted({n for n in names if n in FRIENDLY}, key=order.index)
    return ", ".join(FRIENDLY[n] for n in shown[:4]) or "a word"
