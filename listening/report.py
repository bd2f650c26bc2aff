"""``listening report``: per brand, mentions, share of voice, sentiment and share of search,
with the open alerts; the one document the CLI prints and scripts read (``--json``).
"""

from __future__ import annotations

from datetime import datetime

from listening.alerts.lifecycle import as_json
from listening.config import Config
from listening.metrics.search import category_shares, share_of_search
from listening.metrics.voice import brand_summary
from listening.store import Store

__all__ = ["report"]


def report(store: Store, config: Config, *, since: datetime | None = None,
           until: datetime | None = None) -> dict:
    """The ``listening report --json`` document (DESIGN.md's shape).

    A brand without mentions in the window has null sentiment and net sentiment; when no
    brand has any, the shares of voice are null too (the CLI says "no mentions").
    ``share_of_search_by_category`` has every collected category, search-only ones too:
    per term its share over the window's complete buckets with the band (``share_lo``..``share_hi``).
    """
    store.daily.refresh()  # the day cells brand_summary reads, current as the dashboard keeps them
    brands = brand_summary(store, config, since=since, until=until)
    search = share_of_search(store, config, since=since, until=until)
    anyone = any(b["mentions"] for b in brands.values())
    for name, values in brands.items():
        values["share_of_search"] = search.get(name)
        if not anyone:  # no share of nothing: null, not 0%
            values["share_of_voice"] = None
        if not values["mentions"]:  # a split of no mentions is unknown, not 0 / 0 / 0
            values["sentiment"] = dict.fromkeys(values["sentiment"])
            values["net_sentiment"] = None
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "mentions": store.mentions.count_between(since, until),
        "brands": brands,
        "share_of_search_by_category": category_shares(store, since=since, until=until),
        "open_alerts": [as_json(a) for a in store.alerts.open_alerts()],
    }
