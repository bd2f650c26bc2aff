"""Ingest: every mention, whatever its source, through one pipeline into the store.

``pipeline`` (normalise -> match -> id -> tag -> bulk upsert), ``crawl`` (Scrapy in a
child process, the pipeline here), ``importer`` (CSV / JSONL files), ``rematch``
(changed brand queries applied to stored mentions).
"""

from listening.ingest.pipeline import Pipeline, clean_text, mention_id

__all__ = ["Pipeline", "clean_text", "mention_id"]
