"""Which customer issues a mention raises, and which department owns each.

Rules first, so it works with no labelled data: each issue of the taxonomy (the
config's ``issues:``, else the built-in ``taxonomy.yaml``) has phrases (looked up as
token n-grams), ``near`` rules (a word of one list within a few words of a word of
another: fast, and enough for "bag ... broken") and regex patterns, all on normalised
text. A mention can raise several issues; they come
back with the best-evidenced (most phrase hits) first, ties in taxonomy order (most
specific first), so the first is the main one. Issues are
topics, not verdicts: "thanks for sorting my refund" raises Billing and refunds too,
and alert rules combine issue with sentiment.

    >>> classify("My bag was lost and the flight delayed 3 hours")
    ['Lost item', 'Delay']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from listening.tagging.sentiment import normalise

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")
CARE_DEPARTMENTS = ("Customer Care", "Customer Service", "Support")
MAX_CHARS = 20_000  # issues are raised early; regexes on 100 KB texts would only cost time
# The taxonomy's phrases are English: they run on English text and on text too short to tell
# (mostly English here), never on a text detected as another language.
RULE_LANGS = ("en",)


MAX_PHRASE_WORDS = 4
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


def has_rules(lang: str | None) -> bool:
    """Whether the issue rules may read text of ``lang`` (None: undetermined)."""
    return lang is None or lang in RULE_LANGS


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; phrases and texts are tokenised alike."""
    return _TOKEN.findall(text.lower())


# First word of every multi-word phrase any rule or intent knows -> its longest phrase.
# Only runs that start with such a word become n-grams, which keeps indexing cheap.
_PHRASE_STARTS: dict[str, int] = {}
_PHRASE_PAIRS: set[tuple[str, str]] = set()  # their first two words


def register_phrases(phrases: Iterable[str]) -> frozenset[str]:
    """Make multi-word phrases findable by ``ngrams``; return them as a frozenset."""
    phrases = frozenset(phrases)
    for phrase in phrases:
        words = phrase.split(" ")
        if len(words) > 1:
            _PHRASE_STARTS[words[0]] = min(MAX_PHRASE_WORDS,
                                           max(len(words), _PHRASE_STARTS.get(words[0], 0)))
            _PHRASE_PAIRS.add((words[0], words[1]))
    return phrases


def ngrams(words: Sequence[str]) -> set[str]:
    """The words, and every run of words that starts a registered phrase, space-joined:
    phrase lookup is then a set lookup."""
    grams = set(words)
    starts, pairs = _PHRASE_STARTS, _PHRASE_PAIRS
    count = len(words)
    for i, pair in enumerate(zip(words, words[1:])):
        if pair in pairs:
            for n in range(2, min(starts[pair[0]], count - i) + 1):
                grams.add(" ".join(words[i:i + n]))
    return grams


class TextIndex:
    """A normalised text with its tokens, n-grams and token positions, built once and
    shared by the issue rules, intent and the learned model's rule features."""

    __slots__ = ("text", "tokens", "grams", "_positions")

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokens(text)
        self.grams = ngrams(self.tokens)
        self._positions: dict[str, list[int]] | None = None

    def positions(self, words: frozenset[str]) -> list[int]:
        """Where any of ``words`` occurs."""
        present = words & self.grams
        if not present:
            return []
        if self._positions is None:
            self._positions = {}
            for i, token in enumerate(self.tokens):
                self._positions.setdefault(token, []).append(i)
        return [i for word in present for i in self._positions.get(word, ())]


@dataclass(frozen=True)
class Near:
    """A word of ``first`` within ``within`` words of a word of ``second``, either order."""

    first: frozenset[str]
    second: frozenset[str]
    within: int = 6

    def matches(self, index: TextIndex) -> bool:
        if self.first.isdisjoint(index.grams) or self.second.isdisjoint(index.grams):
            return False
        left = index.positions(self.first)
        right = index.positions(self.second)
        return any(abs(i - j) <= self.within for i in left for j in right)


@dataclass(frozen=True)
class IssueRule:
    """One issue: its name, the departments that may own it (best first), its matchers."""

    name: str
    departments: tuple[str, ...]
    phrases: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern, ...] = field(default=(), compare=False)
    weight: float = 1.0
    near: tuple[Near, ...] = ()

    def hits(self, index: TextIndex) -> int:
        """How many of this issue's phrases, near rules and patterns the text contains."""
        found = len(self.phrases & index.grams)
        for near in self.near:
            found += near.matches(index)
        for pattern in self.patterns:
            found += pattern.search(index.text) is not None
        return found

    def evidence(self, index: TextIndex) -> float:
        """Weighted hits: what orders the issues of a mention."""
        return self.hits(index) * self.weight


def compile_rule(name: str, departments: Sequence[str], phrases: Sequence[str] = (),
                 patterns: Sequence[str] = (), weight: float = 1.0,
                 near: Sequence[dict] = ()) -> IssueRule:
    """An IssueRule: phrases as token n-grams, patterns as case-insensitive regexes."""
    grams = register_phrases(" ".join(tokens(p)) for p in phrases if tokens(p))
    nears = tuple(Near(register_phrases(" ".join(tokens(w)) for w in n["words"]),
                       register_phrases(" ".join(tokens(w)) for w in n["near"]),
                       int(n.get("within", 6)))
                  for n in near)
    try:
        compiled = tuple(re.compile(p, re.I) for p in patterns)
    except re.error as exc:
        raise ValueError(f"issue {name!r}: bad pattern {exc.pattern!r}: {exc}") from exc
    return IssueRule(name, tuple(departments), grams, compiled, float(weight), nears)


