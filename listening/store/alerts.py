"""``alerts``: spikes found by the alert rules, with their lifecycle."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database


class AlertRepo:
    """``alerts``."""

    def __init__(self, db: Database):
        self.collection = db["alerts"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("status", ASCENDING), ("opened_at", DESCENDING)])

    def open_alerts(self) -> list[dict]:
        """Alerts not yet resolved, newest first."""
        return list(self.collection.find({"status": {"$in": ["open", "acknowledged"]}})
                    .sort("opened_at", DESCENDING))
