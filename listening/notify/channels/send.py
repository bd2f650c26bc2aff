"""Queue alert events per channel and post them: the outbox's claim/retry cycle over HTTP.

Posting is at-least-once: a crash after the receiver answered and before the outbox marked
the message sent posts it again once the lease expires. Every post carries the outbox key
as ``Idempotency-Key`` (and the webhook body carries the alert id) so receivers can drop
that rare repeat; the outbox itself never queues an event twice.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

from listening.config import Config
from listening.errors import ConfigError
from listening.notify.channels import registry
from listening.notify.channels import text
from listening.notify.outbox import LEASE, backoff
from listening.settings import named

log = logging.getLogger(__name__)
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
Post = Callable[[str, bytes, dict[str, str]], int]  # url, body, headers -> HTTP status


def queue_alert(store, config: Config, alert: dict) -> int:
    """Queue an alert's first notification on each of its channels once; how many were new.

    ``alert`` is the public JSON form (``listening alerts --json``), explanation included.
    The same severity floor as e-mail: lower alerts wait for the digest.
    """
    if SEVERITY_RANK[alert["severity"]] < SEVERITY_RANK[config.alerts.email_min_severity]:
        return 0
    queued = 0
    for dept, channel in registry.channels_for(alert, config):
        target = f"{dept}/{channel.name}"
        key = f"alert:{alert['id']}:opened:{target}"
        if store.outbox.get(key):
            continue
        body = json.dumps(registry.notifier(channel.kind).render(alert, config), default=str).encode()
        queued += store.outbox.enqueue(key, to=[], subject=text.headline(alert), raw=body,
                                       kind="alert", ref=alert["id"], channel=target)
    return queued


def allowed(url: str) -> bool:
    """https anywhere; plain http only to this machine (a test receiver, a local relay)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a webhook that redirects is misconfigured
        return None


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status; network errors raise OSError."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=20) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _channel(config: Config, target: str):
    dept_name, _, name = target.partition("/")
    dept = next((d for d in config.departments if d.name == dept_name), None)
    return next((c for c in dept.channels if c.name == name), None) if dept else None


def flush(store, config: Config, *, now: datetime | None = None, poster: Post | None = None,
          limit: int = 200) -> dict[str, int]:
    """Post due channel messages; return counts (sent, retry, failed)."""
    now = now or datetime.now(timezone.utc)
    poster = poster or post
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for _ in range(limit):
        msg = store.outbox.claim(now, LEASE, email=False)
        if msg is None:
            break
        body = bytes(msg["raw"])
        channel = _channel(config, msg["channel"])
        try:
            if channel is None:
                raise ConfigError(f"channel {msg['channel']} is no longer configured")
            url = named(channel.url_env)
            if not url:
                raise LookupError(f"${channel.url_env} is not set")
            if not allowed(url):
                raise ConfigError(f"${channel.url_env}: only https (or http to 127.0.0.1) is allowed")
            extra = registry.notifier(channel.kind).headers
            headers = {"Content-Type": "application/json", "Idempotency-Key": msg["_id"],
                       **(extra(body, channel) if extra else {})}
            status = poster(url, body, headers)
        except ConfigError as exc:
            store.outbox.failed(msg["_id"], str(exc)[:500])
            counts["failed"] += 1
            continue
        except (OSError, LookupError) as exc:  # down, or a secret not yet set: try again later
            status, error = None, f"{type(exc).__name__}: {exc}"[:500]
        else:
            error = f"HTTP {status}"
        if status is not None and 200 <= status < 300:
            store.outbox.sent(msg["_id"], now)
            counts["sent"] += 1
        elif (status is None or status == 429 or status >= 500) and msg["attempts"] < config.alerts.max_attempts:
            store.outbox.retry(msg["_id"], error, now + backoff(config, msg["attempts"]))
            counts["retry"] += 1
        else:  # a 4xx will not get better by retrying
            store.outbox.failed(msg["_id"], error)
            counts["failed"] += 1
    return counts
