"""One real scheduled hour, compressed: every job runs for real, then the timeline from ``runs``.

    .venv/bin/python bench/schedule_timeline.py [--speedup 60] [--minutes 60]

A fresh in-memory store; the demo config plus a crawl source served on 127.0.0.1 (a slice
of the shared airline tweets, like ``listening demo``) and a scheduled import of the same
slice; the daily jobs (Trends from recorded answers, retention, retraining, one
department's digest) set to fall inside the hour. With ``--speedup 60`` a
scheduled minute takes a second. Times printed are schedule time (minutes into the hour).
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TWEETS = Path(os.environ.get("LISTENING_SHARED", ROOT.parent / "shared")) / \
    "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"


def tweet_slice(folder: Path, rows: int) -> Path:
    path = folder / "tweets.csv"
    with open(TWEETS, newline="", encoding="utf-8") as src, open(path, "w", newline="", encoding="utf-8") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst)
        for i, row in enumerate(reader):
            if i > rows:
                break
            writer.writerow(row)
    return path


def virtual(t: datetime, speedup: float) -> datetime:
    from listening.jobs.schedule import ANCHOR

    return ANCHOR + (t - ANCHOR) * speedup


def build_config(folder: Path, feed_url: str, tweets: Path, start: datetime, trends_url: str) -> Path:
    from listening.config import PACKAGED_DEMO

    raw = yaml.safe_load(PACKAGED_DEMO.read_text(encoding="utf-8"))
    at = lambda minutes: (start + timedelta(minutes=minutes)).strftime("%H:%M")  # noqa: E731
    schedule = {"trends_at": at(20), "trends_jitter_minutes": 5, "retention_at": at(40),
                "retrain_at": at(45), "crawl_timeout_minutes": 10, "stop_grace_seconds": 5}
    from listening.demo.feed import DEMO_SOURCE

    source = {**DEMO_SOURCE, "every_minutes": 15, "enabled": True}
    source["urls"] = [u.replace("{demo_feed}", feed_url).replace("max_results=500", "max_results=100")
                      for u in source["urls"]]
    raw["sources"] = [source]
    # A scheduled CLI command too: a nightly-import style job, here every 30 minutes.
    schedule["commands"] = [{"id": "import:drop", "args": ["import", str(tweets), "--source", "drop"],
                             "every_minutes": 30}]
    raw["departments"] = [{**raw["departments"][0], "digest_at": at(50), "timezone": "UTC"}]
    raw["issues"] = None
    # The demo's search-only category, answered by Google's recorded responses on 127.0.0.1.
    raw["trends"] = {"categories": [], "search_only": {"food": ["pizza", "bagel"]},
                     "timeframe": "today 5-y", "regions": ["US-NY", "US-IL"],
                     "base_url": trends_url, "pacing_seconds": 0, "max_retries": 0, "backoff_seconds": 0}
    raw["schedule"] = schedule
    path = folder / "listening.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speedup", type=float, default=60.0)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rows", type=int, default=1000, help="tweets served to the crawl (and imported)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    from listening.config import load_config
    from listening.demo.feed import serve_tweets
    from listening.jobs import schedule
    from listening.store import Store
    from listening.store.embedded import start_server
    from listening.trends.replay import ReplayServer

    schedule.configure_logging(logging.ERROR)  # the timeline below says what happened
    folder = Path(tempfile.mkdtemp(prefix="timeline-"))
    server, uri = start_server(":memory:", folder / "store.log")
    os.environ.update(MONGO_URI=uri, LISTENING_DB="timeline", LISTENING_DATA=str(folder / "data"))
    tweets = tweet_slice(folder, args.rows)
    feed, feed_url = serve_tweets(tweets)
    from listening.demo.build import CASSETTES

    replay = ReplayServer.start(CASSETTES)
    store = Store.connect(uri, "timeline")
    try:
        config_path = build_config(folder, feed_url, tweets, virtual(datetime.now(timezone.utc), args.speedup),
                                   replay.url)
        config = load_config(config_path)
        real_start = datetime.now(timezone.utc)
        start_v = virtual(real_start, args.speedup)
        scheduler = schedule.start(store, config, config_path=str(config_path), speedup=args.speedup)
        real_end = real_start + timedelta(minutes=args.minutes) / args.speedup
        while datetime.now(timezone.utc) < real_end:
            time.sleep(0.2)
        stopped = time.monotonic()
        schedule.stop(scheduler)
        print(f"stop (SIGTERM path) took {time.monotonic() - stopped:.1f}s real")
        print_timeline(store, real_start, start_v, args.speedup)
    finally:
        store.close()
        replay.stop()
        feed.shutdown()
        feed.server_close()
        server.terminate()
        server.wait(timeout=30)


def print_timeline(store, real_start, start_v, speedup) -> None:
    runs = [r for r in store.runs.between(real_start) if r.get("parent_run") is None]
    print(f"\nOne scheduled hour from {start_v:%H:%M:%S} (schedule time), speedup {speedup:g}: "
          f"{len(runs)} runs")
    print(f"{'at':>6}  {'job':<22} {'status':<9} {'took':>7}  counts / error")
    for r in runs:
        offset = virtual(r["started_at"], speedup) - start_v
        minutes, seconds = divmod(int(offset.total_seconds()), 60)
        took = ((r["finished_at"] - r["started_at"]).total_seconds() if r.get("finished_at") else float("nan"))
        counts = {k: v for k, v in (r.get("counts") or {}).items() if v}
        detail = (r.get("error") or "").splitlines()[0][:70] if r.get("status") not in ("ok",) and r.get("error") \
            else ", ".join(f"{k}={v}" for k, v in list(counts.items())[:5])
        job = r.get("scheduled_job") or r["job"]
        print(f"{minutes:+03d}:{seconds:02d}  {job:<22} {r['status']:<9} {took:6.2f}s  {detail}")
    summary = Counter((r["job"], r["status"]) for r in runs)
    print("\nper job:", ", ".join(f"{job} {status} x{n}" for (job, status), n in sorted(summary.items())))
    print("mentions stored:", store.mentions.count())


if __name__ == "__main__":
    main()
