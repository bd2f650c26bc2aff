"""The coverage guard: a jump caused by collection starting or resuming is not a spike.

Three signs, all per brand, all read from the same rollups and runs as the rules:

- **no history**: fewer than ``min_history_days`` covered baseline days;
- **collection jump**: the brand's *whole* volume (every issue, every sentiment) is
  ``alerts.coverage_jump`` times its usual level, over the window or in one bucket.
  Complaints rise by a factor; collection starting multiplies everything. The guard
  then holds for ``min_history_days``, until the new level has become the history;
- **resumed**: the first day after a gap between collection runs (back-filled items).

Young sources are handled before that, by ``source_inclusion``: a source that appeared
for a brand after its others counts only once it has been there for half the baseline
(and at least ``min_history_days``), so a new feed never looks like a spike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from listening.alerts.baseline import DAY, cumulative, expect


@dataclass
class Guard:
    """Per evaluated end: why the brand's windows cannot be trusted, or ''."""

    reason: np.ndarray     # object array of str
    jump: np.ndarray       # the brand's whole-volume ratio to usual

    def at(self, j: int) -> str:
        return self.reason[j]


def source_inclusion(tot: np.ndarray, ends: np.ndarray, window: int,
                     min_history_days: int) -> np.ndarray:
    """(S, E) bool: which sources count for the windows ending at ``ends``."""
    has = tot > 0
    first = np.where(has.any(1), has.argmax(1), tot.shape[1])            # (S,)
    brand_first = first.min() if len(first) else 0
    start = ends[None, :] - window                                        # (1, E)
    age = start - first[:, None]
    needed = np.maximum(min_history_days * DAY, (start - brand_first) / 2)
    return (first[:, None] <= brand_first + DAY) | (age >= needed)


def first_hour(tot: np.ndarray) -> int:
    """The first hour with any mention of the brand (0 when it has none)."""
    any_source = tot.sum(0) > 0
    return int(any_source.argmax()) if any_source.any() else 0


def guard(tot: np.ndarray, gaps: np.ndarray, resumed: np.ndarray, ends: np.ndarray, *,
          window: int, baseline_days: int, min_history_days: int, coverage_jump: float,
          seasonal_after_days: int) -> Guard:
    """The guard for one brand's windows ending at ``ends``."""
    hold = min_history_days * DAY
    lo = max(int(ends.min()) - hold, 1)
    ext = np.arange(lo, int(ends.max()) + 1)
    inc = source_inclusion(tot, ext, window, min_history_days)
    tot_cum, gap_cum = cumulative(tot), cumulative(gaps[None, :].astype(float))
    common = dict(baseline_days=baseline_days, floor_per_day=1.0,
                  seasonal_after_days=seasonal_after_days, first=first_hour(tot),
                  level_shift=coverage_jump)
    wide = expect(tot_cum, tot_cum, inc, gap_cum, ext, window=window, **common)
    hourly = expect(tot_cum, tot_cum, inc, gap_cum, ext, window=1, **common)
    jump = np.maximum((wide.observed + 1) / (wide.expected + 1),
                      (hourly.observed + 1) / (hourly.expected + 1))
    tripped = (jump >= coverage_jump) & (wide.covered_days >= min_history_days)
    res_cum = np.concatenate([[0], np.cumsum(resumed)])
    trip_cum = np.concatenate([[0], np.cumsum(tripped)])
    pos = ends - lo                                   # position of each end in ext
    recent_trip = trip_cum[pos + 1] - trip_cum[np.clip(pos + 1 - hold, 0, None)] > 0
    recent_resume = res_cum[np.clip(ends, 0, len(resumed))] - res_cum[np.clip(ends - DAY, 0, None)] > 0
    reason = np.full(len(ends), "", dtype=object)
    reason[recent_resume] = "collection resumed after a gap"
    reason[recent_trip] = "collection jump: the brand's whole volume rose at once"
    reason[wide.covered_days[pos] < min_history_days] = "no history for this brand yet"
    return Guard(reason, jump[pos])
