"""``check``: run the rules for the last complete bucket, update alerts, queue mail.

Idempotent: evaluating the same ``at`` twice finds the alerts it opened the first
time (stable ids, one open alert per key), and the outbox's idempotency keys make
sure nobody gets the same mail twice. Alerts move forward in time only: an hour at or
before the last applied evaluation changes nothing (the stored alerts already hold
what came after it, so replaying it would open their incidents a second time).
``apply=False`` is a dry run: the same evaluation, nothing stored or queued.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import numpy as np

from listening.alerts import explain, incidents
from listening.alerts.detect import enabled_rules, frame_rules, lookback, scan, store_findings
from listening.alerts.frame import Frame, floor_hour
from listening.alerts.lifecycle import UNRESOLVED, Book, as_json
from listening.alerts.rules import Context
from listening.config import Config
from listening.notify import channels, routing
from listening.notify import mail as notify

log = logging.getLogger(__name__)


def check(store, config: Config, at: datetime | None = None, *, apply: bool = True) -> list[dict]:
    """Evaluate every rule as of ``at`` (default now); return the alerts it touched as JSON.

    Touched = opened, grown, reopened or resolved by this evaluation. Queues the e-mails of new
    alerts and of escalations in the outbox (``listening.notify.outbox.flush`` sends them).
    With ``apply=False`` it only says what it would touch.
    """
    at = floor_hour(at or datetime.now(timezone.utc))
    rules = enabled_rules(config)
    if not apply:
        return [as_json(a) for a in _evaluate(store, config, rules, at)[1].touched()]
    last = last_applied(store)
    if last is not None and at < last:
        log.info("alerts as of %s: already evaluated up to %s, nothing to apply", at, last)
        return []
    run_id = store.runs.start("alerts", at=at)
    try:
        ctx, changes, findings = _evaluate(store, config, rules, at)
        mail_errors = 0

        def mail(alert: dict) -> None:
            """Queue its mail; a failure is retried by the next evaluation (the alert grows)."""
            nonlocal mail_errors
            try:
                notify.queue_alert(store, config, alert, chart=lambda: explain.chart_png(store, config, alert, ctx))
                channels.queue_alert(store, config, as_json(alert))  # Slack, Teams, webhooks
            except Exception:
                log.exception("queueing the mail of alert %s failed", alert["_id"])
                mail_errors += 1

        for alert in changes.opened:
            alert["incident"] = incidents.incident_for(store, alert)  # its e-mails thread together
            explain.attach(store, config, alert)
            if store.alerts.insert(alert):
                mail(alert)
        for alert in changes.grown:
            explain.attach(store, config, alert)  # again only when its peak moved
            store.alerts.save_growth(alert)
            mail(alert)  # mailed once it is severe enough, or if queueing failed before
        for alert in changes.reopened:
            explain.attach(store, config, alert)
            store.alerts.reopen(alert, at)
        for alert in changes.resolved:
            store.alerts.transition(alert["_id"], allowed=list(UNRESOLVED), to="resolved", at=at, who="auto")
        escalated = escalate(store, config, at)
        counts = {"findings": len(findings), "opened": len(changes.opened),
                  "grown": len(changes.grown), "reopened": len(changes.reopened),
                  "resolved": len(changes.resolved),
                  "cooled": len(changes.cooled), "guarded": len(changes.guarded),
                  "escalated": escalated, "mail_errors": mail_errors}
    except Exception as exc:
        store.runs.finish(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    store.runs.finish(run_id, counts=counts)
    return [as_json(a) for a in changes.touched()]


def _evaluate(store, config: Config, rules, at: datetime):
    """The rules' findings at ``at`` applied to the stored alerts, in memory."""
    hourly = frame_rules(rules)
    frame = Frame.load(store, at - lookback(hourly), at,
                       collection_jobs=config.alerts.collection_jobs,
                       max_gap_hours=config.alerts.max_run_gap_hours, cached=True)
    ctx = Context(frame, config)
    findings = scan(ctx, hourly, np.array([frame.index(at)])) + [f for _, f in store_findings(store, config, rules, [at])]
    book = load_book(store, rules, at)
    return ctx, book.step(at, findings, lambda f: routing.department_of(f.rule, f.issue, config)), findings


def last_applied(store) -> datetime | None:
    """The latest hour an evaluation stored its alerts for (None before the first)."""
    hours = [r["at"] for r in store.runs.recent("alerts", limit=50)
             if r.get("status") == "ok" and r.get("at") is not None]
    return max(hours, default=None)


def load_book(store, rules, at: datetime) -> Book:
    """The open alerts and recent resolutions, as the state machine wants them."""
    by_name = {r.name: r for r in rules}
    book = Book(by_name)
    for alert in store.alerts.open_alerts():
        if alert["opened_at"] <= at:
            book.open[alert["key"]] = alert
    longest = max((r.cooldown_hours for r in rules), default=0)
    for alert in store.alerts.resolved_since(at - timedelta(hours=longest)):
        last = book.last_resolved.get(alert["key"])
        if alert["resolved_at"] <= at and (last is None or alert["resolved_at"] > last["resolved_at"]):
            book.last_resolved[alert["key"]] = alert
    return book


def escalate(store, config: Config, at: datetime) -> int:
    """Queue an escalation for high-severity alerts left unacknowledged too long."""
    from listening.alerts import explain

    rules = {r.name: r for r in config.alerts.rules}
    done = 0
    for alert in store.alerts.unacknowledged_high():
        rule = rules.get(alert["rule"])
        if rule is None or rule.escalate_after_minutes is None:
            continue
        if at - alert["opened_at"] < timedelta(minutes=rule.escalate_after_minutes):
            continue
        if routing.escalation(alert, config) and store.alerts.mark_escalated(alert["_id"], at):
            notify.queue_escalation(store, config, alert, at, chart=lambda: explain.chart_png(store, config, alert))
            done += 1
    return done
