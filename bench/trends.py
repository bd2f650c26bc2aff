"""Share of search: requests and accuracy of stitching vs naive chunks, on simulated Google.

    .venv/bin/python bench/trends.py [--seeds 20] [--weeks 260]

For 5, 9 and 21 brands with known true weekly volumes (log-normal brand sizes, seasonal
shapes), a simulated Google scales each request to 0-100 and rounds, as Google does.
Printed per brand count: requests used (target: ceil((N-1)/4)), the median absolute
error of the brands' weekly shares (stitched vs naive independent chunks of five), how
often the true share lies inside the stitched band, the median band width, and the
same with a generic anchor term probed first (``anchor_candidates``: one more request).
A last block adds 5% sampling noise per request and compares 1 and 3 averaged pulls.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.simulated_trends import SimulatedBackend, naive_chunks  # noqa: E402
from listening.metrics.search import shares  # noqa: E402
from listening.trends.stitch import Stitcher  # noqa: E402


def truth_for(n: int, weeks: int, rng: np.random.Generator) -> dict:
    t = np.arange(weeks)
    sizes = rng.lognormal(0.0, 1.0, n) * 1000
    out = {}
    for i, size in enumerate(sizes):
        season = 1 + 0.3 * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 2 * np.pi))
        trend = np.exp(rng.normal(0, 0.3) * t / weeks)
        out[(f"brand{i}", "")] = size * season * trend * rng.lognormal(0, 0.05, weeks)
    return out


def run(n: int, seeds: int, weeks: int, noise: float = 0.0, repeats: int = 1) -> dict:
    stitched_err, naive_err, inside, width, requests, chained = [], [], [], [], [], 0
    probe_err, probe_requests = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 * n + seed)
        truth = truth_for(n, weeks, rng)
        items = list(truth)
        true = np.array([truth[i] for i in items])
        true_share = true / true.sum(axis=0)
        backend = SimulatedBackend(truth, noise=noise, seed=seed)
        result = Stitcher(backend, timeframe="today 5-y", repeats=repeats).run(items)
        requests.append(backend.requests)
        chained += sum(b.chained for b in result.batches)
        share, lo, hi = shares(result.value, result.lo, result.hi)
        stitched_err.append(np.nanmedian(np.abs(share - true_share)))
        inside.append(np.mean((true_share >= lo - 1e-12) & (true_share <= hi + 1e-12)))
        width.append(np.nanmedian(hi - lo))
        naive = naive_chunks(SimulatedBackend(truth, noise=noise, seed=seed), items, timeframe="today 5-y")
        naive_err.append(np.median(np.abs(naive / naive.sum(axis=0) - true_share)))
        # a generic anchor term (2x the biggest brand) probed first: one extra request
        generic = {**truth, ("generic", ""): 2 * true.max(axis=0)}
        probed_backend = SimulatedBackend(generic, noise=noise, seed=seed)
        probed = Stitcher(probed_backend, timeframe="today 5-y", repeats=repeats,
                          anchor_candidates=["generic"]).run(items)
        p_share, _, _ = shares(probed.value, probed.lo, probed.hi)
        probe_err.append(np.nanmedian(np.abs(p_share - true_share)))
        probe_requests.append(probed_backend.requests)
    return {"requests": max(requests), "target": math.ceil((n - 1) / 4) * repeats,
            "naive_requests": math.ceil(n / 5), "stitched": float(np.median(stitched_err)),
            "naive": float(np.median(naive_err)), "inside": float(np.mean(inside)),
            "width": float(np.median(width)), "chained": chained,
            "probe_requests": max(probe_requests), "probe": float(np.median(probe_err))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=260)
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"Simulated Google (0-100 per request, rounded), {args.weeks} weekly buckets, "
          f"{args.seeds} random brand sets each; errors are absolute share points (0.01 = 1 pp).")
    print(f"{'brands':>6} {'requests':>8} {'target':>6} {'naive req':>9} {'stitched err':>12} "
          f"{'naive err':>10} {'in band':>8} {'band width':>10} {'chained':>7} {'probe req':>9} {'probe err':>9}")
    for n in (5, 9, 21):
        r = run(n, args.seeds, args.weeks)
        print(f"{n:>6} {r['requests']:>8} {r['target']:>6} {r['naive_requests']:>9} {r['stitched']:>12.5f} "
              f"{r['naive']:>10.5f} {r['inside']:>8.1%} {r['width']:>10.5f} {r['chained']:>7} "
              f"{r['probe_requests']:>9} {r['probe']:>9.5f}")
    print("\nWith 5% sampling noise per request (bands cover rounding + 2 standard errors of repeats):")
    print(f"{'brands':>6} {'repeats':>7} {'requests':>8} {'stitched err':>12} {'naive err':>10} {'in band':>8}")
    for n in (9, 21):
        for repeats in (1, 3):
            r = run(n, max(4, args.seeds // 4), args.weeks, noise=0.05, repeats=repeats)
            print(f"{n:>6} {repeats:>7} {r['requests']:>8} {r['stitched']:>12.5f} {r['naive']:>10.5f} "
                  f"{r['inside']:>8.1%}")
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
