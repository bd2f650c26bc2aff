"""Run every enabled rule: findings for the windows that fire.

Most kinds measure the hourly frame (``scan``); a kind with ``findings`` instead reads the
store itself (``search_gap``: weekly share of search beside share of voice, ``store_findings``).

A finding the coverage guard stops is kept (with its ``guard`` reason) so a backtest
can show what was held back and why, but it never opens an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from listening.alerts import search_gap  # noqa: F401  (registers the search_gap kind)
from listening.alerts.frame import Frame
from listening.alerts.rules import SEVERITIES, Context, Finding, judge, rule_kind
from listening.config import AlertRule, Config


def enabled_rules(config: Config) -> list[AlertRule]:
    rules = [r for r in config.alerts.rules if r.enabled]
    for rule in rules:
        rule_kind(rule)  # unknown kinds fail here, with the rule's name
    return rules


def frame_rules(rules: list[AlertRule]) -> list[AlertRule]:
    """The rules that read the hourly frame (the rest read the store: ``store_findings``)."""
    return [r for r in rules if hasattr(rule_kind(r), "measure")]


def store_findings(store, config: Config, rules: list[AlertRule],
                   times: list[datetime]) -> list[tuple[datetime, Finding]]:
    """(evaluation time, finding) of the rules that read the store themselves (weekly share of search)."""
    out: list[tuple[datetime, Finding]] = []
    for rule in rules:
        kind = rule_kind(rule)
        if hasattr(kind, "findings"):
            out += kind.findings(store, config, rule, times)
    return out


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
