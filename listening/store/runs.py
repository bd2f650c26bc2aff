"""``runs``: one document per job run (import, crawl, trends, alerts, digest...).

People judge how fresh and complete the data is from these, so a run is written when
it starts (status ``running``) and finished with its counts, status and error.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database


class RunRepo:
    """``runs``."""

    def __init__(self, db: Database):
        self.collection = db["runs"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("job", ASCENDING), ("started_at", DESCENDING)])
        self.collection.create_index([("started_at", DESCENDING)])

    def start(self, job: str, **details: Any) -> str:
        """Record that ``job`` started; return the run id."""
        run_id = f"{job}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.collection.insert_one({
            "_id": run_id, "job": job, "status": "running",
            "started_at": datetime.now(timezone.utc), "finished_at": None,
            "counts": {}, "error": None, **details,
        })
        return run_id

    def finish(self, run_id: str, *, status: str = "ok", counts: dict | None = None,
               error: str | None = None, **details: Any) -> None:
        """Record how the run ended: ``ok``, ``partial`` (some rejects) or ``failed``."""
        self.collection.update_one({"_id": run_id}, {"$set": {
            "status": status, "finished_at": datetime.now(timezone.utc),
            "counts": counts or {}, "error": error, **details,
        }})

    def get(self, run_id: str) -> dict | None:
        return self.collection.find_one({"_id": run_id})

    def recent(self, job: str | None = None, limit: int = 50) -> list[dict]:
        """The newest runs, of one job or of all."""
        query = {"job": job} if job else {}
        return list(self.collection.find(query).sort("started_at", DESCENDING).limit(limit))
