"""Crawl throughput beside the import pipeline's, on the same tweets, in one run.

    .venv/bin/python bench/crawl.py [--rows N] [--page-size 500] [--repeat 1]

The shared airline tweets go in three ways, each into a fresh database of one embedded
store: ``listening import`` of the CSV (the pipeline alone), a Scrapy crawl of the demo
feed (listening/demo_feed.py, on 127.0.0.1) that only counts what it gets (the crawler
alone: pages/s and items/s), and ``listening.ingest.crawl.run`` of the same feed into the store
(crawler and pipeline together). The tagger is warmed up first so no path pays for it.
Target (issue 4): crawling into the store adds no more than 30% over the import.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.config import PACKAGED_DEMO, Source, load_config  # noqa: E402
from listening.demo.feed import DEMO_SOURCE, serve_tweets  # noqa: E402
from listening.ingest import crawl  # noqa: E402
from listening.ingest.importer import import_file  # noqa: E402
from listening.ingest.pipeline import Pipeline  # noqa: E402
from listening.store import Store  # noqa: E402
from listening.store.embedded import start_server  # noqa: E402
from listening.tagging import Tagger  # noqa: E402

TWEETS = Path(os.environ.get("LISTENING_SHARED", ROOT.parent / "shared")) / \
    "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"


def subset(rows: int | None, folder: Path) -> Path:
    """The first ``rows`` rows of the tweets (all of them when None)."""
    if rows is None:
        return TWEETS
    path = folder / "tweets.csv"
    with open(TWEETS, newline="", encoding="utf-8") as src, open(path, "w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(row for _, row in zip(range(rows), reader))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="use the first N tweets (default: all)")
    parser.add_argument("--page-size", type=int, default=500, help="tweets per feed page")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best time of each path counts")
    args = parser.parse_args()

    config = load_config(PACKAGED_DEMO)
    source = Source.model_validate({**DEMO_SOURCE, "enabled": True, "max_pages": 10_000,
                                    "urls": [DEMO_SOURCE["urls"][0].replace("500", str(args.page_size))]})
    config = config.model_copy(update={"sources": [source]})
    Tagger(config).tag_many(["warming up the tagger @united #thanks"])
    import_s = fetch_s = crawl_s = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = subset(args.rows, Path(tmp))
        proc, uri = start_server(str(Path(tmp) / "db"), Path(tmp) / "server.log")
        server, url = serve_tweets(csv_path)
        try:
            for round_ in range(args.repeat):  # interleaved, best of each: a shared machine is noisy
                store = Store.connect(uri, db_name=f"bench_import_{round_}")
                pipeline = Pipeline(store, config)
                start = time.perf_counter()
                import_file(pipeline, csv_path, config.import_mapping, source="bench",
                            rejects_path=Path(tmp) / "rejects.jsonl")
                import_s = min(import_s, time.perf_counter() - start)
                n = pipeline.counts.read

                items: list[int] = []
                start = time.perf_counter()
                [report] = crawl.collect(config, [source], lambda m: m.get("t") == "item" and items.append(1),
                                         variables={"demo_feed": url}, settings=crawl.LOCAL_SETTINGS, progress=False)
                fetch_s = min(fetch_s, time.perf_counter() - start)

                store = Store.connect(uri, db_name=f"bench_crawl_{round_}")
                start = time.perf_counter()
                [row] = crawl.run(store, config, [source.name], variables={"demo_feed": url},
                                  settings=crawl.LOCAL_SETTINGS)
                crawl_s = min(crawl_s, time.perf_counter() - start)
        finally:
            server.shutdown()
            server.server_close()
            proc.terminate()
            proc.wait()
    print(f"tweets:                  {n:,} (pages of {args.page_size}; best of {args.repeat})")
    print(f"import pipeline:         {import_s:6.1f} s  {n / import_s:8,.0f} mentions/s  new={pipeline.counts.new:,}")
    print(f"crawl only (no store):   {fetch_s:6.1f} s  {report['pages'] / fetch_s:8,.1f} pages/s "
          f"{len(items) / fetch_s:8,.0f} items/s  (incl. ~1 s child start-up)")
    print(f"crawl into the store:    {crawl_s:6.1f} s  {row['pages'] / crawl_s:8,.1f} pages/s "
          f"{row['read'] / crawl_s:8,.0f} items/s  new={row['new']:,}")
    print(f"crawl over import:       {crawl_s / import_s - 1:+.0%} (target <= +30%)")


if __name__ == "__main__":
    main()
