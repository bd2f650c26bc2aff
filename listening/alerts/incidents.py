"""Incidents: alerts on one brand that overlap in time are one event (a storm fires the
brand-level rules and several issue rules at once), so people should hear about it once.

``group`` is pure and works on stored alerts and backtest alerts alike (datetimes or ISO
strings). ``budget`` counts what a rule set would send per week, raw and grouped, so rules
are tuned against a budget (a few e-mails a week per person).

    incidents = group(alerts)          # [{"id", "brand", "alerts": [ids], "opened_at", ...}]
    alert["incident"] = incident_for(store, alert)   # check, as an alert opens
    counts = budget(alerts, config)    # per week: alerts per department, incidents, e-mails
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from listening.config import Config
from listening.ids import stable_id
from listening.notify import routing

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
SLACK = timedelta(hours=6)  # an alert opening this soon after the last one closed is the same event


def _t(value) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _id(alert: dict) -> str:
    return alert.get("id") or alert["_id"]


def group(alerts: list[dict], slack: timedelta = SLACK) -> list[dict]:
    """Alerts grouped per brand into incidents: an alert joins the brand's current incident when
    it opens before that incident's last alert resolved (plus ``slack``); oldest first."""
    out: list[dict] = []
    current: dict[str, dict] = {}
    for a in sorted(alerts, key=lambda a: _t(a["opened_at"])):
        opened, resolved = _t(a["opened_at"]), _t(a.get("resolved_at"))
        inc = current.get(a["brand"])
        if inc is None or (inc["until"] is not None and opened > inc["until"] + slack):
            inc = {"id": incident_id(a["brand"], _id(a)), "brand": a["brand"],
                   "alerts": [], "issues": [], "departments": [], "opened_at": opened, "until": resolved}
            current[a["brand"]] = inc
            out.append(inc)
        inc["alerts"].append(_id(a))
        for field, value in (("issues", a.get("issue")), ("departments", a.get("department"))):
            if value not in inc[field]:
                inc[field].append(value)
        inc["until"] = None if resolved is None or inc["until"] is None else max(inc["until"], resolved)
    for inc in out:
        inc["resolved_at"] = inc.pop("until")
    return out


def incident_id(brand: str, first_alert_id: str) -> str:
    return stable_id("incident", brand, first_alert_id, length=20)


def incident_for(store, alert: dict) -> str:
    """The incident a newly opened alert belongs to, as ``group`` would put it: that of the
    brand's latest alert still open or resolved less than ``SLACK`` ago, else a new one."""
    opened = alert["opened_at"]
    near = [a for a in store.alerts.open_alerts() + store.alerts.resolved_since(opened - SLACK)
            if a["brand"] == alert["brand"] and a["_id"] != alert["_id"] and a.get("incident")
            and a["opened_at"] <= opened]
    if not near:
        return incident_id(alert["brand"], alert["_id"])
    return max(near, key=lambda a: a["opened_at"])["incident"]


def week(t: datetime) -> str:
    """ISO week, e.g. 2015-W08."""
    year, number, _ = t.isocalendar()
    return f"{year}-W{number:02d}"


def mailed(alert: dict, config: Config) -> bool:
    return SEVERITY_RANK[alert["severity"]] >= SEVERITY_RANK[config.alerts.email_min_severity]


def budget(alerts: list[dict], config: Config) -> dict:
    """Per ISO week: alerts per department, incidents, and e-mails per recipient, raw (one per
    mailed alert) and grouped (one per incident a recipient hears about)."""
    by_id = {_id(a): a for a in alerts}
    out = {"alerts": defaultdict(Counter), "incidents": Counter(),
           "emails_raw": defaultdict(Counter), "emails_grouped": defaultdict(Counter)}
    for a in alerts:
        w = week(_t(a["opened_at"]))
        out["alerts"][w][a.get("department") or "unassigned"] += 1
        if mailed(a, config):
            for to in routing.recipients(a, config):
                out["emails_raw"][w][to] += 1
    for inc in group(alerts):
        out["incidents"][week(inc["opened_at"])] += 1
        first: dict[str, datetime] = {}  # each recipient's one e-mail goes with the first alert they hear of
        for a in (by_id[i] for i in inc["alerts"]):
            if mailed(a, config):
                for to in routing.recipients(a, config):
                    first.setdefault(to, _t(a["opened_at"]))
        for to, t in first.items():
            out["emails_grouped"][week(t)][to] += 1
    return out

