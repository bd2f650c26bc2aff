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

from listening.notify.channels import slack, teams, webhook  # noqa: F401  (they register)
from listening.notify.channels.registry import NOTIFIERS, Notifier, channels_for, notifier, register
from listening.notify.channels.send import flush, queue_alert

__all__ = ["NOTIFIERS", "Notifier", "channels_for", "flush", "notifier", "queue_alert", "register"]
