"""``leases``: one document per job, so schedulers sharing a database never run a job twice.

A scheduler takes a job's lease before it runs the job. The lease names its holder
and expires, so a holder that died (kill -9) blocks the job only until the expiry;
a live holder renews it. On release the lease stays closed until ``hold_until``
(about half the job's period after it started): a second scheduler that fires the
same slot a moment later finds the slot done instead of running it again.

    lease = store.leases.acquire("alerts", owner="host:pid", ttl=600)
    if lease:                       # None: another scheduler holds it
        ...
        store.leases.release(lease, hold_until=...)

Times are each scheduler's own UTC clock: keep the hosts' clocks in sync (NTP);
seconds of skew are harmless next to periods of minutes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from listening.store.edge import guarded_class


@dataclass(frozen=True)
class Lease:
    """A lease we hold; ``previous`` is the lease document we took over (None: first ever)."""

    job: str
    owner: str
    token: str
    expires_at: datetime
    previous: dict | None


@guarded_class
class LeaseRepo:
    """``leases``: ``_id`` is the job id."""

    def __init__(self, db: Database):
        self.collection = db["leases"]
        self.schedulers = db["schedulers"]  # one document per live scheduler process

    def ensure_indexes(self) -> None:
        """Keyed by job id (``_id``): nothing else to index."""

    def acquire(self, job: str, *, owner: str, ttl: float,
                now: datetime | None = None) -> Lease | None:
        """Take the job's lease if it is free or expired; None when someone else holds it."""
        now = now or datetime.now(timezone.utc)
        token = uuid.uuid4().hex
        expires = now + timedelta(seconds=ttl)
        try:
            before = self.collection.find_one_and_update(
                {"_id": job, "expires_at": {"$lte": now}},
                {"$set": {"owner": owner, "token": token, "acquired_at": now,
                          "expires_at": expires, "released_at": None, "run_id": None}},
                upsert=True, return_document=ReturnDocument.BEFORE)
        except DuplicateKeyError:
            return None  # the document exists and has not expired: held
        return Lease(job, owner, token, expires, before)

    def attach_run(self, lease: Lease, run_id: str) -> None:
        """Say which run holds the lease, so a successor can close it if we die."""
        self.collection.update_one({"_id": lease.job, "token": lease.token},
                                   {"$set": {"run_id": run_id}})

    def renew(self, lease: Lease, *, ttl: float) -> bool:
        """Push the expiry on; False when the lease was lost (expired and taken over)."""
        expires = datetime.now(timezone.utc) + timedelta(seconds=ttl)
        result = self.collection.update_one({"_id": lease.job, "token": lease.token},
                                            {"$set": {"expires_at": expires}})
        return result.matched_count == 1

    def release(self, lease: Lease, *, hold_until: datetime | None = None) -> None:
        """Give the lease back; it stays closed until ``hold_until`` (default: now)."""
        now = datetime.now(timezone.utc)
        until = max(now, hold_until) if hold_until else now
        self.collection.update_one({"_id": lease.job, "token": lease.token},
                                   {"$set": {"expires_at": until, "released_at": now}})

    def all(self) -> list[dict]:
        """Every job's lease document (``listening status`` shows who is running what)."""
        return list(self.collection.find({}))

    def beat(self, owner: str, **info) -> None:
        """A scheduler says it is alive (every 15 s); ``listening status`` lists the live ones."""
        now = datetime.now(timezone.utc)
        self.schedulers.update_one({"_id": owner}, {"$set": {"seen_at": now, **info},
                                                    "$setOnInsert": {"started_at": now}}, upsert=True)

    def gone(self, owner: str) -> None:
        """A scheduler stopped cleanly."""
        self.schedulers.delete_one({"_id": owner})

    def live_schedulers(self, *, within: float = 60.0) -> list[dict]:
        """Schedulers seen in the last ``within`` seconds."""
        since = datetime.now(timezone.utc) - timedelta(seconds=within)
        return list(self.schedulers.find({"seen_at": {"$gte": since}}).sort("_id", 1))
