"""``outbox``: every e-mail is written here first, then sent by the flusher.

``_id`` is the message's idempotency key (e.g. ``alert:<id>:opened``): queueing the
same notification twice is a no-op. A flusher *claims* a message with one atomic
update (status ``sending`` plus a lease), so two flushers never send the same one; a
crash mid-send leaves a lease that expires and the message is tried again.

    pending ──claim──► sending ──► sent
       ▲                  │
       └──retry (backoff)─┴──► failed (after max attempts or a permanent refusal)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bson import Binary
from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from listening.store.edge import guarded_class
from listening.store.resilience import with_retry

# A message's state marks are keyed $sets, so they can be retried: the embedded server runs
# standalone (no retryable writes), and a mark lost to a blip would send the message again.
MARK_GIVE_UP_S = 60.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


@guarded_class
class OutboxRepo:
    """``outbox``."""

    def __init__(self, db: Database):
        self.collection = db["outbox"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        self.collection.create_index([("created_at", ASCENDING)])

    def enqueue(self, key: str, *, to: list[str], subject: str, raw: bytes, kind: str,
                ref: str | None = None, now: datetime | None = None, channel: str = "email") -> bool:
        """Queue a message; False when one with this key was queued before.

        ``channel``: "email", or a channel's "department/name" (listening.notify.channels),
        whose ``raw`` is the JSON body to post.
        """
        now = now or _now()
        try:
            self.collection.insert_one({
                "_id": key, "kind": kind, "ref": ref, "channel": channel, "to": list(to), "subject": subject,
                "raw": Binary(raw), "status": "pending", "attempts": 0, "created_at": now,
                "next_attempt_at": now, "lease_until": None, "sent_at": None, "last_error": None})
            return True
        except DuplicateKeyError:
            return False

    def claim(self, now: datetime, lease: timedelta, *, email: bool = True) -> dict | None:
        """Take the next due message (or one whose sender died mid-send): an e-mail, or with
        ``email=False`` a channel message. Messages queued before channels existed are e-mails."""
        channel = {"channel": {"$in": [None, "email"]}} if email else {"channel": {"$nin": [None, "email"]}}
        return self.collection.find_one_and_update(
            {"$or": [{"status": "pending", "next_attempt_at": {"$lte": now}},
                     {"status": "sending", "lease_until": {"$lt": now}}], **channel},
            {"$set": {"status": "sending", "lease_until": now + lease}, "$inc": {"attempts": 1}},
            sort=[("next_attempt_at", ASCENDING)], return_document=ReturnDocument.AFTER)

    def release(self, key: str) -> None:
        """Give a claimed message back untried (the server was down before we got to it)."""
        self.collection.update_one({"_id": key, "status": "sending"},
                                   {"$set": {"status": "pending", "lease_until": None},
                                    "$inc": {"attempts": -1}})

    def sent(self, key: str, now: datetime) -> None:
        self._mark(key, {"status": "sent", "sent_at": now, "lease_until": None, "last_error": None})

    def retry(self, key: str, error: str, next_at: datetime) -> None:
        self._mark(key, {"status": "pending", "next_attempt_at": next_at, "lease_until": None, "last_error": error})

    def failed(self, key: str, error: str) -> None:
        self._mark(key, {"status": "failed", "lease_until": None, "last_error": error})

    def _mark(self, key: str, fields: dict) -> None:
        with_retry(lambda: self.collection.update_one({"_id": key}, {"$set": fields}),
                   give_up_after_s=MARK_GIVE_UP_S)

    def get(self, key: str) -> dict | None:
        return self.collection.find_one({"_id": key})

    def counts(self) -> dict[str, int]:
        rows = self.collection.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])
        return {row["_id"]: row["n"] for row in rows}

    def recent(self, limit: int = 50) -> list[dict]:
        """Newest messages without their bodies (for the dashboard)."""
        since = _now() - timedelta(days=7)
        docs = list(self.collection.find({"created_at": {"$gte": since}}, {"raw": 0}))
        return sorted(docs, key=lambda d: d["created_at"], reverse=True)[:limit]
