"""``models``: trained tagging models, newest wins.

A model is stored as bytes (arrays and JSON in an ``.npz`` made by ``listening.tagging.learning``,
read back with ``allow_pickle=False``: nothing in it is executed) with what it is (``kind``),
when it was trained, on how many labels, and how well it did on held-out labels.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from bson import Binary
from pymongo import DESCENDING
from pymongo.database import Database

from listening.errors import ModelTooLarge
from listening.store.edge import guarded_class
from listening.store.labels import count_labelled, iter_labelled

MAX_BLOB_BYTES = 15 * 1024 * 1024  # MongoDB's document limit is 16 MB
# Newest first; two models saved in one millisecond (BSON's time resolution) by their ids,
# which grow with each insert (a test saw the older one come back as the latest).
NEWEST_FIRST = [("trained_at", DESCENDING), ("_id", DESCENDING)]


@guarded_class
class ModelRepo:
    """``models``, plus read access to the labelled mentions models learn from."""

    def __init__(self, db: Database):
        self.db = db
        self.collection = db["models"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("kind", 1), ("trained_at", DESCENDING)])

    def save(self, kind: str, blob: bytes, meta: dict[str, Any] | None = None) -> Any:
        """Store a model's bytes with its metadata; return its id."""
        if len(blob) > MAX_BLOB_BYTES:
            raise ModelTooLarge(f"{kind} model is {len(blob)} bytes (max {MAX_BLOB_BYTES})")
        meta = dict(meta or {})
        meta.setdefault("trained_at", datetime.now(timezone.utc))
        doc = {**meta, "kind": kind, "size": len(blob), "blob": Binary(blob)}
        return self.collection.insert_one(doc).inserted_id

    def latest(self, kind: str, *, with_blob: bool = True) -> dict | None:
        """The newest model of ``kind`` (``blob`` as bytes), or None."""
        projection = None if with_blob else {"blob": 0}
        doc = self.collection.find_one({"kind": kind}, projection, sort=NEWEST_FIRST)
        if doc and "blob" in doc:
            doc["blob"] = bytes(doc["blob"])
        return doc

    def history(self, kind: str, limit: int = 20) -> list[dict]:
        """Recent models of ``kind`` without their bytes, newest first."""
        return list(self.collection.find({"kind": kind}, {"blob": 0}, sort=NEWEST_FIRST, limit=limit))

    def labelled(self) -> Iterator[dict]:
        """Mentions with labels: ``{_id, text, labels, matched_terms}`` (what a label is about)."""
        return iter_labelled(self.db)

    def count_labelled(self) -> int:
        return count_labelled(self.db)
