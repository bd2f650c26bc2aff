"""``store_meta``: the format of the store's ids, and the one-time upgrade to this one.

Format 2 (this one): an id made of several parts is ``listening.ids.stable_id`` of them.
Before it (no marker), the parts were joined with "|", so distinct keys could share a
document: brand "A|x" + issue "*" and brand "A" + issue "x|*" were one rollup cell and
their counts merged. The first process that opens an older store upgrades it:

- rollups with old ids (``mention_stats``, and ``alert_series`` read from them) are
  derived data: recounted from ``mentions`` with the new ids, day cells too, as
  ``listening rebuild-stats`` does;
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

from pymongo.collection import Collection
from pymongo.database import Database

from listening.store.mentions import rollup_keys
from listening.store.rollup_log import HOST

if TYPE_CHECKING:
    from listening.store import Store

FORMAT = 2
LEASE = "store-upgrade"
# A recount took 99 s at 200k mentions here (minutes at a million); a process that dies
# upgrading holds the others back this long (the lease is not renewed during the recount).
LEASE_TTL = 30 * 60.0
POLL = 1.0

log = logging.getLogger(__name__)


class StoreFormat:
    """``store_meta``'s format marker."""

    def __init__(self, db: Database):
        self.meta = db["store_meta"]

    def current(self) -> bool:
        return (self.meta.find_one({"_id": "format"}) or {}).get("version", 1) >= FORMAT

    def mark(self) -> None:
        self.meta.update_one({"_id": "format"}, {"$set": {
            "version": FORMAT, "upgraded_at": datetime.now(timezone.utc)}}, upsert=True)


def joined_ids(collection: Collection) -> bool:
    """Whether ``collection`` holds a document whose ``_id`` joins parts with "|" (format 1)."""
    return collection.find_one({"_id": {"$regex": r"\|"}}, {"_id": 1}) is not None


def upgrade(store: Store) -> dict[str, int] | None:
    """Bring ``store`` to ``FORMAT``, or wait while another process does; what this one
    did, or None when there was nothing to do."""
    fmt = StoreFormat(store.db)

    def work() -> dict[str, int]:
        done = {"rollup_cells": 0, "alerts": 0}
        if joined_ids(store.mentions.stats) or joined_ids(store.series_cache.docs):
            log.warning("recounting the rollups from mentions: their ids change (once)")
            done["rollup_cells"], _ = store.rebuild_rollups()
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
        mentions, audit = store.mentions.collection, store.db["mention_audit"]
        done = {"moved": 0, "merged": 0}
        plan = [(doc["_id"], *target) for doc in mentions.find({"key": None}, REKEY_FIELDS)
                if (target := moved(doc)) and target[0] != doc["_id"]]
        for old_id, new_id, key in plan:
            old = mentions.find_one({"_id": old_id})
            stored = mentions.find_one({"_id": new_id}, {"sources": 1, "source": 1})
            if stored is None:
                mentions.insert_one({**old, "_id": new_id, "key": key, "legacy_id": old_id})
                mentions.delete_one({"_id": old_id})
                done["moved"] += 1
            else:
                with store.mentions.claim([old["published_at"]]):
                    mentions.update_one({"_id": new_id}, {"$addToSet": {"sources": {"$each": [
                        *stored.get("sources", [stored["source"]]), *old.get("sources", [old["source"]])]}}})
                    mentions.delete_one({"_id": old_id})
                    store.mentions.apply_deltas(Counter({cell: -1 for cell in rollup_keys(old)}))
                done["merged"] += 1
            audit.update_many({"mention_id": old_id}, {"$set": {"mention_id": new_id}})
        if plan:
            log.warning("moved %d mentions to their global ids (%d were stored twice: now once)",
                        done["moved"] + done["merged"], done["merged"])
        return done

    return _once(store, current, mark, KEYS, work)
