"""A simulated Google Trends for tests and the bench: known true volumes, Google's maths.

Each request is scaled so its largest value is 100 and rounded to integers, exactly
as Google publishes it; optional multiplicative noise stands in for Google's sampling.
It exists to measure the stitching against the truth. It is never a source of data
for the store: the collector only uses real backends.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from listening.trends.frames import MAX_ITEMS, Backend, Item, RegionValue, RelatedQuery, TrendsFrame, TrendsRequest


class SimulatedBackend:
    """Same interface as the real backends, over ``truth[item] -> volumes per bucket``."""

    name = "simulated"

    def __init__(self, truth: dict[Item, np.ndarray], *, noise: float = 0.0, seed: int = 0,
                 start: datetime | None = None, step: timedelta = timedelta(days=7),
                 partial_last: bool = False):
        self.truth = {item: np.asarray(v, dtype=float) for item, v in truth.items()}
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        length = len(next(iter(self.truth.values())))
        start = start or datetime(2024, 1, 7, tzinfo=timezone.utc)
        self.dates = [start + i * step for i in range(length)]
        self.partial_last = partial_last
        self.requests = 0

    def interest_over_time(self, request: TrendsRequest) -> TrendsFrame:
        self.requests += 1
        true = np.array([self.truth[item] for item in request.items])
        if self.noise:
            true = true * self.rng.lognormal(0.0, self.noise, size=true.shape)
        peak = true.max() if true.size else 0.0
        scaled = np.floor(true * 100.0 / peak + 0.5) if peak > 0 else np.zeros_like(true)
        partial = [False] * len(self.dates)
        if self.partial_last:
            partial[-1] = True
        return TrendsFrame(request.items, list(self.dates), scaled.astype(int).tolist(), partial,
                     "WEEK", [[True] * len(self.dates) for _ in request.items], self.name)

    def related_queries(self, request: TrendsRequest) -> list[RelatedQuery]:
        return []

    def interest_by_region(self, request: TrendsRequest, resolution: str = "COUNTRY") -> list[RegionValue]:
        return []


def naive_chunks(backend: Backend, items: list[Item], **options) -> np.ndarray:
    """What not to do: independent requests of five, read as if on one scale (bench)."""
    rows: dict[Item, np.ndarray] = {}
    for start in range(0, len(items), MAX_ITEMS):
        chunk = items[start:start + MAX_ITEMS]
        frame = backend.interest_over_time(TrendsRequest(tuple(chunk), **options))
        for j, item in enumerate(chunk):
            rows[item] = np.array(frame.values[j], dtype=float)
    return np.array([rows[i] for i in items])
