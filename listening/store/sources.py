"""``source_state``: what each source has already given us, so a re-run fetches only what is new.

One document per source: a cursor per start URL (newest item time and id seen) and
the HTTP validators (ETag / Last-Modified) of the URLs fetched. Stored as lists, not
URL-keyed maps, because MongoDB keys may not contain dots. Callers see plain dicts:

    {"cursors": {url: {"last_time": datetime | None, "last_id": str | None}},
     "validators": {url: {"etag": str | None, "last_modified": str | None}}}
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pymongo.database import Database

MAX_VALIDATORS = 2000  # per source; the oldest are forgotten (a re-fetch costs one page)


class SourceStateRepo:
    """``source_state``."""

    def __init__(self, db: Database):
        self.collection = db["source_state"]

    def ensure_indexes(self) -> None:
        """Keyed by source name (``_id``): nothing else to index."""

    def get(self, source: str) -> dict[str, Any]:
        """The source's state; empty cursors and validators for a source never crawled."""
        doc = self.collection.find_one({"_id": source}) or {}
        return {
            "cursors": {c["key"]: {"last_time": c.get("last_time"), "last_id": c.get("last_id")}
                        for c in doc.get("cursors", ())},
            "validators": {v["url"]: {"etag": v.get("etag"), "last_modified": v.get("last_modified")}
                           for v in doc.get("validators", ())},
            "updated_at": doc.get("updated_at"),
        }

    def save(self, source: str, state: dict[str, Any], *, run_id: str | None = None) -> None:
        """Replace the source's state (after a crawl that finished)."""
        cursors = [{"key": key, "last_time": c.get("last_time"), "last_id": c.get("last_id")}
                   for key, c in state.get("cursors", {}).items()]
        validators = [{"url": url, "etag": v.get("etag"), "last_modified": v.get("last_modified")}
                      for url, v in list(state.get("validators", {}).items())[-MAX_VALIDATORS:]]
        self.collection.replace_one({"_id": source}, {
            "cursors": cursors, "validators": validators, "run_id": run_id,
            "updated_at": datetime.now(timezone.utc)}, upsert=True)

    def reset(self, source: str | None = None) -> int:
        """Forget one source's state (or every source's): the next crawl fetches everything."""
        return self.collection.delete_many({"_id": source} if source else {}).deleted_count
