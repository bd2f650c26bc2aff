"""Compile many brands' queries into one matcher: one Aho-Corasick pass, then small trees.

Every distinct term of every brand becomes a *leaf*. All leaves' word patterns go into
one automaton, run once over a mention's words (and once over its title). The hits --
leaf -> word spans -- then drive each brand's compiled tree, but only for brands that
one of their positive leaves hit (plus the rare brands whose query can match with no
term at all, like ``NOT x`` or ``source:reddit``). So the cost of a mention follows
the number of hits, not the number of terms.

Text is matched on its words (``listening.query.tokens``), folded (lower case, no
accents) and joined by single spaces, so a phrase pattern is plain text and word
boundaries are spaces: a pattern starts with a space (or ``#``), so every hit starts a word.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Callable, Iterable

import ahocorasick

from listening.query.ast import META_FIELDS, And, Field, Near, Node, Not, Or, Term
from listening.query.tokens import fold, folded_text, words

TITLE_OFFSET = 1 << 20  # title words sit far from text words, so NEAR never spans both
SCOPES = {"any": 3, "text": 1, "title": 2}  # bit masks: text = 1, title = 2

Hits = dict[int, list[tuple[int, int]]]  # leaf id -> (first word, last word) spans
Meta = dict[str, str]
Test = Callable[[Hits, Meta], bool]
Spans = Callable[[Hits, Meta], list[tuple[int, int]]]


@dataclass(frozen=True)
class Leaf:
    """One term to find: its lower-case words, whether the last is a prefix, where."""

    words: tuple[str, ...]
    prefix: bool
    cased: tuple[str, ...] | None
    scope: str
    label: str


@dataclass
class Rule:
    """One brand's compiled query."""

    name: str
    test: Test
    positive: frozenset[int]
    exclusions: frozenset[int]
    always: bool  # may match with no term hit at all
    order: int = 0


