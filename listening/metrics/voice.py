"""Share of voice and sentiment per brand, from the hourly rollups (never raw scans).

Unscored mentions (a language we cannot score, no words) count in a brand's mentions and
share of voice, and apart (``unscored``); sentiment shares and net sentiment are of the
scored mentions only, so text we could not read never inflates neutral.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from listening.config import Config
from listening.models import UNSCORED
from listening.store import Store
from listening.store.mentions import ALL_ISSUES

LABELS = ("positive", "neutral", "negative")
COUNTED = (*LABELS, UNSCORED)


def shares(by_label: dict[str, int], voice: int) -> dict:
    """One brand's figures from its counts per label (``COUNTED``) and all brands' total."""
    total = sum(by_label.values())
    scored = total - by_label[UNSCORED]
    return {
        "mentions": total,
        "share_of_voice": total / voice if voice else 0.0,
        "unscored": by_label[UNSCORED],
        "sentiment": {label: (by_label[label] / scored if scored else 0.0) for label in LABELS},
        "net_sentiment": (by_label["positive"] - by_label["negative"]) / scored if scored else 0.0,
    }


def brand_summary(store: Store, config: Config, *, since: datetime | None = None,
                  until: datetime | None = None) -> dict[str, dict]:
    """Per configured brand: mentions, share of voice, sentiment split, net sentiment.

    Share of voice is a brand's mentions over all brands' mentions in the window, so
    the shares add up to 1 even when a mention names two brands.
    """
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for row in rollup_totals(store)(("brand", "label"), since=since, until=until):
        counts[row["brand"]][_counted(row["label"])] += row["count"]
    voice = sum(sum(c.values()) for c in counts.values())
    return {brand.name: shares(counts.get(brand.name, dict.fromkeys(COUNTED, 0)), voice)
            for brand in config.brands}


def _counted(label: str) -> str:
    """A rollup cell's label as one of COUNTED (anything unknown was not scored)."""
    return label if label in LABELS else UNSCORED


# -- dashboard series (from the rollups) ----------------------------------------------
def bucket_for(since: datetime | None, until: datetime | None) -> str:
    """A readable bucket for a window: hours up to 2 days, days up to 60, else weeks."""
    if since is None or until is None:
        return "week"
    days = (until - since).total_seconds() / 86400
    return "hour" if days <= 2 else "day" if days <= 60 else "week"


def bucket_start(hour: datetime, bucket: str) -> datetime:
    """The start of the hour / day / ISO week (Monday) that ``hour`` falls in."""
    if bucket == "hour":
        return hour
    day = hour.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def rollup_totals(store: Store):
    """The cheapest rollup reader: day cells where the store keeps them (the dashboard)."""
    daily = getattr(store, "daily", None)
    return daily.totals if daily is not None else store.mentions.totals


def volume_series(store: Store, *, since: datetime | None = None, until: datetime | None = None,
                  brands: list[str] | None = None, issues: list[str] | None = None,
                  sources: list[str] | None = None, labels: list[str] | None = None,
                  bucket: str = "hour") -> list[dict]:
    """Mentions per (bucket, sentiment label, source), filtered like the Live feed.

    With several ``issues`` a mention raising two of them counts twice; with none it
    counts once (the ``"*"`` cells).
    """
    counts: dict[tuple, int] = defaultdict(int)
    for issue in issues or [ALL_ISSUES]:
        rows = rollup_totals(store)(("hour", "label", "source"), since=since, until=until,
                                    issue=issue, brands=brands or None)
        for row in rows:
            if (sources and row["source"] not in sources) or (labels and row["label"] not in labels):
                continue
            counts[(bucket_start(row["hour"], bucket), row["label"], row["source"])] += row["count"]
    return [{"time": t, "label": label, "source": source, "count": n}
            for (t, label, source), n in sorted(counts.items())]


def sentiment_trend(store: Store, config: Config, *, since: datetime | None = None,
                    until: datetime | None = None, bucket: str = "day") -> list[dict]:
    """Per configured brand and bucket: mentions, the sentiment split and net sentiment."""
    names = {b.name for b in config.brands}
    cells: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for row in rollup_totals(store)(("brand", "label", "hour"), since=since, until=until):
        if row["brand"] in names:
            cells[(row["brand"], bucket_start(row["hour"], bucket))][_counted(row["label"])] += row["count"]
    rows = []
    for (brand, start), by_label in sorted(cells.items()):
        scored = sum(by_label.values()) - by_label[UNSCORED]
        rows.append({"brand": brand, "time": start, "mentions": sum(by_label.values()), **by_label,
                     "net_sentiment": (by_label["positive"] - by_label["negative"]) / scored if scored else 0.0})
    return rows


def issue_breakdown(store: Store, config: Config, *, since: datetime | None = None,
                    until: datetime | None = None, brand_totals: dict[str, int] | None = None) -> list[dict]:
    """Per brand and issue: mentions raising it, their share of the brand's mentions, and
    the share of those that are negative. Pass ``brand_totals`` when known (one query less)."""
    names = {b.name for b in config.brands}
    totals = brand_totals if brand_totals is not None else {
        row["brand"]: row["count"] for row in rollup_totals(store)(("brand",), since=since, until=until)}
    cells: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for row in rollup_totals(store)(("brand", "issue", "label"), since=since, until=until, issue=None):
        if row["brand"] in names:
            cells[(row["brand"], row["issue"])][_counted(row["label"])] += row["count"]
    rows = []
    for (brand, issue), by_label in sorted(cells.items()):
        n = sum(by_label.values())
        scored = n - by_label[UNSCORED]
        rows.append({"brand": brand, "issue": issue, "mentions": n,
                     "share": n / totals[brand] if totals.get(brand) else 0.0,
                     "negative_share": by_label["negative"] / scored if scored else 0.0})
    return rows


def time_to_handle(store: Store, *, since: datetime, until: datetime) -> dict:
    """Mentions handled in ``[since, until)`` and the median time from arrival to handling.

    Arrival is when we could first have seen the mention: its publication, or its first
    collection when it was collected later (an import of old posts counts from the import).
    """
    waits = []
    rows = store.feed.handled(since=since, until=until)
    for row in rows:
        seen = max(row["published_at"], row.get("first_collected_at") or row.get("collected_at") or row["published_at"])
        waits.append(max((row["handled"]["at"] - seen).total_seconds(), 0.0))
    waits.sort()
    mid = len(waits) // 2
    median = None if not waits else waits[mid] if len(waits) % 2 else (waits[mid - 1] + waits[mid]) / 2
    return {"handled": len(rows), "median_seconds": median,
            "by": sorted({row["handled"].get("by") for row in rows if row["handled"].get("by")})}


def voice_summary(trend: list[dict], config: Config) -> dict[str, dict]:
    """``brand_summary``'s shape, summed from ``sentiment_trend`` rows (no second query)."""
    counts: dict[str, dict[str, int]] = {b.name: dict.fromkeys(COUNTED, 0) for b in config.brands}
    for row in trend:
        for label in COUNTED:
            counts[row["brand"]][label] += row[label]
    voice = sum(sum(c.values()) for c in counts.values())
    return {name: shares(by_label, voice) for name, by_label in counts.items()}
