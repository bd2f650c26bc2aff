"""Which customer issues a mention raises, and which department owns each.

Rules first, so it works with no labelled data: each issue of the taxonomy (the
config's ``issues:``, else the built-in ``taxonomy.yaml``) has phrases and regex
patterns, matched on normalised text. A mention can raise several issues; they come
back in taxonomy order, most specific first, so the first is the main one. Issues are
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

from listening.sentiment import normalise

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")
CARE_DEPARTMENTS = ("Customer Care", "Customer Service", "Support")
MAX_CHARS = 20_000  # issues are raised early; regexes on 100 KB texts would only cost time


@dataclass(frozen=True)
class IssueRule:
    """One issue: its name, the departments that may own it (best first), its matcher."""

    name: str
    departments: tuple[str, ...]
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    regex: re.Pattern | None = field(default=None, compare=False)

    def matches(self, text: str) -> bool:
        return self.regex is not None and self.regex.search(text) is not None


def compile_rule(name: str, departments: Sequence[str], phrases: Sequence[str] = (),
                 patterns: Sequence[str] = ()) -> IssueRule:
    """An IssueRule whose phrases and patterns are one case-insensitive regex."""
    parts = [r"(?<!\w)" + re.escape(p.strip()).replace(r"\ ", r"\s+") + r"(?!\w)"
             for p in sorted(set(phrases), key=len, reverse=True) if p.strip()]
    parts += [f"(?:{p})" for p in patterns]
    regex = re.compile("|".join(parts), re.I) if parts else None
    return IssueRule(name, tuple(departments), tuple(phrases), tuple(patterns), regex)


@lru_cache(maxsize=1)
def builtin_rules() -> tuple[IssueRule, ...]:
    """The built-in taxonomy for service businesses."""
    data = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    return tuple(compile_rule(i["name"], i.get("departments") or [], i.get("phrases") or [],
                              i.get("patterns") or []) for i in data["issues"])


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
    return classify_normalised(normalise(text)[:MAX_CHARS], rules_for(config))


def classify_normalised(text: str, rules: Iterable[IssueRule]) -> list[str]:
    """``classify`` for text already through ``sentiment.normalise``."""
    return [rule.name for rule in rules if rule.matches(text)]


def classify_many(texts: Iterable[object], config=None) -> list[list[str]]:
    rules = rules_for(config)
    return [classify_normalised(normalise(text)[:MAX_CHARS], rules) for text in texts]
