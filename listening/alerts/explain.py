"""An alert's series as its rule saw it: what the Alerts page and the e-mail both show.

One place rebuilds the rule's context for an alert (the same frame the evaluation reads,
the window the alert peaked in), so the page's band, the e-mail's chart and the numbers
in the alert never disagree.

    band(store, config, alert)        # {"time", "observed", "expected", "low", "high"} or None
    chart_png(store, config, alert)   # the e-mail's PNG, or None when it cannot be drawn
    why(store, config, alert)         # why it is spiking: rising terms, sources, authors, tone, examples
                                      # (a search_gap alert: its week's shares beside the usual gap)
    attach(store, config, alert)      # the same, kept on the alert (stored, mailed, in ``alerts --json``)
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import datetime, timedelta

import numpy as np

from listening.alerts import examples as picking
from listening.alerts import keyness, search_gap
from listening.alerts.chart import alert_png, gap_png, measure_key
from listening.alerts.detect import lookback
from listening.alerts.frame import Frame
from listening.alerts.rules import Context
from listening.config import AlertRule, Brand, Config
from listening.notify.mail import mention_link

log = logging.getLogger(__name__)
CHART_HOURS = 72  # the e-mail chart: the alert's last three days
TOP_TERMS = 8
BUSY_AUTHOR = (3, 0.1)  # an author with at least 3 mentions and 10% of the window is flagged


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
        if alert.get("kind") == "search_gap":  # weekly shares, not hourly counts
            return gap_png(alert["brand"], (alert.get("explanation") or why(store, config, alert))["search_gap"])
        end = alert.get("window_end") or alert["opened_at"]
        if ctx is None or ctx.frame.index(end) != ctx.frame.hours:
            ctx = context(store, config, alert, end - timedelta(hours=CHART_HOURS), end)
        hours = ctx.frame.hours
        return alert_png(ctx, rule, alert, np.arange(max(hours - CHART_HOURS, 1), hours + 1))
    except Exception:  # a chart is evidence, not a reason to lose the mail
        log.exception("chart for alert %s failed", alert.get("_id"))
        return None


# --- why it is spiking ---------------------------------------------------------------------

def brand_words(brand: Brand) -> set[str]:
    """The words that name the brand (name, terms, handles, Trends term), left out of the rising
    terms: they rise with every spike. A query's context words (``NEAR/5 (flight OR ...)``) stay."""
    names = [brand.name, brand.search_term or "", *brand.terms, *brand.handles]
    out: set[str] = set()
    for name in names:
        parts = keyness.words(name.lstrip("@#"))
        out.update(parts)
        out.add("".join(parts))
    return out


def counted(alert: dict, mention: dict) -> bool:
    """Whether the alert's rule counts this mention (its issue and, but for a share rule, negative)."""
    if alert.get("issue") and alert["issue"] not in (mention.get("issues") or []):
        return False
    return alert.get("kind") == "sentiment_shift" or _label(mention, alert.get("brand")) == "negative"


def _label(mention: dict, brand: str | None) -> str | None:
    """The sentiment towards the brand where the mention names several (what the rollups count)."""
    towards = (mention.get("brand_sentiment") or {}).get(brand) if brand else None
    return (towards or mention.get("sentiment") or {}).get("label")


def _breakdown(now: list[dict], base: list[dict], field: str, top: int = 5) -> list[dict]:
    """The values of ``field`` that carry the window, with their share then and in the baseline."""
    c_now = Counter(m.get(field) or "unknown" for m in now)
    c_base = Counter(m.get(field) or "unknown" for m in base)
    n_now, n_base = max(len(now), 1), max(len(base), 1)
    return [{"name": str(k), "count": n, "share": round(n / n_now, 3),
             "baseline_share": round(c_base.get(k, 0) / n_base, 3)} for k, n in c_now.most_common(top)]


def _negative_share(mentions: list[dict], brand: str | None) -> float | None:
    return round(sum(_label(m, brand) == "negative" for m in mentions) / len(mentions), 3) if mentions else None


def why(store, config: Config, alert: dict) -> dict:
    """Why the alert is spiking, computed from the mentions its rule counted.

    The window is the alert's peak window (the one its observed count is from); the baseline
    is the rule's ``baseline_days`` before it, read the same way (same brand, issue and tone). Returns plain JSON-ready data (it is stored on the alert, mailed, and printed by
    ``alerts --json``).
    """
    rule = rule_for(config, alert)
    if alert.get("kind") == "search_gap":  # the week's shares beside their usual gap
        return search_gap.why(store, config, rule, alert)
    end = alert.get("peak_at") or alert["opened_at"]
    start = end - timedelta(hours=alert["window_hours"])
    base_start = start - timedelta(days=rule.baseline_days)
    window_all = store.series.window(alert["brand"], start, end)
    base_all = store.series.window(alert["brand"], base_start, start)
    now = [m for m in window_all if counted(alert, m)]
    base = [m for m in base_all if counted(alert, m)]
    drop = brand_words(config.brand(alert["brand"]))
    rising = keyness.rising((m.get("text") or "" for m in now), (m.get("text") or "" for m in base),
                            drop=drop, top=TOP_TERMS)
    authors = _breakdown(now, base, "author")
    least, share = BUSY_AUTHOR
    for a in authors:
        a["many"] = a["count"] >= least and a["share"] >= share
    now.sort(key=lambda m: m["published_at"])
    picks = picking.cover(now, [t["term"] for t in rising], drop=drop, limit=config.alerts.examples)
    return {
        "window": {"start": start.isoformat(), "end": end.isoformat(), "mentions": len(now)},
        "baseline": {"start": base_start.isoformat(), "end": start.isoformat(), "mentions": len(base)},
        "terms": rising,
        "sources": _breakdown(now, base, "source"),
        "authors": authors,
        "languages": _breakdown(now, base, "lang"),
        "tone": {"negative_now": _negative_share(window_all, alert["brand"]),
                 "negative_baseline": _negative_share(base_all, alert["brand"])},
        "examples": [{"id": str(p["mention"]["_id"]), "text": _one_line(p["mention"].get("text") or ""),
                      "author": p["mention"].get("author") or "", "source": p["mention"].get("source") or "",
                      "when": p["mention"]["published_at"].isoformat(), "link": mention_link(config, p["mention"]),
                      "copies": p["copies"], "terms": p["terms"]} for p in picks],
    }


def attach(store, config: Config, alert: dict) -> dict | None:
    """Set ``alert["explanation"]`` unless it already explains the alert's current peak; None
    if it cannot be computed (an explanation is evidence, not a reason to lose the alert)."""
    peak = (alert.get("peak_at") or alert["opened_at"]).isoformat()
    known = alert.get("explanation")
    if known and known["window"]["end"] == peak:
        return known
    try:
        alert["explanation"] = why(store, config, alert)
    except Exception:
        log.exception("explaining alert %s failed", alert.get("_id"))
        return None
    return alert["explanation"]


def _one_line(text: str, limit: int = 400) -> str:
    return re.sub(r"\s+", " ", text).strip()[:limit]
