"""The one path every mention takes, whatever its source.

normalise (clean text, UTC time) -> match brands -> stable id -> tag -> bulk upsert.
Spiders and ``listening import`` only parse; they hand ``RawMention``s to a
``Pipeline``, which works in batches so that tagging and writes are amortised.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import sys
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from listening.config import Config
from listening.ids import stable_id
from listening.ingest.canonical import canonical_url, is_global_id, mastodon_uri
from listening.matching import BrandMatcher, effective_brands
from listening.models import RawMention, without_surrogates
from listening.store import Store
from listening.store.mentions import WriteCounts
from listening.tagging import Tagger, language
from listening.timeparse import parse_time

log = logging.getLogger(__name__)
MAX_TEXT_CHARS = 100_000
# While the pipeline runs, the interpreter hands the GIL over every 0.5 ms instead of 5: each
# round trip of the writer thread waits for the GIL to come back from tagging, and at 5 ms
# those waits were a fifth of the import (bench/ingest.py: 0.59 -> 0.71 of the store's ceiling).
SWITCH_INTERVAL = 0.0005
_SPACE = re.compile(r"\s+")
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


@dataclass
class IngestCounts:
    """What a run did: read = matched + unmatched + rejected; matched = new + updated + unchanged + duplicates."""

    read: int = 0
    matched: int = 0
    unmatched: int = 0
    rejected: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def clean_text(text: str) -> str:
    """Unescape HTML entities, drop control characters and fold white space."""
    text = without_surrogates(text)
    text = html.unescape(html.unescape(text)) if "&" in text else text
    text = unicodedata.normalize("NFC", text.translate(_CONTROL))
    return _SPACE.sub(" ", text).strip()[:MAX_TEXT_CHARS]


PAGE_KINDS = ("feed", "html")  # their URL is the post's own page (or a part of one, after "#")


def mention_id(source: str, external_id: str | None, url: str | None, text: str) -> str:
    """The source-scoped id (format 1, and still the id of items without a global identity):
    the source's own id, else the URL, else the text."""
    key = external_id or (url and url.split("#")[0]) or text
    return hashlib.sha1(f"{source}\x00{key}".encode()).hexdigest()[:24]


def identity(raw: RawMention, text: str) -> tuple[str, str | None]:
    """(``_id``, its global key or None): one mention per real post, whatever source read it.

    In order: a feed entry's or a page's own URL, canonical (``canonical.canonical_url``);
    a global id (a URI: Mastodon's and Bluesky's ``uri``, a page-scoped element id); else
    the source-scoped ``mention_id``, as before.
    """
    key = None
    if raw.url and raw.source_kind in PAGE_KINDS and "#" not in raw.url:
        key = canonical_url(raw.url)
    if key is None and raw.external_id and is_global_id(raw.external_id):
        page, _, element = raw.external_id.partition("#")
        key = (canonical_url(page) or page) + (f"#{element}" if element else "")
    if key is None:
        return mention_id(raw.source, raw.external_id, raw.url, text), None
    return stable_id("mention", key), key


def legacy_id(raw: RawMention, text: str) -> str:
    """The ``_id`` this item had before global ids: source-scoped, by its ``former_id`` when
    it had another (a Mastodon status by the instance's id), an html item by its bare element id."""
    external_id = raw.former_id or raw.external_id
    if raw.source_kind == "html" and external_id and "#" in external_id:
        external_id = external_id.partition("#")[2]
    return mention_id(raw.source, external_id, raw.url, text)


_REDDIT_ID = re.compile(r"^t[13]_[a-z0-9]+$")


def moved_identity(doc: dict) -> tuple[str, str] | None:
    """Where a mention an older version stored under a source-scoped id belongs now: the
    ``(_id, key)`` of its global identity, or None to leave it (``Store.rekey_mentions``).

    A feed entry and an article page (an html mention without an element id) by today's
    ``identity`` of their stored URL; Reddit JSON posts, stored by fullname (``t3_...``), by
    their page; Mastodon statuses, stored by the instance's id, by their ``uri`` (Mastodon's
    status page gives it). Not an html item: whether it was its page's only one is not known.
    """
    kind, external_id, url = doc.get("source_kind"), str(doc.get("external_id") or ""), doc.get("url")
    if doc.get("key") or kind not in ("feed", "html", "json_api"):
        return None
    key = None
    if kind == "feed" or (kind == "html" and not external_id):
        raw = RawMention(source=doc["source"], source_kind=kind, text="", external_id=external_id or None, url=url)
        key = identity(raw, "")[1]
    elif kind == "json_api" and _REDDIT_ID.match(external_id):
        key = canonical_url(url)
        key = key if key and key.startswith("https://reddit.com/comments/") else None
    elif kind == "json_api" and external_id.isdigit() and (uri := mastodon_uri(url)):
        key = canonical_url(uri)
    return (stable_id("mention", key), key) if key else None


