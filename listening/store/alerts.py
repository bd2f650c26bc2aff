"""``alerts``: spikes found by the alert rules, with their lifecycle.

At most one unresolved alert per (rule, brand, issue): while an alert is open or
acknowledged it carries ``open_key``, which has a unique sparse index; resolving
removes it. Two evaluations racing to open the same alert cannot both succeed.
The key is ``listening.ids.alert_key`` (a hash of the three parts).
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from listening.ids import alert_key
from listening.store.edge import guarded_class

UNRESOLVED = ["open", "acknowledged"]


@guarded_class
class AlertRepo:
    """``alerts``."""

    def __init__(self, db: Database):
        self.collection = db["alerts"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("status", ASCENDING), ("opened_at", DESCENDING)])
        self.collection.create_index("open_key", unique=True, sparse=True)
        self.collection.create_index([("key", ASCENDING), ("resolved_at", DESCENDING)])

    def open_alerts(self) -> list[dict]:
        """Alerts not yet resolved, newest first."""
        return list(self.collection.find({"status": {"$in": UNRESOLVED}})
                    .sort("opened_at", DESCENDING))

    def count(self) -> int:
        return self.collection.count_documents({})

    def get(self, alert_id: str) -> dict | None:
        return self.collection.find_one({"_id": alert_id})

    def resolved_since(self, since: datetime) -> list[dict]:
        """Alerts resolved at or after ``since`` (for cooldowns and reopening)."""
        return list(self.collection.find({"status": "resolved", "resolved_at": {"$gte": since}}))

    def insert(self, alert: dict) -> bool:
        """Insert a new alert; False when it (or another open one for its key) exists."""
        try:
            self.collection.insert_one(alert)
            return True
        except DuplicateKeyError:
            return False

    GROWTH_FIELDS = ("observed", "expected", "score", "severity", "peak_at", "latest", "history",
                     "buckets", "last_fired_at", "window_end", "window_hours", "explanation")

    def save_growth(self, alert: dict) -> None:
        """Write what detection owns; status and who/when stay with the people."""
        self.collection.update_one({"_id": alert["_id"]},
                                   {"$set": {k: alert[k] for k in self.GROWTH_FIELDS if k in alert}})

    def reopen(self, alert: dict, at: datetime) -> bool:
        """An auto-resolved alert fires again within its cooldown: the incident goes on."""
        fields = {k: alert[k] for k in self.GROWTH_FIELDS if k in alert}
        try:
            result = self.collection.update_one(
                {"_id": alert["_id"], "status": "resolved", "resolved_by": "auto"},
                {"$set": {**fields, "status": "open", "open_key": alert["key"], "resolved_at": None,
                          "resolved_by": None},
                 "$push": {"events": {"event": "reopened", "at": at, "by": "auto"}}})
        except DuplicateKeyError:  # another alert for the key opened meanwhile
            return False
        return result.modified_count == 1

    def transition(self, alert_id: str, *, allowed: list[str], to: str, at: datetime,
                   who: str) -> dict | None:
        """Move an alert to ``to`` if it is in one of ``allowed``; None otherwise."""
        stamp = "acknowledged" if to == "acknowledged" else "resolved"
        update: dict = {"$set": {"status": to, f"{stamp}_at": at, f"{stamp}_by": who},
                        "$push": {"events": {"event": to, "at": at, "by": who}}}
        if to == "resolved":
            update["$unset"] = {"open_key": ""}
        return self.collection.find_one_and_update(
            {"_id": alert_id, "status": {"$in": allowed}}, update,
            return_document=ReturnDocument.AFTER)

    def unacknowledged_high(self) -> list[dict]:
        """Open (not acknowledged), high-severity alerts not yet escalated."""
        return list(self.collection.find({"status": "open", "severity": "high", "escalated_at": None}))

    def mark_escalated(self, alert_id: str, at: datetime) -> bool:
        """Claim the escalation of an alert; False if another process did first."""
        result = self.collection.update_one(
            {"_id": alert_id, "escalated_at": None, "status": "open"},
            {"$set": {"escalated_at": at}, "$push": {"events": {"event": "escalated", "at": at}}})
        return result.modified_count == 1

    def rekey(self) -> int:
        """Give every alert the ``key`` (and ``open_key``) ``alert_key`` makes of its rule,
        brand and issue today; return how many changed (after an upgrade: the old keys
        joined the parts with "|", so two series could share one)."""
        ops = []
        for alert in self.collection.find({}, {"rule": 1, "brand": 1, "issue": 1, "key": 1, "open_key": 1}):
            key = alert_key(alert["rule"], alert["brand"], alert.get("issue"))
            if alert.get("key") != key:
                fields = {"key": key, **({"open_key": key} if "open_key" in alert else {})}
                ops.append(UpdateOne({"_id": alert["_id"]}, {"$set": fields}))
        if ops:
            self.collection.bulk_write(ops, ordered=False)
        return len(ops)

    def between(self, since: datetime, until: datetime) -> list[dict]:
        """Alerts opened in ``[since, until)``, oldest first (digests)."""
        return list(self.collection.find({"opened_at": {"$gte": since, "$lt": until}})
                    .sort("opened_at", ASCENDING))
