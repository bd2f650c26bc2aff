"""A clock whose ``sleep`` only moves time forward: backoff and pacing tested without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class FakeClock:
    """A clock whose ``sleep`` only moves time forward ."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
