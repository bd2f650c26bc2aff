"""The one-time move of an old store's mentions to their global ids: mentions/s.

    .venv/bin/python bench/rekey.py [--mentions 5000]

An embedded store of its own holds N feed mentions in the shape an older version stored
them (each under its source's own hash, no key; synthetic: one blog's entries), and
``Store.rekey_mentions`` moves them. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pymongo import MongoClient  # noqa: E402

from listening.ingest.pipeline import mention_id, moved_identity  # noqa: E402
from listening.store import Store, embedded  # noqa: E402


def old_mention(i: int) -> dict:
    url = f"https://blog.example.com/p/{i}/"
    return {"_id": mention_id("blog", f"g{i}", url, ""), "source": "blog", "source_kind": "feed",
            "external_id": f"g{i}", "url": url, "text": "x", "brands": ["A"], "issues": [],
            "sentiment": {"label": "neutral", "compound": 0.0},
            "published_at": datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=i)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, uri = embedded.start_server(":memory:", Path(tmp) / "server.log")
        try:
            client = MongoClient(uri, tz_aware=True)
            store = Store(client, f"bench_{uuid.uuid4().hex[:6]}")
            store.ensure_indexes()
            store.mentions.collection.insert_many([old_mention(i) for i in range(args.mentions)])
            start = time.perf_counter()
            done = store.rekey_mentions(moved_identity)
            took = time.perf_counter() - start
            print(f"{args.mentions:,} old mentions: {done} in {took:.1f} s ({args.mentions / took:,.0f} mentions/s)")
            client.close()
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
