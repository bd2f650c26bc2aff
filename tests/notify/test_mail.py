"""Alert e-mails through a real SMTP server on 127.0.0.1: routing, evidence, escaping,
escalation and digests. The data is a small synthetic spike through the real pipeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from listening.alerts import acknowledge, check
from listening.config import parse_config
from listening.ingest.pipeline import Pipeline
from listening.models import RawMention
from listening.notify.mail import header_safe, send_digests
from listening.notify.outbox import flush
from tests.support.smtp_server import smtp_server

UTC = timezone.utc
SPIKE = datetime(2026, 3, 10, 15, tzinfo=UTC)
EVIL = "Cancelled again, worst awful terrible horrible <script>alert(1)</script> & no help\r\nBcc: spy@example.com"


def spike_config(demo_config, port: int, **alerts):
    raw = demo_config.model_dump(exclude_none=True)
    raw["smtp"] = {"host": "127.0.0.1", "port": port, "sender": "alerts@example.com"}
    raw["alerts"] = {"backoff_seconds": 30, **alerts}
    raw["dashboard_url"] = "https://listening.example.com"
    return parse_config(raw)


def load_spike(store, config, brand_handle="@united") -> None:
    """Six quiet days (a cancellation complaint every 6 h), then 30 in the last 3 hours."""
    raws, n = [], 0

    def add(text, at):
        nonlocal n
        n += 1
        raws.append(RawMention(source="synthetic", source_kind="import", text=text,
                               external_id=str(n), published_at=at, url=f"https://social.example/{n}"))

    start = SPIKE - timedelta(days=6)
    for h in range(6 * 24):
        at = start + timedelta(hours=h, minutes=7)
        for i in range(3):
            add(f"{brand_handle} flying to Denver today, seat {h}{i}", at + timedelta(minutes=i))
        if h % 6 == 0:
            add(f"{brand_handle} my flight got cancelled, terrible", at)
    for i in range(30):
        at = SPIKE - timedelta(minutes=170 - 5 * i)
        text = EVIL if i == 0 else f"{brand_handle} flight {i} got cancelled, awful"
        add(f"{brand_handle} {text}", at)
    Pipeline(store, config).run(raws)


@pytest.fixture
def smtp_port():
    from tests.support.smtp_server import free_port
    return free_port()


def test_routed_alert_reaches_the_right_leads_with_evidence(store, demo_config, smtp_port):
    config = spike_config(demo_config, smtp_port, examples=20)
    load_spike(store, config)
    alerts = check(store, config, SPIKE)
    issue_alert = next(a for a in alerts if a["rule"] == "issue-negative"
                       and a["issue"].lower().startswith("cancel"))
    assert issue_alert["brand"] == "United" and issue_alert["department"] == "Operations"
    assert issue_alert["observed"] >= 25 and issue_alert["severity"] == "high"
    queued = store.outbox.counts()["pending"]
    with smtp_server(smtp_port) as (inbox, _):
        assert flush(store, config)["sent"] == queued == len(inbox.messages)
    [mail] = [m for m in inbox.to("ops-lead@example.com") if issue_alert["issue"].lower() in m["Subject"]]
    assert "United" in mail["Subject"] and "\n" not in mail["Subject"]
    assert mail["Bcc"] is None
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert f"{issue_alert['observed']:.0f} negative" in text and "expected" in text
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'href="https://social.example/' in html
    assert f"alerts?alert={issue_alert['id']}" in html
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert images and images[0]["Content-ID"].strip("<>") in html
    assert images[0].get_content()[:4] == b"\x89PNG"
    # Brand-level spikes go to social care (the care department here), not to Operations.
    brand_level = [a for a in alerts if a["issue"] is None]
    assert len(brand_level) == 2 and len(inbox.to("care-lead@example.com")) == 1  # one storm, one mail
    assert all("ops-lead@example.com" not in r or "United" in m["Subject"] for r, m in inbox.messages)


def test_smtp_down_queues_then_delivers_exactly_once(store, demo_config, smtp_port):
    config = spike_config(demo_config, smtp_port)
    load_spike(store, config)
    check(store, config, SPIKE)
    queued = store.outbox.counts()["pending"]
    now = datetime.now(UTC)
    down = flush(store, config, now=now)                      # nothing listens on the port
    assert down == {"sent": 0, "retry": 1, "failed": 0}
    assert store.outbox.counts()["pending"] == queued
    check(store, config, SPIKE)                            # re-evaluating queues nothing new
    assert store.outbox.counts()["pending"] == queued
    with smtp_server(smtp_port) as (inbox, _):
        assert flush(store, config, now=now + timedelta(seconds=5))["sent"] == queued - 1  # one backs off
        assert flush(store, config, now=now + timedelta(seconds=31))["sent"] == 1
        assert flush(store, config, now=now + timedelta(hours=2))["sent"] == 0
    ids = [m["Message-ID"] for _, m in inbox.messages]
    assert len(ids) == queued == len(set(ids))
    assert store.outbox.counts() == {"sent": queued}


def test_unacknowledged_high_severity_escalates_once(store, demo_config, smtp_port):
    config = spike_config(demo_config, smtp_port)
    load_spike(store, config)
    opened = check(store, config, SPIKE)
    care = [a for a in opened if a["issue"] is None]
    for a in care:  # social care is on it: no escalation for those
        acknowledge(store, a["id"], "Dana")
    check(store, config, SPIKE + timedelta(minutes=30))
    assert not store.outbox.collection.count_documents({"kind": "escalation"})
    check(store, config, SPIKE + timedelta(minutes=61))
    check(store, config, SPIKE + timedelta(minutes=120))
    escalations = list(store.outbox.collection.find({"kind": "escalation"}))
    assert escalations and all(e["to"] == ["coo@example.com"] for e in escalations)
    assert len({e["ref"] for e in escalations}) == len(escalations)   # once per alert
    with smtp_server(smtp_port) as (inbox, _):
        flush(store, config)
    mails = inbox.to("coo@example.com")
    assert len(mails) == len(escalations) and all(m["Subject"].startswith("ESCALATION") for m in mails)
    assert store.alerts.get(care[0]["id"])["acknowledged_by"] == "Dana"


def test_daily_digest_once_per_department_at_local_time(store, demo_config, smtp_port):
    raw = demo_config.model_dump(exclude_none=True)
    for d in raw["departments"]:
        d.update(digest_at="08:00", timezone="America/Chicago")
    config = spike_config(parse_config(raw), smtp_port)
    load_spike(store, config)
    check(store, config, SPIKE)
    early = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)        # 07:30 in Chicago (CDT since Mar 8)
    assert send_digests(store, config, early)["queued"] == 0
    first = send_digests(store, config, SPIKE)
    assert first["queued"] == len(config.departments)
    assert send_digests(store, config, SPIKE + timedelta(hours=3))["queued"] == 0
    with smtp_server(smtp_port) as (inbox, _):
        flush(store, config)
    [digest] = [m for m in inbox.to("ops-lead@example.com") if "digest" in m["Subject"]]
    text = digest.get_body(("plain",)).get_content()
    assert "United" in text and "Cancellation" in text and "Open alerts" in text


def test_header_safe_strips_line_breaks():
    assert header_safe("United\r\nBcc: spy@example.com") == "United Bcc: spy@example.com"


def test_a_hostile_brand_name_cannot_add_headers(store, demo_config):
    from email import message_from_bytes, policy

    from listening.notify.mail import render_alert, wire_bytes

    alert = {"_id": "x1", "rule": "issue-negative", "kind": "issue_negative",
             "brand": "Evil\r\nBcc: spy@example.com", "issue": "Delay\nX-Evil: 1",
             "department": "Operations", "severity": "high", "observed": 30.0, "expected": 2.0,
             "score": 9.0, "window_hours": 6, "opened_at": SPIKE, "window_start": SPIKE - timedelta(hours=6),
             "window_end": SPIKE}
    msg = render_alert(store, demo_config, alert, to=["ops-lead@example.com"], key="alert:x1:opened")
    parsed = message_from_bytes(wire_bytes(msg), policy=policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["Subject"].startswith("[high] Evil Bcc: spy@example.com: negative delay x-evil: 1")


def test_an_alert_mail_a_lead_reads_in_ten_seconds(store, demo_config, smtp_port):
    """Full dates with year and zone, no internal names, a subject that folds cleanly."""
    from email import message_from_bytes
    from email.header import decode_header, make_header

    config = spike_config(demo_config, smtp_port)
    load_spike(store, config)
    check(store, config, SPIKE)
    with smtp_server(smtp_port) as (inbox, _):
        flush(store, config)
    mail = next(m for m in inbox.to("ops-lead@example.com") if "cancellation" in m["Subject"])
    for subject in (str(mail["Subject"]),  # the modern parser, and an old client's decoding
                    str(make_header(decode_header(message_from_bytes(mail.as_bytes())["Subject"])))):
        assert "  " not in subject and subject.isascii()
    text = mail.get_body(("plain",)).get_content()
    assert "Tue 10 Mar 2026, 15:00 UTC" in text          # opened, with weekday, year and zone
    assert "UTC, Synthetic: " in text and "synthetic:" not in text   # the source in words
    for internal in ("issue-negative", "issue_negative", "score", "buckets"):
        assert internal not in text.lower()


def test_a_digest_says_why_it_has_nothing_and_pads_its_tables(store, demo_config, smtp_port):
    from listening.notify.mail import render_digest

    config = spike_config(demo_config, smtp_port)
    load_spike(store, config)
    dept = next(d for d in config.departments if d.name == "Operations")
    busy = render_digest(store, config, dept, SPIKE, "digest:busy")
    html = busy.get_body(("html",)).get_content()
    assert 'padding:4px 12px;">United</td>' in html and "No mentions were collected" not in html
    later = render_digest(store, config, dept, SPIKE + timedelta(days=3), "digest:quiet")
    text = later.get_body(("plain",)).get_content()
    assert "No mentions were collected in the last 24 hours: the newest is from Tue 10 Mar 2026" in text
    assert "n/a: no mentions (voice) or no Google Trends data (search)" in text
