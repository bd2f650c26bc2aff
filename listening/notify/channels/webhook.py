"""A generic JSON webhook, signed: ``X-Listening-Signature: sha256=<hex>``, the HMAC-SHA256 of
``<timestamp>.<body>`` under the channel's key, with ``X-Listening-Timestamp`` (Unix seconds),
so a receiver can reject forged or replayed posts. The body is the alert's public JSON."""

from __future__ import annotations

import hashlib
import hmac
import time

from listening.config import Channel, Config
from listening.errors import ConfigError
from listening.notify.channels import text
from listening.notify.channels.registry import register
from listening.settings import named


def signature(key: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def headers(body: bytes, channel: Channel) -> dict[str, str]:
    key = named(channel.secret_env or "")
    if not key:
        raise ConfigError(f"channel {channel.name}: ${channel.secret_env} is not set (webhooks are signed)")
    now = str(int(time.time()))
    return {"X-Listening-Timestamp": now, "X-Listening-Signature": signature(key, now, body)}


@register("webhook", headers=headers)
def render(alert: dict, config: Config) -> dict:
    return {"event": "alert.opened", "headline": text.headline(alert), "url": text.url(config, alert),
            "alert": alert}
