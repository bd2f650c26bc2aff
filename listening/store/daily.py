"""Daily rollups for the dashboard (``mention_stats_daily``), derived from the hourly ones.

SecantusDB spends ~40 µs per document an aggregation touches, and a month of hourly
cells at a million mentions is ~250k documents. Day cells are 24 times fewer, so
week- and month-wide charts read these, and only the running day comes from the
hourly cells. They are kept current without touching the ingest path:

- ``refresh()`` finds the days that changed since the last refresh in ``rollup_log``
  (ingest batches, corrections, ``rematch``), and recounts just those days from the hourly
  cells; the first refresh builds every day.
- ``dashboard_state`` keeps when that was and the first and last mention hour, so
  the dashboard knows the data's span without a sort over a big collection.

A day cell is a document of its own, a cell's fields (``CELL``) and its count, with ``hour``
the day's 00:00 UTC (an hour's cells share a document: ``listening.store.mentions``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from listening.store.edge import guarded_class
from listening.store.mentions import ALL_ISSUES, CELL, MentionRepo

DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SAFETY = timedelta(minutes=5)  # writes that committed late still count as changed


def day_of(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


@guarded_class
class DailyRepo:
    """``mention_stats_daily`` and ``dashboard_state``."""

    def __init__(self, db: Database, mentions: MentionRepo):
        self.mentions = mentions
        self.cells = db["mention_stats_daily"]
        # the same without the source: 6x fewer cells for everything that does not split by source
        self.lean = db["mention_stats_daily_lean"]
        self.state = db["dashboard_state"]

    def ensure_indexes(self) -> None:
        for cells in (self.cells, self.lean):
            cells.create_index([("issue", ASCENDING), ("hour", ASCENDING)])
            cells.create_index([("hour", ASCENDING)])

    # -- keeping current -------------------------------------------------------------
    def refresh(self, now: datetime | None = None) -> int:
        """Recount the days changed since the last refresh; return how many."""
        now = now or datetime.now(timezone.utc)
        state = self.state.find_one({"_id": "daily"})
        if state is None:
            return self.rebuild(now)
        batches = self.mentions.log.finished_since(state["as_of"] - SAFETY)
        if batches is None:  # too long since the last refresh: the log no longer covers it
            return self.rebuild(now)
        # Batches inside the safety margin were counted by the last refresh already: after a
        # bulk load, recounting them again made every refresh for 5 minutes cost 20-30 s.
        seen = set(state.get("seen") or ())
        touched = [hour for b in batches if b["_id"] not in seen for hour in b["hours"]]
        today = day_of(now)
        days = sorted({day_of(t) for t in touched if day_of(t) < today})
        for day in days:
            self._recount(day, day + DAY)
        update: dict[str, Any] = {"as_of": now, "complete_until": today,
                                  "seen": [b["_id"] for b in batches if b["done_at"] >= now - SAFETY]}
        if touched:
            first, last = min(touched), max(touched)
            if state.get("first") is None or first < state["first"]:
                update["first"] = first
            if state.get("last") is None or last > state["last"]:
                update["last"] = last.replace(minute=59)
        if state.get("complete_until") and state["complete_until"] < today:
            # the days that ended since the last refresh become day cells
            self._recount(state["complete_until"], today)
        self.state.update_one({"_id": "daily"}, {"$set": update})
        return len(days)

    def rebuild(self, now: datetime | None = None) -> int:
        """Recount every complete day from the hourly cells (the first refresh, or after
        ``listening rebuild-stats``)."""
        now = now or datetime.now(timezone.utc)
        today = day_of(now)
        # batches finished before the cells are read are in them: the next refresh skips them
        seen = [b["_id"] for b in self.mentions.log.finished_since(now - SAFETY) or ()]
        self.cells.drop()  # far cheaper than deleting every cell
        self.lean.drop()
        self.ensure_indexes()
        span = self._recount(EPOCH, today, fresh=True)
        self.state.replace_one({"_id": "daily"}, {
            "as_of": now, "complete_until": today,
            "first": span[0] if span else None, "last": span[1] + timedelta(minutes=59) if span else None,
            "seen": seen,
        }, upsert=True)
        return int((today - day_of(span[0])) / DAY) if span else 0

    def _recount(self, start: datetime, end: datetime, *,
                 fresh: bool = False) -> tuple[datetime, datetime] | None:
        """Day cells of ``[start, end)`` from the hourly ones, summed here: SecantusDB's
        ``$dateTrunc`` group costs ~0.5 ms a cell, a plain indexed read ~40 µs.

        Returns the first and last hour among the cells read (with ``fresh``: of all
        cells, which spares ``rebuild`` two sorts over the whole collection).
        """
        if end <= start:
            return None
        sums: dict[tuple, int] = {}
        first = last = None
        cells = self.mentions.cells() if fresh else self.mentions.cells(start, end)  # fresh: every cell
        for brand, issue, label, source, hour, count in cells:
            if count:
                first = hour if first is None else min(first, hour)
                last = hour if last is None else max(last, hour)
            if start <= hour < end:
                key = (brand, issue, label, source, day_of(hour))
                sums[key] = sums.get(key, 0) + count
        if not fresh:
            self.cells.delete_many({"hour": {"$gte": start, "$lt": end}})
            self.lean.delete_many({"hour": {"$gte": start, "$lt": end}})
        self._write([{**dict(zip(CELL, key)), "count": n} for key, n in sums.items() if n])
        return (first, last) if first is not None else None

    def _write(self, docs: list[dict]) -> None:
        """Insert day cells and their source-less sums."""
        lean: dict[tuple, int] = {}
        for doc in docs:
            key = (doc["brand"], doc["issue"], doc["label"], doc["hour"])
            lean[key] = lean.get(key, 0) + doc["count"]
        for cells, rows in ((self.cells, docs), (self.lean, [
                {"brand": b, "issue": i, "label": label, "hour": h, "count": n}
                for (b, i, label, h), n in lean.items()])):
            for i in range(0, len(rows), 10_000):
                cells.insert_many(rows[i:i + 10_000], ordered=False)

    def hourly(self, brand: str, issue: str | None, label: str | None, since: datetime,
               until: datetime) -> list[tuple[datetime, int]]:
        """One brand's hourly counts (of one issue and label) in ``[since, until)``, oldest first."""
        sums: dict[datetime, int] = {}
        for cell_brand, cell_issue, cell_label, _, hour, count in self.mentions.cells(since, until):
            if cell_brand == brand and cell_issue == (issue or ALL_ISSUES) and label in (None, cell_label):
                sums[hour] = sums.get(hour, 0) + count
        return sorted(sums.items())

    def load(self, docs: list[dict], *, first: datetime, last: datetime, now: datetime) -> None:
        """Write day cells computed elsewhere (benchmarks seeding a big store)."""
        self.cells.drop()
        self.lean.drop()
        self.ensure_indexes()
        self._write(docs)
        self.state.replace_one({"_id": "daily"}, {"as_of": now, "complete_until": day_of(now),
                                                  "first": first, "last": last}, upsert=True)

    # -- reading -----------------------------------------------------------------------
    def span(self) -> tuple[datetime, datetime] | None:
        """The first and last mention hour, from the state (no sort over a big collection)."""
        state = self.state.find_one({"_id": "daily"}) or {}
        first, last = state.get("first"), state.get("last")
        if not first or not last:
            return None
        return (first.replace(minute=0, second=0, microsecond=0),
                last.replace(minute=0, second=0, microsecond=0))

    def totals(self, by: tuple[str, ...] = ("brand", "label"), *, since: datetime | None = None,
               until: datetime | None = None, issue: str | None = ALL_ISSUES,
               brands: list[str] | None = None) -> list[dict]:
        """``MentionRepo.totals`` with day cells for the complete days of the window.

        Hourly cells only where a day cell would not fit: the running day, and the partial
        days at window edges that are not midnight. With ``"hour"`` in ``by`` (a chart) the
        window must start at midnight, else it is all hourly: a chart's hours stay hours.
        All time (``since=None``) reads day cells too: at a million mentions the hourly
        cells of every hour took 11 s to sum, the day cells are 24x fewer.
        """
        state = self.state.find_one({"_id": "daily"}) or {}
        complete = state.get("complete_until")
        aligned = since is None or since == day_of(since)
        if complete is None or ("hour" in by and (since is None or not aligned)):
            return self.mentions.totals(by, since=since, until=until, issue=issue, brands=brands)
        rows: list[dict] = []
        start = since
        if since is not None and not aligned:  # the head: hours up to the next midnight
            start = day_of(since) + DAY
            rows += self.mentions.totals(by, since=since, until=min(start, until) if until else start,
                                         issue=issue, brands=brands)
            if until is not None and until <= start:
                return merge_rows(rows, by)
        mid = min(complete, day_of(until)) if until else complete  # day cells end at a midnight
        if start is None or mid > start:
            days = self.cells if "source" in by else self.lean
            rows += sum_cells(days, by, start, mid, issue, brands)
        tail = mid if start is None else max(start, mid)
        if until is None or until > tail:
            rows += self.mentions.totals(by, since=tail, until=until, issue=issue, brands=brands)
        return merge_rows(rows, by)


