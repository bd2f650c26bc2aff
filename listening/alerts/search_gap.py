"""Share of search against share of voice, as a signal (rule kind ``search_gap``).

Binet's "excess share of voice" (and, read from search, "excess share of search") is why
marketing watches the pair: share of search tracks and leads market share, so a brand
searched for more than it is talked about is gaining on the market, one talked about more
than searched for is not turning attention into demand (a campaign that does not land, a
crisis). The signal is the weekly gap ``share of voice - share of search``
(``listening.metrics.search.voice_vs_search_series``, nothing recomputed here) leaving its
usual range: the median of the brand's trailing ``baseline_weeks`` gaps, spread by their
MAD. Its score is how far outside, in that spread (plus the binomial noise of a week's share
of voice), taking the share of search's own band at its side nearest the usual gap, so
Google's rounding never fires it.

    weekly(store, config, category)         # each brand's weekly gap rows (complete weeks)
    SearchGap().findings(store, config, rule, times)   # (time, finding) where the gap left its range
    why(store, config, rule, alert)         # the explanation stored on a search_gap alert
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from listening.alerts.rules import SEVERITIES, Finding, register
from listening.config import AlertRule, Config
from listening.metrics.search import voice_vs_search_series

MIN_SPREAD = 0.01  # a gap steadier than 1 point a week is not yet a range: Trends rounds to ~1 point
SHOWN_WEEKS = 26   # the series an explanation carries (its chart)


def weekly(store, config: Config, category: str, *, since: datetime | None = None,
           until: datetime | None = None) -> dict[str, list[dict]]:
    """Per brand of the category: its complete buckets with both shares, oldest first, each with
    ``end`` (the next bucket's start) and ``category_mentions`` (the share of voice's sample)."""
    rows = [r for r in voice_vs_search_series(store, config, category, since=since, until=until)
            if not r["is_partial"]]
    dates = sorted({r["date"] for r in rows})
    step = dates[-1] - dates[-2] if len(dates) > 1 else timedelta(days=7)
    end_of = {d: (dates[i + 1] if i + 1 < len(dates) else d + step) for i, d in enumerate(dates)}
    total: dict[datetime, int] = {}
    for r in rows:
        total[r["date"]] = total.get(r["date"], 0) + r["mentions"]
    out: dict[str, list[dict]] = {}
    for r in rows:
        if r["gap"] is not None:
            out.setdefault(r["brand"], []).append({**r, "end": end_of[r["date"]], "category_mentions": total[r["date"]]})
    return out


def judge(rule: AlertRule, week: dict, history: list[dict]) -> dict | None:
    """The week against the usual range of ``history`` (the weeks before it), or None when there
    is too little history. Returns the numbers the alert and its explanation carry."""
    gaps = np.array([h["gap"] for h in history[-rule.baseline_weeks:]])
    if len(gaps) < rule.baseline_weeks // 2:
        return None
    median = float(np.median(gaps))
    spread = max(1.4826 * float(np.median(np.abs(gaps - median))), MIN_SPREAD)
    sov, n = week["share_of_voice"], max(week["category_mentions"], 1)
    lo, hi = sov - week["share_of_search_hi"], sov - week["share_of_search_lo"]  # the gap's band
    nearest = min(max(median, lo), hi)
    score = abs(nearest - median) / np.sqrt(spread ** 2 + sov * (1 - sov) / n)
    return {"gap": week["gap"], "median": median, "spread": spread, "score": float(score),
            "low": median - rule.threshold * spread, "high": median + rule.threshold * spread,
            "weeks": len(gaps)}


def severity(rule: AlertRule, score: float) -> str:
    return SEVERITIES[2 if score >= 1.5 * rule.threshold else 1 if score >= 1.2 * rule.threshold else 0]


def _categories(config: Config, rule: AlertRule) -> list[str]:
    return sorted({b.category for b in config.brands if rule.brands is None or b.name in rule.brands})


@register("search_gap")
class SearchGap:
    """A brand's weekly share of search leaving its usual distance from its share of voice."""

    brand_level = True

    def findings(self, store, config: Config, rule: AlertRule,
                 times: list[datetime]) -> list[tuple[datetime, Finding]]:
        """(time, finding) for each time whose latest complete week has its gap outside the usual range."""
        if not times:
            return []
        since = min(times) - timedelta(weeks=rule.baseline_weeks + 2)
        out = []
        for category in _categories(config, rule):
            for brand, weeks in weekly(store, config, category, since=since, until=max(times)).items():
                if rule.brands is not None and brand not in rule.brands:
                    continue
                ends = [w["end"] for w in weeks]
                for t in times:
                    i = int(np.searchsorted(ends, t, side="right")) - 1  # the latest week ended by t
                    if i < 0 or weeks[i]["category_mentions"] < rule.min_count:
                        continue
                    found = judge(rule, weeks[i], weeks[:i])
                    if found and found["score"] >= rule.threshold:
                        out.append((t, Finding(rule.name, "search_gap", brand, None, weeks[i]["date"],
                                               weeks[i]["end"], round(found["gap"], 4), round(found["median"], 4),
                                               round(found["score"], 2), severity(rule, found["score"]))))
        return out


def why(store, config: Config, rule: AlertRule, alert: dict) -> dict:
    """The alert's week beside its usual range, and the weeks before it (the chart): JSON-ready."""
    end = alert.get("peak_at") or alert["opened_at"]
    category = config.brand(alert["brand"]).category
    weeks = weekly(store, config, category, since=end - timedelta(weeks=rule.baseline_weeks + 2),
                   until=end)[alert["brand"]]
    i = max(j for j, w in enumerate(weeks) if w["end"] <= end)
    week, found = weeks[i], judge(rule, weeks[i], weeks[:i]) or {}
    return {
        "window": {"start": week["date"].isoformat(), "end": end.isoformat(), "mentions": week["category_mentions"]},
        "baseline": {"start": weeks[max(0, i - rule.baseline_weeks)]["date"].isoformat(),
                     "end": week["date"].isoformat(), "weeks": found.get("weeks", 0)},
        "search_gap": {
            "category": category, "brand_mentions": week["mentions"],
            "share_of_voice": week["share_of_voice"], "share_of_search": week["share_of_search"],
            "share_of_search_lo": week["share_of_search_lo"], "share_of_search_hi": week["share_of_search_hi"],
            "gap": week["gap"], "usual": {k: found.get(k) for k in ("median", "low", "high", "spread")},
            "direction": "talked about more than searched for" if week["gap"] > (found.get("median") or 0)
            else "searched for more than talked about",
            "series": [{"date": w["date"].isoformat(), "share_of_voice": w["share_of_voice"],
                        "share_of_search": w["share_of_search"], "gap": w["gap"]}
                       for w in weeks[max(0, i + 1 - SHOWN_WEEKS):i + 1]]},
    }
