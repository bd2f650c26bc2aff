"""Re-tag stored mentions in place: a model trained after they were collected (the demo's,
on its tweets' own labels) scores them without collecting them again.

A write path beside ``rematch``: only mentions whose tags change are written, and only their
new sentiment, issues, intent, language and per-brand sentiment, in one store-side bulk update
per batch (``MentionRepo.retag``); the rollups move by the difference, and the hours are
claimed in ``rollup_log``, so a crash midway is recounted as for any ingest batch. A mention a
person corrected keeps their word.

    counts = retag(store, config)   # {"scanned", "changed", "corrected by a person"}
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Iterator

from listening.config import Config
from listening.ingest.pipeline import fingerprint
from listening.store import scan
from listening.tagging import Tagger

if TYPE_CHECKING:
    from listening.store import Store


def retag(store: "Store", config: Config, *, tagger: Tagger | None = None,
          batch_size: int = 1000) -> dict[str, int]:
    """Tag every stored mention again with ``tagger`` (default: the store's newest model) and
    write those whose tags changed; returns what it scanned, changed and left to a person."""
    tagger = tagger or Tagger.from_store(store, config)
    counts: Counter = Counter({"scanned": 0, "changed": 0, "corrected by a person": 0})
    # one write in flight while the next batch is tagged, as in the pipeline: the store's
    # server works on one core while tagging uses the other
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="retag-writer") as writer:
        pending: Future | None = None
        for changed in _changes(store, tagger, counts, batch_size):
            if pending is not None:
                counts["changed"] += pending.result()
            pending = writer.submit(store.mentions.retag, changed)
        if pending is not None:
            counts["changed"] += pending.result()
    return dict(counts)


def _changes(store: "Store", tagger: Tagger, counts: Counter,
             batch_size: int) -> Iterator[list[tuple[dict, dict]]]:
    """Per batch of stored mentions, those whose tags change: (the mention, its new tags)."""
    for batch in scan.iter_window(store.mentions.collection, fields=None, batch_size=batch_size):
        counts["scanned"] += len(batch)
        mine = [doc for doc in batch if not doc.get("correction")]
        counts["corrected by a person"] += len(batch) - len(mine)
        # the language tagging used before is the prior now, as the feed's was then
        tagged = tagger.tag_many([doc["text"] for doc in mine], declared=[doc.get("lang") for doc in mine],
                                 targets=[doc.get("matched_terms") or {} for doc in mine])
        changed = []
        for doc, tags in zip(mine, tagged):
            fields = tags.stored()
            fields["fingerprint"] = fingerprint({**doc, **fields})
            if fields["fingerprint"] != doc.get("fingerprint"):
                changed.append((doc, fields))
        yield changed
