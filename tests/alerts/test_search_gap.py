"""Share of search beside share of voice, as a signal (rule kind ``search_gap``).

The search side is real: the running-shoe brands' Google Trends CSV exports
(fixtures/google_trends_exports_real, Canada, weekly), collected through the csv backend as
configured brands. The mention side is synthetic, and says so: no real mentions of these
brands exist in the fixtures. For 30 weeks each brand gets round(400 x its real share of
search that week) mentions, so share of voice tracks share of search (the gap stays near 0);
in the last complete week Hoka gets a campaign (three times its mentions) and nothing else
changes: its share of voice leaves its share of search, and marketing hears of it.
"""

from __future__ import annotations

import email
from datetime import datetime, timedelta, timezone
from email import policy

import pytest

from listening.alerts import check, replay
from listening.alerts.lifecycle import as_json
from listening.alerts.search_gap import weekly
from listening.config import Brand, parse_config
from listening.metrics.search import share_series
from listening.notify import channels
from listening.trends.collect import collect
from listening.trends.csv_backend import CsvBackend
from tests.conftest import FIXTURES

UTC = timezone.utc
FOLDER = FIXTURES / "google_trends_exports_real"
BRANDS = {"Adidas": "Adidas running", "Nike": "Nike running", "Hoka": "Hoka Running",
          "Saucony": "Saucony Running", "Asics": "Asics Running", "New Balance": "New balance Running"}
WEEKS, PER_WEEK, CAMPAIGN = 30, 400, 3


@pytest.fixture(scope="module")
def config(demo_config):
    raw = demo_config.model_dump(exclude_none=True)
    raw["brands"] = [Brand(name=n, terms=[n], search_term=t, category="running shoes").model_dump(exclude_none=True)
                     for n, t in BRANDS.items()]
    raw["departments"].append({"name": "Marketing", "leads": ["marketing-lead@example.com"],
                               "channels": [{"kind": "slack", "url_env": "LC_TEST_MARKETING_SLACK"}]})
    raw["trends"] = {"geo": "CA", "timeframe": "2020-03-08 2025-03-15", "backend": "csv", "csv_dir": str(FOLDER),
                     "related": False, "by_region": False, "pacing_seconds": 0}
    raw.get("alerts", {}).pop("rules", None)  # the default rules: share-of-search (to Marketing) among them
    return parse_config(raw)


@pytest.fixture(scope="module")
def running(mongo_uri, config):
    """The real exports as configured brands, and the synthetic mentions beside them."""
    from tests.conftest import fresh_store

    with fresh_store(mongo_uri) as store:
        summary = collect(store, config, backend=CsvBackend(FOLDER, now=datetime(2025, 3, 10, tzinfo=UTC)))
        assert summary["status"] == "ok"
        rows = [r for r in share_series(store, "running shoes", geo="CA", smoothing="none") if not r["is_partial"]]
        weeks = sorted({r["date"] for r in rows})[-WEEKS:]
        share = {(r["brand"], r["date"]): r["share"] for r in rows}
        docs = []
        for w in weeks:
            for brand in BRANDS:
                n = round(PER_WEEK * share[brand, w]) * (CAMPAIGN if (brand, w) == ("Hoka", weeks[-1]) else 1)
                docs += [{"_id": f"{brand}-{w:%Y%m%d}-{i}", "brands": [brand], "issues": [], "source": "synthetic",
                          "source_kind": "test", "text": f"{brand} running shoes", "fingerprint": f"{brand}{w}{i}",
                          "published_at": w + timedelta(days=1, minutes=10 * i), "sentiment": {"label": "neutral"}}
                         for i in range(n)]
        store.mentions.upsert_batch(docs)
        yield store, weeks


def test_the_weekly_gap_is_share_of_voice_minus_the_real_share_of_search(running, config):
    store, weeks = running
    series = weekly(store, config, "running shoes", since=weeks[0])
    assert set(series) == set(BRANDS) and all(len(v) == WEEKS for v in series.values())
    for brand, rows in series.items():
        for r in rows[:-1]:  # voice tracks search: only rounding apart
            assert abs(r["gap"]) < 0.01 and r["gap"] == pytest.approx(r["share_of_voice"] - r["share_of_search"])
            assert r["end"] - r["date"] == timedelta(days=7)
    assert series["Hoka"][-1]["gap"] > 0.05  # the campaign week


