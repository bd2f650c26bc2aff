"""``listening rematch``: re-apply changed brand queries to stored mentions, rollups along.

A write path, so it sits beside the pipeline it shares the mention fingerprint with;
the matcher itself only reads text.

    counts = rematch(store, config, since=parse_time("2015-02-20"))
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from listening.config import Config
from listening.ingest.pipeline import fingerprint
from listening.matching import FIELD_NAMES, BrandMatcher, effective_brands
from listening.store import scan

if TYPE_CHECKING:
    from listening.store import Store


def rematch(store: "Store", config: Config, *, since: datetime | None = None,
            until: datetime | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Re-apply every brand's query to stored mentions; the rollups move along.

    Only mentions whose brands or matched terms change are written, and only those
    fields. A mention that no longer matches any brand is kept with ``brands: []`` (it
    leaves every count) so a later fix can bring it back; mentions never stored cannot
    be found by a rematch. ``skipped``: changed by someone meanwhile, left for next time.
    Returns scanned / changed / unmatched / skipped, and ``+Brand`` / ``-Brand`` moves.
    """
    matcher = BrandMatcher(effective_brands(store, config))
    counts: Counter = Counter(scanned=0, changed=0, unmatched=0, skipped=0)
    for batch in scan.iter_mentions(store.mentions.collection, since=since, until=until,
                                    fields=None, batch_size=batch_size):
        changes = []
        for doc in batch:
            counts["scanned"] += 1
            found = matcher.matched_terms(doc.get("text") or "", **{k: doc.get(k) for k in FIELD_NAMES})
            brands = sorted(found)
            counts["unmatched"] += not brands
            old = doc.get("brands") or []
            if found == (doc.get("matched_terms") or {}) and brands == sorted(old):
                continue
            fields: dict = {"brands": brands, "matched_terms": found}
            if "sentiment" in doc and "date_estimated" in doc:  # written by the pipeline
                fields["fingerprint"] = fingerprint({**doc, **fields})
            changes.append((doc, fields))
        written = set(scan.set_brands(store.mentions, changes))
        for doc, fields in changes:
            if doc["_id"] in written:
                old, new = set(doc.get("brands") or ()), set(fields["brands"])
                counts.update([f"+{b}" for b in new - old] + [f"-{b}" for b in old - new])
        counts["changed"] += len(written)
        counts["skipped"] += len(changes) - len(written)
    return dict(counts)
