"""Stitching any number of terms onto one scale, checked against a known truth.

A simulated Google (same interface as the real backends) scales each request to 0-100
and rounds, exactly as Google publishes; the true shares must lie in the bands.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.simulated_trends import SimulatedBackend, naive_chunks
from listening.metrics.search import shares
from listening.trends.stitch import Stitcher

SLACK = 1e-9


def _truth(magnitudes, shapes, buckets):
    t = np.arange(buckets)
    return {(f"brand{i}", ""): m * (1.0 + 0.6 * np.sin(t / (2.0 + s) + s)) + m * 0.05
            for i, (m, s) in enumerate(zip(magnitudes, shapes))}


def _stitch(truth, **options):
    backend = SimulatedBackend(truth)
    stitched = Stitcher(backend, timeframe="today 5-y", **options).run(list(truth))
    return backend, stitched


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 30), buckets=st.integers(3, 40), data=st.data())
def test_true_shares_lie_within_the_bands(n, buckets, data):
    magnitudes = data.draw(st.lists(st.floats(1.0, 2000.0), min_size=n, max_size=n))
    shapes = data.draw(st.lists(st.floats(0.0, 6.0), min_size=n, max_size=n))
    truth = _truth(magnitudes, shapes, buckets)
    backend, stitched = _stitch(truth)
    true = np.array([truth[item] for item in stitched.items])
    true_share = true / true.sum(axis=0)
    share, lo, hi = shares(stitched.value, stitched.lo, stitched.hi)
    assert (true_share >= lo - SLACK).all() and (true_share <= hi + SLACK).all()
    finite = np.isfinite(share)
    assert (share[finite] >= lo[finite] - SLACK).all() and (share[finite] <= hi[finite] + SLACK).all()
    # volumes too: the truth, in batch 0's units (its peak is 100), lies within lo..hi
    c0 = max(truth[i].max() for i in stitched.batches[0].items) / 100.0
    assert (true / c0 >= stitched.lo - 1e-6).all() and (true / c0 <= stitched.hi + 1e-6).all()
    # the minimum number of requests unless a chain was needed
    minimum = 1 if n <= 5 else 1 + math.ceil((n - 5) / 4)
    chained = sum(b.chained for b in stitched.batches)
    assert backend.requests == minimum + chained


@pytest.mark.parametrize("n,requests", [(5, 1), (9, 2), (21, 5)])
def test_requests_are_the_minimum(n, requests):
    rng = np.random.default_rng(n)
    truth = _truth(rng.uniform(50, 100, n), rng.uniform(0, 6, n), 52)
    backend, stitched = _stitch(truth)
    assert backend.requests == requests == math.ceil((n - 1) / 4)
    assert all(b.anchor == stitched.anchor for b in stitched.batches)
    assert not any(b.weak for b in stitched.batches)  # the anchor is never 0 in any bucket


def test_stitched_beats_naive_chunks():
    rng = np.random.default_rng(7)
    truth = _truth(rng.lognormal(0, 1.0, 21) * 100, rng.uniform(0, 6, 21), 104)
    true = np.array(list(truth.values()))
    true_share = true / true.sum(axis=0)
    _, stitched = _stitch(truth)
    naive = naive_chunks(SimulatedBackend(truth), list(truth), timeframe="today 5-y")
    stitched_err = np.median(np.abs(stitched.value / stitched.value.sum(0) - true_share))
    naive_err = np.median(np.abs(naive / naive.sum(0) - true_share))
    assert stitched_err < 0.005 < naive_err


def test_a_giant_in_a_later_batch_is_chained_through_a_bigger_anchor():
    # batch 0: five small brands; a later batch holds one 400x bigger: the anchor hits 0
    mags = [10, 9, 8, 7, 6, 4000, 5, 3, 2]
    truth = _truth(mags, [0.5 * i for i in range(9)], 30)
    backend, stitched = _stitch(truth)
    assert any(b.weak for b in stitched.batches)
    true = np.array([truth[i] for i in stitched.items])
    share, lo, hi = shares(stitched.value, stitched.lo, stitched.hi)
    assert ((true / true.sum(0)) >= lo - SLACK).all() and ((true / true.sum(0)) <= hi + SLACK).all()


def test_anchor_candidates_cost_one_probe():
    rng = np.random.default_rng(3)
    truth = _truth(rng.uniform(10, 50, 9), rng.uniform(0, 6, 9), 20)
    truth[("flights", "")] = np.full(20, 400.0)
    backend = SimulatedBackend(truth)
    items = [i for i in truth if i[0] != "flights"]
    stitched = Stitcher(backend, timeframe="x", anchor_candidates=["flights"]).run(items)
    # the probe shares its request with 4 brands: 1 + ceil((9 - 4) / 4) requests
    assert stitched.anchor == ("flights", "") and backend.requests == 3
    true = np.array([truth[i] for i in items])
    share, lo, hi = shares(stitched.value, stitched.lo, stitched.hi)
    assert ((true / true.sum(0)) >= lo - SLACK).all() and ((true / true.sum(0)) <= hi + SLACK).all()
    assert stitched.items == items


def test_repeats_are_averaged_and_counted():
    rng = np.random.default_rng(5)
    truth = _truth(rng.uniform(10, 50, 6), rng.uniform(0, 6, 6), 20)
    backend = SimulatedBackend(truth, noise=0.05, seed=1)
    stitched = Stitcher(backend, timeframe="x", repeats=3).run(list(truth))
    assert backend.requests == 2 * 3 and stitched.requests == 6
    assert not np.allclose(stitched.raw, np.round(stitched.raw))  # a mean of noisy pulls


def test_a_window_that_moved_between_batches_is_stitched_on_the_common_buckets():
    """Batch 0 from last week's cache, batch 1 fetched today: 'today 5-y' moved one week."""
    rng = np.random.default_rng(11)
    full = _truth(rng.uniform(10, 100, 8), rng.uniform(0, 6, 8), 31)
    step = np.timedelta64(7, "D").astype(object)
    last_week = SimulatedBackend({k: v[:-1] for k, v in full.items()})
    this_week = SimulatedBackend({k: v[1:] for k, v in full.items()}, start=last_week.dates[0] + step)

    class Moving:
        name = "moving"

        def __init__(self):
            self.calls = 0

        def interest_over_time(self, request):
            self.calls += 1
            return (last_week if self.calls == 1 else this_week).interest_over_time(request)

    stitched = Stitcher(Moving(), timeframe="today 5-y").run(list(full))
    assert len(stitched.dates) == 29 and stitched.dates[0] == this_week.dates[0]
    true = np.array([full[i][1:-1] for i in stitched.items])
    share, lo, hi = shares(stitched.value, stitched.lo, stitched.hi)
    true_share = true / true.sum(0)
    assert (true_share >= lo - SLACK).all() and (true_share <= hi + SLACK).all()


def test_no_data_at_all_is_an_error_not_a_crash():
    from listening.trends.resilience import TrendsError
    backend = SimulatedBackend({("a", ""): np.array([]), ("b", ""): np.array([])})
    with pytest.raises(TrendsError, match="no data"):
        Stitcher(backend, timeframe="x").run([("a", ""), ("b", "")])


def test_terms_with_no_searches_get_a_zero_share_within_their_band():
    truth = {("big", ""): np.full(10, 1000.0), ("none", ""): np.zeros(10), ("small", ""): np.full(10, 3.0)}
    _, stitched = _stitch(truth)
    share, lo, hi = shares(stitched.value, stitched.lo, stitched.hi)
    row = stitched.items.index(("none", ""))
    assert (share[row] == 0).all() and (lo[row] == 0).all() and (hi[row] > 0).all()
