"""The mention feed: newest mentions, the needs-reply queue, handling and corrections.

SecantusDB cannot serve ``sort + limit`` from an index over a whole collection, so a
feed never asks for "the newest 50" outright: it scans time slices, narrow first and
widening only while it has found too few, each slice an indexed range (with an
equality prefix on brands, issues or source when one is filtered). Text search is a
case-insensitive regex of the *escaped* user text; user input is only ever a value,
never an operator.

Handling and corrections write their own fields (``handled``, ``correction``) that a
re-collection of the mention leaves alone, and an audit row in ``mention_audit``.
A correction moves the mention's rollup cells, so every chart agrees with it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from listening.store.mentions import MentionRepo, rollup_keys

FIRST_SLICE = timedelta(hours=6)
WIDEN = 4
LABELS = ("positive", "neutral", "negative")
# Intents that ask for an answer; negative mentions (complaints) also need one.
REPLY_INTENTS = ("question", "needs_reply", "complaint", "churn_risk")
_FEED_FIELDS = {"fingerprint": 0, "matched_terms": 0, "first_collected_at": 0}


@dataclass(frozen=True)
class FeedFilter:
    """What the reader narrowed the feed to; empty means "any"."""

    brands: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    text: str = ""

    def query(self) -> dict[str, Any]:
        """The MongoDB filter, every user value passed as a plain value."""
        query: dict[str, Any] = {}
        for field, values in (("brands", self.brands), ("issues", self.issues),
                              ("source", self.sources), ("sentiment.label", self.labels)):
            if values:
                query[field] = {"$in": [str(v) for v in values]}
        if self.text.strip():
            query["text"] = {"$regex": re.escape(self.text.strip()), "$options": "i"}
        return query


class FeedRepo:
    """Reads and human edits of single mentions (``mentions``, ``mention_audit``)."""

    def __init__(self, db: Database, mentions: MentionRepo):
        self.mentions = mentions
        self.collection = mentions.collection
        self.audit = db["mention_audit"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("handled.at", DESCENDING)], sparse=True)
        self.audit.create_index([("mention_id", ASCENDING), ("at", DESCENDING)])
        self.audit.create_index([("at", DESCENDING)])

    # -- reading -----------------------------------------------------------------
    def newest(self, flt: FeedFilter = FeedFilter(), *, since: datetime, until: datetime,
               limit: int = 50, exclude: tuple[str, ...] = ()) -> list[dict]:
        """Up to ``limit`` mentions in ``[since, until)``, newest first.

        For the next page pass ``until`` = the last one's ``published_at`` and
        ``exclude`` = the ids already shown at exactly that time.
        """
        query = flt.query()
        if exclude:
            query["_id"] = {"$nin": list(exclude)}
        return self._scan(query, since, until, limit, newest_first=True)

    def needs_reply(self, brands: list[str], *, since: datetime, until: datetime,
                    limit: int = 50, flt: FeedFilter = FeedFilter()) -> list[dict]:
        """Unhandled questions and complaints about ``brands``, oldest first."""
        if not brands:
            return []
        query = {**flt.query(), "handled": None,
                 "$or": [{"intent": {"$in": list(REPLY_INTENTS)}},
                         {"sentiment.label": "negative"}]}
        if not flt.brands:
            query["brands"] = {"$in": list(brands)}
        return self._scan(query, since, until, limit, newest_first=False)

    def handled(self, *, since: datetime, until: datetime, limit: int = 500) -> list[dict]:
        """Mentions handled in ``[since, until)`` (for the time-to-handle figure)."""
        cursor = (self.collection.find({"handled.at": {"$gte": since, "$lt": until}},
                                       {"published_at": 1, "handled": 1, "brands": 1})
                  .sort("handled.at", DESCENDING).limit(limit))
        return list(cursor)

    def _scan(self, query: dict, since: datetime, until: datetime, limit: int,
              *, newest_first: bool) -> list[dict]:
        """Walk time slices from one end of the window, widening until ``limit`` are found."""
        found: list[dict] = []
        width = FIRST_SLICE
        lo, hi = since, until
        while len(found) < limit and lo < hi:
            if newest_first:
                start, end = max(since, hi - width), hi
                hi = start
            else:
                start, end = lo, min(until, lo + width)
                lo = end
            cursor = (self.collection.find({**query, "published_at": {"$gte": start, "$lt": end}},
                                           _FEED_FIELDS)
                      .sort("published_at", DESCENDING if newest_first else ASCENDING)
                      .limit(limit - len(found)))
            found.extend(cursor)
            width *= WIDEN
        return found

    # -- human edits ---------------------------------------------------------------
    def mark_handled(self, mention_id: str, who: str, *, note: str = "",
                     at: datetime | None = None) -> bool:
        """Record who handled a mention and when; False if it was already handled."""
        at = at or datetime.now(timezone.utc)
        result = self.collection.update_one(
            {"_id": mention_id, "handled": None},
            {"$set": {"handled": {"by": who, "at": at, "note": note}}})
        if result.modified_count:
            self._log(mention_id, "handled", who, at, after={"note": note})
        return bool(result.modified_count)

    def correct(self, mention_id: str, who: str, *, sentiment: str | None = None,
                issues: list[str] | None = None, at: datetime | None = None) -> bool:
        """Correct a mention's sentiment label and/or issues; audit it; move its rollups."""
        if sentiment is not None and sentiment not in LABELS:
            raise ValueError(f"sentiment must be one of {LABELS}, not {sentiment!r}")
        old = self.collection.find_one({"_id": mention_id})
        if old is None:
            return False
        at = at or datetime.now(timezone.utc)
        before = {"sentiment": (old.get("sentiment") or {}).get("label"), "issues": old.get("issues") or []}
        after = {"sentiment": sentiment or before["sentiment"],
                 "issues": sorted(set(issues)) if issues is not None else before["issues"]}
        if after == before:
            return False
        self.collection.update_one({"_id": mention_id}, {"$set": {
            "sentiment.label": after["sentiment"], "issues": after["issues"],
            "labels.sentiment": after["sentiment"], "labels.issues": after["issues"],
            "labels.by": who,
            "correction": {**after, "by": who, "at": at, "before": before},
        }})
        new = {**old, "sentiment": {**(old.get("sentiment") or {}), "label": after["sentiment"]},
               "issues": after["issues"]}
        deltas: Counter = Counter(rollup_keys(new))
        deltas.subtract(rollup_keys(old))
        self.mentions._apply_deltas(deltas)  # the same cell writer the ingest path uses
        self._log(mention_id, "corrected", who, at, before=before, after=after)
        return True

    def history(self, mention_id: str) -> list[dict]:
        """Every human edit of a mention, newest first."""
        return list(self.audit.find({"mention_id": mention_id}).sort("at", DESCENDING))

    def recent_edits(self, limit: int = 50) -> list[dict]:
        return list(self.audit.find({}).sort("at", DESCENDING).limit(limit))

    def _log(self, mention_id: str, action: str, who: str, at: datetime, **change: Any) -> None:
        self.audit.insert_one({"mention_id": mention_id, "action": action, "by": who, "at": at, **change})
