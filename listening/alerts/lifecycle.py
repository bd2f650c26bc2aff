"""Alerts as incidents: one open alert per (rule, brand, issue) that grows while the
spike lasts, auto-resolves after quiet buckets, then keeps a cooldown: if the rule
fires again within it, the auto-resolved incident reopens (no new alert, no new mail);
one a person resolved stays resolved until the cooldown ends.

``Book`` is the pure state machine, shared by ``evaluate`` (state in MongoDB) and
``backtest`` (state in memory), so a backtest shows exactly what production would do.

    open ──ack──► acknowledged ──resolve──► resolved
      └──────────────resolve / N quiet buckets──┘
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from listening.ids import alert_key, stable_id

if TYPE_CHECKING:  # annotations only: ``as_json`` (for ``listening report``) stays light
    from listening.alerts.detect import Finding
    from listening.config import AlertRule

HOUR = timedelta(hours=1)
UNRESOLVED = ("open", "acknowledged")
HISTORY_CAP = 500
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}


def alert_id(key: str, opened_at: datetime) -> str:
    """Stable: re-running an evaluation finds the same alert, and its mail's idempotency key."""
    return stable_id(key, opened_at.isoformat(), length=20)


def new_alert(f: Finding, department: str | None) -> dict:
    key = alert_key(f.rule, f.brand, f.issue)
    point = {"at": f.window_end, "observed": f.observed, "expected": f.expected, "score": f.score,
             "window_hours": int((f.window_end - f.window_start) / HOUR)}
    return {
        "_id": alert_id(key, f.window_end), "key": key, "open_key": key,
        "rule": f.rule, "kind": f.kind, "brand": f.brand, "issue": f.issue,
        "department": department, "status": "open",
        "opened_at": f.window_end, "window_start": f.window_start, "window_end": f.window_end,
        "window_hours": int((f.window_end - f.window_start) / HOUR),
        "last_fired_at": f.window_end, "peak_at": f.window_end,
        "observed": f.observed, "expected": f.expected, "score": f.score, "severity": f.severity,
        "latest": point, "history": [point], "buckets": 1,
        "acknowledged_at": None, "acknowledged_by": None,
        "resolved_at": None, "resolved_by": None, "escalated_at": None, "events": [],
    }


def grow(alert: dict, f: Finding) -> None:
    """Fold one more firing window into an open alert."""
    point = {"at": f.window_end, "observed": f.observed, "expected": f.expected, "score": f.score,
             "window_hours": int((f.window_end - f.window_start) / HOUR)}
    alert["latest"] = point
    alert["history"] = (alert.get("history") or [])[-(HISTORY_CAP - 1):] + [point]
    alert["buckets"] = alert.get("buckets", 0) + 1
    alert["last_fired_at"] = alert["window_end"] = f.window_end
    if excess(f.kind, f.observed, f.expected) > excess(f.kind, alert["observed"], alert["expected"]):
        alert.update(peak_at=f.window_end, observed=f.observed, expected=f.expected, score=f.score,
                     window_hours=int((f.window_end - f.window_start) / HOUR))
    if SEVERITY_RANK[f.severity] > SEVERITY_RANK[alert["severity"]]:
        alert["severity"] = f.severity


def excess(kind: str, observed: float, expected: float) -> float:
    """What makes a window the peak: the most mentions above usual, or for a gap (``search_gap``)
    the furthest from its usual value, either way."""
    return abs(observed - expected) if kind == "search_gap" else observed - expected


def close(alert: dict, at: datetime, who: str) -> None:
    alert.update(status="resolved", resolved_at=at, resolved_by=who)
    alert.pop("open_key", None)
    alert.setdefault("events", []).append({"event": "resolved", "at": at, "by": who})


def reopen(alert: dict, at: datetime) -> None:
    alert.update(status="open", resolved_at=None, resolved_by=None, open_key=alert["key"])
    alert.setdefault("events", []).append({"event": "reopened", "at": at, "by": "auto"})


@dataclass
class Changes:
    """What one bucket did to the alerts."""

    opened: list[dict] = field(default_factory=list)
    grown: list[dict] = field(default_factory=list)
    resolved: list[dict] = field(default_factory=list)
    reopened: list[dict] = field(default_factory=list)
    cooled: list[Finding] = field(default_factory=list)
    guarded: list[Finding] = field(default_factory=list)

    def touched(self) -> list[dict]:
        return self.opened + self.grown + self.reopened + self.resolved


@dataclass
class Book:
    """Open alerts by key, and each key's last resolved alert (for the cooldown)."""

    rules: dict[str, AlertRule]
    open: dict[str, dict] = field(default_factory=dict)
    last_resolved: dict[str, dict] = field(default_factory=dict)

    def step(self, t: datetime, findings: list[Finding], department_of) -> Changes:
        """Apply the findings of the windows ending at ``t``."""
        changes, fired = Changes(), set()
        for f in findings:
            if f.guard:
                changes.guarded.append(f)
                continue
            key = alert_key(f.rule, f.brand, f.issue)
            rule = self.rules[f.rule]
            fired.add(key)
            if key in self.open:
                if f.window_end > self.open[key]["last_fired_at"]:  # re-evaluating a bucket: no-op
                    grow(self.open[key], f)
                changes.grown.append(self.open[key])
            elif (last := self.last_resolved.get(key)) and \
                    t - last["resolved_at"] < timedelta(hours=rule.cooldown_hours):
                if last.get("resolved_by") == "auto":
                    reopen(last, t)
                    grow(last, f)
                    self.open[key] = last
                    del self.last_resolved[key]
                    changes.reopened.append(last)
                else:
                    changes.cooled.append(f)
            else:
                self.open[key] = new_alert(f, department_of(f))
                changes.opened.append(self.open[key])
        for key, alert in list(self.open.items()):
            rule = self.rules.get(alert["rule"])
            quiet = (t - alert["last_fired_at"]) / HOUR
            if key not in fired and (rule is None or quiet >= rule.resolve_after_quiet):
                close(alert, t, "auto")
                del self.open[key]
                self.last_resolved[key] = alert
                changes.resolved.append(alert)
        return changes


def as_json(alert: dict) -> dict:
    """The public JSON form of an alert (``listening alerts --json``)."""
    def iso(t):
        return t.isoformat() if t else None
    return {"id": alert["_id"], "rule": alert["rule"], "kind": alert.get("kind"), "brand": alert["brand"],
            "issue": alert["issue"], "department": alert.get("department"),
            "status": alert["status"], "opened_at": iso(alert["opened_at"]),
            "peak_at": iso(alert.get("peak_at")), "resolved_at": iso(alert.get("resolved_at")),
            "observed": alert["observed"], "expected": alert["expected"],
            "score": alert.get("score"), "severity": alert["severity"],
            "window_hours": alert.get("window_hours"), "incident": alert.get("incident"),
            "explanation": alert.get("explanation")}
