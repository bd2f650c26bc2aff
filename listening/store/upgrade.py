"""``store_meta``: the format of the store's ids, and the one-time upgrade to this one.

Format 4 (this one) keeps a brand's rollup cells of an hour in one document; format 3 kept a
document per cell. Since format 3 ``mention_hours`` counts every mention once per hour. Since format 2 an id made of several parts is ``listening.ids.stable_id``
of them. Before it (no marker), the parts were joined with "|", so distinct keys could share a
document: brand "A|x" + issue "*" and brand "A" + issue "x|*" were one rollup cell and
their counts merged. The first process that opens an older store upgrades it:

- rollups in an older shape or with old ids (``mention_stats``, and ``alert_series`` read
  from them) are derived data: recounted from ``mentions``, hour totals and day cells too,
  as ``listening rebuild-stats`` does;
- alerts get the ``key`` (and ``open_key``) of their rule, brand and issue; their
  ``_id`` stays, since the outbox's idempotency keys name it;
- Trends documents need nothing: their upserts find stored ones by their key fields.

Separately (marker ``mention_keys``, ``rekey_mentions``), mentions stored under a
source-scoped id whose post has a global identity today move to it (docs/crawling.md).

Each runs under a lease and its marker is written last; other processes wait for the
marker, so two recounts never overlap and no writer adds a new-format cell beside an
old one. Each step is idempotent: an upgrade killed midway runs again in full.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from pymongo import DeleteOne, UpdateMany, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from listening.store.edge import guarded, guarded_class
from listening.store.mentions import rollup_keys
from listening.store.rollup_log import HOST

if TYPE_CHECKING:
    from listening.store import Store

FORMAT = 4
LEASE = "store-upgrade"
# A recount took 156 s at a million mentions here (`rebuild-stats`); a process that dies
# upgrading holds the others back this long (the lease is not renewed during the recount).
LEASE_TTL = 30 * 60.0
POLL = 1.0

log = logging.getLogger(__name__)


@guarded_class
class StoreFormat:
    """``store_meta``'s format marker."""

    def __init__(self, db: Database):
        self.meta = db["store_meta"]

    def version(self) -> int | None:
        """The marked format; None when unmarked (format 1, or a new store)."""
        return (self.meta.find_one({"_id": "format"}) or {}).get("version")

    def current(self) -> bool:
        return (self.version() or 1) >= FORMAT

    def mark(self) -> None:
        self.meta.update_one({"_id": "format"}, {"$set": {
            "version": FORMAT, "upgraded_at": datetime.now(timezone.utc)}}, upsert=True)


def joined_ids(collection: Collection) -> bool:
    """Whether ``collection`` holds a document whose ``_id`` joins parts with "|" (format 1)."""
    return collection.find_one({"_id": {"$regex": r"\|"}}, {"_id": 1}) is not None


@guarded
def upgrade(store: Store) -> dict[str, int] | None:
    """Bring ``store`` to ``FORMAT``, or wait while another process does; what this one
    did, or None when there was nothing to do."""
    fmt = StoreFormat(store.db)

    def work() -> dict[str, int]:
        done = {"rollup_cells": 0, "alerts": 0}
        a_cell_a_doc = store.mentions.stats.find_one({"count": {"$exists": True}}, {"_id": 1})
        if a_cell_a_doc or joined_ids(store.series_cache.docs):
            log.warning("recounting the rollups from mentions: their shape changes (once)")
            done["rollup_cells"], _ = store.rebuild_rollups()  # the hour totals with them
        done["alerts"] = store.alerts.rekey()
        return done

    return _once(store, fmt.current, fmt.mark, LEASE, work)


def _once(store: Store, current: Callable[[], bool], mark: Callable[[], None], lease_name: str,
          work: Callable[[], dict[str, int]]) -> dict[str, int] | None:
    """Run ``work`` under a lease unless ``current()``, then ``mark()``; other processes wait."""
    waiting = False
    while not current():
        lease = store.leases.acquire(lease_name, owner=f"{HOST}:{os.getpid()}", ttl=LEASE_TTL)
        if lease is None:
            if not waiting:
                log.warning("waiting for another process to upgrade the store (%s)", lease_name)
                waiting = True
            time.sleep(POLL)
            continue
        try:
            if current():  # finished between our look and the lease
                return None
            done = work()
            mark()
            return done
        finally:
            store.leases.release(lease)
    return None