def sum_cells(cells, by: tuple[str, ...], since, until, issue, brands) -> list[dict]:
    """Sum day cells by ``by`` in the database, matching only what SecantusDB serves from an
    index (issue and hour); the brand and "every issue but *" conditions are applied here
    (as ``$in``/``$ne`` they turn the plan into a collection scan)."""
    extra = tuple(f for f in ("brand", "issue") if f not in by and
                  ((f == "brand" and brands is not None) or (f == "issue" and issue is None)))
    match: dict[str, Any] = {}
    if issue is not None:
        match["issue"] = issue
    window = {op: t for op, t in (("$gte", since), ("$lt", until)) if t is not None}
    if window:
        match["hour"] = window
    rows = cells.aggregate([
        {"$match": match},
        {"$group": {"_id": {f: f"${f}" for f in (*by, *extra)}, "count": {"$sum": "$count"}}},
    ])
    wanted = set(brands) if brands is not None else None
    kept = [{**row["_id"], "count": row["count"]} for row in rows
            if (wanted is None or row["_id"].get("brand") in wanted)
            and (issue is not None or row["_id"].get("issue") != ALL_ISSUES)]
    return merge_rows(kept, by) if extra else kept


def merge_rows(rows: list[dict], by: tuple[str, ...]) -> list[dict]:
    merged: dict[tuple, int] = {}
    for row in rows:
        key = tuple(row.get(f) for f in by)
        merged[key] = merged.get(key, 0) + row["count"]
    return [{**dict(zip(by, key)), "count": n} for key, n in merged.items()]
