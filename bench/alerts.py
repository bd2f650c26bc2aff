"""Evaluation time of every alert rule over a year of hourly rollups, 50 brands x 10 issues.

    python bench/alerts.py [--brands 50] [--issues 10] [--days 365] [--uri MONGO_URI]

Without ``--uri`` it starts its own in-memory embedded store (SecantusDB) and stops it.
Steady state is what the scheduler sees: the rollup series of the past year are already
in ``alert_series`` (as ``check`` keeps them), one new hour of ``mention_stats`` cells
arrives, and ``check`` runs. Each step is timed: cache refresh, frame read, rules.
A spike is injected in the last hours so the run also shows that the rules fire.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.alerts import check  # noqa: E402
from listening.alerts.detect import enabled_rules, lookback, scan  # noqa: E402
from listening.alerts.frame import Frame  # noqa: E402
from listening.alerts.rules import Context  # noqa: E402
from listening.config import parse_config  # noqa: E402
from listening.store import Store  # noqa: E402
from listening.store.embedded import start_server  # noqa: E402
from listening.store.series import _series_id  # noqa: E402

HOUR = timedelta(hours=1)
LABELS = (("negative", 0.30), ("neutral", 0.45), ("positive", 0.25))


def synthetic_counts(rng, brands: int, issues: int, hours: int, start: datetime):
    """Per brand: hourly volume with day and week cycles; per issue: its share of negatives."""
    t = np.arange(hours)
    diurnal = 1 + 0.8 * np.sin(2 * np.pi * ((t % 24) - 9) / 24)
    weekly = np.where((t // 24) % 7 >= 5, 0.7, 1.0)
    out = {}
    for b in range(brands):
        base = 40 / (b + 1) ** 0.8 + 0.5                     # a few big brands, a long tail
        volume = rng.poisson(base * diurnal * weekly)
        labels = {lab: rng.binomial(volume, p) for lab, p in LABELS}
        shares = rng.dirichlet(np.ones(issues)) * 0.8
        neg_issue = [rng.binomial(labels["negative"], s) for s in shares]
        out[b] = (labels, neg_issue)
    return out


def week_docs(counts, start: datetime, hours: int):
    """``alert_series`` documents, as the cache holds a year of rollups."""
    for b, (labels, neg_issue) in counts.items():
        series = {("*", "all"): sum(labels.values()), ("*", "negative"): labels["negative"]}
        series.update({(f"issue-{i}", "negative"): x for i, x in enumerate(neg_issue)})
        for (issue, cls), x in series.items():
            for w0 in range(0, hours, 168):
                chunk = x[w0:w0 + 168]
                h = {str(i): int(v) for i, v in enumerate(chunk) if v}
                if h:
                    week = start + w0 * HOUR
                    yield {"_id": _series_id(f"brand-{b}", issue, cls, "bench", week), "brand": f"brand-{b}",
                           "issue": issue, "cls": cls, "source": "bench", "week": week, "h": h}


def hour_cells(counts, hour_index: int, hour: datetime, spike: int = 0):
    """The rollup cells of one hour, ((brand, issue, label, source, hour), count), as ingest counts them."""
    for b, (labels, neg_issue) in counts.items():
        for lab, x in labels.items():
            n = int(x[hour_index]) + (spike if (b, lab) == (2, "negative") else 0)
            if n:
                yield _cell(b, "*", lab, hour, n)
        for i, x in enumerate(neg_issue):
            n = int(x[hour_index]) + (spike if (b, i) == (2, 3) else 0)
            if n:
                yield _cell(b, f"issue-{i}", "negative", hour, n)


def _cell(b, issue, label, hour, n):
    return (f"brand-{b}", issue, label, "bench", hour), n


def config_for(brands: int):
    return parse_config({"brands": [{"name": f"brand-{b}"} for b in range(brands)],
                         "departments": [{"name": "Customer Care", "leads": ["care@example.com"]}]})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--brands", type=int, default=50)
    ap.add_argument("--issues", type=int, default=10)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--steps", type=int, default=3, help="hourly evaluations to time")
    ap.add_argument("--uri")
    args = ap.parse_args()

    proc = None
    uri = args.uri
    if not uri:
        proc, uri = start_server(":memory:", Path(tempfile.mkdtemp()) / "secantus.log")
    client = MongoClient(uri, tz_aware=True)
    store = Store(client, f"bench_alerts_{uuid.uuid4().hex[:6]}")
    try:
        store.ensure_indexes()
        config = config_for(args.brands)
        start = datetime(2025, 1, 6, tzinfo=timezone.utc)   # a Monday
        hours = args.days * 24
        rng = np.random.default_rng(7)
        counts = synthetic_counts(rng, args.brands, args.issues, hours + args.steps + 1, start)

        t = time.perf_counter()
        docs = list(week_docs(counts, start, hours))
        for k in range(0, len(docs), 5000):
            store.series_cache.docs.insert_many(docs[k:k + 5000], ordered=False)
        at = start + hours * HOUR
        store.series_cache.state.insert_one({"_id": "coverage", "since": start, "until": at,
                                             "scan_from": datetime.now(timezone.utc)})
        cells_per_year = sum(len(d["h"]) for d in docs)
        print(f"setup: {args.days} days x {args.brands} brands x {args.issues} issues = "
              f"{cells_per_year:,} non-empty hourly series points in {len(docs):,} week documents "
              f"({time.perf_counter() - t:.1f} s to load)")

        rules = enabled_rules(config)
        print(f"rules: {', '.join(r.name for r in rules)}; lookback {lookback(rules)}")
        for step in range(args.steps):
            hour = at + step * HOUR
            cells = Counter(dict(hour_cells(counts, hours + step, hour, spike=40 if step == args.steps - 1 else 0)))
            store.mentions.apply_deltas(cells)
            until = hour + HOUR
            t0 = time.perf_counter()
            refreshed = store.series_cache.refresh(until - lookback(rules), until)
            t1 = time.perf_counter()
            points = list(store.series_cache.read(until - lookback(rules), until))
            t2 = time.perf_counter()
            frame = Frame.load(store, until - lookback(rules), until, cached=True)
            t3 = time.perf_counter()
            findings = scan(Context(frame, config), rules, np.array([frame.index(until)]))
            t4 = time.perf_counter()
            alerts = check(store, config, until)
            t5 = time.perf_counter()
            print(f"step {step + 1}: new hour {hour:%Y-%m-%d %H:00} ({len(cells)} cells) | "
                  f"refresh {t1 - t0:.2f} s ({refreshed['cells']} cells) | read {t2 - t1:.2f} s "
                  f"({len(points):,} points) | frame {t3 - t2:.2f} s | rules {t4 - t3:.2f} s "
                  f"({len(findings)} findings) | check() total {t5 - t4:.2f} s, "
                  f"{len(alerts)} alerts touched")
        for a in store.alerts.open_alerts():
            print(f"  open: {a['rule']} {a['brand']} {a['issue'] or '(all)'} "
                  f"observed {a['observed']:.0f} expected {a['expected']:.1f} {a['severity']}")
    finally:
        client.drop_database(store.db.name)
        client.close()
        if proc:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
