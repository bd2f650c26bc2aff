"""Fuzz: alert and digest e-mails naming hostile brands, issues, departments, leads and
mentions (CR/LF, ``<script>``, giant or control-laden text).

Read back from the bytes we send (and from a real SMTP server), a message has exactly our
headers, each on one line, and an HTML body with only the template's own elements.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import formataddr
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from listening.config import ConfigError, parse_config
from listening.notify.mail import header_safe, queue_alert, render_alert, render_digest, wire_bytes
from listening.notify.outbox import flush
from tests.support.smtp_server import smtp_server
from tests.support.strategies import control_chars, fuzz, giant_text, hostile_text

AT = datetime(2026, 3, 10, 15, tzinfo=timezone.utc)
HEADERS = ["Subject", "From", "To", "Date", "Message-ID", "X-Listening-Key", "MIME-Version", "Content-Type"]
TEMPLATE_TAGS = {"html", "body", "p", "strong", "h2", "h3", "table", "tr", "td", "th", "img", "ul", "li", "a", "br"}
TEMPLATE_ATTRS = {"style", "href", "src", "alt", "width", "align"}
names = hostile_text.filter(str.strip)
texts = hostile_text | giant_text | st.lists(control_chars | st.sampled_from(["<", ">", "&", "\r\n."]),
                                             min_size=1).map("".join)
addresses = st.sampled_from(["ops@example.com", "lead+ops@example.com", "Ops Lead <ops@example.com>"])
# What a config may name as a lead: an address under any display name, or garbage (refused on load).
leads = st.one_of(addresses, st.tuples(hostile_text, st.sampled_from(["ops@example.com", "o.lead@example.org"])).map(
    formataddr), hostile_text)


class Elements(HTMLParser):
    """Every element and attribute of an HTML body."""

    def __init__(self, body: str):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend(attrs)


def assert_safe(raw: bytes, subject: str) -> None:
    """Only our headers, one line each, the subject as meant; the HTML only the template's."""
    parsed = message_from_bytes(raw, policy=policy.default)
    assert sorted(parsed.keys()) == sorted(HEADERS)
    assert not parsed.defects
    for name in HEADERS:
        assert "\n" not in str(parsed[name]) and "\r" not in str(parsed[name])
    # CPython's RFC 2047 folder may add or lose a space between encoded-words (cf. python/cpython#144156)
    assert "".join(str(parsed["Subject"]).split()) == "".join(header_safe(subject).split())
    html = Elements(parsed.get_body(("html",)).get_content())
    assert html.tags <= TEMPLATE_TAGS
    assert {name for name, _ in html.attrs} <= TEMPLATE_ATTRS
    for name, value in html.attrs:
        if name in ("href", "src"):
            assert value.startswith(("https://", "http://", "cid:")), value


def config_for(brand: str, department: str, leads: list[str], port: int = 25):
    """The config naming them, or None when it refuses them on load (in one line)."""
    try:
        return parse_config({"brands": [{"name": brand}], "departments": [{"name": department, "leads": leads}],
                             "smtp": {"host": "127.0.0.1", "port": port, "sender": "alerts@example.com"},
                             "dashboard_url": "https://listening.example.com"})
    except ConfigError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        return None


def alert_for(brand: str, issue: str | None, department: str, rule: str) -> dict:
    return {"_id": f"a-{uuid.uuid4().hex[:8]}", "rule": rule, "kind": "issue_negative", "brand": brand,
            "issue": issue, "department": department, "severity": "high", "observed": 30.0, "expected": 2.0,
            "score": 9.0, "window_hours": 6, "opened_at": AT, "window_start": AT - timedelta(hours=6),
            "window_end": AT}


def evidence(store, brand: str, issue: str | None, mentions: list[tuple[str, str, str, str]]) -> None:
    """Negative mentions in the alert's window, as the alert e-mail quotes them."""
    for i, (text, author, source, url) in enumerate(mentions):
        store.mentions.collection.insert_one({
            "_id": f"m-{uuid.uuid4().hex}", "brands": [brand], "issues": [issue] if issue else [], "text": text,
            "author": author, "source": source, "url": url, "published_at": AT - timedelta(minutes=5 * i),
            "sentiment": {"label": "negative", "compound": -0.9}})


mentions = st.lists(st.tuples(texts, hostile_text, hostile_text,
                              st.sampled_from(["https://social.example/1", "javascript:alert(1)", "", "cid:x"])
                              | hostile_text), max_size=4)


@pytest.fixture(scope="module")
def smtp():
    with smtp_server() as (inbox, port):
        yield inbox, port


@fuzz
@given(names, st.none() | names, names, hostile_text, st.lists(leads, min_size=1, max_size=3), mentions)
def test_alert_mail_headers_and_html_stay_ours(store, brand, issue, department, rule, to, quoted):
    config = config_for(brand, department, to)
    if config is None:
        return
    evidence(store, brand, issue, quoted)
    alert = alert_for(brand, issue, department, rule)
    msg = render_alert(store, config, alert, to=to, key=f"alert:{alert['_id']}:opened")
    what = f"negative {issue.lower()} mentions" if issue else "negative mentions"
    assert_safe(wire_bytes(msg), f"[high] {brand}: {what} at 15.0 times the usual level")


@fuzz
@given(names, names, st.lists(addresses, min_size=1, max_size=2, unique=True), mentions)
def test_alert_mail_through_a_real_smtp_server(store, smtp, brand, issue, leads, quoted):
    inbox, port = smtp
    config = config_for(brand, "Ops", leads, port)
    assert config is not None
    evidence(store, brand, issue, quoted)
    alert = alert_for(brand, issue, "Ops", "no-chart")  # a configured rule draws its chart: slow, not under test
    before = len(inbox.messages)
    assert queue_alert(store, config, alert)
    assert flush(store, config)["sent"] == 1
    [(recipients, received)] = inbox.messages[before:]
    assert recipients == [address.split("<")[-1].rstrip(">") for address in leads]
    assert_safe(received.as_bytes(policy=policy.SMTP),
                f"[high] {brand}: negative {issue.lower()} mentions at 15.0 times the usual level")


@fuzz
@given(names, names, st.lists(leads, min_size=1, max_size=2), st.lists(st.tuples(names, names), max_size=3))
def test_digest_mail_headers_and_html_stay_ours(store, brand, department, to, cells):
    config = config_for(brand, department, to)
    if config is None:
        return
    for issue, source in cells:  # negative mentions of hostile issues and sources in the digest's day
        store.mentions.upsert_batch([{"_id": f"m-{uuid.uuid4().hex}", "brands": [brand], "issues": [issue],
                                      "source": source, "published_at": AT - timedelta(hours=2), "text": "x",
                                      "sentiment": {"label": "negative"}, "fingerprint": "f"}])
    store.alerts.insert(alert_for(brand, cells[0][0] if cells else None, department, "r"))
    dept = config.departments[0]
    msg = render_digest(store, config, dept, AT, key=f"digest:{department}:{AT:%Y-%m-%d}")
    assert_safe(wire_bytes(msg), f"{department}: listening digest, {AT:%a %d %b %Y}")
