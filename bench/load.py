"""Load test: a million mentions through the real pipeline, then the dashboard and the alert rules.

    .venv/bin/python bench/load.py [--count 1000000] [--db-path DIR | --keep | --uri URI]

Streams mentions made from the shared airline tweets (a generator, never a list) through
``Pipeline`` in its normal batches into a fresh embedded store, and prints the peak RSS of
this process and of the store's server against a 1 GiB target (with ``--uri`` /
``$TEST_MONGO_URI``, a real MongoDB: database ``bench_load`` there, and no server RSS, since
that server is not ours to watch). Then it times, one figure
each, the queries the dashboard pages send on the loaded store (the same repository and
metrics calls, without Streamlit's cache), and one alert evaluation as ``listening alerts``
runs it, and ends with a summary table.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.config import PACKAGED_DEMO, Config, load_config  # noqa: E402
from listening.ingest.pipeline import Pipeline  # noqa: E402
from listening.matching import BrandMatcher  # noqa: E402
from listening.models import RawMention  # noqa: E402
from listening.store import DEFAULT_DB, Store  # noqa: E402
from harness.mongo import Server, add_uri_option, bench_server  # noqa: E402

TWEETS = ROOT.parent / "shared/fixtures/twitter_us_airline_sentiment/Tweets.csv"
CASSETTES = ROOT.parent / "shared/fixtures/google_trends_pytrends_cassettes"
# (source, kind, share of the mentions): a social feed, forums, news and review sites
SOURCES = (("twitter", "json_api", 45), ("reddit", "json_api", 20), ("forum", "html", 15),
           ("news", "feed", 10), ("reviews", "html", 10))
DAYS = 30
DAY_S = 86_400
TARGET_MB = 1024
MB = 1024  # kB per MB


# -- the mention stream -------------------------------------------------------------------
def tweets(config: Config) -> list[tuple[str, str]]:
    """(text, author) of the airline tweets that name a demo brand (about 11,700)."""
    matcher = BrandMatcher(config.brands)
    with open(TWEETS, newline="", encoding="utf-8") as handle:
        rows = [(row["text"], row["name"]) for row in csv.DictReader(handle)]
    return [row for row in rows if matcher.match(row[0])]


def mentions(count: int, texts: list[tuple[str, str]], now: datetime, seed: int = 7) -> Iterator[RawMention]:
    """``count`` distinct mentions over the last 30 days, oldest first, as a crawl delivers them.

    Each pass over the tweets is reshuffled; every mention has its own id, a source, and a time
    with a daily rhythm (the busiest hour three times the quietest) and up to an hour's jitter.
    """
    rng = random.Random(seed)
    names, kinds, weights = zip(*SOURCES)
    start = (now - timedelta(days=DAYS)).timestamp()
    order: list[int] = []
    for i in range(count):
        if not order:
            order = rng.sample(range(len(texts)), len(texts))
        text, author = texts[order.pop()]
        s = rng.choices(range(len(SOURCES)), weights)[0]
        t = DAYS * DAY_S * i / count
        t -= 0.5 * DAY_S / (2 * math.pi) * math.sin(2 * math.pi * t / DAY_S)  # monotonic: rate 2/3..2
        yield RawMention(source=names[s], source_kind=kinds[s], text=text, author=author,
                         external_id=f"load-{i}", url=f"https://{names[s]}.example.com/p/{i}",
                         published_at=datetime.fromtimestamp(start + t - 3600 * rng.random(), timezone.utc))


# -- memory ---------------------------------------------------------------------------------
def status_kb(pid: int | str, field: str) -> int:
    """A ``/proc/PID/status`` figure in kB: VmRSS now, VmHWM the peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def server_mb(server: Server, field: str) -> str:
    """The server's RSS (VmRSS) or peak (VmHWM), or n/a for a server we did not start."""
    return f"{status_kb(server.pid, field) / MB:,.0f} MB" if server.pid else "n/a"


def our_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB


def verdict(mb: float | None) -> str:
    if mb is None:
        return "n/a (a server we did not start)"
    return f"{mb:,.0f} MB ({'under' if mb < TARGET_MB else 'OVER'} the {TARGET_MB:,} MB target)"


def server_peak(server: Server) -> float | None:
    return status_kb(server.pid, "VmHWM") / MB if server.pid else None


