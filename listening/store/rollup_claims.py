"""``rollup_claims``: which hours a writer is about to move, so a crash cannot leave them short.

A batch's mentions and its rollup increments are two writes. A writer killed between
them (kill -9, power loss) would leave those hours' rollups short of their mentions.
So before a batch a writer claims the hours it will touch, and drops the claim once
both writes are done. A claim whose writer is gone (same host and its pid dead, or
older than ``ABANDONED_AFTER`` for other hosts) marks hours to recount from
``mentions``; hours a live writer still claims wait for the next recovery, since
recounting under a live writer would count its batch twice.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

from bson import ObjectId
from pymongo.database import Database

from listening.store.embedded import process_alive

ABANDONED_AFTER = timedelta(minutes=30)  # far longer than any one batch takes
HOST = socket.gethostname()


class RollupClaims:
    """One document per batch in flight: ``{host, pid, at, hours}``."""

    def __init__(self, db: Database):
        self.collection = db["rollup_claims"]

    def claim(self, hours: set[datetime]) -> ObjectId:
        return self.collection.insert_one({
            "host": HOST, "pid": os.getpid(), "at": datetime.now(timezone.utc),
            "hours": sorted(hours)}).inserted_id

    def release(self, claim_id: ObjectId) -> None:
        self.collection.delete_one({"_id": claim_id})

    def abandoned(self, now: datetime | None = None) -> tuple[list[ObjectId], set[datetime]]:
        """Claims left by dead writers, and the hours to recount for them (none a live writer holds)."""
        now = now or datetime.now(timezone.utc)
        dead, live = [], []
        for claim in self.collection.find({}):
            gone = (not process_alive(claim["pid"]) if claim["host"] == HOST
                    else now - claim["at"] > ABANDONED_AFTER)
            (dead if gone else live).append(claim)
        held = {hour for claim in live for hour in claim["hours"]}
        ready = [c for c in dead if not held.intersection(c["hours"])]
        return [c["_id"] for c in ready], {hour for c in ready for hour in c["hours"]}

    def forget(self, claim_ids: list[ObjectId] | None = None) -> None:
        """Drop these claims (all when None: a full rebuild recounts everything)."""
        self.collection.delete_many({} if claim_ids is None else {"_id": {"$in": claim_ids}})