class Program:
    """All brands' rules over one shared automaton."""

    def __init__(self, queries: Iterable[tuple[str, Node, Iterable[str]]]):
        self._leaves: dict[Leaf, int] = {}
        self.rules: list[Rule] = []
        for name, node, exclusions in queries:
            self._add(name, node, exclusions)
        self._build()

    # -- compiling -------------------------------------------------------------------------

    def _add(self, name: str, node: Node, exclusions: Iterable[str]) -> None:
        positive: set[int] = set()
        test = self._test(node, "any", positive, True)
        excluded = {self._leaf(Term(x, phrase=True), "any") for x in exclusions if words(x)}
        excluded.discard(-1)
        self.rules.append(Rule(name, test, frozenset(positive), frozenset(excluded),
                               _maybe_without_terms(node) is not False, len(self.rules)))

    def _leaf(self, term: Term, scope: str) -> int:
        stem = term.text.rstrip("*")
        found = tuple(words(stem))
        if not found:
            return -1
        leaf = Leaf(tuple(fold(w) for w in found), term.wildcard,
                    found if term.case_sensitive else None, scope, term.label)
        return self._leaves.setdefault(leaf, len(self._leaves))

    def _test(self, node: Node, scope: str, positive: set[int], polarity: bool) -> Test:
        if isinstance(node, Term):
            leaf = self._leaf(node, scope)
            if polarity:
                positive.add(leaf)
            return lambda hits, meta: leaf in hits
        if isinstance(node, (And, Or)):
            # The terms of an AND / OR are tested together, as one set operation.
            ids = frozenset(self._leaf(i, scope) for i in node.items if isinstance(i, Term))
            if polarity:
                positive.update(ids)
            tests = [self._test(i, scope, positive, polarity) for i in node.items if not isinstance(i, Term)]
            if isinstance(node, And):
                return _all(([lambda hits, meta: ids <= hits.keys()] if ids else []) + tests)
            return _any(([lambda hits, meta: not ids.isdisjoint(hits)] if ids else []) + tests)
        if isinstance(node, Not):
            inner = self._test(node.item, scope, positive, not polarity)
            return lambda hits, meta: not inner(hits, meta)
        if isinstance(node, Near):
            spans = self._spans(node, scope, positive, polarity)
            return lambda hits, meta: bool(spans(hits, meta))
        if isinstance(node, Field) and node.name in META_FIELDS:
            return _meta_test(node)
        assert isinstance(node, Field)
        return self._test(node.item, node.name, positive, polarity)

    def _spans(self, node: Node, scope: str, positive: set[int], polarity: bool) -> Spans:
        """Where a positional node (term, OR of them, NEAR) occurs, as word spans."""
        if isinstance(node, Term):
            leaf = self._leaf(node, scope)
            if polarity:
                positive.add(leaf)
            return lambda hits, meta: hits.get(leaf, ())
        if isinstance(node, Or):
            parts = tuple(self._spans(i, scope, positive, polarity) for i in node.items)
            return lambda hits, meta: [s for p in parts for s in p(hits, meta)]
        if isinstance(node, Field):
            return self._spans(node.item, node.name, positive, polarity)
        assert isinstance(node, Near)
        left = self._spans(node.left, scope, positive, polarity)
        right = self._spans(node.right, scope, positive, polarity)
        distance, ordered = node.distance, node.ordered

        def near(hits: Hits, meta: Meta) -> list[tuple[int, int]]:
            lefts = left(hits, meta)
            rights = right(hits, meta) if lefts else ()
            if not rights:
                return []
            # A sweep over the rights sorted by start (and by end, unordered): each left looks
            # up only the rights within ``distance`` words, so cost follows the hits, not
            # lefts x rights (that product took 165 s on a 2 MB page).
            by_start = sorted(range(len(rights)), key=lambda i: rights[i][0])
            starts = [rights[i][0] for i in by_start]
            if not ordered:
                by_end = sorted(range(len(rights)), key=lambda i: rights[i][1])
                ends = [rights[i][1] for i in by_end]
            out = []
            for a, b in lefts:
                found = by_start[bisect_left(starts, b + 1):bisect_right(starts, b + 1 + distance)]
                if not ordered:
                    found = found + by_end[bisect_left(ends, a - 1 - distance):bisect_right(ends, a - 1)]
                for i in sorted(found):  # in the rights' own order, as before
                    c, d = rights[i]
                    out.append((min(a, c), max(b, d)))
            return out
        return near

    def _build(self) -> None:
        """One automaton over every leaf's words; a pattern may serve several leaves."""
        self.labels = {i: leaf.label for leaf, i in self._leaves.items()}
        patterns: dict[str, list] = {}
        for leaf, i in self._leaves.items():
            key = " ".join(leaf.words) + ("" if leaf.prefix else " ")
            patterns.setdefault(key, []).append((i, leaf.cased, leaf.prefix, SCOPES[leaf.scope]))
        self._automaton = ahocorasick.Automaton()
        for key, leaves in patterns.items():
            value = (key.strip(" ").count(" ") + 1, tuple(leaves))
            # A leading space pins every hit to a word start; "#" lets a word find its hashtag.
            self._automaton.add_word(" " + key, (len(key) + 1, 1, *value))
            if key[0] not in "@#":
                self._automaton.add_word("#" + key, (len(key) + 1, 0, *value))
        if patterns:
            self._automaton.make_automaton()
        self._has_title = any(leaf.scope != "text" for leaf in self._leaves)
        by_leaf: dict[int, list[int]] = {}
        for rule in self.rules:
            for leaf in rule.positive:
                by_leaf.setdefault(leaf, []).append(rule.order)
        # Tuples of ints, not lists or Leaf objects: the garbage collector skips them.
        self._by_leaf = {leaf: tuple(orders) for leaf, orders in by_leaf.items()}
        self._always = tuple(r.order for r in self.rules if r.always)
        self._leaf_count = len(self._leaves)
        del self._leaves

    # -- matching --------------------------------------------------------------------------

    def scan(self, text: str, title: str | None = None) -> Hits:
        """Leaf -> spans for ``text`` (and ``title``): the one pass over the words."""
        hits: Hits = {}
        if self._leaf_count:
            self._scan(text, 0, 1, hits)
            if title and self._has_title:
                self._scan(title, TITLE_OFFSET, 2, hits)
        return hits

    def _scan(self, text: str, offset: int, where: int, hits: Hits) -> None:
        found = words(text)
        if not found:
            return
        low = folded_text(found)
        spaces = [i for i, ch in enumerate(low) if ch == " "]  # word starts, for a bisect per hit
        for end, (length, skip, n_words, leaves) in self._automaton.iter(low):
            first = bisect_left(spaces, end - length + 1 + skip) - 1  # words before the hit
            span = (first + offset, first + n_words - 1 + offset)
            for leaf, cased, prefix, scope in leaves:
                if not scope & where:
                    continue
                if cased is not None and not _same_case(found[first:first + n_words], cased, prefix):
                    continue
                spans = hits.get(leaf)
                if spans is None:
                    hits[leaf] = [span]
                elif spans[-1] != span:
                    spans.append(span)

    def run(self, text: str, **fields: str | None) -> dict[str, list[str]]:
        """Brand -> matched term labels, in brand order."""
        return {name: labels for name, ok, labels in self._evaluate(text, fields) if ok}

    def explain(self, text: str, **fields: str | None) -> dict[str, tuple[bool, list[str]]]:
        """Each brand that a positive term of its query hit: whether it matched, and those terms."""
        return {name: (ok, labels) for name, ok, labels in self._evaluate(text, fields)}

    def _evaluate(self, text: str, fields: dict) -> list[tuple[str, bool, list[str]]]:
        hits = self.scan(text, fields.get("title"))
        candidates: dict[int, list[str]] = {}  # rule order -> labels of its positive leaves hit
        by_leaf, labels = self._by_leaf, self.labels
        for leaf in hits:
            for order in by_leaf.get(leaf, ()):
                candidates.setdefault(order, []).append(labels[leaf])
        for order in self._always:
            candidates.setdefault(order, [])
        if not candidates:
            return []
        meta = {k: _norm_meta(k, v) for k, v in fields.items() if v and k in META_FIELDS} if fields else {}
        out = []
        for order in sorted(candidates) if len(candidates) > 1 else candidates:
            rule, seen, found = self.rules[order], hits, candidates[order]
            if rule.exclusions and not rule.exclusions.isdisjoint(hits):
                seen = _without(hits, rule.exclusions)
                found = [labels[leaf] for leaf in seen if leaf in rule.positive]
            out.append((rule.name, rule.test(seen, meta), sorted(set(found))))
        return out


