"""Mentions and their hourly rollups (``mention_stats``).

A mention's ``_id`` is a stable hash, so re-collecting an item finds it again. Writes
come in batches: one ``$in`` lookup tells new from known mentions, new ones go in with
one ``insert_many``, changed ones with one ``bulk_write``; unchanged ones cost nothing.
The rollups move by the difference only, summed per key within the batch, so a re-run
never double counts and a re-tagged mention moves from its old cell to its new one.

A rollup cell is (brand, issue, sentiment label, source, hour) -> count. The issue
``"*"`` cell counts every mention of the brand once, whatever its issues; the other
cells count mentions per issue (a mention with two issues is in both). A brand's cells of
one hour are stored in one document, ``{brand, hour, n: {source: {issue: {label: count}}}}``
(names escaped by ``path_part``), whose ``_id`` is ``stable_id`` of brand and hour, so no
two keys share a count whatever their names hold; ``cells_of`` reads them back as cells. On
SecantusDB each document and each index entry costs far more than its bytes: the airline
tweets' 8,021 cells, a document each with two indexes, took 1.94 s to insert; as 909 hour
documents with one index, 0.16 s, and they read 7x faster.

Beside them, ``mention_hours`` counts every mention once per hour, whatever its brands (none
included): ``count_between`` sums at most one small document an hour, where counting the
mentions themselves read every one (6.8 s at a million on SecantusDB, 0.03 s so). Its key goes through
the same deltas (``rollup_keys`` yields it first, with ``TOTAL`` for a brand), so every path
that moves the rollups keeps the totals too.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import unquote

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, InsertOne, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from listening.ids import stable_id
from listening.models import sentiment_label
from listening.store.edge import guarded_class
from listening.store.resilience import with_retry
from listening.store.rollup_log import RollupLog

ALL_ISSUES = "*"
TOTAL = None  # the brand of an hour's total key: (TOTAL, TOTAL, TOTAL, TOTAL, hour)
MAX_KNOWN_CELLS = 200_000  # ids of rollup cells written by this repo: a few MB at most
HOLD_BATCHES = 10  # held batches' rollups are written at the latest with the tenth
_ROLLUP_FIELDS = {"brands": 1, "issues": 1, "sentiment.label": 1, "source": 1,
                  "published_at": 1, "fingerprint": 1, "sources": 1, "brand_sentiment": 1}


@dataclass
class WriteCounts:
    """What one batch did to the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # the same mention twice in one batch (the last one stands), or stored from another source


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def rollup_keys(doc: dict) -> Iterator[tuple]:
    """The rollup cells a mention counts in: its hour's total first, then its brands' cells."""
    hour = _hour(doc["published_at"])
    yield TOTAL, TOTAL, TOTAL, TOTAL, hour
    label = sentiment_label(doc.get("sentiment"))
    towards = doc.get("brand_sentiment") or {}
    source = doc["source"]
    for brand in doc.get("brands") or ():
        own = sentiment_label(towards[brand]) if brand in towards else label  # towards that brand
        for issue in (ALL_ISSUES, *(doc.get("issues") or ())):
            yield brand, issue, own, source, hour


