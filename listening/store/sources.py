"""``source_state``: what each source has already given us, so a re-run fetches only what is new.

One document per source: a cursor per start URL (newest item time and id seen) and
the HTTP validators (ETag / Last-Modified) of the URLs fetched. Stored as lists, not
URL-keyed maps, because MongoDB keys may not contain dots. Callers see plain dicts:

    {"cursors": {url: {"last_time": datetime | None, "last_id": str | None}},
     "validators": {url: {"etag": str | None, "last_modified": str | None}},
     "seen": {item identity: [content digest, last read (UTC) or None]}}  # newest last
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pymongo.database import Database

from listening.store.edge import guarded_class
from listening.timeparse import parse_time

MAX_VALIDATORS = 2000  # per source; the oldest are forgotten (a re-fetch costs one page)
MAX_SEEN = 5000  # items per source; the least recently seen are forgotten (a re-read costs one update)


@guarded_class
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
            "seen": {s["k"]: [s.get("d"), s.get("t")] for s in doc.get("seen", ())},
            "updated_at": doc.get("updated_at"),
        }

    def save(self, source: str, state: dict[str, Any], *, run_id: str | None = None) -> None:
        """Replace the source's cursors and validators (after a crawl that finished)."""
        cursors = [{"key": key, "last_time": c.get("last_time"), "last_id": c.get("last_id")}
                   for key, c in state.get("cursors", {}).items()]
        validators = [{"url": url, "etag": v.get("etag"), "last_modified": v.get("last_modified")}
                      for url, v in list(state.get("validators", {}).items())[-MAX_VALIDATORS:]]
        seen = [{"k": k, "d": d, "t": parse_time(t)} for k, (d, t) in list(state.get("seen", {}).items())[-MAX_SEEN:]]
        self.collection.update_one({"_id": source}, {"$set": {
            "cursors": cursors, "validators": validators, "seen": seen, "run_id": run_id,
            "updated_at": datetime.now(timezone.utc)}}, upsert=True)

    def record_crawl(self, source: str, summary: dict[str, Any]) -> None:
        """Remember the source's latest crawl (status, counts, problems), ok or not."""
        now = datetime.now(timezone.utc)
        fields = {"last_crawl": {**summary, "at": now}}
        if summary.get("status") == "ok":
            fields["last_ok_at"] = now
        self.collection.update_one({"_id": source}, {"$set": fields}, upsert=True)

    def overview(self) -> list[dict[str, Any]]:
        """Every source's latest crawl, last success and newest item seen (for the dashboard)."""
        out = []
        for doc in self.collection.find({}, {"validators": 0, "seen": 0}).sort("_id", 1):
            times = [c["last_time"] for c in doc.get("cursors", ()) if c.get("last_time")]
            out.append({"source": doc["_id"], "last_crawl": doc.get("last_crawl"),
                        "last_ok_at": doc.get("last_ok_at"), "newest_item_at": max(times, default=None)})
        return out

    def reset(self, source: str | None = None) -> int:
        """Forget one source's state (or every source's): the next crawl fetches everything."""
        return self.collection.delete_many({"_id": source} if source else {}).deleted_count