@lru_cache(maxsize=1)
def builtin_rules() -> tuple[IssueRule, ...]:
    """The built-in taxonomy for service businesses."""
    data = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    return tuple(compile_rule(i["name"], i.get("departments") or [], i.get("phrases") or [],
                              i.get("patterns") or [], i.get("weight", 1.0), i.get("near") or [])
                 for i in data["issues"])


@lru_cache(maxsize=1)
def label_sets() -> dict[str, dict[str, str]]:
    """Per labelled data set: our issue name -> the set's label for it (``taxonomy.yaml``)."""
    data = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    return {name: dict(mapping) for name, mapping in (data.get("label_sets") or {}).items()}


@lru_cache(maxsize=8)
def _fixes(label_set: str) -> tuple[re.Pattern, dict[str, str]] | None:
    data = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    fixes = (data.get("text_fixes") or {}).get(label_set)
    if not fixes:
        return None
    return re.compile("|".join(map(re.escape, sorted(fixes, key=len, reverse=True)))), dict(fixes)


def fix_text(text: str, label_set: str) -> str:
    """A labelled set's text with its curators' edits undone (``taxonomy.yaml``'s text_fixes)."""
    fixes = _fixes(label_set)
    if fixes is None or not isinstance(text, str):
        return text
    pattern, words = fixes
    return pattern.sub(lambda m: words[m.group(0)], text)


def issue_for_label(label: str) -> str | None:
    """Our issue for a data set's label (the first issue listed for it), or None."""
    for mapping in label_sets().values():
        for issue, name in mapping.items():
            if name == label:
                return issue
    return None


def rules_for(config=None) -> tuple[IssueRule, ...]:
    """The config's taxonomy when it has one, else the built-in one."""
    if config is None or not config.issues:
        return builtin_rules()
    return _config_rules(tuple((i.name, i.department, tuple(i.phrases), tuple(i.patterns))
                               for i in config.issues))


@lru_cache(maxsize=8)
def _config_rules(issues: tuple) -> tuple[IssueRule, ...]:
    return tuple(compile_rule(name, [department], phrases, patterns)
                 for name, department, phrases, patterns in issues)


def builtin_names() -> list[str]:
    return [rule.name for rule in builtin_rules()]


def department_for(issue: str, config=None) -> str | None:
    """The department that owns ``issue`` under ``config``.

    A config issue names its department. A built-in issue takes the first of its
    candidate departments that the config defines, else the customer-care department,
    else the config's first department; with no departments at all, its first candidate.
    """
    rules = {rule.name: rule for rule in rules_for(config)}
    rule = rules.get(issue) or {r.name: r for r in builtin_rules()}.get(issue)
    known = [d.name for d in config.departments] if config is not None else []
    if rule is None:
        return next((d for d in CARE_DEPARTMENTS if d in known), known[0] if known else None)
    if not known:
        return rule.departments[0] if rule.departments else None
    for name in (*rule.departments, *CARE_DEPARTMENTS):
        if name in known:
            return name
    return known[0]


def classify(text: object, config=None) -> list[str]:
    """The issues ``text`` raises, most specific first."""
    return classify_normalised(normalise(text), rules_for(config))


class RuleSet:
    """A taxonomy's rules with one phrase index: a text's n-grams are looked up once,
    not once per issue."""

    def __init__(self, rules: Sequence[IssueRule]):
        self.rules = tuple(rules)
        index: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            for phrase in rule.phrases:
                index.setdefault(phrase, []).append(i)
        self._phrases = {phrase: tuple(ids) for phrase, ids in index.items()}
        self._known = frozenset(self._phrases)
        self._extra = [(i, rule) for i, rule in enumerate(self.rules) if rule.near or rule.patterns]

    def hits(self, index: TextIndex, word_weight: float = 1) -> list[float]:
        """Hits per rule, in rule order; a one-word phrase counts ``word_weight``."""
        counts: list[float] = [0] * len(self.rules)
        phrases = self._phrases
        for gram in self._known & index.grams:
            for i in phrases[gram]:
                counts[i] += 1 if " " in gram else word_weight
        for i, rule in self._extra:
            for near in rule.near:
                counts[i] += near.matches(index)
            for pattern in rule.patterns:
                counts[i] += pattern.search(index.text) is not None
        return counts

    def classify(self, text: str | TextIndex, min_hits: float = 1, word_weight: float = 1) -> list[str]:
        """Issue names, most evidence first, ties in taxonomy order. An issue needs
        ``min_hits`` (its phrases, near rules and patterns, a one-word phrase counting
        ``word_weight``): long text asks for more, and for more than generic words."""
        index = text if isinstance(text, TextIndex) else TextIndex(text[:MAX_CHARS])
        scored = [(-n * rule.weight, i, rule.name)
                  for i, (n, rule) in enumerate(zip(self.hits(index, word_weight), self.rules))
                  if n >= min_hits]
        return [name for _, _, name in sorted(scored)]


@lru_cache(maxsize=16)
def rule_set(rules: tuple[IssueRule, ...]) -> RuleSet:
    return RuleSet(rules)


def classify_normalised(text: str | TextIndex, rules: Sequence[IssueRule] | RuleSet) -> list[str]:
    """``classify`` for text already through ``sentiment.normalise`` (or its TextIndex)."""
    ruleset = rules if isinstance(rules, RuleSet) else rule_set(tuple(rules))
    return ruleset.classify(text)


def classify_many(texts: Iterable[object], config=None) -> list[list[str]]:
    rules = rule_set(rules_for(config))
    return [rules.classify(normalise(text)) for text in texts]
