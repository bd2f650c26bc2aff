"""Being gentle with Google: pacing, retries with backoff, and a circuit breaker.

Google Trends answers 429 early and for long. Hammering it makes the block longer, so
every request waits its turn (pacing), a 429 or 5xx is retried with exponential
backoff plus jitter (``Retry-After`` wins when given), and after a few 429s in a row
the breaker opens: no request at all until the cooldown has passed, then one trial.
Time is injected (``clock``, ``sleep``) so tests never really wait.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

from listening.errors import BreakerOpen, RateLimited, ServerError, TrendsError  # noqa: F401 - re-exported

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Parse a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass
class Breaker:
    """Closed -> open after ``threshold`` 429s in a row -> half-open after ``cooldown``."""

    threshold: int = 3
    cooldown: float = 3600.0
    state: str = "closed"
    consecutive_429: int = 0
    opened_at: datetime | None = None
    open_until: datetime | None = None
    trips: int = 0

    def check(self, now: datetime) -> None:
        """Raise BreakerOpen unless a request may go out now."""
        if self.state == "open":
            if self.open_until and now >= self.open_until:
                self.state = "half-open"
            else:
                raise BreakerOpen(self.open_until or now)

    def success(self) -> None:
        self.state, self.consecutive_429 = "closed", 0
        self.opened_at = self.open_until = None

    def rate_limited(self, now: datetime, retry_after: float | None = None) -> bool:
        """Count a 429; True when this one opened the breaker."""
        self.consecutive_429 += 1
        if self.state == "half-open" or self.consecutive_429 >= self.threshold:
            wait = max(self.cooldown, retry_after or 0.0)
            self.state, self.opened_at = "open", now
            self.open_until = now + timedelta(seconds=wait)
            self.trips += 1
            return True
        return False

    def to_doc(self) -> dict:
        return {"state": self.state, "consecutive_429": self.consecutive_429,
                "opened_at": self.opened_at, "open_until": self.open_until, "trips": self.trips,
                "threshold": self.threshold, "cooldown": self.cooldown}

    @classmethod
    def from_doc(cls, doc: dict | None, *, threshold: int, cooldown: float) -> "Breaker":
        breaker = cls(threshold=threshold, cooldown=cooldown)
        if doc:
            for key in ("state", "consecutive_429", "opened_at", "open_until", "trips"):
                if doc.get(key) is not None:
                    setattr(breaker, key, doc[key])
            for key in ("opened_at", "open_until"):
                value = getattr(breaker, key)
                if value is not None and value.tzinfo is None:
                    setattr(breaker, key, value.replace(tzinfo=timezone.utc))
        return breaker


@dataclass
class Gate:
    """Every outgoing request passes here: breaker, pacing, retries with backoff.

    ``call(fn)`` runs ``fn`` (one HTTP request) and returns its result, retrying on
    RateLimited/ServerError. ``requests`` counts what really went out.
    """

    breaker: Breaker = field(default_factory=Breaker)
    pacing: float = 5.0
    max_retries: int = 4
    backoff: float = 10.0
    max_backoff: float = 600.0
    clock: Clock = utcnow
    sleep: Sleep = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    on_change: Callable[[Breaker], None] | None = None
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    slept: float = 0.0
    _last: datetime | None = None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds
            self.sleep(seconds)

    def _pace(self) -> None:
        if self._last is not None and self.pacing > 0:
            elapsed = (self.clock() - self._last).total_seconds()
            self._wait(self.pacing - elapsed)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; Retry-After is a floor."""
        ceiling = min(self.max_backoff, self.backoff * 2 ** attempt)
        jittered = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        return max(jittered, retry_after or 0.0)

    def call(self, fn: Callable[[], object]) -> object:
        attempt = 0
        while True:
            self.breaker.check(self.clock())
            self._pace()
            self.requests += 1
            try:
                result = fn()
            except RateLimited as exc:
                self._last = self.clock()
                self.rate_limited += 1
                opened = self.breaker.rate_limited(self.clock(), exc.retry_after)
                self._changed()
                if opened:
                    raise BreakerOpen(self.breaker.open_until) from exc
                if attempt >= self.max_retries:
                    raise
                self._wait(self.delay(attempt, exc.retry_after))
            except ServerError:
                self._last = self.clock()
                if attempt >= self.max_retries:
                    raise
                self._wait(self.delay(attempt, None))
            else:
                self._last = self.clock()
                if self.breaker.state != "closed" or self.breaker.consecutive_429:
                    self.breaker.success()
                    self._changed()
                return result
            attempt += 1
            self.retries += 1

    def _changed(self) -> None:
        if self.on_change:
            self.on_change(self.breaker)
