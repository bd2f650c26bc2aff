"""Walking many stored mentions in batches: for the query tester and for re-matching.

The walk first reads the ids (and times) of every mention in the window -- one indexed
range, a few dozen bytes a mention -- then fetches the mentions by ``$in`` in batches.
That keeps each batch fast on SecantusDB (no ``sort + limit``, no long-lived cursor)
and makes the walk safe while the same mentions are being rewritten (``rematch``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Iterator

from pymongo.collection import Collection

from listening.store.edge import guarded
from listening.store.mentions import MentionRepo, rollup_keys

# What matching reads: the texts and the fields a query may filter on.
MATCH_FIELDS = ("text", "title", "source", "lang", "author", "published_at", "brands", "matched_terms")


@guarded
def mention_ids(collection: Collection, *, since: datetime | None = None,
                until: datetime | None = None) -> list[Any]:
    """Ids of the mentions published in ``[since, until)``, newest first."""
    window = {op: t for op, t in (("$gte", since), ("$lt", until)) if t is not None}
    rows = collection.find({"published_at": window} if window else {}, {"published_at": 1})
    rows = sorted(rows, key=lambda r: (r.get("published_at") is not None, r.get("published_at") or 0),
                  reverse=True)
    return [r["_id"] for r in rows]


@guarded
def iter_mentions(collection: Collection, *, since: datetime | None = None,
                  until: datetime | None = None, fields: tuple[str, ...] | None = MATCH_FIELDS,
                  batch_size: int = 2000, limit: int | None = None) -> Iterator[list[dict]]:
    """Mentions in ``[since, until)``, newest first (at most ``limit``), in batches.

    ``fields=None`` fetches whole mentions.
    """
    ids = mention_ids(collection, since=since, until=until)[:limit]
    projection = dict.fromkeys(fields, 1) if fields is not None else None
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        found = {d["_id"]: d for d in collection.find({"_id": {"$in": chunk}}, projection)}
        batch = [found[i] for i in chunk if i in found]  # keep the newest-first order
        if batch:
            yield batch


@guarded
def iter_window(collection: Collection, *, since: datetime | None = None, until: datetime | None = None,
                fields: tuple[str, ...] = MATCH_FIELDS, batch_size: int = 2000) -> Iterator[list[dict]]:
    """Every mention in ``[since, until)`` in one range read, in no order, in batches: for
    read-only walks (the query tester). SecantusDB answers a 2,000-id ``$in`` about 12x
    slower per mention than a 500-id one, so a walk by ids costs seconds where this costs one.
    """
    window = {op: t for op, t in (("$gte", since), ("$lt", until)) if t is not None}
    batch: list[dict] = []
    for doc in collection.find({"published_at": window} if window else {}, dict.fromkeys(fields, 1),
                               batch_size=batch_size):
        batch.append(doc)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


@guarded
def set_brands(repo: MentionRepo, changes: list[tuple[dict, dict[str, Any]]]) -> list[Any]:
    """Give mentions new ``brands`` (and ``matched_terms``, ...) and move their rollup cells.

    ``changes`` holds (the mention as read, the fields to set). Each write only lands if
    the fields the rollups count are still as read, so a human correction made meanwhile
    is never overwritten (that mention is skipped; the next rematch picks it up). Only
    the given fields are written, never the whole mention. Returns the ids written.
    """
    if not changes:
        return []
    deltas: Counter = Counter()
    written = []
    with repo.claim(old["published_at"] for old, _ in changes):
        for old, fields in changes:
            unchanged = {"_id": old["_id"], "brands": old.get("brands"), "issues": old.get("issues"),
                         "sentiment.label": (old.get("sentiment") or {}).get("label")}
            if not repo.collection.update_one(unchanged, {"$set": fields}).modified_count:
                continue
            written.append(old["_id"])
            if fields.get("brands", old.get("brands")) != old.get("brands"):
                deltas.update(rollup_keys({**old, **fields}))
                deltas.subtract(rollup_keys(old))
        repo.apply_deltas(deltas)  # the same cell writer the ingest path uses
    return written
