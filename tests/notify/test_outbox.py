"""The outbox: idempotent queueing, atomic claims, backoff, permanent failures, crashes."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta, timezone

from listening.config import parse_config
from listening.notify.outbox import LEASE, backoff, flush

UTC = timezone.utc
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


class FakeSMTP:
    """The injectable seam: records what it sends, or fails as told."""

    def __init__(self, fail: Exception | None = None):
        self.fail, self.sent = fail, []

    def __call__(self):
        if isinstance(self.fail, OSError):
            raise self.fail
        return self

    def sendmail(self, sender, to, raw):
        if self.fail:
            raise self.fail
        self.sent.append((sender, list(to), raw))

    def quit(self):
        pass


def config(demo_config, **alerts):
    raw = demo_config.model_dump(exclude_none=True)
    raw["alerts"] = {"backoff_seconds": 10, "max_attempts": 3, **alerts}
    return parse_config(raw)


def queue(store, key="alert:1:opened"):
    return store.outbox.enqueue(key, to=["a@example.com"], subject="s", raw=b"Subject: s\r\n\r\nbody\r\n",
                                kind="alert", now=NOW)


def test_same_key_is_queued_once(store):
    assert queue(store) and not queue(store)
    assert store.outbox.counts() == {"pending": 1}


def test_a_claimed_message_is_not_claimed_again_until_its_lease_expires(store):
    queue(store)
    assert store.outbox.claim(NOW, LEASE)["attempts"] == 1
    assert store.outbox.claim(NOW + timedelta(minutes=1), LEASE) is None        # another flusher
    again = store.outbox.claim(NOW + LEASE + timedelta(seconds=1), LEASE)       # the first one died
    assert again["_id"] == "alert:1:opened" and again["attempts"] == 2


def test_outage_backs_off_doubling_then_fails_after_max_attempts(store, demo_config):
    cfg = config(demo_config)
    queue(store)
    queue(store, "alert:2:opened")
    down = FakeSMTP(ConnectionRefusedError("down"))
    assert flush(store, cfg, down, now=NOW) == {"sent": 0, "retry": 1, "failed": 0}
    first = store.outbox.collection.find_one({"attempts": 1})
    assert first["next_attempt_at"] == NOW + timedelta(seconds=10) and "down" in first["last_error"]
    assert store.outbox.get("alert:2:opened")["attempts"] + first["attempts"] == 1  # the other untouched
    assert backoff(cfg, 2) == timedelta(seconds=20) and backoff(cfg, 30) == timedelta(hours=1)
    for step in range(1, 8):
        flush(store, cfg, down, now=NOW + timedelta(hours=step))
    assert store.outbox.counts() == {"failed": 2}


def test_permanent_refusal_fails_at_once_and_the_rest_still_go(store, demo_config):
    cfg = config(demo_config)
    queue(store)
    queue(store, "alert:2:opened")
    refused = FakeSMTP(smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")}))
    counts = flush(store, cfg, refused, now=NOW)
    assert counts == {"sent": 0, "retry": 0, "failed": 2}


def test_flush_sends_each_message_once(store, demo_config):
    cfg = config(demo_config)
    for i in range(3):
        queue(store, f"alert:{i}:opened")
    smtp = FakeSMTP()
    assert flush(store, cfg, smtp, now=NOW)["sent"] == 3
    assert flush(store, cfg, smtp, now=NOW + timedelta(days=1))["sent"] == 0
    assert len(smtp.sent) == 3 and all(raw.endswith(b"\r\n") for _, _, raw in smtp.sent)
    assert store.runs.recent("outbox", limit=1)[0]["counts"]["sent"] == 0
