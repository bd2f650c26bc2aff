"""The tree a brand query parses to: plain frozen dataclasses, printable back to a query.

``str(node)`` gives a canonical, fully parenthesised query that parses to the same tree,
so tests can round-trip and the query tester can show how a query was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

TEXT_FIELDS = ("title", "text")
META_FIELDS = ("source", "lang", "author")
FIELDS = TEXT_FIELDS + META_FIELDS


@dataclass(frozen=True)
class Term:
    """A word, ``"exact phrase"``, ``refund*``, ``{US}``, ``@handle`` or ``#hashtag``."""

    text: str
    phrase: bool = False
    case_sensitive: bool = False
    column: int = field(default=0, compare=False)

    @property
    def wildcard(self) -> bool:
        return self.text.endswith("*")

    @property
    def label(self) -> str:
        """How the term is reported in ``matched_terms``."""
        return self.text if self.case_sensitive else self.text.lower()

    def __str__(self) -> str:
        body = f'"{self.text}"' if self.phrase else self.text
        return "{" + body + "}" if self.case_sensitive else body


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Not:
    item: "Node"

    def __str__(self) -> str:
        return f"(NOT {self.item})"


@dataclass(frozen=True)
class Near:
    """``left NEAR/n right``: at most ``n`` words between them; ``ordered`` for ONEAR."""

    left: "Node"
    right: "Node"
    distance: int
    ordered: bool = False
    column: int = field(default=0, compare=False)

    def __str__(self) -> str:
        op = "ONEAR" if self.ordered else "NEAR"
        return f"({self.left} {op}/{self.distance} {self.right})"


@dataclass(frozen=True)
class Field:
    """``name:item``: a text field to search in, or a mention attribute to compare."""

    name: str
    item: "Node"
    column: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.name}:{self.item}"


Node = Union[Term, And, Or, Not, Near, Field]


def nodes(node: Node) -> Iterator[Node]:
    """``node`` and every node under it, depth first, left to right."""
    yield node
    if isinstance(node, (And, Or)):
        for item in node.items:
            yield from nodes(item)
    elif isinstance(node, Near):
        yield from nodes(node.left)
        yield from nodes(node.right)
    elif isinstance(node, (Not, Field)):
        yield from nodes(node.item)


def terms(node: Node) -> list[Term]:
    """Every term in ``node``, left to right."""
    return [n for n in nodes(node) if isinstance(n, Term)]


def field_names(node: Node) -> set[str]:
    """The names of every ``name:item`` in ``node``."""
    return {n.name for n in nodes(node) if isinstance(n, Field)}