class Pipeline:
    """Buffers raw mentions and writes them in batches; counts everything it sees."""

    def __init__(self, store: Store, config: Config, *, run_id: str | None = None,
                 batch_size: int = 1000, tagger: Tagger | None = None,
                 matcher: BrandMatcher | None = None,
                 on_batch: Callable[[int], None] | None = None):
        self.store = store
        self.run_id = run_id
        self.batch_size = batch_size
        self.tagger = tagger or Tagger.from_store(store, config)
        self.matcher = matcher or BrandMatcher(effective_brands(store, config))
        self.on_batch = on_batch
        self.counts = IngestCounts()
        store.upgrade()  # before any rollup write: an older store's cells get today's ids first
        store.rekey_mentions(moved_identity)  # and its mentions theirs
        if recovered := store.mentions.recover():
            log.warning("recounted the rollups of %d hours left by a writer that died mid-batch", recovered)
        self._buffer: list[dict] = []
        # One write in flight while the next batch is tagged: the store's server works
        # on one core while tagging uses the other.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mention-writer")
        self._pending: Future | None = None
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._interval, SWITCH_INTERVAL))
        language.preload()  # while the first batch is read

    def run(self, raws: Iterable[RawMention]) -> IngestCounts:
        """Process every raw mention, then flush."""
        for raw in raws:
            self.add(raw)
        self.flush()
        return self.counts

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish the write in flight, write the rollups it holds and stop the writer thread."""
        try:
            self._wait()
            self.store.mentions.release_rollups()
        finally:
            self._writer.shutdown()
            sys.setswitchinterval(self._interval)

    def add(self, raw: RawMention) -> None:
        """Normalise and match one mention; it is written with its batch."""
        self.counts.read += 1
        doc = self._normalise(raw)
        if doc is None:
            self.counts.rejected += 1
            return
        hits = self.matcher.matched_terms(
            doc["text"], source=doc["source"], lang=doc["lang"],
            author=doc["author"], title=doc["title"])
        if not hits:
            self.counts.unmatched += 1
            return
        self.counts.matched += 1
        doc["brands"] = sorted(hits)
        doc["matched_terms"] = hits
        self._buffer.append(doc)
        if len(self._buffer) >= self.batch_size:
            self._tag_and_submit()

    def reject(self) -> None:
        """Count an item that failed before it became a RawMention."""
        self.counts.read += 1
        self.counts.rejected += 1

    def flush(self) -> None:
        """Tag and write the buffered mentions; return when everything, rollups too, is stored."""
        self._tag_and_submit()
        self._wait()
        self.store.mentions.release_rollups()

    def _tag_and_submit(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        # A feed's or page's language, else a source's hint (the App Store's storefront), is only a
        # prior: the text decides when it can.
        declared = [d["lang"] or (d.get("extra") or {}).get("lang_hint") for d in batch]
        tagged = self.tagger.tag_many([d["text"] for d in batch], declared=declared,
                                      targets=[d["matched_terms"] for d in batch])
        for doc, tags in zip(batch, tagged):
            doc.update(tags.stored())  # its lang is what tagging used: the declared one only as a prior
            doc["fingerprint"] = fingerprint(doc)
        self._wait()
        self._pending = self._writer.submit(self._write, batch)

    def _write(self, batch: list[dict]) -> None:
        # hold: the rollups of up to ten batches are written together (flush() writes the rest)
        written: WriteCounts = self.store.mentions.upsert_batch(batch, hold=True)
        self.counts.new += written.new
        self.counts.updated += written.updated
        self.counts.unchanged += written.unchanged
        self.counts.duplicates += written.duplicates
        if self.on_batch:
            self.on_batch(len(batch))

    def _wait(self) -> None:
        """Wait for the write in flight; its error, if any, surfaces here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _normalise(self, raw: RawMention) -> dict | None:
        text = clean_text(raw.text or "")
        title = clean_text(raw.title) if raw.title else None
        if not text and not title:
            return None
        now = datetime.now(timezone.utc)
        published = parse_time(raw.published_at, now=now)
        _id, key = identity(raw, text)
        doc = {
            "_id": _id,
            "source": raw.source,
            "sources": [raw.source],
            "source_kind": raw.source_kind,
            "external_id": raw.external_id,
            "url": raw.url,
            "author": clean_text(raw.author) if raw.author else None,
            "title": title,
            "text": text or title,
            "published_at": published or now,
            "date_estimated": published is None,
            "collected_at": now,
            "first_collected_at": now,
            "lang": raw.lang,
            "run_id": self.run_id,
        }
        if key is not None:
            doc["key"] = key  # the canonical URL or global id the _id hashes
            doc["legacy_id"] = legacy_id(raw, text)
        if raw.labels:
            doc["labels"] = raw.labels
        if raw.extra:
            doc["extra"] = raw.extra
        return doc


def fingerprint(doc: dict) -> str:
    """What, if it changes, makes a re-collected mention worth writing again."""
    keys = ("text", "title", "author", "url", "brands", "issues", "intent", "lang", "labels")
    material = {k: doc.get(k) for k in keys}
    material["published_at"] = doc["published_at"].isoformat() if not doc["date_estimated"] else None
    material["sentiment"] = (doc["sentiment"]["label"], round(doc["sentiment"]["compound"], 3))
    material["towards"] = {b: s["label"] for b, s in (doc.get("brand_sentiment") or {}).items()}
    return hashlib.sha1(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