# -- ingest ---------------------------------------------------------------------------------
def ingest(store: Store, config: Config, count: int, server: Server) -> dict:
    """Stream ``count`` mentions through the pipeline, printing progress and RSS to stderr."""
    texts = tweets(config)
    every = max(10_000, count // 20)
    state = {"written": 0, "next": every}
    start = time.perf_counter()

    def progress(n: int) -> None:  # called by the pipeline's writer thread after each batch
        state["written"] += n
        if state["written"] >= state["next"] or state["written"] == count:
            state["next"] += every
            elapsed = time.perf_counter() - start
            print(f"  {state['written']:>10,} / {count:,} written  {elapsed:6.0f} s  "
                  f"{state['written'] / elapsed:6,.0f}/s  RSS ours {status_kb('self', 'VmRSS') / MB:5,.0f} MB "
                  f"(peak {our_peak_mb():,.0f})  server {server_mb(server, 'VmRSS')} "
                  f"(peak {server_mb(server, 'VmHWM')})", file=sys.stderr, flush=True)

    print(f"Ingesting {count:,} mentions ({len(texts):,} tweets reshuffled per pass, {len(SOURCES)} sources, "
          f"{DAYS} days) through the pipeline; RSS before: ours {status_kb('self', 'VmRSS') / MB:,.0f} MB, "
          f"server {server_mb(server, 'VmRSS')}", file=sys.stderr, flush=True)
    run = store.runs.start("import", source="bench/load.py")
    with Pipeline(store, config, run_id=run, on_batch=progress) as pipeline:
        counts = pipeline.run(mentions(count, texts, datetime.now(timezone.utc)))
    elapsed = time.perf_counter() - start
    store.runs.finish(run, counts=counts.as_dict())
    return {"counts": counts.as_dict(), "elapsed": elapsed, "rate": counts.read / elapsed,
            "ours_mb": our_peak_mb(), "server_peak": server_peak(server)}


def load_trends(store: Store, config: Config) -> None:
    """The demo's recorded Google Trends answers, so share of search has real data to read."""
    from listening.demo.trends import collect_recorded

    start = time.perf_counter()
    summary = collect_recorded(store, config, CASSETTES)
    print(f"Recorded Trends answers loaded ({summary['points_new']:,} points) in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr)


# -- the dashboard's queries ----------------------------------------------------------------
def dashboard_queries(store: Store, config: Config) -> dict[str, Callable[[], object]]:
    """What the pages load on a cold start, call for call (app_pages/, listening/dashboard.py),
    on the default window (the last 7 days). Needs the day rollups built (``time_span``)."""
    import streamlit  # noqa: F401 -- before listening.app.common, to quieten its "No runtime found"

    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    from listening.app.common import DEFAULT_WINDOW, resolve_window
    from listening.metrics import voice as metrics
    from listening.metrics.search import period_share, share_series
    from listening.report import report as build_report
    from listening.store.feed import FeedFilter

    now = datetime.now(timezone.utc)
    span = store.daily.span()
    window = resolve_window(DEFAULT_WINDOW, span, now)
    since, until = window.since, window.until
    first, last = max(since, span[0]), min(until, span[1] + timedelta(hours=2))  # dashboard.data_bounds
    bucket = metrics.bucket_for(since, until)
    own = [b.name for b in config.brands if b.own]
    brand, issue = config.brands[0].name, "Delay"  # a busy brand and issue of the demo
    spike_end = span[1] - timedelta(hours=5)
    category = next(iter(store.trends.categories()), config.brands[0].category)

    def voice():
        trend = metrics.sentiment_trend(store, config, since=since, until=until, bucket=bucket)
        return metrics.voice_summary(trend, config)

    def voice_vs_search():  # the airlines have no recorded search data: their search side is empty
        cat = [b.name for b in config.brands if b.category == config.brands[0].category]
        counts = metrics.rollup_totals(store)(("brand",), since=since, until=until, brands=cat)
        period_share(store, config.brands[0].category, since=since, until=until, geo=config.trends.geo)
        return counts

    return {
        # what every page pays once a minute while mentions keep arriving (or just after a load)
        "time span: day rollups, 2nd refresh": lambda: (store.daily.refresh(), store.daily.span()),
        "Live: volume chart": lambda: metrics.volume_series(store, since=since, until=until, bucket=bucket),
        "Live: newest 25": lambda: store.feed.newest(FeedFilter(), since=first, until=last, limit=25),
        "Live: newest 25, one brand": lambda: store.feed.newest(
            FeedFilter(brands=(brand,)), since=first, until=last, limit=25),
        "Live: newest 25, one issue": lambda: store.feed.newest(
            FeedFilter(issues=(issue,)), since=first, until=last, limit=25),
        "Live: text search 'lost bag'": lambda: store.feed.newest(
            FeedFilter(text="lost bag"), since=first, until=last, limit=25),
        "Needs reply: queue of 50": lambda: store.feed.needs_reply(own, since=first, until=last, limit=50),
        "Needs reply: time to handle": lambda: metrics.time_to_handle(
            store, since=now - timedelta(days=30), until=now),
        "Voice: share of voice, sentiment": voice,
        "Voice: issues per brand": lambda: metrics.issue_breakdown(store, config, since=since, until=until),
        "Issue spike: hourly counts": lambda: store.daily.hourly(
            brand, issue, "negative", spike_end - timedelta(days=2, hours=6), spike_end + timedelta(hours=12)),
        "Issue spike: evidence mentions": lambda: store.feed.newest(
            FeedFilter(brands=(brand,), issues=(issue,), labels=("negative",)),
            since=spike_end - timedelta(hours=6), until=spike_end + timedelta(hours=1), limit=5),
        "Share of search: series": lambda: share_series(store, category, geo=config.trends.geo, smoothing="auto"),
        "Share of search: voice beside search": voice_vs_search,
        "Alerts: open and in window": lambda: store.alerts.open_alerts() + store.alerts.between(since, until),
        "report --json (all time)": lambda: build_report(store, config)["brands"],
        "report --json (last 7 days)": lambda: build_report(store, config, since=now - timedelta(days=7))["brands"],
    }


def size(result: object) -> int:
    """How many rows a query returned (a feed page: its mentions)."""
    result = getattr(result, "mentions", result)
    return len(result) if hasattr(result, "__len__") else 1


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def time_queries(store: Store, config: Config, count: int, server: Server) -> dict[str, float]:
    """Each dashboard query once, cold: its seconds, rows, and the server's RSS after it."""
    seconds: dict[str, float] = {}

    def run(name: str, fn: Callable[[], object]) -> None:
        seconds[name], result = timed(fn)
        print(f"  {name:<38} {seconds[name]:7.2f}  {size(result):>6,} rows   server RSS "
              f"{server_mb(server, 'VmRSS')} (peak {server_mb(server, 'VmHWM')})", flush=True)

    print(f"\nDashboard queries on {count:,} mentions "
          f"({store.mentions.stats.estimated_document_count():,} hourly rollup documents), seconds:", flush=True)
    # Every page first brings the day rollups up to date (dashboard.time_span): the window needs them.
    run("time span: day rollups, 1st refresh", lambda: (store.daily.refresh(), store.daily.span()))
    for name, fn in dashboard_queries(store, config).items():
        run(name, fn)
    return seconds


def time_alerts(store: Store, config: Config, server: Server) -> tuple[float, list[dict]]:
    """One evaluation of the rules at now, as ``listening alerts`` runs it."""
    from listening.alerts import check

    seconds, found = timed(lambda: check(store, config))
    print(f"\nAlert evaluation (as `listening alerts` at now): {seconds:.2f} s, {len(found)} alerts "
          f"opened or changed; server RSS peak {server_mb(server, 'VmHWM')}", flush=True)
    for alert in found[:10]:
        print(f"  {alert['rule']:<18} {alert['brand']:<15} {alert['issue'] or '(all)':<20} "
              f"observed {alert['observed']:.0f} vs {alert['expected']:.1f} {alert['severity']}")
    return seconds, found


def commit() -> str:
    """Which code was measured."""
    git = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True)
    return git.stdout.strip() or "unknown"


# -- main -------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Progress goes to stderr, figures to stdout. At a million mentions expect 15-25 "
               "minutes on two cores and about 1.6 GB of disk in the temporary folder.")
    parser.add_argument("--count", type=int, default=1_000_000, metavar="N",
                        help="mentions to ingest (default: 1,000,000)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db-path", type=Path, metavar="DIR",
                       help="keep the store in DIR; when DIR already holds N mentions, skip the "
                            "ingest and only time the queries")
    where.add_argument("--keep", action="store_true",
                       help="keep the temporary store afterwards (its folder is printed); open it with "
                            "LISTENING_DATA=DIR listening serve")
    add_uri_option(where)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = load_config(PACKAGED_DEMO)
    folder = args.db_path or Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        with bench_server(None if args.db_path or args.keep else args.uri, folder) as server:
            run(args, config, server, folder)
    finally:
        if args.db_path or args.keep:
            print(f"\nStore kept in {folder} (LISTENING_DATA={folder} listening serve)", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, config: Config, server: Server, folder: Path) -> None:
    store = Store.connect(server.uri, db_name=DEFAULT_DB if server.pid else "bench_load")
    have = store.mentions.count()
    if have and have != args.count:
        sys.exit(f"{folder if server.pid else 'bench_load at --uri'} holds {have:,} mentions, not {args.count:,}: "
                 "use an empty one")
    rows = [("store", server.name), ("mentions", f"{args.count:,} (code {commit()})")]
    if have:
        print(f"Reusing the {have:,} mentions: timing the queries only", file=sys.stderr)
    else:
        load = ingest(store, config, args.count, server)
        load_trends(store, config)
        rows += [("ingest", f"{load['elapsed']:,.0f} s, {load['rate']:,.0f} mentions/s"),
                 ("peak RSS ours, ingest", verdict(load["ours_mb"])),
                 ("peak RSS server, ingest", verdict(load["server_peak"]))]
        print(f"\nIngest: {load['counts']}")
        for name, value in rows[2:]:
            print(f"  {name:<38} {value}", flush=True)
    queries = time_queries(store, config, args.count, server)
    alert_s, found = time_alerts(store, config, server)
    store.close()
    rows += [("peak RSS ours, whole run", verdict(our_peak_mb())),
             ("peak RSS server, whole run", verdict(server_peak(server))),
             *((name, f"{s:.2f} s") for name, s in queries.items()),
             ("alert evaluation", f"{alert_s:.2f} s, {len(found)} alerts")]
    print(f"\nSummary\n{'-' * 80}")
    for name, value in rows:
        print(f"{name:<40} {value}")


if __name__ == "__main__":
    main()
