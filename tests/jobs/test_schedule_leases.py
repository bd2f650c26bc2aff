"""Leases: one holder per job at a time, a slot stays shut after its run, dead holders expire."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest


def test_one_holder_at_a_time_and_the_slot_stays_shut(store):
    now = datetime.now(timezone.utc)
    lease = store.leases.acquire("tick", owner="a", ttl=30, now=now)
    assert lease is not None and lease.previous is None
    assert store.leases.acquire("tick", owner="b", ttl=30, now=now) is None
    store.leases.release(lease, hold_until=now + timedelta(seconds=20))
    assert store.leases.acquire("tick", owner="b", ttl=30, now=now + timedelta(seconds=5)) is None
    taken = store.leases.acquire("tick", owner="b", ttl=30, now=now + timedelta(seconds=21))
    assert taken is not None and taken.previous["owner"] == "a"


@pytest.mark.parametrize("before", ["none", "expired"])
def test_racing_threads_get_one_lease(store, before):
    if before == "expired":  # the takeover path: everyone matches the expired document
        store.leases.acquire("race", owner="dead", ttl=1, now=datetime.now(timezone.utc) - timedelta(minutes=5))
    won: list[str] = []
    barrier = threading.Barrier(8)

    def race(name: str) -> None:
        barrier.wait()
        if store.leases.acquire("race", owner=name, ttl=30):
            won.append(name)

    threads = [threading.Thread(target=race, args=(f"s{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_a_lost_lease_cannot_be_renewed_or_released(store):
    now = datetime.now(timezone.utc)
    old = store.leases.acquire("tick", owner="a", ttl=1, now=now - timedelta(seconds=10))
    new = store.leases.acquire("tick", owner="b", ttl=30)
    assert new is not None
    assert store.leases.renew(old, ttl=30) is False
    store.leases.release(old)
    assert store.leases.acquire("tick", owner="c", ttl=30) is None  # b still holds it
