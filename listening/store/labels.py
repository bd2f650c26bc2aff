"""Labelled mentions: what people said a mention's sentiment and issue really are.

Labels arrive with imported files (``labels.by`` = the source) or as corrections made
in the dashboard (``labels.by`` = who, ``labels.at`` = when). Learning reads them here.
"""

from __future__ import annotations

from typing import Iterator

from pymongo.database import Database

from listening.store.edge import guarded

LABEL_FIELDS = {"_id": 1, "text": 1, "labels": 1}


@guarded
def iter_labelled(db: Database, *, batch_size: int = 2000) -> Iterator[dict]:
    """Every mention with a sentiment or issue label: ``{_id, text, labels}``."""
    query = {"$or": [{"labels.sentiment": {"$exists": True}},
                     {"labels.issue": {"$exists": True}}]}
    yield from db["mentions"].find(query, LABEL_FIELDS, batch_size=batch_size)


@guarded
def count_labelled(db: Database) -> int:
    return db["mentions"].count_documents({"$or": [{"labels.sentiment": {"$exists": True}},
                                                   {"labels.issue": {"$exists": True}}]})
