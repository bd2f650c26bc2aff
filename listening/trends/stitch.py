"""Any number of terms on one scale: batches of four plus a shared anchor.

Google scales every request on its own (its largest value becomes 100) and rounds to
integers, so values from two requests cannot be compared. The first batch holds five
terms (configured anchor candidates first) and is the reference scale. One of its
terms, never 0 in any bucket, becomes the anchor, and every later request carries it
beside four new terms. Answers whose window moved (a cached batch beside a fresh one)
are compared on the buckets they share. Because Google divides a whole request by
one constant, one factor per batch maps it onto the reference scale:
``k = sum(anchor in batch 0) / sum(anchor in batch b)``, estimated over every bucket
at once.

Error bands: each published value is the true one rounded, so the truth lies within
+-0.5 of it. That bound goes through the factor (sums +-0.5 per bucket) by interval
arithmetic, so every stitched point carries ``lo <= true <= hi``, guaranteed for
rounding. Repeated pulls are averaged and add two standard errors for sampling noise.
When a later batch dwarfs the anchor (the anchor hits 0), the batch is asked again
with the largest term already on the scale as the anchor (a chain); the bands say
how much precision was left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from listening.trends.frames import MAX_ITEMS, Backend, Item, TrendsFrame, TrendsRequest
from listening.trends.resilience import TrendsError


@dataclass
class Batch:
    """One stitched request (or its repeats) and its factor onto the reference scale."""

    index: int
    items: list[Item]
    anchor: Item | None
    scale: float = 1.0
    scale_lo: float = 1.0
    scale_hi: float = 1.0
    requests: int = 0
    chained: bool = False
    weak: bool = False
    key: str = ""  # the cache key of its request: a stable batch id
    fetched_at: datetime | None = None


@dataclass
class Stitched:
    """Every item on the reference scale (batch 0's 0-100), with bands, per bucket."""

    items: list[Item]
    dates: list[datetime]
    partial: list[bool]
    resolution: str
    value: np.ndarray  # (items, buckets)
    lo: np.ndarray
    hi: np.ndarray
    raw: np.ndarray  # the mean raw 0-100 value in the item's own batch
    batch_of: list[int]
    batches: list[Batch] = field(default_factory=list)
    anchor: Item | None = None
    requests: int = 0

    def row(self, item: Item) -> int:
        return self.items.index(item)


def _mean_frames(frames: list[TrendsFrame]) -> tuple[np.ndarray, np.ndarray, TrendsFrame]:
    """Average repeated pulls on the buckets they all have (a cached pull's window may have
    moved since the others were asked): mean raw values and their standard error."""
    dates = [d for d in frames[0].dates if all(d in f.dates for f in frames[1:])]
    if not dates:
        raise TrendsError("the repeated pulls share no bucket")
    if any(f.dates != dates for f in frames):
        frames = [_only(f, dates) for f in frames]
    stack = np.array([f.values for f in frames], dtype=float)
    mean = stack.mean(axis=0)
    sem = stack.std(axis=0, ddof=1) / math.sqrt(len(frames)) if len(frames) > 1 else np.zeros_like(mean)
    return mean, sem, frames[0]


def _only(frame: TrendsFrame, dates: list[datetime]) -> TrendsFrame:
    """``frame`` cut down to the buckets ``dates``."""
    cols = [frame.dates.index(d) for d in dates]
    return replace(frame, dates=list(dates), partial=[frame.partial[c] for c in cols],
                   values=[[row[c] for c in cols] for row in frame.values],
                   has_data=[[row[c] for c in cols] for row in frame.has_data])


class Stitcher:
    """Fetch and stitch the items through one backend."""

    def __init__(self, backend: Backend, *, timeframe: str, category: int = 0, gprop: str = "",
                 repeats: int = 1, anchor_candidates: list[str] | None = None, on_request=None):
        self.backend = backend
        self.options = {"timeframe": timeframe, "category": category, "gprop": gprop}
        self.repeats = max(1, repeats)
        self.anchor_candidates = list(anchor_candidates or [])
        self.on_request = on_request  # called after each batch, for progress

    def _pull(self, items: list[Item], batch: Batch) -> tuple[np.ndarray, np.ndarray, TrendsFrame]:
        frames = []
        for r in range(self.repeats):
            request = TrendsRequest(tuple(items), repeat=r, **self.options)
            frames.append(self.backend.interest_over_time(request))
            batch.requests += 1
            if not frames[-1].dates:
                raise TrendsError(f"Google has no data for {', '.join(request.keywords)} ({request.timeframe})")
        batch.key = TrendsRequest(tuple(items), **self.options).key("interest")
        times = [f.fetched_at for f in frames if f.fetched_at]
        batch.fetched_at = max(times) if times else None
        if self.on_request:
            self.on_request(batch)
        return _mean_frames(frames)

    def plan_size(self, n: int) -> int:
        """Requests needed for n items when no chain is needed (times repeats)."""
        return planned_requests(n, len(self.anchor_candidates)) * self.repeats

    def run(self, items: list[Item]) -> Stitched:
        items = list(dict.fromkeys(items))
        if not items:
            raise ValueError("nothing to stitch")
        geo = items[0][1]
        candidates = [(c, geo) for c in self.anchor_candidates if (c, geo) not in items][:MAX_ITEMS - 1]
        first = candidates + items[:MAX_ITEMS - len(candidates)]
        rest = [i for i in items if i not in first]

        batch0 = Batch(0, list(first), None)
        mean0, sem0, frame0 = self._pull(first, batch0)
        self.dates, self.partial = list(frame0.dates), list(frame0.partial)
        known: dict[Item, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]] = {}
        lo0, hi0 = _bounds(mean0, sem0)
        for j, item in enumerate(first):
            known[item] = (mean0[j], mean0[j], lo0[j], hi0[j], 0)
        batches = [batch0]
        anchor = _best_anchor(first, mean0, prefer=candidates)
        batch0.anchor = anchor

        for start in range(0, len(rest), MAX_ITEMS - 1):
            chunk = rest[start:start + MAX_ITEMS - 1]
            batch = Batch(len(batches), chunk, anchor)
            self._stitch_batch(batch, anchor, known)
            if batch.weak:  # the anchor hit 0: chain through the largest term on the scale
                bigger = max(known, key=lambda i: _floor(known[i][0]))
                if bigger != anchor and _floor(known[bigger][0]) > _floor(known[anchor][0]):
                    retry = Batch(batch.index, chunk, bigger, requests=batch.requests, chained=True,
                                  weak=True)
                    self._stitch_batch(retry, bigger, known)
                    batch = retry
            batches.append(batch)

        value = np.array([known[i][0] for i in items])
        return Stitched(items, list(self.dates), self.partial, frame0.resolution, value,
                        np.array([known[i][2] for i in items]), np.array([known[i][3] for i in items]),
                        np.array([known[i][1] for i in items]), [known[i][4] for i in items],
                        batches, anchor, sum(b.requests for b in batches))

    def _align(self, frame: TrendsFrame, mean: np.ndarray, sem: np.ndarray, known: dict):
        """Keep the buckets every answer has (a window that moved between two pulls, or
        a cached batch beside a fresh one): the factor is then estimated on the same weeks."""
        where = {d: t for t, d in enumerate(frame.dates)}
        keep = [t for t, d in enumerate(self.dates) if d in where]
        if len(keep) < len(self.dates):
            for item, (value, raw, lo, hi, b) in known.items():
                known[item] = (value[keep], raw[keep], lo[keep], hi[keep], b)
            self.dates = [self.dates[t] for t in keep]
            self.partial = [self.partial[t] for t in keep]
        if not self.dates:
            raise TrendsError("two answers of one category share no bucket")
        cols = [where[d] for d in self.dates]
        self.partial = [p or bool(frame.partial[c]) for p, c in zip(self.partial, cols)]
        return mean[:, cols], sem[:, cols]

    def _stitch_batch(self, batch: Batch, anchor: Item, known: dict) -> None:
        members = [anchor, *batch.items]
        mean, sem, frame = self._pull(members, batch)
        mean, sem = self._align(frame, mean, sem, known)
        ref_value, _, ref_lo, ref_hi, _ = known[anchor]
        a_mean, a_sem = mean[0], sem[0]
        a_lo, a_hi = _bounds(a_mean, a_sem)
        batch.weak = bool(a_mean.min() <= 0)
        # One factor per batch: Google divides the whole request by one constant.
        batch.scale = float(ref_value.sum() / a_mean.sum()) if a_mean.sum() > 0 else math.inf
        batch.scale_lo = float(ref_lo.sum() / a_hi.sum()) if a_hi.sum() > 0 else 0.0
        batch.scale_hi = float(ref_hi.sum() / a_lo.sum()) if a_lo.sum() > 0 else math.inf
        lo, hi = _bounds(mean, sem)
        for j, item in enumerate(batch.items, start=1):
            value = mean[j] * batch.scale if math.isfinite(batch.scale) else np.full_like(mean[j], np.nan)
            known[item] = (value, mean[j], lo[j] * batch.scale_lo, hi[j] * batch.scale_hi, batch.index)


