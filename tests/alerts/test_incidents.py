"""Incidents and the weekly budget on the real airline tweets' backtest: the storm fires
brand-level and several issue rules on one brand at once, which is one event."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from listening.alerts import budget, replay
from listening.alerts.incidents import budget as counts
from listening.alerts.incidents import group, week

UTC = timezone.utc
START, END = datetime(2015, 2, 17, tzinfo=UTC), datetime(2015, 2, 24, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def alerts(airline_store, demo_config):
    return replay(airline_store, demo_config, START, END).alerts


def test_overlapping_alerts_on_one_brand_are_one_incident(alerts):
    incidents = group(alerts)
    assert len(incidents) < len(alerts)
    by_id = {a["_id"]: a for a in alerts}
    assert sorted(i for inc in incidents for i in inc["alerts"]) == sorted(by_id)  # each alert once
    for inc in incidents:
        members = [by_id[i] for i in inc["alerts"]]
        assert {a["brand"] for a in members} == {inc["brand"]}
    # Southwest's storm (21 Feb): cancellations, customer service and the brand-level rules together.
    storm = next(inc for inc in incidents if inc["brand"] == "Southwest"
                 and inc["opened_at"] <= datetime(2015, 2, 21, 20, tzinfo=UTC))
    rules = {by_id[i]["rule"] for i in storm["alerts"]}
    assert {"issue-negative", "brand-negative"} <= rules and len(storm["issues"]) >= 3


def test_alerts_after_an_incident_resolved_start_a_new_one(alerts):
    for brand, incs in _by_brand(group(alerts)).items():
        for before, after in zip(incs, incs[1:]):
            assert before["resolved_at"] is not None and after["opened_at"] > before["resolved_at"]


def _by_brand(incidents):
    out = {}
    for inc in incidents:
        out.setdefault(inc["brand"], []).append(inc)
    return out


def test_the_budget_counts_alerts_per_department_and_emails_per_recipient(alerts, demo_config):
    b = counts(alerts, demo_config)
    assert sum(n for per in b["alerts"].values() for n in per.values()) == len(alerts)
    assert Counter({w: sum(per.values()) for w, per in b["alerts"].items()}) == \
        Counter(week(a["opened_at"]) for a in alerts)
    assert sum(b["incidents"].values()) == len(group(alerts))
    raw, grouped = Counter(), Counter()
    for w in b["emails_raw"]:
        raw.update(b["emails_raw"][w])
    for w in b["emails_grouped"]:
        grouped.update(b["emails_grouped"][w])
    assert set(grouped) == set(raw)
    assert all(grouped[to] <= raw[to] for to in raw) and sum(grouped.values()) < sum(raw.values())
    text = budget(alerts, demo_config)
    assert f"{week(alerts[0]['opened_at'])}: " in text and "ops-lead@example.com" in text


def test_check_threads_one_incidents_mails_together(airline_store, demo_config):
    """Southwest's storm evaluated hour by hour (its rules only: other tests share this store)."""
    from email import message_from_bytes, policy
    from datetime import timedelta

    from listening.alerts import check
    from listening.config import parse_config

    raw = demo_config.model_dump(exclude_none=True)
    raw["alerts"] = {"rules": [{**r.model_dump(exclude_none=True), "brands": ["Southwest"]}
                               for r in demo_config.alerts.rules]}
    config = parse_config(raw)
    for h in range(12):
        check(airline_store, config, datetime(2015, 2, 21, 12, tzinfo=UTC) + timedelta(hours=h))
    stored = [a for a in airline_store.alerts.collection.find({"brand": "Southwest"})]
    assert len(stored) >= 3 and len({a["incident"] for a in stored}) == 1
    assert {a["incident"] for a in stored} == {inc["id"] for inc in group(stored)}  # as the backtest groups
    mails = [airline_store.outbox.get(f"alert:{a['_id']}:opened") for a in stored]
    refs = {message_from_bytes(bytes(m["raw"]), policy=policy.default)["References"] for m in mails if m}
    assert len([m for m in mails if m]) >= 2 and len(refs) == 1
