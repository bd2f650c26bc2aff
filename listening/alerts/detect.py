"""Run every enabled rule over a frame: findings for the windows that fire.

A finding the coverage guard stops is kept (with its ``guard`` reason) so a backtest
can show what was held back and why, but it never opens an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from listening.alerts.frame import Frame
from listening.alerts.rules import SEVERITIES, Context, judge, rule_kind
from listening.config import AlertRule, Config


@dataclass
class Finding:
    """One rule firing for one key and one window."""

    rule: str
    kind: str
    brand: str
    issue: str | None
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    score: float
    severity: str
    guard: str = ""

    @property
    def key(self) -> tuple[str, str, str | None]:
        return self.rule, self.brand, self.issue


def enabled_rules(config: Config) -> list[AlertRule]:
    rules = [r for r in config.alerts.rules if r.enabled]
    for rule in rules:
        rule_kind(rule)  # unknown kinds fail here, with the rule's name
    return rules


def lookback(rules: list[AlertRule]) -> timedelta:
    """How much history before the first evaluated window the frame must hold."""
    days = max((r.baseline_days + r.min_history_days for r in rules), default=0)
    hours = max((max(r.window_hours, r.long_window_hours or 0) for r in rules), default=0)
    return timedelta(days=days + 1, hours=hours)


def windows(rule: AlertRule) -> list[AlertRule]:
    """The rule at its window and, if set, at its long window (one alert key for both)."""
    out = [rule]
    if rule.long_window_hours and rule.long_window_hours != rule.window_hours:
        out.append(rule.model_copy(update={"window_hours": rule.long_window_hours}))
    return out


def scan(ctx: Context, rules: list[AlertRule], ends: np.ndarray) -> list[Finding]:
    """Findings for windows ending at frame indices ``ends`` (exclusive ends).

    Where both of a rule's windows fire for a key and bucket, the one with the higher
    score is the finding.
    """
    frame: Frame = ctx.frame
    out: list[Finding] = []
    for rule in rules:
        kind = rule_kind(rule)
        for brand in frame.brands():
            if rule.brands is not None and brand not in rule.brands:
                continue
            guard = None
            best: dict[tuple, tuple] = {}
            for variant in windows(rule):
                for m in kind.measure(ctx, variant, brand, ends):
                    fires, score, severity = judge(variant, m)
                    for j in np.flatnonzero(fires):
                        if (m.issue, j) not in best or score[j] > best[(m.issue, j)][0]:
                            best[(m.issue, j)] = (score[j], variant, m, severity[j])
            if best:
                guard = ctx.guard(brand, rule, ends)
            for (issue, j), (score, variant, m, severity) in best.items():
                end = frame.time(ends[j])
                out.append(Finding(
                    rule.name, rule.kind, brand, issue,
                    end - timedelta(hours=variant.window_hours), end,
                    float(m.observed[j]), round(float(m.expected[j]), 2),
                    round(float(score), 2), SEVERITIES[severity], guard.at(j)))
    out.sort(key=lambda f: (f.window_end, f.rule, f.brand, f.issue or ""))
    return out
