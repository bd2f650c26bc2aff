"""Dashboard data-load time per page on a big embedded store.

    .venv/bin/python bench/dashboard.py [--mentions 1000000] [--days 90] [--data DIR | --uri URI]

Seeds N synthetic mentions (six brands, six sources, a dozen issues, 90 days) with
direct bulk inserts and their hourly rollups written through the store's own rollup
writer (the real upsert path tags every text and would take an hour at 1M), then times
what each page loads on a cold start, the way the page loads it (the same repository
and metrics calls, without Streamlit's cache), and ``listening report --json`` (all time and
the last 7 days). Targets: every page < 1.5 s; Live < 0.5 s; report < 1.5 s.

``--data DIR`` keeps the store in DIR and reuses it when it already holds the mentions,
so a second run only measures. ``--uri`` (or ``$TEST_MONGO_URI``) measures a real MongoDB
instead, in its database ``bench`` (reused the same way).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.app.common import resolve_window  # noqa: E402
from listening.config import PACKAGED_DEMO, load_config  # noqa: E402
from listening.metrics import voice as metrics  # noqa: E402
from listening.report import report as build_report  # noqa: E402
from listening.store import Store  # noqa: E402
from listening.store.daily import day_of  # noqa: E402
from listening.store.feed import FeedFilter  # noqa: E402
from listening.store.mentions import TOTAL, rollup_keys  # noqa: E402
from harness.mongo import add_uri_option, bench_server  # noqa: E402

NEWEST = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
SOURCES = ["twitter", "reddit", "news", "hn", "appstore", "forum"]
ISSUES = ["Delay", "Cancellation", "Lost item", "Customer service", "Booking", "Refund",
          "Seat", "Food", "Wifi", "Price", "Loyalty", "Safety"]
WORDS = ("flight gate crew seat bag delayed cancelled refund thanks great awful late wifi "
         "lounge boarding pilot plane trip airport ticket miles service help").split()
BATCH = 10_000


def seed(store: Store, config, n: int, days: int, rng: random.Random) -> None:
    brands = [b.name for b in config.brands]
    weights = [30, 12, 25, 18, 10, 5][:len(brands)] or [1] * len(brands)
    span = days * 86400
    cells: Counter = Counter()
    start = time.perf_counter()
    for first in range(0, n, BATCH):
        docs = []
        for i in range(first, min(first + BATCH, n)):
            brand = rng.choices(brands, weights)[0]
            label = rng.choices(("negative", "neutral", "positive"), (45, 30, 25))[0]
            published = NEWEST - timedelta(seconds=int(span * rng.random() ** 1.3))
            issues = rng.sample(ISSUES, rng.choices((0, 1, 2), (50, 40, 10))[0])
            intent = ["needs_reply"] if label == "negative" and rng.random() < 0.2 else \
                ["question"] if rng.random() < 0.05 else []
            text = f"@{brand.replace(' ', '')} " + " ".join(rng.choices(WORDS, k=14))
            doc = {"_id": f"m{i:08d}", "brands": [brand], "source": rng.choice(SOURCES),
                   "source_kind": "bench", "url": f"https://example.com/{i}", "author": f"user{i % 50_000}",
                   "title": None, "text": text, "published_at": published, "collected_at": published,
                   "first_collected_at": published, "lang": "en",
                   "sentiment": {"compound": 0.0, "label": label}, "issues": issues, "intent": intent,
                   "matched_terms": {brand: [brand]}, "run_id": "bench"}
            cells.update(rollup_keys(doc))
            docs.append(doc)
        store.mentions.collection.insert_many(docs, ordered=False)
        done = first + len(docs)
        if done % 100_000 == 0 or done == n:
            print(f"  {done:,} mentions in {time.perf_counter() - start:.0f} s", flush=True)
    # The rollups, written as ingest writes them (in slices of hours, all new), and their day
    # cells as store.daily.refresh() would recount them.
    keys = sorted(cells, key=lambda k: (k[4], k[0] or ""))
    for first in range(0, len(keys), 50 * BATCH):
        store.mentions.apply_deltas(Counter({k: cells[k] for k in keys[first:first + 50 * BATCH]}))
    for k in [k for k in cells if k[0] is TOTAL]:
        del cells[k]
    days: Counter = Counter()
    for (brand, issue, label, source, hour), n in cells.items():
        if day_of(hour) < day_of(NEWEST + timedelta(minutes=30)):
            days[(brand, issue, label, source, day_of(hour))] += n
    store.daily.load([{**dict(zip(("brand", "issue", "label", "source", "hour"), k)), "count": n}
                      for k, n in days.items()],
                     first=min(k[4] for k in cells), last=NEWEST, now=NEWEST + timedelta(minutes=30))
    print(f"  {len(cells):,} hourly and {len(days):,} daily rollup cells; seeded in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    run = store.runs.start("crawl", sources=SOURCES)
    store.runs.finish(run, counts={"read": n, "new": n})


def seed_search(store: Store, config) -> None:
    """Five years of weekly search volume per brand (what `listening trends` would store)."""
    docs = []
    for w in range(260):
        date = NEWEST.replace(hour=0) - timedelta(days=7 * (259 - w))
        for b in config.brands:
            value = 20 + (hash((b.name, w)) % 50)
            docs.append({"category": b.category, "scope": "geo", "term": b.search_term or b.name,
                         "brand": b.name, "geo": "", "trends_category": 0, "property": "",
                         "resolution": "WEEK", "date": date, "value": float(value), "stitched": float(value), "lo": value - 2.0,
                         "hi": value + 2.0, "is_partial": w == 259, "batch_id": "bench", "fetched_at": NEWEST})
    store.trends.upsert_points(docs)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pages(store: Store, config, window, window_span) -> dict[str, list]:
    """What each page loads on a cold start, call for call (see app_pages/)."""
    from listening.alerts import explain
    from listening.metrics.search import period_share, share_series
    from listening.trends.collect import trends_status

    since, until = window.since, window.until
    first, last = max(since, window_span[0]), min(until, window_span[1] + timedelta(hours=2))  # data_bounds
    own = [b.name for b in config.brands if b.own]
    alert = next(iter(store.alerts.open_alerts()), None)
    bucket = metrics.bucket_for(since, until)
    span = lambda: (store.daily.refresh(), store.daily.span())  # noqa: E731 -- dashboard.time_span
    trend: list = []

    def voice():
        trend[:] = metrics.sentiment_trend(store, config, since=since, until=until, bucket=bucket)
        return metrics.voice_summary(trend, config)

    return {
        "Live": [
            span,
            lambda: metrics.volume_series(store, since=since, until=until, bucket=bucket),
            lambda: store.feed.newest(FeedFilter(), since=first, until=last, limit=25),
        ],
        "Live, one brand": [
            span,
            lambda: metrics.volume_series(store, since=since, until=until, brands=[own[0]], bucket=bucket),
            lambda: store.feed.newest(FeedFilter(brands=(own[0],)), since=first, until=last, limit=25),
        ],
        "Live, text search": [
            span,
            lambda: store.feed.newest(FeedFilter(text="lounge pilot"), since=first, until=last, limit=25),
        ],
        "Needs reply": [
            span,
            lambda: store.feed.needs_reply(own, since=first, until=last, limit=50),
            lambda: metrics.time_to_handle(store, since=until - timedelta(days=30), until=until),
            lambda: store.feed.recent_edits(20),
        ],
        "Alerts": [
            span,
            lambda: store.alerts.open_alerts(),
            lambda: store.alerts.between(since, until),
            lambda: store.daily.hourly(alert["brand"], alert["issue"], "negative",
                                       alert["opened_at"] - timedelta(days=2, hours=6),
                                       alert["opened_at"] + timedelta(hours=12)),
            lambda: store.feed.newest(FeedFilter(brands=(alert["brand"],), issues=(alert["issue"],),
                                                 labels=("negative",)),
                                      since=alert["window_start"], until=alert["window_end"] + timedelta(hours=1),
                                      limit=5),
        ],
        "Alerts: rule band (toggle)": [lambda: explain.band(store, config, alert)],  # as the page draws it
        "Share of search": [
            span,
            lambda: store.trends.categories(),
            lambda: share_series(store, config.brands[0].category, smoothing="auto"),
            lambda: metrics.rollup_totals(store)(("brand",), since=since, until=until),
            lambda: period_share(store, config.brands[0].category, since=since, until=until),
        ],
        "Voice and sentiment": [
            span,
            voice,
            lambda: metrics.issue_breakdown(store, config, since=since, until=until,
                                            brand_totals=per_brand(trend)),
        ],
        "Sources health": [
            span,
            lambda: store.runs.recent(limit=500),
            lambda: trends_status(store, config),
        ],
    }


def per_brand(trend: list[dict]) -> dict[str, int]:
    totals: Counter = Counter()
    for row in trend:
        totals[row["brand"]] += row["mentions"]
    return dict(totals)


def open_alert(store: Store, config) -> None:
    from listening.alerts.detect import Finding
    from listening.alerts.lifecycle import new_alert

    end = NEWEST - timedelta(hours=5)  # an alert of the newest hours, with its evidence
    store.alerts.insert(new_alert(Finding(
        rule="issue-negative", kind="issue_negative", brand=config.brands[0].name, issue=ISSUES[0],
        window_start=end - timedelta(hours=6), window_end=end, observed=90.0, expected=20.0, score=6.0,
        severity="high"), "Operations"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data", type=Path, help="keep (and reuse) the store in this folder")
    add_uri_option(where)
    parser.add_argument("--rebuild", action="store_true", help="also time a full rebuild of the day rollups")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp, \
            bench_server(None if args.data else args.uri, args.data or Path(tmp)) as server:
        measure(args, Store.connect(server.uri, db_name="bench"), f"{server.name}, {args.data or 'a temporary folder'}"
                if server.pid else server.name)


def measure(args: argparse.Namespace, store: Store, where: str) -> None:
    config = load_config(PACKAGED_DEMO)
    try:
        have = store.mentions.count()
        if have != args.mentions:
            print(f"Seeding {args.mentions:,} mentions over {args.days} days into {where} ...", flush=True)
            store.drop()
            store.ensure_indexes()
            seed(store, config, args.mentions, args.days, random.Random(7))
            seed_search(store, config)
            open_alert(store, config)
        else:
            print(f"Reusing {have:,} mentions in {where}")
        print(f"{store.mentions.count():,} mentions, {store.mentions.stats.estimated_document_count():,} hourly rollup documents (a brand's hour each)\n")
        if args.rebuild:
            start = time.perf_counter()
            store.daily.rebuild()
            print(f"Day rollups rebuilt from the hourly ones in {time.perf_counter() - start:.1f} s "
                  "(what the first dashboard visit does on a store seeded without them)")
        start = time.perf_counter()
        days = store.daily.refresh()
        print(f"Daily rollups refreshed ({days} days recounted) in {time.perf_counter() - start:.1f} s")
        span = store.daily.span()
        for label in ("Last 7 days", "Last 30 days"):
            window = resolve_window(label, span, span[1] + timedelta(minutes=90))
            print(f"{label} ({window.describe()}), cold load per page:")
            for page, loads in pages(store, config, window, span).items():
                parts = [timed(fn) for fn in loads]
                warm = statistics.median(sum(timed(fn) for fn in loads) for _ in range(2))
                target = 0.5 if page.startswith("Live") else 1.5
                flag = "on request, no target" if "toggle" in page else \
                    f"target < {target} s, {'ok' if sum(parts) < target else 'SLOW'}"
                print(f"  {page:<27} {sum(parts):6.2f} s  ({flag}; again {warm:.2f} s; "
                      f"parts {', '.join(f'{p:.2f}' for p in parts)})", flush=True)
            print()
        for label, since in (("all time", None), ("last 7 days", NEWEST - timedelta(days=7))):
            took = timed(lambda since=since: build_report(store, config, since=since))
            print(f"  report --json, {label:<14} {took:6.2f} s  (target < 1.5 s, {'ok' if took < 1.5 else 'SLOW'})")
    finally:
        store.close()


if __name__ == "__main__":
    main()