def planned_requests(n: int, candidates: int = 0) -> int:
    """The first request holds the anchor candidates and the first brands (5 terms in
    all), every later one the anchor and 4 new brands: ceil((N-1)/4) without candidates."""
    candidates = min(candidates, MAX_ITEMS - 1)
    first = MAX_ITEMS - candidates
    return 1 if n <= first else 1 + math.ceil((n - first) / (MAX_ITEMS - 1))


def _bounds(mean: np.ndarray, sem: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the true value lies: +-0.5 rounding, plus 2 standard errors of the repeats."""
    return np.maximum(mean - 0.5 - 2 * sem, 0.0), mean + 0.5 + 2 * sem


def _floor(values: np.ndarray) -> float:
    """The smallest value of a series (-1 when unknown): how safe it is as an anchor."""
    low = float(np.min(values))
    return low if math.isfinite(low) else -1.0


def _best_anchor(items: list[Item], mean: np.ndarray, prefer: list[Item] = ()) -> Item:
    """The term measured most precisely everywhere: the largest minimum (never 0 if any).

    Configured candidates come first when one of them is never 0."""
    mins = mean.min(axis=1)
    sums = mean.sum(axis=1)
    pool = [j for j, item in enumerate(items) if item in prefer and mins[j] > 0] or range(len(items))
    best = max(pool, key=lambda j: (mins[j], sums[j]))
    return items[best]
