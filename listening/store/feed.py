"""The mention feed: newest mentions, the needs-reply queue, handling and corrections.

SecantusDB cannot serve ``sort + limit`` from an index over a whole collection, so a
feed never asks for "the newest 50" outright: it scans time slices, narrow first and
widening only while it has found too few. Each slice is sent as the one query shape
its planner serves from an index -- a ``published_at`` range, plus one equality on
brands, issues or source when exactly one is chosen (measured: any other field beside
``brands``, or ``$in`` on it, turns the plan into a collection scan) -- and every other
condition is checked here. A scan stops after ``budget`` documents and says how far
back it got, so a rare filter never stalls the page. Text search matches the *escaped*
user text case-insensitively; user input never reaches MongoDB as an operator.

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

from listening.store.edge import guarded_class
from listening.store.mentions import MentionRepo, rollup_keys

FIRST_SLICE = timedelta(minutes=30)
WIDEN = 4
# Documents one scan may read. SecantusDB serves about 14,000 mentions a second at a million
# (Live's text search for a rare phrase, bench/load.py: 10,000 read in 0.64-0.70 s, 0.44 s of
# it waiting on the server; 7,000 in 0.50-0.54 s), so 6,000 keeps a page under half a second.
BUDGET = 6_000
SLICE_DOCS = 300  # what one slice should hold (SecantusDB reads a whole slice, limit or not)
LABELS = ("positive", "neutral", "negative")
# Intents that ask us for an answer (listening.tagging.intent): questions, complaints asking for
# action, and customers about to leave.
REPLY_INTENTS = ("question", "needs_reply", "churn_risk")


@dataclass(frozen=True)
class FeedFilter:
    """What the reader narrowed the feed to; empty means "any"."""

    brands: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    text: str = ""

    def index_query(self) -> dict[str, Any]:
        """The part MongoDB gets: one equality on an indexed prefix, when there is one."""
        for field, values in (("brands", self.brands), ("issues", self.issues), ("source", self.sources)):
            if len(values) == 1:
                return {field: str(values[0])}
        return {}

    def fully_indexed(self) -> bool:
        """True when ``index_query`` says it all (MongoDB can then apply the limit)."""
        chosen = [v for v in (self.brands, self.issues, self.sources) if v]
        return not self.text.strip() and not self.labels and (
            not chosen or (len(chosen) == 1 and len(chosen[0]) == 1))

    def matches(self, doc: dict) -> bool:
        """The whole filter, checked on a fetched mention."""
        if self.brands and not set(doc.get("brands") or ()) & set(self.brands):
            return False
        if self.issues and not set(doc.get("issues") or ()) & set(self.issues):
            return False
        if self.sources and doc.get("source") not in self.sources:
            return False
        if self.labels and (doc.get("sentiment") or {}).get("label") not in self.labels:
            return False
        if self.text.strip():
            pattern = re.compile(re.escape(self.text.strip()), re.IGNORECASE)
            return bool(pattern.search(doc.get("text") or "") or pattern.search(doc.get("title") or ""))
        return True


@dataclass
class Page:
    """A page of mentions and how far back (or forward) the scan looked."""

    mentions: list[dict]
    reached: datetime  # the scan covered [reached, until) (newest first) or [since, reached)
    complete: bool     # True when the whole window was scanned or the page is full


@guarded_class
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
               limit: int = 50, exclude: tuple[str, ...] = (), budget: int = BUDGET) -> Page:
        """Up to ``limit`` mentions in ``[since, until)``, newest first.

        For the next page pass ``until`` = the last one's ``published_at`` plus 1 ms and
        ``exclude`` = the ids already shown at exactly that time.
        """
        skip = set(exclude)
        return self._scan(flt.index_query(), lambda m: m["_id"] not in skip and flt.matches(m),
                          since, until, limit, newest_first=True, budget=budget,
                          exact=len(skip) if flt.fully_indexed() else None)

    def needs_reply(self, brands: list[str], *, since: datetime, until: datetime,
                    limit: int = 50, flt: FeedFilter = FeedFilter(), budget: int = BUDGET) -> Page:
        """Unhandled questions and complaints about ``brands``, oldest first."""
        if not brands:
            return Page([], since, True)
        flt = flt if flt.brands else FeedFilter(tuple(brands), flt.issues, flt.sources, flt.labels, flt.text)
        wanted = set(REPLY_INTENTS)

        def waiting(m: dict) -> bool:
            return not m.get("handled") and bool(wanted & set(m.get("intent") or ())) and flt.matches(m)
        return self._scan(flt.index_query(), waiting, since, until, limit, newest_first=False, budget=budget)

    def handled(self, *, since: datetime, until: datetime, limit: int = 500) -> list[dict]:
        """Mentions handled in ``[since, until)`` (for the time-to-handle figure)."""
        cursor = (self.collection.find({"handled.at": {"$gte": since, "$lt": until}},
                                       {"published_at": 1, "handled": 1, "brands": 1,
                                        "first_collected_at": 1, "collected_at": 1})
                  .sort("handled.at", DESCENDING).limit(limit))
        return list(cursor)

    def _scan(self, query: dict, keep, since: datetime, until: datetime, limit: int,
              *, newest_first: bool, budget: int, exact: int | None = None) -> Page:
        """Walk time slices from one end of the window, widening until ``limit`` are kept.

        ``exact`` (when the query says everything but ``exact`` excluded ids) lets MongoDB
        apply the limit, so a dense slice costs ``limit`` documents, not the whole slice.
        """
        found: list[dict] = []
        width, seen = FIRST_SLICE, 0
        lo, hi = since, until
        while len(found) < limit and lo < hi and seen < budget:
            if newest_first:
                start, end = max(since, hi - width), hi
                hi = start
            else:
                start, end = lo, min(until, lo + width)
                lo = end
            # whole mentions: SecantusDB reads a projection field by field, and leaving out
            # three fields took 0.87 s where the whole documents took 0.50 s (the demo's 11,526)
            cursor = (self.collection.find({**query, "published_at": {"$gte": start, "$lt": end}},
                                           batch_size=200)
                      .sort("published_at", DESCENDING if newest_first else ASCENDING))
            if exact is not None:
                cursor = cursor.limit(limit - len(found) + exact)
            in_slice = 0
            for doc in cursor:
                seen += 1
                in_slice += 1
                if keep(doc):
                    found.append(doc)
                if len(found) == limit or seen >= budget:
                    cursor.close()
                    return Page(found, doc["published_at"], len(found) == limit)
            # size the next slice for about SLICE_DOCS documents, from this one's density
            width *= WIDEN if in_slice == 0 else min(WIDEN, max(1.0, SLICE_DOCS / in_slice))
        reached = hi if newest_first else lo
        return Page(found, reached, len(found) == limit or lo >= hi)

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
        changes: dict[str, Any] = {
            "sentiment.label": after["sentiment"], "issues": after["issues"],
            "correction": {**after, "by": who, "at": at, "before": before},
            "labels.by": who, "labels.at": at,  # listening.store.labels feeds these to learning
        }
        if sentiment is not None:
            changes["labels.sentiment"] = sentiment
            changes["sentiment.method"] = "human"  # a person read it: no longer unscored
            changes["brand_sentiment"] = {}  # their label stands for every brand it names
        if issues is not None:  # learning takes one issue label per mention
            changes["labels.issue"] = after["issues"][0] if after["issues"] else "none"
        with self.mentions.claim([old["published_at"]]):
            # Only from the state we read: two people correcting at once move the rollups once.
            result = self.collection.update_one(
                {"_id": mention_id, "sentiment.label": before["sentiment"], "issues": old.get("issues")},
                {"$set": changes})
            if not result.modified_count:
                return False
            new_sentiment = {**(old.get("sentiment") or {}), "label": after["sentiment"]}
            new = {**old, "sentiment": new_sentiment, "issues": after["issues"]}
            if sentiment is not None:
                new_sentiment["method"] = "human"
                new["brand_sentiment"] = {}
            deltas: Counter = Counter(rollup_keys(new))
            deltas.subtract(rollup_keys(old))
            self.mentions.apply_deltas(deltas)  # the same cell writer the ingest path uses
        self._log(mention_id, "corrected", who, at, before=before, after=after, published_at=old["published_at"])
        return True

    def history(self, mention_id: str) -> list[dict]:
        """Every human edit of a mention, newest first."""
        return list(self.audit.find({"mention_id": mention_id}).sort("at", DESCENDING))

    def recent_edits(self, limit: int = 50) -> list[dict]:
        return list(self.audit.find({}).sort("at", DESCENDING).limit(limit))

    def _log(self, mention_id: str, action: str, who: str, at: datetime, **change: Any) -> None:
        self.audit.insert_one({"mention_id": mention_id, "action": action, "by": who, "at": at, **change})