@guarded_class
class MentionRepo:
    """``mentions`` and ``mention_stats``."""

    def __init__(self, db: Database, heal: Callable[[], object] | None = None):
        self.collection = db["mentions"]
        self.stats = db["mention_stats"]
        self.hours = db["mention_hours"]
        self.heal = heal
        self.log = RollupLog(db)
        self.meta = db["store_meta"]
        self._known_cells: set[str] = set()
        self._span: tuple[datetime, datetime] | None = None  # cell_hours as this repo last saw it
        self._held: Counter = Counter()  # rollup increments of written batches, not yet applied
        self._held_entries: list[tuple[ObjectId, set[datetime]]] = []  # those batches' claims

    def ensure_indexes(self) -> None:
        # Every index costs on each insert (on the embedded store 5 secondary indexes cut
        # insert throughput by 7x), so only these three: filters on issue or source run
        # inside a (brand,) time window, which the first two serve.
        self.collection.create_index([("published_at", DESCENDING)])
        self.collection.create_index([("brands", ASCENDING), ("published_at", DESCENDING)])
        self.collection.create_index([("collected_at", ASCENDING)])  # retention ages by it
        # Rollups are read by hour range only (the rest is picked in Python), so one index:
        # each costs on every write, $inc included (8k cell inserts: 20.9k/s with none,
        # 5.5k/s with one, 4.1k/s with two; SecantusDB 0.7.0b3).
        self.stats.create_index([("hour", ASCENDING)])
        for older in ("brand_1_hour_1", "issue_1_hour_1"):  # an older store's cell indexes
            if older in self.stats.index_information():
                self.stats.drop_index(older)
        self.log.ensure_indexes()

    def upsert_batch(self, docs: list[dict], *, hold: bool = False) -> WriteCounts:
        """Insert new mentions, update changed ones, and move the rollups to match.

        When the database goes away mid-batch, wait for it (restarting the embedded
        server), write the batch again (idempotent for mentions), then recount the
        rollup hours the batch touched, since part of its increments may have landed.
        The hours are claimed in ``rollup_log`` until the rollups have moved: if this
        process dies midway, ``recover`` in the next writer recounts them.

        With ``hold`` the rollup increments wait, summed, for later batches (the pipeline's
        next ones: an import's consecutive batches mostly hit the same cells, and a cell
        write costs as much as a mention's) until ``release_rollups`` or ``HOLD_BATCHES``.
        """
        if not docs:
            return WriteCounts()
        hours = {_hour(d["published_at"]) for d in docs}
        entry, began_retries = with_retry(lambda: self.log.begin(hours), heal=self.heal)
        (counts, deltas), retries = with_retry(lambda: self._upsert_batch(docs), heal=self.heal)
        self._held.update(deltas)
        self._held_entries.append((entry, hours))
        if began_retries or retries:  # part of it may have landed: recount what is held instead
            held = set().union(*(h for _, h in self._held_entries))
            with_retry(lambda: self.recount_hours(held), heal=self.heal)
            self._held = Counter({key: n for key, n in self._held.items() if key[4] not in held})
        if not hold or len(self._held_entries) >= HOLD_BATCHES:
            self.release_rollups()
        return counts

    def release_rollups(self) -> None:
        """Write the held rollup increments and finish their batches' claims."""
        if not self._held_entries:
            return
        deltas, entries = self._held, self._held_entries
        self._held, self._held_entries = Counter(), []
        hours = set().union(*(h for _, h in entries))
        tried = []

        def apply() -> None:
            if tried:  # a retry: part of the increments may have landed, so recount instead
                self.recount_hours(hours)
            else:
                tried.append(True)
                self.apply_deltas(deltas)

        with_retry(apply, heal=self.heal)
        finish_retries = sum(with_retry(lambda e=e: self.log.finish(e), heal=self.heal)[1] for e, _ in entries)
        if finish_retries:
            # The server went away after these writes were acknowledged. The embedded
            # server does not sync every commit, so a restart can lose the rollup increments
            # while the mentions survived (seen in test_outage under load): recount, claimed.
            again, _ = with_retry(lambda: self.log.begin(hours), heal=self.heal)
            with_retry(lambda: self.recount_hours(hours), heal=self.heal)
            with_retry(lambda: self.log.finish(again), heal=self.heal)

    def recover(self) -> int:
        """Recount the hours of batches whose writer died mid-batch; return how many hours."""
        entry_ids, hours = self.log.abandoned()
        self.recount_hours(hours)
        self.log.recovered(entry_ids)
        return len(hours)

    def _upsert_batch(self, docs: list[dict]) -> tuple[WriteCounts, Counter]:
        unique = list({doc["_id"]: doc for doc in docs}.values())
        ids = [doc["_id"] for doc in unique] + [doc["legacy_id"] for doc in unique if doc.get("legacy_id")]
        known = {d["_id"]: d for d in self.collection.find({"_id": {"$in": ids}}, _ROLLUP_FIELDS)}
        counts, deltas = self._write_known(unique, known)
        counts.duplicates += len(docs) - len(unique)
        return counts, deltas

    def _write_known(self, docs: list[dict], known: dict[str, dict]) -> tuple[WriteCounts, Counter]:
        """Write ``docs`` given the stored mentions ``known`` among them (which another
        writer may have outdated since: its inserts win, ours count as duplicates); return
        the counts and the rollup deltas, not yet written."""
        counts = WriteCounts()
        deltas: Counter = Counter()
        inserts, updates, fresh = [], [], []
        for doc in docs:
            if doc["_id"] not in known and doc.get("legacy_id") in known:
                doc["_id"] = doc["legacy_id"]  # stored before global ids: it keeps its id
            old = known.get(doc["_id"])
            if old is None:
                inserts.append(InsertOne(doc))
                fresh.append(doc)
                counts.new += 1
            elif old["source"] != doc["source"]:
                # Another source's copy of a stored post: the first source keeps the
                # content (no back and forth between two versions), this one is listed.
                counts.duplicates += 1
                if doc["source"] not in old.get("sources", [old["source"]]):
                    updates.append(UpdateOne({"_id": doc["_id"]}, {"$addToSet": {
                        "sources": {"$each": [old["source"], doc["source"]]}}}))
                continue
            elif old.get("fingerprint") == doc.get("fingerprint"):
                counts.unchanged += 1
                continue
            else:
                fields = {k: v for k, v in doc.items() if k not in ("_id", "first_collected_at", "sources")}
                updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": fields}))
                counts.updated += 1
                deltas.subtract(rollup_keys(old))
            deltas.update(rollup_keys(doc))
        late = [fresh[i] for i in self._write(inserts + updates) if i < len(inserts)]
        for doc in late:  # another writer (this source or another) inserted it first: that one stands
            deltas.subtract(rollup_keys(doc))
            counts.new -= 1
            counts.duplicates += 1
        if late:
            self._write([UpdateOne({"_id": d["_id"]}, {"$addToSet": {"sources": d["source"]}}) for d in late])
        return counts, deltas

    def _write(self, ops: list) -> list[int]:
        """Write ``ops``; the indexes of those refused as duplicate keys."""
        if not ops:
            return []
        try:
            self.collection.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != 11000 for err in errors):
                raise
            return [err["index"] for err in errors]
        return []

    @contextmanager
    def claim(self, published: Iterable[datetime]) -> Iterator[None]:
        """Claim the hours of mentions changed outside ``upsert_batch`` (a human correction,
        ``rematch``) in ``rollup_log`` while their rollups move: the day rollups and alert
        series see the change on their next refresh, and if this process dies midway the
        next writer recounts those hours. An exception leaves the claim open: recovered
        once this process is gone."""
        entry = self.log.begin({_hour(t) for t in published})
        yield
        self.log.finish(entry)

    def retag(self, changes: list[tuple[dict, dict[str, Any]]]) -> int:
        """Give mentions new tags and move their rollup cells: ``changes`` holds (the mention
        as read, the fields to set); only those fields are written, in one bulk write (the
        whole mention through ``upsert_batch`` was 3x slower here). A mention changed since it
        was read (a person's correction) is left as it is and the batch's hours are recounted.
        Returns how many were written."""
        if not changes:
            return 0
        with self.claim(old["published_at"] for old, _ in changes):
            written = self.collection.bulk_write([UpdateOne(
                {"_id": old["_id"], "sentiment.label": (old.get("sentiment") or {}).get("label"),
                 "issues": old.get("issues"), "correction": {"$exists": False}}, {"$set": fields})
                for old, fields in changes], ordered=False).modified_count
            if written < len(changes):
                self.recount_hours({_hour(old["published_at"]) for old, _ in changes})
                return written
            deltas: Counter = Counter()
            for old, fields in changes:
                deltas.update(rollup_keys({**old, **fields}))
                deltas.subtract(rollup_keys(old))
            self.apply_deltas(deltas)  # the same cell writer the ingest path uses
        return written

    def apply_deltas(self, deltas: Counter) -> None:
        """Add each delta to its cell, one write per brand and hour.

        A brand's hour this repo has not written before is first tried as a plain insert
        (about 2.5x cheaper than an upsert on the embedded store, and an import of history
        creates mostly new ones); one that exists already refuses it as a duplicate and
        takes an ``$inc`` like the known ones. ``_known_cells`` is a hint only: a known
        document that was deleted since is recreated by the upsert.
        """
        self._add_totals(Counter({key[4]: n for key, n in deltas.items() if key[0] is TOTAL and n}))
        docs: dict[tuple, dict[tuple, int]] = {}
        for key, n in deltas.items():
            if n and key[0] is not TOTAL:
                brand, issue, label, source, hour = key
                docs.setdefault((brand, hour), {})[(source, issue, label)] = n
        ids = {doc: _stat_id(*doc) for doc in docs}
        fresh = [doc for doc in docs if ids[doc] not in self._known_cells
                 and all(n > 0 for n in docs[doc].values())]
        existing = set(docs) - set(fresh)
        if fresh:
            try:
                self.stats.insert_many([{"_id": ids[doc], "brand": doc[0], "hour": doc[1],
                                         "n": _nested(docs[doc])} for doc in fresh], ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(err.get("code") != 11000 for err in errors):
                    raise
                existing.update(fresh[err["index"]] for err in errors)
        ops = [UpdateOne({"_id": ids[doc]}, {
            "$inc": {_path(*cell): n for cell, n in docs[doc].items()},
            "$setOnInsert": {"brand": doc[0], "hour": doc[1]}}, upsert=True) for doc in existing]
        if ops:
            self.stats.bulk_write(ops, ordered=False)
        self._widen_span([doc[1] for doc, cells in docs.items() if any(n > 0 for n in cells.values())])
        self._known_cells.update(ids.values())
        if len(self._known_cells) > MAX_KNOWN_CELLS:
            self._known_cells.clear()

    def _add_totals(self, totals: Counter) -> None:
        """Add to the hours' totals (``mention_hours``, one document an hour)."""
        if totals:
            self.hours.bulk_write([UpdateOne({"_id": hour}, {"$inc": {"count": n}}, upsert=True)
                                   for hour, n in totals.items()], ordered=False)

    def _widen_span(self, hours: list[datetime]) -> None:
        """Keep ``store_meta`` "cell_hours" (the first and last hour any cell counted in)
        covering ``hours``: one small write when a batch reaches past it, none otherwise."""
        if not hours:
            return
        first, last = min(hours), max(hours)
        if self._span and self._span[0] <= first and last <= self._span[1]:
            return
        doc = self.meta.find_one_and_update(
            {"_id": "cell_hours"}, {"$min": {"first": first}, "$max": {"last": last}},
            upsert=True, return_document=ReturnDocument.AFTER)
        self._span = (doc["first"], doc["last"])

    def hour_span(self) -> tuple[datetime, datetime] | None:
        """The first and last hour any cell counted in ("cell_hours", kept by every cell
        write); a store from before it gets them from its cells, once."""
        doc = self.meta.find_one({"_id": "cell_hours"})
        if doc is None:
            found = self.stats.distinct("hour")  # 4 s and 0.8 GB of server at a million mentions
            if not found:
                return None
            self._widen_span(found)
            return min(found), max(found)
        return doc["first"], doc["last"]

    def recount_hours(self, hours: set[datetime]) -> None:
        """Recount the rollup cells of some hours from ``mentions``."""
        for hour in sorted(hours):
            window = {"$gte": hour, "$lt": hour + timedelta(hours=1)}
            totals: Counter = Counter()
            for doc in self.collection.find({"published_at": window}, _ROLLUP_FIELDS):
                totals.update(rollup_keys(doc))
            self.stats.delete_many({"hour": hour})
            self.hours.delete_one({"_id": hour})
            self.apply_deltas(totals)

    def rebuild_stats(self) -> int:
        """Recount every rollup cell and hour total from ``mentions``; return the number of cells."""
        span = self.hour_span()  # before the cells go: an older store's span comes from them
        self.log.forget()
        self.stats.delete_many({})
        self.hours.delete_many({})
        totals: Counter = Counter()
        if span:
            for doc in walk(self.collection, "published_at", span[0], span[1] + timedelta(hours=1), _ROLLUP_FIELDS):
                totals.update(rollup_keys(doc))
        self.apply_deltas(totals)
        return sum(key[0] is not TOTAL for key in totals)

    def count(self) -> int:
        return self.collection.estimated_document_count()

    def count_between(self, since: datetime | None, until: datetime | None) -> int:
        """Distinct mentions published in the hours from ``since`` to ``until``, by the hour
        like the rollups: the sum of ``mention_hours``. Counting the mentions themselves
        read every one on SecantusDB, filter or not: at a million, 6.8 s for the collection's
        own count and 6.9 s for a 7-day range, the server to 1.3 GB; these sums 0.03 s."""
        window = {op: t for op, t in (("$gte", since), ("$lt", until)) if t is not None}
        rows = self.hours.aggregate([{"$match": {"_id": window} if window else {}},
                                     {"$group": {"_id": None, "count": {"$sum": "$count"}}}])
        return next((row["count"] for row in rows), 0)

    def get(self, mention_id: str) -> dict | None:
        """The mention, also by the id it had before it moved to its global one (a link in an
        older alert mail): that look-up reads the collection, so it is tried only on a miss."""
        return self.collection.find_one({"_id": mention_id}) or self.collection.find_one({"legacy_id": mention_id})

    def totals(self, by: tuple[str, ...] = ("brand", "label"), *,
               since: datetime | None = None, until: datetime | None = None,
               issue: str | None = ALL_ISSUES, brands: list[str] | None = None) -> list[dict]:
        """Rollup counts in ``[since, until)`` summed by the ``by`` fields (of ``CELL``).

        ``issue="*"`` (the default) counts each mention once per brand; ``issue=None``
        returns the per-issue cells (use ``by`` with ``"issue"``).
        """
        wanted = set(brands) if brands is not None else None
        places = [CELL.index(f) for f in by]
        sums: dict[tuple, int] = {}
        for cell in self.cells(since, until):
            if (wanted is None or cell[0] in wanted) and (
                    cell[1] == issue if issue is not None else cell[1] != ALL_ISSUES):
                key = tuple(cell[i] for i in places)
                sums[key] = sums.get(key, 0) + cell[5]
        return [{**dict(zip(by, key)), "count": n} for key, n in sums.items()]

    def cells(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[tuple]:
        """``cells_between`` of ``[since, until)``, an open end at the first or last hour."""
        span = self.hour_span() if since is None or until is None else (since, until)
        if span is None:
            return iter(())
        return cells_between(self.stats, since or span[0], until or span[1] + timedelta(hours=1))

    def time_span(self) -> tuple[datetime, datetime] | None:
        """The first and last rollup hours, or None when there are no mentions."""
        first = self.stats.find_one({}, {"hour": 1}, sort=[("hour", ASCENDING)])
        last = self.stats.find_one({}, {"hour": 1}, sort=[("hour", DESCENDING)])
        return (first["hour"], last["hour"]) if first and last else None

def walk(collection: Collection, field: str, start: datetime, end: datetime, fields: dict | None,
         *, most: int = 50_000) -> Iterator[dict]:
    """Every document with ``field`` in ``[start, end)``, oldest windows first, one indexed
    window at a time.

    SecantusDB builds a query's whole result in its memory before the first batch, and a
    range on ``_id`` is a collection scan: reading the 376k cells of a million mentions in
    16 ``_id`` ranges took 108 s and the server to 883 MB, a day of them by the ``hour``
    index 0.6 s. Windows start at a day, double while they hold under a quarter of
    ``most`` documents (years between two bursts cost a few reads) and halve past it.
    """
    step = timedelta(days=1)
    while start < end:
        stop = min(start + step, end)
        n = 0
        for doc in collection.find({field: {"$gte": start, "$lt": stop}}, fields, batch_size=10_000):
            n += 1
            yield doc
        start = stop
        if n < most // 4:
            step = min(step * 2, timedelta(days=1024))
        elif n > most:
            step = max(step / 2, timedelta(hours=1))


CELL = ("brand", "issue", "label", "source", "hour")  # a cell's key, then its count


def _stat_id(brand: str, hour: datetime) -> str:
    return stable_id(brand, f"{hour:%Y-%m-%dT%H}")


def path_part(name: str) -> str:
    """A source, issue or label name as a field name an update path can hold: no "." and
    no NUL, no leading "$", never empty (``%`` escapes, as in URLs). Undone by ``name_of``,
    unlike ``models.field_name``, which keeps a key safe one way."""
    if not name:
        return "%"
    name = name.replace("%", "%25").replace(".", "%2E").replace("\x00", "%00")
    return "%24" + name[1:] if name.startswith("$") else name


def name_of(field: str) -> str:
    """``path_part`` undone."""
    if "%" not in field:
        return field
    return "" if field == "%" else unquote(field)


def _path(source: str, issue: str, label: str) -> str:
    return f"n.{path_part(source)}.{path_part(issue)}.{path_part(label)}"


def _nested(cells: dict[tuple, int]) -> dict:
    """``{(source, issue, label): count}`` as the ``n`` of a rollup document."""
    out: dict = {}
    for (source, issue, label), n in cells.items():
        out.setdefault(path_part(source), {}).setdefault(path_part(issue), {})[path_part(label)] = n
    return out


def cells_between(stats: Collection, start: datetime, end: datetime) -> Iterator[tuple]:
    """Every cell with its hour in ``[start, end)``: ``CELL`` fields and the count, zero
    counts included (a mention moved away leaves its cell at zero)."""
    for doc in walk(stats, "hour", start, end, None):
        yield from cells_of(doc)


def cells_of(doc: dict) -> Iterator[tuple]:
    """A rollup document's cells: (brand, issue, label, source, hour, count)."""
    brand, hour = doc["brand"], doc["hour"]
    for source, issues in (doc.get("n") or {}).items():
        source = name_of(source)
        for issue, labels in issues.items():
            issue = name_of(issue)
            for label, count in labels.items():
                yield brand, issue, name_of(label), source, hour, count
