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

It runs under a lease and the marker is written last; other processes wait for the
marker, so two recounts never overlap and no writer adds a new-format cell beside an
old one. Each step is idempotent: an upgrade killed midway runs again in full.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pymongo.collection import Collection
from pymongo.database import Database

from listening.store.edge import guarded, guarded_class
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


@guarded_class
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


@guarded
def upgrade(store: Store) -> dict[str, int] | None:
    """Bring ``store`` to ``FORMAT``, or wait while another process does; what this one
    did, or None when there was nothing to do."""
    fmt = StoreFormat(store.db)
    waiting = False
    while not fmt.current():
        lease = store.leases.acquire(LEASE, owner=f"{HOST}:{os.getpid()}", ttl=LEASE_TTL)
        if lease is None:
            if not waiting:
                log.warning("waiting for another process to upgrade the store's ids")
                waiting = True
            time.sleep(POLL)
            continue
        try:
            if fmt.current():  # finished between our look and the lease
                return None
            done = {"rollup_cells": 0, "alerts": 0}
            if joined_ids(store.mentions.stats) or joined_ids(store.series_cache.docs):
                log.warning("recounting the rollups from mentions: their ids change (once)")
                done["rollup_cells"], _ = store.rebuild_rollups()
            done["alerts"] = store.alerts.rekey()
            fmt.mark()
            return done
        finally:
            store.leases.release(lease)
    return None
