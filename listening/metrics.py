"""Share of voice and sentiment per brand, from the hourly rollups (never raw scans)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from listening.config import Config
from listening.store import Store

LABELS = ("positive", "neutral", "negative")


def brand_summary(store: Store, config: Config, *, since: datetime | None = None,
                  until: datetime | None = None) -> dict[str, dict]:
    """Per configured brand: mentions, share of voice, sentiment split, net sentiment.

    Share of voice is a brand's mentions over all brands' mentions in the window, so
    the shares add up to 1 even when a mention names two brands.
    """
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LABELS, 0))
    for row in store.mentions.totals(("brand", "label"), since=since, until=until):
        counts[row["brand"]][row["label"]] += row["count"]
    voice = sum(sum(c.values()) for c in counts.values())
    summary = {}
    for brand in config.brands:
        by_label = counts.get(brand.name, dict.fromkeys(LABELS, 0))
        total = sum(by_label.values())
        summary[brand.name] = {
            "mentions": total,
            "share_of_voice": total / voice if voice else 0.0,
            "sentiment": {label: (by_label[label] / total if total else 0.0) for label in LABELS},
            "net_sentiment": (by_label["positive"] - by_label["negative"]) / total if total else 0.0,
        }
    return summary


def report(store: Store, config: Config, *, since: datetime | None = None,
           until: datetime | None = None) -> dict:
    """The ``listening report --json`` document (DESIGN.md's shape)."""
    brands = brand_summary(store, config, since=since, until=until)
    for values in brands.values():
        values["share_of_search"] = None
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "mentions": store.mentions.count_between(since, until),
        "brands": brands,
        "open_alerts": [_alert_summary(a) for a in store.alerts.open_alerts()],
    }


def _alert_summary(alert: dict) -> dict:
    keys = ("rule", "brand", "issue", "department", "status", "severity", "observed", "expected")
    summary = {k: alert.get(k) for k in keys}
    summary["id"] = str(alert["_id"])
    summary["opened_at"] = alert["opened_at"].isoformat() if alert.get("opened_at") else None
    return summary
