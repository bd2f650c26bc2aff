"""``rollup_log``: the hours each ingest batch moves, claimed before it writes and kept after.

Two jobs, one document per batch ``{host, pid, at, hours, done_at}``:

- **No short rollups after a crash.** A batch's mentions and its rollup increments are two
  writes; a writer killed between them would leave those hours' rollups short. So a
  batch claims its hours first and stamps ``done_at`` once both writes landed. A claim
  with no ``done_at`` whose writer is gone (same host and its pid dead, or older than
  ``ABANDONED_AFTER`` for other hosts) marks hours to recount from ``mentions``; hours a
  live writer still claims wait for the next recovery, since recounting under a live
  writer would count its batch twice.
- **What changed since.** The day rollups and the alert series read the hours finished
  since their last refresh here, instead of scanning every mention collected since
  (at a million mentions that scan took 17 s and gigabytes of server memory). Finished
  entries are kept for ``KEEP``; a reader that fell further behind rebuilds.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

from bson import ObjectId
from pymongo import ASCENDING, WriteConcern
from pymongo.database import Database

from listening.store.edge import guarded_class
from listening.store.embedded import process_alive

ABANDONED_AFTER = timedelta(minutes=30)  # far longer than any one batch takes
KEEP = timedelta(days=2)
HOST = socket.gethostname()


@guarded_class
class RollupLog:
    """``rollup_log``: one document per batch."""

    def __init__(self, db: Database):
        # done_at is journalled (j=true): its flush makes the batch's mentions and rollup
        # increments durable with it. A claim needs no flush of its own: the journal keeps
        # commit order, so mentions that survive a crash bring the claim written before them
        # (its flush cost 29 ms a batch, waiting on the batch before).
        self.collection = db.get_collection("rollup_log", write_concern=WriteConcern(w=1, j=True))
        self.claims = db.get_collection("rollup_log")

    def ensure_indexes(self) -> None:
        self.collection.create_index([("done_at", ASCENDING)])

    def begin(self, hours: set[datetime]) -> ObjectId:
        return self.claims.insert_one({
            "host": HOST, "pid": os.getpid(), "at": datetime.now(timezone.utc),
            "hours": sorted(hours), "done_at": None}).inserted_id

    def finish(self, entry_id: ObjectId) -> None:
        self.collection.update_one({"_id": entry_id}, {"$set": {"done_at": datetime.now(timezone.utc)}})

    def changed_since(self, since: datetime) -> set[datetime] | None:
        """Hours of batches finished at or after ``since``; None when the log no longer reaches back that far."""
        batches = self.finished_since(since)
        return None if batches is None else {hour for entry in batches for hour in entry["hours"]}

    def finished_since(self, since: datetime) -> list[dict] | None:
        """The batches (``_id``, ``done_at``, ``hours``) finished at or after ``since``; None
        when the log no longer reaches back that far."""
        if since < datetime.now(timezone.utc) - KEEP:
            return None
        return list(self.collection.find({"done_at": {"$gte": since}}, {"hours": 1, "done_at": 1}))

    def abandoned(self, now: datetime | None = None) -> tuple[list[ObjectId], set[datetime]]:
        """Unfinished batches of dead writers, and the hours to recount for them (none a live writer holds)."""
        now = now or datetime.now(timezone.utc)
        dead, live = [], []
        for entry in self.collection.find({"done_at": None}):
            gone = (not process_alive(entry["pid"]) if entry["host"] == HOST
                    else now - entry["at"] > ABANDONED_AFTER)
            (dead if gone else live).append(entry)
        held = {hour for entry in live for hour in entry["hours"]}
        ready = [e for e in dead if not held.intersection(e["hours"])]
        return [e["_id"] for e in ready], {hour for e in ready for hour in e["hours"]}

    def recovered(self, entry_ids: list[ObjectId]) -> None:
        """Mark recounted batches finished, and drop entries older than ``KEEP``."""
        now = datetime.now(timezone.utc)
        if entry_ids:
            self.collection.update_many({"_id": {"$in": entry_ids}}, {"$set": {"done_at": now}})
        self.collection.delete_many({"done_at": {"$lt": now - KEEP}})

    def forget(self) -> None:
        """Drop the whole log: after a full rebuild every reader rebuilds too."""
        self.collection.delete_many({})
