"""Notify: who hears about what, and the mail that tells them.

``routing`` (the one owner of "who hears": departments, leads, escalation), ``mail``
(alert, escalation and digest e-mails rendered into the outbox), ``outbox`` (sending
with retries; nothing lost while SMTP is down). Never imports the alert engine: alerts
hand over what to say, charts included.
"""

from listening.notify.mail import queue_alert, queue_escalation, send_digests
from listening.notify.outbox import flush

__all__ = ["flush", "queue_alert", "queue_escalation", "send_digests"]
