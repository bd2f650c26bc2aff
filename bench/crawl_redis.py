"""Crawl throughput with one, two, ... workers sharing one crawl through Redis (docs/scaling.md).

    .venv/bin/python bench/crawl_redis.py [--workers 1 2 3] [--pages 40] [--topics 10] [--latency 0.1]

For each worker count: a fresh local board (tests/board.py: listing pages of topics, each
page answered after ``latency`` seconds, as a remote site would be), a fresh Debian
``redis-server`` and a fresh database of one embedded store; the workers start at once, and
pages/s counts from the moment all had joined to the last page served. Each worker fetches
two pages at a time (the source's ``concurrency``), so on such a site throughput should grow
with the workers, less the ~5 s a joining worker may wait for Scrapy's engine to look again.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.board import JOIN_TIMEOUT, Board  # noqa: E402
from harness.redis_server import redis_server  # noqa: E402
from listening.ingest import crawl  # noqa: E402
from listening.store import Store  # noqa: E402
from listening.store.embedded import start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3], help="worker counts to compare")
    parser.add_argument("--pages", type=int, default=40, help="listing pages")
    parser.add_argument("--topics", type=int, default=10, help="topics per listing page")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before the board answers a page")
    args = parser.parse_args()
    settings = {**crawl.LOCAL_SETTINGS, "DOWNLOAD_TIMEOUT": JOIN_TIMEOUT + 60}
    with tempfile.TemporaryDirectory() as tmp:
        proc, uri = start_server(str(Path(tmp) / "db"), Path(tmp) / "server.log")
        try:
            for workers in args.workers:
                with redis_server() as url:
                    os.environ["REDIS_URL"] = url
                    board = Board.open("bench_board", pages=args.pages, topics=args.topics, latency=args.latency,
                                       redis_url=url, workers=workers)
                    try:
                        rows = board.crawl(Store.connect(uri, db_name=f"bench_redis_{workers}"), settings)
                    finally:
                        board.stop()
                twice = sum(n > 1 for path, n in board.hits.items() if path != "/robots.txt")
                print(f"{workers} worker(s): {len(board.paths)} pages "
                      f"({' + '.join(str(row['pages']) for row in rows)}), {board.pages_per_second():6.1f} pages/s, "
                      f"{sum(row['new'] for row in rows)} mentions, {twice} pages fetched twice")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
