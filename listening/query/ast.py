"""The tree a brand query parses to: plain frozen dataclasses, printable back to a query.

``str(node)`` gives a canonical, fully parenthesised query that parses to the same tree,
so tests can round-trip and the query tester can show how a query was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

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


def terms(node: Node) -> list[Term]:
    """Every term in ``node``, left to right."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, (And, Or)):
        return [t for item in node.items for t in terms(item)]
    if isinstance(node, Near):
        return terms(node.left) + terms(node.right)
    return terms(node.item)


def field_names(node: Node) -> set[str]:
    """The names of every ``name:item`` in ``node``."""
    if isinstance(node, Term):
        return set()
    if isinstance(node, (And, Or)):
        return set().union(*(field_names(item) for item in node.items))
    if isinstance(node, Near):
        return field_names(node.left) | field_names(node.right)
    return ({node.name} if isinstance(node, Field) else set()) | field_names(node.item)
