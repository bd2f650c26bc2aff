"""Channels beside e-mail: Slack, Microsoft Teams and a signed JSON webhook, each a small
registered notifier, routed per department (``departments[].channels`` in listening.yaml).

Why through the outbox: a chat webhook that is down must delay an alert, not lose it. Each
alert event is queued once per channel under an idempotency key
(``alert:<id>:opened:<department>/<channel>``), claimed atomically, posted, and retried with
the e-mail's backoff on a 5xx, 429 or network error; restarts in between lose nothing. The
outbox stores the JSON body, never the URL: URLs and signing keys are read from the
environment at send time (``listening.settings.named``).

    queue_alert(store, config, alert_json)   # alerts hand over their public JSON form
    flush(store, config)                     # post what is due (the outbox job calls it)

A notifier is ``render(alert, config) -> dict`` (the JSON body) plus optional ``headers``::

    @register("mychat")
    def render(alert, config): return {"text": ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from listening.config import Channel, Config
from listening.errors import ConfigError
from listening.notify import routing


@dataclass(frozen=True)
class Notifier:
    kind: str
    render: Callable[[dict, Config], dict]
    headers: Callable[[bytes, Channel], dict[str, str]] | None = None


NOTIFIERS: dict[str, Notifier] = {}


def register(kind: str, headers: Callable[[bytes, Channel], dict[str, str]] | None = None):
    """Decorator: make ``render`` the notifier of ``channels[].kind == kind``."""
    def add(render: Callable[[dict, Config], dict]) -> Callable[[dict, Config], dict]:
        NOTIFIERS[kind] = Notifier(kind, render, headers)
        return render
    return add


def notifier(kind: str) -> Notifier:
    try:
        return NOTIFIERS[kind]
    except KeyError:
        raise ConfigError(f"channels: unknown kind {kind!r} (known: {sorted(NOTIFIERS)})") from None


def channels_for(alert: dict, config: Config) -> list[tuple[str, Channel]]:
    """(department, channel) pairs that hear about an alert: its department's; brand-level
    alerts with no department of their own go to the care department's."""
    dept = routing.department(config, alert.get("department"))
    if dept is None and alert.get("issue") is None:
        dept = routing.care_department(config)
    return [(dept.name, c) for c in dept.channels] if dept else []


from listening.notify.channels import slack, teams, webhook  # noqa: E402,F401  (they register)
from listening.notify.channels.send import flush, queue_alert  # noqa: E402

__all__ = ["NOTIFIERS", "Notifier", "channels_for", "flush", "notifier", "queue_alert", "register"]
