"""The outbox flusher: send queued e-mails with retries and backoff.

An SMTP outage delays mail and loses none: the message being tried goes back to
``pending`` with a doubled delay, the others wait untouched, and the next flush tries
again. A message is claimed atomically before it is sent, so two flushers never
send the same one. Server settings: ``SMTP_HOST``/``SMTP_PORT``/``SMTP_STARTTLS``
override the config; credentials come only from ``SMTP_USER``/``SMTP_PASSWORD``.

    flush(store, config)                      # the scheduler calls this every minute or so
    flush(store, config, smtp_factory=...)    # tests inject a connection factory
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime, timedelta, timezone
from typing import Callable

from listening.config import Config
from listening.settings import settings

LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


def smtp_settings(config: Config) -> dict:
    """Host, port and STARTTLS from the environment over the config; credentials from env only."""
    env = settings()
    return {"host": env.smtp_host or config.smtp.host,
            "port": env.smtp_port or config.smtp.port,
            "starttls": config.smtp.starttls if env.smtp_starttls is None else env.smtp_starttls,
            "user": env.smtp_user, "password": env.smtp_password,
            "sender": env.smtp_sender or config.smtp.sender}


def default_factory(config: Config) -> Callable[[], smtplib.SMTP]:
    def connect() -> smtplib.SMTP:
        s = smtp_settings(config)
        conn = smtplib.SMTP(s["host"], s["port"], timeout=20)
        if s["starttls"]:
            conn.starttls(context=ssl.create_default_context())
        if s["user"]:
            conn.login(s["user"], s["password"] or "")
        return conn
    return connect


def backoff(config: Config, attempts: int) -> timedelta:
    """``backoff_seconds`` doubled per failed attempt, capped at an hour."""
    return min(timedelta(seconds=config.alerts.backoff_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _permanent(exc: Exception) -> bool:
    """A 5xx refusal will not get better by retrying; 4xx and network errors may."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500 and not isinstance(exc, smtplib.SMTPServerDisconnected)


def flush(store, config: Config, smtp_factory: Callable[[], smtplib.SMTP] | None = None, *,
          now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send due messages; return counts (sent, retry, failed)."""
    now = now or datetime.now(timezone.utc)
    factory = smtp_factory or default_factory(config)
    sender = smtp_settings(config)["sender"]
    counts = {"sent": 0, "retry": 0, "failed": 0}
    run_id = store.runs.start("outbox", at=now)
    conn = None
    try:
        for _ in range(limit):
            msg = store.outbox.claim(now, LEASE)
            if msg is None:
                break
            try:
                if conn is None:
                    conn = factory()
                conn.sendmail(sender, msg["to"], bytes(msg["raw"]))
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                if _permanent(exc) or msg["attempts"] >= config.alerts.max_attempts:
                    store.outbox.failed(msg["_id"], error)
                    counts["failed"] += 1
                else:
                    store.outbox.retry(msg["_id"], error, now + backoff(config, msg["attempts"]))
                    counts["retry"] += 1
                if not _permanent(exc):
                    break  # the server is down or unwell: the rest wait for the next flush
                continue
            store.outbox.sent(msg["_id"], now)
            counts["sent"] += 1
    finally:
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
    store.runs.finish(run_id, status="ok" if not counts["retry"] + counts["failed"] else "partial",
                      counts=counts)
    return counts