def _all(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda hits, meta: a(hits, meta) and b(hits, meta)
    return lambda hits, meta: all(t(hits, meta) for t in tests)


def _any(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda hits, meta: a(hits, meta) or b(hits, meta)
    return lambda hits, meta: any(t(hits, meta) for t in tests)


def _same_case(found: list[str], cased: tuple[str, ...], prefix: bool) -> bool:
    if len(found) < len(cased):
        return False
    first = found[0]
    if first[:1] == "#" and cased[0][:1] != "#":
        found = [first[1:], *found[1:]]
    if prefix:
        return list(found[:-1]) == list(cased[:-1]) and found[-1].startswith(cased[-1])
    return list(found) == list(cased)


def _without(hits: Hits, exclusions: frozenset[int]) -> Hits:
    """Hits minus every span that overlaps an exclusion phrase (``United States``)."""
    vetoed = [s for leaf in exclusions for s in hits.get(leaf, ())]
    out: Hits = {}
    for leaf, spans in hits.items():
        kept = [s for s in spans if not any(s[0] <= b and a <= s[1] for a, b in vetoed)]
        if kept:
            out[leaf] = kept
    return out


def _norm_meta(name: str, value: str | None) -> str:
    value = (value or "").strip().lower()
    if name == "lang":
        return value.replace("_", "-")
    return value.lstrip("@") if name == "author" else value


def _meta_test(node: Field) -> Test:
    """``source:``, ``lang:``, ``author:``: equal (case-insensitive), or a prefix with ``*``."""
    name = node.name
    items = node.item.items if isinstance(node.item, Or) else (node.item,)
    wanted = []
    for term in items:
        assert isinstance(term, Term)
        value = _norm_meta(name, term.text.rstrip("*"))
        wanted.append((value, term.wildcard))

    def test(hits: Hits, meta: Meta) -> bool:
        have = meta.get(name, "")
        if not have:
            return False
        return any(have == v or (prefix and have.startswith(v))
                   or (name == "lang" and have.split("-")[0] == v) for v, prefix in wanted)
    return test


def _maybe_without_terms(node: Node) -> bool | None:
    """Could the query be true with no term found? Kleene logic; fields are unknown (None)."""
    if isinstance(node, (Term, Near)):
        return False
    if isinstance(node, Field):
        return None if node.name in META_FIELDS else _maybe_without_terms(node.item)
    if isinstance(node, Not):
        inner = _maybe_without_terms(node.item)
        return None if inner is None else not inner
    values = [_maybe_without_terms(i) for i in node.items]
    if isinstance(node, And):
        return False if False in values else (None if None in values else True)
    return True if True in values else (None if None in values else False)
