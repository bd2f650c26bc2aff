"""Read-only queries the alert rules need: rollup cells over a window, collection runs,
and example mentions for an alert.

The rules compare many (brand, issue) series at once, so ``cells`` fetches every
cell they need in one indexed range scan (negative cells per issue, and every label
of the brand-wide ``"*"`` cells) rather than one query per series.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

from listening.ids import stable_id
from listening.store.edge import guarded_class
from listening.store.mentions import ALL_ISSUES, cells_between
from listening.store.rollup_log import RollupLog


@guarded_class
class SeriesRepo:
    """Hourly series over ``mention_stats``, plus what an alert shows as evidence."""

    def __init__(self, db: Database):
        self.stats = db["mention_stats"]
        self.mentions = db["mentions"]
        self.runs = db["runs"]

    def ensure_indexes(self) -> None:
        """The rollup indexes belong to MentionRepo; nothing extra is needed here."""

    def cells(self, since: datetime, until: datetime, *,
              brands: list[str] | None = None) -> Iterator[tuple[str, str, str, str, datetime, int]]:
        """(brand, issue, label, source, hour, count) in ``[since, until)``.

        Brand-wide cells (issue ``"*"``) come with every label; issue cells only when
        negative, which is all the issue rules count.
        """
        wanted = set(brands) if brands is not None else None
        for cell in cells_between(self.stats, since, until):
            brand, issue, label, _, _, count = cell
            if count and (wanted is None or brand in wanted) and (issue == ALL_ISSUES or label == "negative"):
                yield cell

    def collection_runs(self, since: datetime, until: datetime, jobs: list[str]) -> list[dict]:
        """Successful collection runs that started in ``[since, until)``, oldest first."""
        return list(self.runs.find(
            {"job": {"$in": list(jobs)}, "started_at": {"$gte": since, "$lt": until},
             "status": {"$in": ["ok", "partial"]}},
            {"started_at": 1, "finished_at": 1, "job": 1}).sort("started_at", ASCENDING))

    def examples(self, brand: str, since: datetime, until: datetime, *, issue: str | None = None,
                 label: str | None = "negative", limit: int = 5) -> list[dict]:
        """Mentions behind an alert: the brand's (and issue's) mentions in the window.

        An equality on ``brands`` plus a time range uses the (brands, published_at) index.
        """
        query: dict = {"brands": brand, "published_at": {"$gte": since, "$lt": until}}
        if issue and issue != ALL_ISSUES:
            query["issues"] = issue
        if label:
            query["sentiment.label"] = label
        fields = {"text": 1, "url": 1, "author": 1, "source": 1, "published_at": 1,
                  "sentiment": 1, "issues": 1}
        docs = list(self.mentions.find(query, fields).limit(500))
        # Most negative first: the clearest evidence of why the rule fired.
        docs.sort(key=lambda d: ((d.get("sentiment") or {}).get("compound", 0.0),
                                 -d["published_at"].timestamp()))
        return docs[:limit]

    def window(self, brand: str, since: datetime, until: datetime, *, limit: int = 20_000) -> list[dict]:
        """A brand's mentions in ``[since, until)`` with what an explanation reads (text, author,
        source, language, tone, issues); the (brands, published_at) index serves it."""
        fields = {"text": 1, "url": 1, "author": 1, "source": 1, "lang": 1, "published_at": 1,
                  "sentiment.label": 1, "sentiment.compound": 1, "brand_sentiment": 1, "issues": 1}
        query = {"brands": brand, "published_at": {"$gte": since, "$lt": until}}
        return list(self.mentions.find(query, fields).limit(limit))


@guarded_class
class SeriesCache:
    """``alert_series``: the rollups re-shaped for the alert rules, one document per
    (brand, issue, class, source, week) holding that week's hourly counts (its ``_id`` is
    ``stable_id`` of those).

    Why: a rule reads about three weeks of hourly counts for every key. As
    ``mention_stats`` cells that is tens of thousands of small documents for 50 brands x
    10 issues (seconds on the embedded store); as week documents it is a few thousand.
    ``class`` is ``all`` (brand-wide cells, every label summed) or ``negative``.

    Kept current incrementally: each refresh re-reads the ``mention_stats`` cells of the
    hours that ingest batches, corrections and ``rematch`` moved since the last refresh
    (``rollup_log``), the newest hours, and any hours not yet covered. Cells whose count
    went to zero are rewritten as zero. Not seen: cells deleted outright
    (``rebuild_stats``, retention): call ``rebuild()`` after those.
    """

    SKEW = timedelta(minutes=2)      # clocks of ingest hosts and this one
    TRAILING = timedelta(hours=3)    # always re-read: late items land in the newest hours

    def __init__(self, db: Database):
        self.docs = db["alert_series"]
        self.state = db["alert_series_state"]
        self.stats = db["mention_stats"]
        self.log = RollupLog(db)

    def ensure_indexes(self) -> None:
        self.docs.create_index([("week", ASCENDING), ("brand", ASCENDING)])

    def refresh(self, since: datetime, until: datetime) -> dict[str, int]:
        """Make ``[since, until)`` current; return how many hours and cells were re-read."""
        state = self.state.find_one({"_id": "coverage"}) or {}
        scan_from = datetime.now(timezone.utc) - self.SKEW  # before reading: later batches show next time
        hours: set[datetime] = set()
        lo, hi = state.get("since"), state.get("until")
        written = self.log.changed_since(state["scan_from"]) if state.get("scan_from") else None
        if lo is None or hi is None or since >= hi or until <= lo or written is None:  # start over
            self.docs.delete_many({"week": {"$gte": _week(since), "$lt": until}})
            hours |= _hours(since, until)
            lo, hi = since, until
        else:
            if since < lo:
                hours |= _hours(since, lo)
            if until > hi:
                hours |= _hours(hi, until)
            lo, hi = min(lo, since), max(hi, until)
            hours |= _hours(max(lo, until - self.TRAILING), until)
            hours |= {hour for hour in written if lo <= hour < hi}
        cells = self._rebuild_hours(sorted(hours)) if hours else 0
        self.state.update_one({"_id": "coverage"}, {"$set": {"since": lo, "until": hi, "scan_from": scan_from}},
                              upsert=True)
        return {"hours": len(hours), "cells": cells}

    def rebuild(self) -> None:
        """Forget everything; the next refresh re-reads its whole range."""
        self.docs.delete_many({})
        self.state.delete_many({})

    def _rebuild_hours(self, hours: list[datetime]) -> int:
        sums: dict[tuple, float] = {}
        n = 0
        for span_lo, span_hi in _spans(hours):
            for brand, issue, label, source, hour, count in cells_between(self.stats, span_lo, span_hi):
                n += 1
                if label == "negative":
                    key = (brand, issue, "negative", source, hour)
                    sums[key] = sums.get(key, 0) + count
                if issue == ALL_ISSUES:
                    key = (brand, ALL_ISSUES, "all", source, hour)
                    sums[key] = sums.get(key, 0) + count
        docs: dict[str, dict] = {}
        for (brand, issue, cls, source, hour), count in sums.items():
            week = _week(hour)
            doc_id = _series_id(brand, issue, cls, source, week)
            entry = docs.setdefault(doc_id, {"set": {}, "on_insert": {
                "brand": brand, "issue": issue, "cls": cls, "source": source, "week": week}})
            entry["set"][f"h.{int((hour - week) / HOUR)}"] = count
        ops = [UpdateOne({"_id": i}, {"$set": e["set"], "$setOnInsert": e["on_insert"]}, upsert=True)
               for i, e in docs.items()]
        for k in range(0, len(ops), 5000):
            self.docs.bulk_write(ops[k:k + 5000], ordered=False)
        return n

    def read(self, since: datetime, until: datetime, *, brands: list[str] | None = None
             ) -> Iterator[tuple[str, str, str, str, datetime, int]]:
        """(brand, issue, class, source, hour, count) in ``[since, until)``, from the week documents."""
        match: dict = {"week": {"$gte": _week(since), "$lt": until}}
        if brands is not None:
            match["brand"] = {"$in": list(brands)}
        for doc in self.docs.find(match, {"_id": 0}, batch_size=5000):
            for slot, count in (doc.get("h") or {}).items():
                hour = doc["week"] + int(slot) * HOUR
                if count and since <= hour < until:
                    yield doc["brand"], doc["issue"], doc["cls"], doc["source"], hour, count


HOUR = timedelta(hours=1)


def _series_id(brand: str, issue: str, cls: str, source: str, week: datetime) -> str:
    return stable_id(brand, issue, cls, source, f"{week:%Y-%m-%d}")


def _week(t: datetime) -> datetime:
    """Monday 00:00 UTC of ``t``'s week."""
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _hours(since: datetime, until: datetime) -> set[datetime]:
    n = int((until - since) / HOUR)
    return {since + i * HOUR for i in range(max(n, 0))}


def _spans(hours: list[datetime]) -> Iterator[tuple[datetime, datetime]]:
    """Sorted hours as contiguous [lo, hi) ranges, so each is one indexed range scan."""
    start = prev = hours[0]
    for h in hours[1:]:
        if h - prev > HOUR:
            yield start, prev + HOUR
            start = h
        prev = h
    yield start, prev + HOUR