def test_the_campaign_week_opens_one_marketing_alert_with_its_explanation(running, config, monkeypatch):
    store, weeks = running
    at = weeks[-1] + timedelta(days=7, hours=1)
    monkeypatch.setenv("LC_TEST_MARKETING_SLACK", "http://127.0.0.1:9/never-posted")
    touched = check(store, config, at=at)
    gaps = [a for a in touched if a["rule"] == "share-of-search"]
    hoka = next(a for a in gaps if a["brand"] == "Hoka")
    assert (hoka["kind"], hoka["department"], hoka["issue"]) == ("search_gap", "Marketing", None)
    assert hoka["opened_at"] == (weeks[-1] + timedelta(days=7)).isoformat()
    assert hoka["score"] == max(a["score"] for a in gaps)
    assert all(a["observed"] < a["expected"] for a in gaps if a["brand"] != "Hoka")  # others lost voice
    gap = hoka["explanation"]["search_gap"]
    week = next(r for r in weekly(store, config, "running shoes", since=weeks[0])["Hoka"] if r["date"] == weeks[-1])
    assert gap["share_of_voice"] == pytest.approx(week["share_of_voice"])
    assert gap["share_of_search"] == pytest.approx(week["share_of_search"])  # the real Trends share
    assert gap["direction"] == "talked about more than searched for"
    assert gap["usual"]["low"] < gap["usual"]["median"] < gap["usual"]["high"] < gap["gap"]
    assert [s["date"] for s in gap["series"]][-1] == weeks[-1].isoformat() and len(gap["series"]) == 26
    assert hoka == as_json(store.alerts.get(hoka["id"]))  # stored as `alerts --json` prints it

    mail = store.outbox.get(f"alert:{hoka['id']}:opened")
    assert mail["to"] == ["marketing-lead@example.com"]
    msg = email.message_from_bytes(mail["raw"], policy=policy.default)
    assert "share of voice minus share of search at +" in msg["Subject"]
    html = msg.get_body(("html",)).get_content()
    assert "Why it moved" in html and "talked about more than searched for" in html
    assert any(p.get_content_type() == "image/png" for p in msg.walk())  # the weekly chart
    text = msg.get_body(("plain",)).get_content()
    assert f"{100 * gap['share_of_search']:.1f}%" in text

    slack = store.outbox.get(f"alert:{hoka['id']}:opened:Marketing/slack")
    assert slack["channel"] == "Marketing/slack" and b"Share of voice" in slack["raw"]
    assert channels.queue_alert(store, config, hoka) == 0  # once per event


def test_backtest_fires_only_in_the_campaign_week(running, config):
    store, weeks = running
    alerts = replay(store, config, weeks[-6], weeks[-1] + timedelta(days=8)).alerts
    gaps = [a for a in alerts if a["kind"] == "search_gap"]
    assert "Hoka" in {a["brand"] for a in gaps}
    assert {a["opened_at"] for a in gaps} == {weeks[-1] + timedelta(days=7)}
    assert {a["department"] for a in gaps} == {"Marketing"}


def test_the_alerts_page_draws_the_weekly_gap(running, config, store_env, monkeypatch, tmp_path):
    """The Hoka alert of the campaign week, on the Alerts page: the weekly shares and why."""
    import json

    import yaml
    from streamlit.testing.v1 import AppTest

    from listening.app.serve import ENTRY

    store, weeks = running
    # The check stores it (once per event: a no-op where the test above ran on this worker;
    # under xdist it may have run on another, with a store of its own).
    monkeypatch.setenv("LC_TEST_MARKETING_SLACK", "http://127.0.0.1:9/never-posted")
    check(store, config, at=weeks[-1] + timedelta(days=7, hours=1))
    hoka = next(a for a in store.alerts.open_alerts() if a["kind"] == "search_gap" and a["brand"] == "Hoka")
    path = tmp_path / "listening.yaml"
    path.write_text(yaml.safe_dump(json.loads(config.model_dump_json(exclude_none=True))), encoding="utf-8")
    monkeypatch.setenv("LISTENING_DB", store.db.name)
    monkeypatch.setenv("LISTENING_CONFIG", str(path))
    at = AppTest.from_file(str(ENTRY), default_timeout=120)
    at.query_params["alert"] = hoka["_id"]
    at.run()
    at.switch_page("views/alerts.py").run()
    assert not at.exception, at.exception
    assert at.session_state["alerts_pick"] == hoka["_id"]
    assert any(m.value == "**Why it moved**" for m in at.markdown)
    assert any("talked about more than searched for" in c.value for c in at.caption)


def test_a_gap_the_search_band_can_explain_never_fires(config):
    """Synthetic weeks (a property the real files cannot show on demand): a gap far from usual
    whose share-of-search band reaches the usual gap is rounding, not a signal."""
    from listening.alerts.search_gap import judge

    rule = next(r for r in config.alerts.rules if r.kind == "search_gap")
    history = [{"gap": 0.0} for _ in range(26)]
    week = {"gap": 0.10, "share_of_voice": 0.30, "share_of_search": 0.20, "category_mentions": 10_000,
            "share_of_search_lo": 0.15, "share_of_search_hi": 0.30}
    assert judge(rule, week, history)["score"] == 0.0
    found = judge(rule, {**week, "share_of_search_hi": 0.22}, history)
    assert found["score"] > rule.threshold and found["low"] < 0 < found["high"] < found["gap"]
    assert judge(rule, week, history[:12]) is None  # under half of baseline_weeks: no usual range yet


def test_the_peak_of_a_gap_alert_is_the_week_furthest_from_usual_either_way():
    from listening.alerts.lifecycle import excess

    assert excess("search_gap", -0.08, 0.0) > excess("search_gap", -0.05, 0.0)
    assert excess("issue_negative", 8, 10) < excess("issue_negative", 12, 10)
