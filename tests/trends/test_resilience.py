"""Pacing, backoff with jitter, Retry-After and the circuit breaker, on a fake clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from listening.trends.resilience import Breaker, BreakerOpen, Gate, RateLimited, ServerError, retry_after_seconds
from tests.support.clock import FakeClock


def _gate(clock, **options):
    return Gate(Breaker(threshold=options.pop("threshold", 3), cooldown=options.pop("cooldown", 600)),
                clock=clock, sleep=clock.sleep, rng=random.Random(1), **options)


def _failing(errors):
    """A request that raises the given errors in turn, then answers "ok"."""
    errors = list(errors)

    def call():
        if errors:
            raise errors.pop(0)
        return "ok"
    return call


def test_backoff_is_exponential_with_jitter_and_honours_retry_after():
    clock = FakeClock()
    gate = _gate(clock, pacing=0, backoff=10, max_retries=5, threshold=10)
    assert gate.call(_failing([RateLimited("429"), RateLimited("429"), RateLimited("429", retry_after=300)])) == "ok"
    first, second, third = clock.slept
    assert 5 <= first <= 10 and 10 <= second <= 20 and third >= 300
    assert gate.requests == 4 and gate.retries == 3 and gate.rate_limited == 3


def test_server_errors_are_retried_then_given_up():
    clock = FakeClock()
    gate = _gate(clock, pacing=0, backoff=1, max_retries=2)
    with pytest.raises(ServerError):
        gate.call(_failing([ServerError("502")] * 5))
    assert gate.requests == 3


def test_pacing_spaces_requests():
    clock = FakeClock()
    gate = _gate(clock, pacing=5)
    for _ in range(3):
        gate.call(lambda: "ok")
    assert clock.slept == [5, 5]


def test_breaker_opens_after_repeated_429s_and_half_opens_after_cooldown():
    clock = FakeClock()
    changes = []
    gate = _gate(clock, pacing=0, backoff=1, max_retries=10, threshold=3, cooldown=600,
                 on_change=lambda b: changes.append(b.state))
    with pytest.raises(BreakerOpen):
        gate.call(_failing([RateLimited("429")] * 10))
    assert gate.requests == 3 and gate.breaker.state == "open" and changes[-1] == "open"
    with pytest.raises(BreakerOpen):  # no request while open
        gate.call(lambda: "ok")
    assert gate.requests == 3
    clock.now += timedelta(seconds=601)
    with pytest.raises(BreakerOpen):  # half-open: one trial, a 429 opens it again
        gate.call(_failing([RateLimited("429")]))
    assert gate.requests == 4 and gate.breaker.trips == 2
    clock.now += timedelta(seconds=601)
    assert gate.call(lambda: "ok") == "ok" and gate.breaker.state == "closed"


def test_breaker_state_round_trips_through_a_document():
    breaker = Breaker(threshold=2, cooldown=60)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    breaker.rate_limited(now)
    assert breaker.rate_limited(now, retry_after=120)  # Retry-After longer than the cooldown wins
    again = Breaker.from_doc(breaker.to_doc(), threshold=2, cooldown=60)
    assert again.state == "open" and again.open_until == now + timedelta(seconds=120)


def test_retry_after_header_forms():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert retry_after_seconds("30", now) == 30
    assert retry_after_seconds("Thu, 01 Jan 2026 00:02:00 GMT", now) == 120
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