# Mentions an older version stored under a source-scoped id although their post has a
# global identity today (a feed entry under its source's own hash, Mastodon statuses under
# the instance's id, Reddit JSON posts under t3_...): ``store_meta`` "mention_keys" says they
# have moved. Which move, and where to, is the ingest's rule (``pipeline.moved_identity``).
KEYS = "mention_keys"
KEYS_VERSION = 1
REKEY_FIELDS = {"key": 1, "source": 1, "source_kind": 1, "external_id": 1, "url": 1}
REKEY_BATCH = 1000


@guarded
def rekey_mentions(store: Store, moved: Callable[[dict], tuple[str, str] | None]) -> dict[str, int] | None:
    """Move each mention to the id of its global identity, once per store.

    ``moved(doc)`` gives a stored mention's new ``(_id, key)``, or None to leave it. A moved
    mention keeps everything and notes its old id in ``legacy_id`` (a link to it still opens
    it, ``MentionRepo.get``); its audit entries follow it. When the new id is stored already
    (the post was stored again under it, or read by another source), the two are one: the
    stored one stands, lists the old one's sources, and the old one leaves the rollups.
    """
    meta = store.db["store_meta"]

    def current() -> bool:
        return (meta.find_one({"_id": KEYS}) or {}).get("version", 0) >= KEYS_VERSION

    def mark() -> None:
        meta.update_one({"_id": KEYS}, {"$set": {"version": KEYS_VERSION,
                                                 "upgraded_at": datetime.now(timezone.utc)}}, upsert=True)

    def work() -> dict[str, int]:
        done = {"moved": 0, "merged": 0}
        plan = [(doc["_id"], *target) for doc in store.mentions.collection.find({"key": None}, REKEY_FIELDS)
                if (target := moved(doc)) and target[0] != doc["_id"]]
        audited = set(store.db["mention_audit"].distinct("mention_id"))
        for start in range(0, len(plan), REKEY_BATCH):
            _move(store, plan[start:start + REKEY_BATCH], audited, done)
        if plan:
            log.warning("moved %d mentions to their global ids (%d were stored twice: now once)",
                        done["moved"] + done["merged"], done["merged"])
        return done

    return _once(store, current, mark, KEYS, work)


def _move(store: Store, batch: list[tuple[str, str, str]], audited: set, done: dict[str, int]) -> None:
    """Move one batch of (old id, new id, key): insert the moved, fold the twice-stored into
    the one that stands, then delete the old ones. Idempotent: a batch killed after its
    inserts finds its own copies (``legacy_id``) next time and only deletes the old ones."""
    mentions = store.mentions.collection
    olds = {d["_id"]: d for d in mentions.find({"_id": {"$in": [old for old, _, _ in batch]}})}
    stored = {d["_id"]: d for d in mentions.find({"_id": {"$in": [new for _, new, _ in batch]}},
                                                 {"sources": 1, "source": 1, "legacy_id": 1})}
    inserts: dict[str, dict] = {}
    joins: dict[str, list[str]] = {}
    gone: Counter = Counter()
    hours = []
    for old_id, new_id, key in batch:
        if (old := olds.get(old_id)) is None:
            continue
        sources = old.get("sources", [old["source"]])
        if new_id in inserts:  # two old copies in this batch: the first stands
            inserts[new_id]["sources"] = list(dict.fromkeys([*inserts[new_id]["sources"], *sources]))
        elif new_id in stored and stored[new_id].get("legacy_id") == old_id:  # moved before a kill
            continue
        elif new_id in stored:
            standing = stored[new_id].get("sources", [stored[new_id]["source"]])
            joins[new_id] = list(dict.fromkeys([*joins.get(new_id, standing), *sources]))
        else:
            inserts[new_id] = {**old, "_id": new_id, "key": key, "legacy_id": old_id, "sources": sources}
            done["moved"] += 1
            continue
        gone.update(rollup_keys(old))
        hours.append(old["published_at"])
        done["merged"] += 1
    with store.mentions.claim(hours):
        if inserts:
            mentions.insert_many(list(inserts.values()), ordered=False)
        if joins:
            mentions.bulk_write([UpdateOne({"_id": new}, {"$set": {"sources": sources}})
                                 for new, sources in joins.items()])
        if olds:  # one DeleteOne each: 4x faster than a $in on the embedded store
            mentions.bulk_write([DeleteOne({"_id": old}) for old in olds])
        store.mentions.apply_deltas(Counter({cell: -n for cell, n in gone.items()}))
    audit = [UpdateMany({"mention_id": old}, {"$set": {"mention_id": new}}) for old, new, _ in batch if old in audited]
    if audit:
        store.db["mention_audit"].bulk_write(audit)
