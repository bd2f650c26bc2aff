"""An alert's series as its rule saw it: what the Alerts page and the e-mail both show.

One place rebuilds the rule's context for an alert (the same frame the evaluation reads,
the window the alert peaked in), so the page's band, the e-mail's chart and the numbers
in the alert never disagree.

    band(store, config, alert)        # {"time", "observed", "expected", "low", "high"} or None
    chart_png(store, config, alert)   # the e-mail's PNG, or None when it cannot be drawn
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np

from listening.alerts.chart import alert_png, measure_key
from listening.alerts.detect import lookback
from listening.alerts.frame import Frame
from listening.alerts.rules import Context
from listening.config import AlertRule, Config

log = logging.getLogger(__name__)
CHART_HOURS = 72  # the e-mail chart: the alert's last three days


def rule_for(config: Config, alert: dict) -> AlertRule:
    """The alert's rule, with the window the alert peaked in (a 24 h alert of a 6 h rule)."""
    rule = next(r for r in config.alerts.rules if r.name == alert["rule"])
    window = alert.get("window_hours")
    return rule.model_copy(update={"window_hours": window}) if window and window != rule.window_hours else rule


def context(store, config: Config, alert: dict, start: datetime, end: datetime) -> Context:
    """The rule context over ``[start, end]`` for the alert's brand, read as the evaluation reads it."""
    rule = rule_for(config, alert)
    frame = Frame.load(store, start - lookback([rule]), end, brands=[alert["brand"]],
                       collection_jobs=config.alerts.collection_jobs,
                       max_gap_hours=config.alerts.max_run_gap_hours, cached=True)
    return Context(frame, config)


def band(store, config: Config, alert: dict, *, before: timedelta = timedelta(days=2),
         after: timedelta = timedelta(hours=12)) -> dict | None:
    """Observed against the rule's expected value and band, hour by hour around the alert."""
    rule = rule_for(config, alert)
    start = alert["opened_at"] - before
    end = max(alert.get("resolved_at") or alert["opened_at"], alert.get("window_end") or alert["opened_at"]) + after
    ctx = context(store, config, alert, start, end)
    ends = np.arange(ctx.frame.index(start), ctx.frame.hours + 1)
    m = measure_key(ctx, rule, alert["brand"], alert["issue"], ends)
    if m is None:
        return None
    sd = np.sqrt(np.maximum(m.variance, 0))
    return {"time": [ctx.frame.time(e) for e in ends], "observed": m.observed, "expected": m.expected,
            "low": np.maximum(m.expected - sd, 0),
            "high": np.maximum(m.expected + rule.threshold * sd, m.expected * rule.min_ratio)}


def chart_png(store, config: Config, alert: dict, ctx: Context | None = None) -> bytes | None:
    """The alert's last three days against its baseline; None if it cannot be drawn.

    ``ctx``: the evaluation's own context, when the caller has one (no second read).
    """
    try:
        rule = rule_for(config, alert)
        end = alert.get("window_end") or alert["opened_at"]
        if ctx is None or ctx.frame.index(end) != ctx.frame.hours:
            ctx = context(store, config, alert, end - timedelta(hours=CHART_HOURS), end)
        hours = ctx.frame.hours
        return alert_png(ctx, rule, alert, np.arange(max(hours - CHART_HOURS, 1), hours + 1))
    except Exception:  # a chart is evidence, not a reason to lose the mail
        log.exception("chart for alert %s failed", alert.get("_id"))
        return None
