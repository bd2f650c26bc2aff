"""An hourly window of the rollups as numpy arrays, loaded with one query.

Every rule reads the same ``Frame``: per (brand, issue, label) and per source, one
count per hour. ``label`` is ``"all"`` or ``"negative"``; issue ``"*"`` is the brand's
whole volume. Hours inside a collection gap (a pause between collection runs longer
than ``alerts.max_run_gap_hours``) are marked, so the baseline can skip them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

HOUR = timedelta(hours=1)
ALL = "*"


def floor_hour(t: datetime) -> datetime:
    """``t`` in UTC, cut to the start of its hour (naive times are read as UTC)."""
    t = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
    return t.replace(minute=0, second=0, microsecond=0)


@dataclass
class Frame:
    """Counts for hours ``[start, start + hours)``."""

    start: datetime
    hours: int
    data: dict[tuple[str, str, str], dict[str, np.ndarray]] = field(default_factory=dict)
    gaps: np.ndarray | None = None       # bool per hour: inside a collection gap
    resumed: np.ndarray | None = None    # bool per hour: the first hour after a gap

    def __post_init__(self) -> None:
        if self.gaps is None:
            self.gaps = np.zeros(self.hours, dtype=bool)
        if self.resumed is None:
            self.resumed = np.zeros(self.hours, dtype=bool)

    @classmethod
    def load(cls, store, since: datetime, until: datetime, *, brands: list[str] | None = None,
             collection_jobs: list[str] | tuple = (), max_gap_hours: float = 6.0,
             cached: bool = False) -> "Frame":
        """Read ``[since, until)`` and the collection runs of that span.

        ``cached``: through ``store.series_cache`` (refreshed first), a few thousand week
        documents instead of every hourly cell; ``evaluate`` uses it, a one-off backtest
        reads the cells.
        """
        since, until = floor_hour(since), floor_hour(until)
        frame = cls(since, max(int((until - since) / HOUR), 1))
        data: dict = defaultdict(dict)

        def add(key, source, i, count):
            row = data[key].get(source)
            if row is None:
                row = data[key][source] = np.zeros(frame.hours)
            row[i] += count

        if cached:
            store.series_cache.refresh(since, until)
            for brand, issue, kind, source, hour, count in store.series_cache.read(since, until, brands=brands):
                add((brand, issue, kind), source, frame.index(hour), count)
        else:
            for brand, issue, label, source, hour, count in store.series.cells(since, until, brands=brands):
                i = frame.index(hour)
                if label == "negative":
                    add((brand, issue, "negative"), source, i, count)
                if issue == ALL:
                    add((brand, ALL, "all"), source, i, count)
        frame.data = dict(data)
        if collection_jobs:
            runs = store.series.collection_runs(since - timedelta(days=7), until, list(collection_jobs))
            frame.mark_gaps(runs, max_gap_hours)
        return frame

    def mark_gaps(self, runs: list[dict], max_gap_hours: float) -> None:
        """Hours between consecutive runs further apart than ``max_gap_hours``."""
        limit = timedelta(hours=max_gap_hours)
        for before, after in zip(runs, runs[1:]):
            end = before.get("finished_at") or before["started_at"]
            if after["started_at"] - end > limit:
                lo, hi = self.index(end) + 1, self.index(after["started_at"])
                self.gaps[max(lo, 0):max(min(hi + 1, self.hours), 0)] = True
                if 0 <= hi < self.hours:
                    self.resumed[hi] = True

    def index(self, t: datetime) -> int:
        return int((floor_hour(t) - self.start) / HOUR)

    def time(self, i: int) -> datetime:
        return self.start + int(i) * HOUR

    def brands(self) -> list[str]:
        return sorted({brand for brand, _, _ in self.data})

    def issues(self, brand: str) -> list[str]:
        """Issues with negative mentions of ``brand`` in the frame."""
        return sorted(i for b, i, label in self.data if b == brand and i != ALL and label == "negative")

    def sources(self, brand: str) -> list[str]:
        return sorted(self.data.get((brand, ALL, "all"), {}))

    def stack(self, brand: str, issue: str, label: str) -> np.ndarray:
        """Counts as (source, hour), sources in ``sources(brand)`` order."""
        rows = self.data.get((brand, issue, label), {})
        out = np.zeros((len(self.sources(brand)) or 1, self.hours))
        for s, source in enumerate(self.sources(brand)):
            if source in rows:
                out[s] = rows[source]
        return out
