"""Robust expected counts for a window, computed for many windows at once.

For a window of ``w`` hours ending at ``e`` the baseline is made of the day-long
blocks just before it (``baseline_days`` of them). Blocks where the brand had no
mentions at all, or that overlap a collection gap, are *missing*, not zero.

    level    = median of the covered blocks' counts        (a daily rate, robust to old spikes)
    spread   = 1.4826 * MAD of those counts                (robust standard deviation)
    share    = the part of a day's volume that falls in the window's hours,
               learned from the brand's whole volume (dense, so stable): same hours of
               day, or same hours of week once ``seasonal_after_days`` are covered
    expected = max(level, floor_per_day) * share
    variance = expected + (spread * share)**2               (Poisson plus day-to-day noise)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

DAY = 24
WEEK = 168
PSEUDO_MENTIONS = 24.0  # shrinks a thin brand's hour-of-day profile toward flat


@dataclass
class Expectation:
    """Per evaluated window (arrays over the ends)."""

    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    covered_days: np.ndarray
    level: np.ndarray          # baseline daily count
    seasonal: np.ndarray       # bool: hour-of-week profile used


def cumulative(x: np.ndarray) -> np.ndarray:
    """(S, H) counts -> (S, H + 1) running sums, so any span sum is two lookups."""
    out = np.zeros((x.shape[0], x.shape[1] + 1))
    np.cumsum(x, axis=1, out=out[:, 1:])
    return out


def span_sums(cum: np.ndarray, hi: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``[hi - length, hi)`` per source; ``valid`` is False where it starts before the data."""
    lo = hi - length
    valid = lo >= 0
    return cum[..., np.clip(hi, 0, None)] - cum[..., np.clip(lo, 0, None)], valid


def shift_cut(tb: np.ndarray, covered: np.ndarray, factor: float) -> np.ndarray:
    """Per end, how many recent day blocks to keep: all, or those since a level shift.

    ``tb`` (K, E) is the brand's volume per day block, most recent first. The cut is the
    largest s such that the s recent blocks are covered and each is ``factor`` times the
    median of the covered blocks before them.
    """
    k = tb.shape[0]
    vol = np.where(covered, tb, np.nan)
    recent_min = np.fmin.accumulate(vol, axis=0)[:-1]                    # blocks 0..s-1, s = 1..k-1
    all_covered = np.logical_and.accumulate(covered, axis=0)[:-1]
    before = np.arange(k)[None, :] >= np.arange(1, k)[:, None]          # (s, block): blocks >= s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        older = np.nanmedian(np.where(before[:, :, None], vol[None], np.nan), axis=1)  # (k-1, E)
    hit = all_covered & (recent_min >= factor * np.maximum(np.nan_to_num(older, nan=np.inf), 1.0))
    if k < 2:
        return np.full(tb.shape[1], k)
    last = np.where(hit, np.arange(1, k)[:, None], 0).max(0)
    return np.where(last > 0, last, k)


def expect(x_cum: np.ndarray, tot_cum: np.ndarray, include: np.ndarray, gap_cum: np.ndarray,
           ends: np.ndarray, *, window: int, baseline_days: int, floor_per_day: float,
           seasonal_after_days: int, first: int = 0,
           level_shift: float | None = None) -> Expectation:
    """Observed and expected counts of series ``x`` for windows ending at ``ends``.

    ``x_cum`` is (S, H + 1), or (N, S, H + 1) for N series of one brand at once (its
    issues); ``tot_cum`` is the brand's volume, (S, H + 1). ``include`` (S, E) says which
    sources count at each end (young sources do not);
    blocks that start before ``first`` (the brand's first hour with data: the day
    collection started is partial) are missing. With ``level_shift``, so are the days
    before a collection level shift: the brand's whole volume that many times higher
    on every day since than the median day before.
    """
    k = np.arange(baseline_days)[:, None]
    inc3 = include[:, None, :]
    observed = (span_sums(x_cum, ends, window)[0] * include).sum(-2)        # (..., E)
    block_hi = ends[None, :] - window - DAY * k                          # (K, E)
    xb, valid = span_sums(x_cum, block_hi, DAY)
    tb, _ = span_sums(tot_cum, block_hi, DAY)
    xb, tb = (xb * inc3).sum(-3), (tb * inc3).sum(0)                     # (..., K, E), (K, E)
    gapped = span_sums(gap_cum, block_hi, DAY)[0][0] > 0
    covered = valid & (block_hi - DAY >= first) & (tb > 0) & ~gapped
    if level_shift:
        covered &= np.arange(baseline_days)[:, None] < shift_cut(tb, covered, level_shift)
    n_cov = covered.sum(0)

    masked = np.where(covered, xb, np.nan)
    with warnings.catch_warnings():  # all-NaN columns (no covered day) are expected
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmedian(masked, axis=-2)
        spread = 1.4826 * np.nanmedian(np.abs(masked - level[..., None, :]), axis=-2)
    level = np.nan_to_num(level)
    spread = np.nan_to_num(spread)

    # Same hours on earlier days: the window's share of a day's volume.
    lag_hi = ends[None, :] - DAY * (k + 1)
    tw = (span_sums(tot_cum, lag_hi, window)[0] * inc3).sum(0)          # (K, E)
    prior = PSEUDO_MENTIONS * window / DAY
    share = ((tw * covered).sum(0) + prior) / ((tb * covered).sum(0) + PSEUDO_MENTIONS)

    seasonal = np.zeros(len(ends), dtype=bool)
    weeks = baseline_days // 7
    if weeks and baseline_days >= seasonal_after_days:
        j = np.arange(1, weeks + 1)[:, None]
        wk_hi = ends[None, :] - WEEK * j
        ww = (span_sums(tot_cum, wk_hi, window)[0] * inc3).sum(0)        # (J, E)
        week_cov = covered[:weeks * 7].reshape(weeks, 7, -1).all(1)
        week_tot = (tb[:weeks * 7] * covered[:weeks * 7]).reshape(weeks, 7, -1).sum(1) / 7
        share_w = ((ww * week_cov).sum(0) + prior) / ((week_tot * week_cov).sum(0) + PSEUDO_MENTIONS)
        seasonal = (n_cov >= seasonal_after_days) & (week_cov.sum(0) >= 2)
        share = np.where(seasonal, share_w, share)

    expected = np.maximum(level, floor_per_day) * share
    variance = expected + (spread * share) ** 2
    return Expectation(observed, expected, variance, n_cov, level, seasonal)
