"""Alert rules: small registered units, the built-ins included (like Datasette's plugins).

A rule kind turns a ``Frame`` into measurements: for each (brand, issue) key it yields
observed and expected counts and a variance for every evaluated window. ``judge``
then applies the rule's thresholds the same way for every kind. Add a kind with::

    @register("my_kind")
    class MyKind:
        brand_level = False
        def measure(self, ctx, rule, brand, ends): yield Measure(...)

A kind that is not hourly counts has ``findings(store, config, rule, times)`` instead of
``measure`` and judges itself (``search_gap``: weekly share of search beside share of voice).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator, Protocol

import numpy as np

from listening.alerts.baseline import DAY, cumulative, expect, span_sums
from listening.alerts.coverage import Guard, first_hour, guard, source_inclusion
from listening.alerts.frame import ALL, Frame
from listening.config import AlertRule, Config

SEVERITIES = ("low", "medium", "high")


@dataclass
class Measure:
    """One key's windows: arrays over the evaluated ends."""

    issue: str | None
    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    covered_days: np.ndarray


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


class RuleKind(Protocol):
    brand_level: bool

    def measure(self, ctx: "Context", rule: AlertRule, brand: str,
                ends: np.ndarray) -> Iterator[Measure]: ...


RULES: dict[str, RuleKind] = {}


def register(kind: str) -> Callable[[type], type]:
    """Class decorator: make a rule kind available to ``alerts.rules[].kind``."""
    def add(cls: type) -> type:
        RULES[kind] = cls()
        return cls
    return add


def rule_kind(rule: AlertRule) -> RuleKind:
    try:
        return RULES[rule.kind]
    except KeyError:
        raise ValueError(f"alerts.rules.{rule.name}.kind: unknown kind {rule.kind!r}; "
                         f"known: {sorted(RULES)}") from None


class Context:
    """One frame and config, with per-brand arrays computed once for every rule."""

    def __init__(self, frame: Frame, config: Config):
        self.frame, self.config = frame, config
        self._cache: dict = {}
        self.gap_cum = cumulative(frame.gaps[None, :].astype(float))

    def _memo(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def cum(self, brand: str, issue: str, label: str) -> np.ndarray:
        return self._memo(("cum", brand, issue, label),
                          lambda: cumulative(self.frame.stack(brand, issue, label)))

    def include(self, brand: str, rule: AlertRule, ends: np.ndarray) -> np.ndarray:
        return self._memo(("inc", brand, rule.window_hours, rule.min_history_days, ends.tobytes()),
                          lambda: source_inclusion(self.frame.stack(brand, ALL, "all"), ends,
                                                   rule.window_hours, rule.min_history_days))

    def guard(self, brand: str, rule: AlertRule, ends: np.ndarray) -> Guard:
        params = (rule.window_hours, rule.baseline_days, rule.min_history_days, rule.seasonal_after_days)
        return self._memo(("guard", brand, params, ends.tobytes()), lambda: guard(
            self.frame.stack(brand, ALL, "all"), self.frame.gaps, self.frame.resumed, ends,
            window=rule.window_hours, baseline_days=rule.baseline_days,
            min_history_days=rule.min_history_days, coverage_jump=self.config.alerts.coverage_jump,
            seasonal_after_days=rule.seasonal_after_days))

    def expect(self, brand: str, issue: str | list[str], label: str, rule: AlertRule, ends: np.ndarray):
        """Observed/expected of one series, or of several issues at once (a leading axis)."""
        x = (np.stack([self.cum(brand, i, label) for i in issue]) if isinstance(issue, list)
             else self.cum(brand, issue, label))
        return expect(x, self.cum(brand, ALL, "all"),
                      self.include(brand, rule, ends), self.gap_cum, ends,
                      window=rule.window_hours, baseline_days=rule.baseline_days,
                      floor_per_day=rule.floor_per_day, seasonal_after_days=rule.seasonal_after_days,
                      first=self.first(brand), level_shift=self.config.alerts.coverage_jump)

    def first(self, brand: str) -> int:
        return self._memo(("first", brand), lambda: first_hour(self.frame.stack(brand, ALL, "all")))


@register("issue_negative")
class IssueNegative:
    """Negative mentions of one issue for one brand, against that series' own baseline."""

    brand_level = False

    def measure(self, ctx, rule, brand, ends):
        issues = [i for i in ctx.frame.issues(brand) if rule.issues is None or i in rule.issues]
        if not issues:
            return
        e = ctx.expect(brand, issues, "negative", rule, ends)  # all issues in one pass
        for n, issue in enumerate(issues):
            yield Measure(issue, e.observed[n], e.expected[n], e.variance[n], e.covered_days)


@register("brand_negative")
class BrandNegative:
    """All negative mentions of a brand (social care's view of a storm)."""

    brand_level = True

    def measure(self, ctx, rule, brand, ends):
        e = ctx.expect(brand, ALL, "negative", rule, ends)
        yield Measure(None, e.observed, e.expected, e.variance, e.covered_days)


@register("sentiment_shift")
class SentimentShift:
    """The negative *share* of a brand's mentions against its usual share.

    Expected = the window's volume times the median daily negative share; the variance
    is binomial plus the day-to-day spread of that share.
    """

    brand_level = True

    def measure(self, ctx, rule, brand, ends):
        inc = ctx.include(brand, rule, ends)
        neg_cum, tot_cum = ctx.cum(brand, ALL, "negative"), ctx.cum(brand, ALL, "all")
        w = rule.window_hours
        observed = (span_sums(neg_cum, ends, w)[0] * inc).sum(0)
        volume = (span_sums(tot_cum, ends, w)[0] * inc).sum(0)
        block_hi = ends[None, :] - w - DAY * np.arange(rule.baseline_days)[:, None]
        nb, valid = span_sums(neg_cum, block_hi, DAY)
        tb, _ = span_sums(tot_cum, block_hi, DAY)
        nb, tb = (nb * inc[:, None, :]).sum(0), (tb * inc[:, None, :]).sum(0)
        gapped = span_sums(ctx.gap_cum, block_hi, DAY)[0][0] > 0
        covered = valid & (block_hi - DAY >= ctx.first(brand)) & (tb >= 10) & ~gapped
        shares = np.where(covered, nb / np.maximum(tb, 1), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p0 = np.nan_to_num(np.nanmedian(shares, axis=0))
            mad = np.nan_to_num(1.4826 * np.nanmedian(np.abs(shares - p0), axis=0))
        expected = volume * p0
        variance = volume * p0 * (1 - p0) + (volume * mad) ** 2 + 1.0
        yield Measure(None, observed, expected, variance, covered.sum(0))


def judge(rule: AlertRule, m: Measure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fires, score, severity index) for every window of one key."""
    score = (m.observed - m.expected) / np.sqrt(np.maximum(m.variance, 1e-9))
    ratio = m.observed / np.maximum(m.expected, 1e-9)
    fires = ((m.observed >= rule.min_count) & (score >= rule.threshold)
             & (ratio >= rule.min_ratio) & (m.covered_days >= rule.min_history_days))
    severity = np.zeros(len(score), dtype=int)
    severity[(score >= 1.2 * rule.threshold) & (ratio >= 1.25 * rule.min_ratio)] = 1
    severity[(score >= 1.5 * rule.threshold) & (ratio >= 2 * rule.min_ratio)] = 2
    return fires, score, severity
