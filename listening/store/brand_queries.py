"""``brand_queries``: brand queries edited in the dashboard, with who saved them and when.

A saved query overrides the config file's for that brand (``matching.effective_brands``);
every earlier version stays in the document's history.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pymongo.database import Database

from listening.store.edge import guarded_class


@guarded_class
class BrandQueryRepo:
    """``brand_queries``: one document per brand."""

    def __init__(self, db: Database):
        self.collection = db["brand_queries"]

    def ensure_indexes(self) -> None:
        """Keyed by brand name (``_id``): nothing more to index."""

    def save(self, brand: str, query: str, by: str) -> dict:
        """Make ``query`` the brand's query; keep the previous one in the history."""
        entry = {"query": query, "by": by, "at": datetime.now(timezone.utc)}
        self.collection.update_one({"_id": brand}, {"$set": entry, "$push": {"history": entry}},
                                   upsert=True)
        return entry

    def current(self) -> dict[str, dict]:
        """Brand name -> its saved query, who saved it and when."""
        return {doc["_id"]: {k: doc[k] for k in ("query", "by", "at")}
                for doc in self.collection.find({}, {"history": 0})}

    def history(self, brand: str) -> list[dict]:
        doc = self.collection.find_one({"_id": brand}, {"history": 1})
        return list(reversed(doc["history"])) if doc else []
