"""Why it is spiking, computed on the real airline tweets (PROVENANCE.md: the 21-23 Feb 2015
winter-storm cancellation surge is real): rising terms, where they come from, tone, examples.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from listening.alerts import backtest
from listening.alerts.examples import fingerprint
from listening.alerts.explain import brand_words, counted
from listening.alerts.keyness import stop_words, terms

UTC = timezone.utc
START, END = datetime(2015, 2, 17, tzinfo=UTC), datetime(2015, 2, 24, 20, tzinfo=UTC)
# "Cancelled Flightled" is how the dataset spells a cancelled flight (its own substitution).
CANCELLATION = re.compile(r"cancel|flightled|rebook|on hold|^hold$|strand")


@pytest.fixture(scope="module")
def explained(airline_store, demo_config):
    return backtest(airline_store, demo_config, START, END)


def surge(alerts: list[dict]) -> list[dict]:
    """The cancellation alerts of the 21-23 Feb storm. With the curators' "Cancelled Flightled"
    undone on import, Southwest's opens on the evening of 20 Feb (23:00 UTC), as the surge starts."""
    return [a for a in alerts if (a["issue"] or "").lower().startswith("cancel")
            and "2015-02-20T18" <= a["opened_at"][:13] and a["opened_at"][:10] <= "2015-02-23"]


def test_every_surge_alert_names_a_cancellation_term_in_its_top_five(explained):
    alerts = surge(explained)
    assert {a["brand"] for a in alerts} >= {"Southwest", "US Airways", "United"}
    for a in alerts:
        top = [t["term"] for t in a["explanation"]["terms"][:5]]
        assert any(CANCELLATION.search(t) for t in top), (a["brand"], a["opened_at"], top)


def test_no_alert_shows_one_text_twice(explained):
    assert all(a["explanation"] for a in explained)
    for a in explained:
        shown = [fingerprint(m["text"]) for m in a["explanation"]["examples"]]
        texts = [m["text"] for m in a["explanation"]["examples"]]
        assert shown and len(shown) == len(set(shown)) and len(texts) == len(set(texts)), a["id"]


def test_rising_terms_leave_out_brand_words_and_stop_words(explained, demo_config):
    stop = stop_words()
    for a in explained:
        own = brand_words(demo_config.brand(a["brand"]))
        for t in a["explanation"]["terms"]:
            assert not set(t["term"].split()) & (own | stop), (a["brand"], t)
            assert t["count"] > t["expected"]  # rose against the baseline


def test_counts_now_are_the_mentions_that_contain_the_term(explained, airline_store, demo_config):
    a = surge(explained)[0]
    why = a["explanation"]
    window = airline_store.series.window(a["brand"], datetime.fromisoformat(why["window"]["start"]),
                                         datetime.fromisoformat(why["window"]["end"]))
    alert = {"brand": a["brand"], "issue": a["issue"], "kind": "issue_negative"}
    now = [m for m in window if counted(alert, m)]
    assert len(now) == why["window"]["mentions"] == a["observed"]
    drop = brand_words(demo_config.brand(a["brand"]))
    for t in why["terms"]:
        assert t["count"] == sum(t["term"] in terms(m["text"], drop) for m in now)
    assert sum(s["count"] for s in why["sources"]) == len(now)
    assert 0 < why["tone"]["negative_now"] <= 1 and 0 < why["tone"]["negative_baseline"] <= 1


def test_examples_cover_the_rising_terms(explained):
    for a in surge(explained):
        why = a["explanation"]
        shown = {t for m in why["examples"] for t in m["terms"]}
        assert [t["term"] for t in why["terms"][:1]][0] in shown
        assert all(m["copies"] >= 1 for m in why["examples"])


def test_the_explanation_is_in_the_json(explained):
    text = json.dumps(explained)
    back = json.loads(text)
    assert back[0]["explanation"]["terms"] and back[0]["explanation"]["examples"]


def test_the_email_says_why(airline_store, demo_config):
    from listening.alerts import replay
    from listening.alerts.explain import attach
    from listening.notify.mail import render_alert

    alert = next(a for a in replay(airline_store, demo_config, START, END).alerts
                 if a["brand"] == "Southwest" and (a["issue"] or "").startswith("Cancel"))
    why = attach(airline_store, demo_config, alert)
    msg = render_alert(airline_store, demo_config, alert, to=["ops-lead@example.com"], key="k")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    top = why["terms"][0]
    assert "Why it is spiking" in text and f"{top['term']}: {top['count']} / {top['expected']:.1f}" in text
    assert "Why it is spiking" in html and f"<td style=\"padding:2px 12px 2px 0;\">{top['term']}</td>" in html
    for m in why["examples"]:
        assert m["text"] in text  # every example, once, as the explanation chose them
        assert text.count(m["text"]) == 1


def test_the_alerts_page_shows_why(airline_store, demo_config, store_env):
    """The page reads the stored explanation (the page's own store holds just this alert)."""
    from streamlit.testing.v1 import AppTest

    from listening.alerts import replay
    from listening.alerts.explain import attach
    from listening.app.serve import ENTRY

    alert = next(a for a in replay(airline_store, demo_config, START, END).alerts
                 if a["brand"] == "US Airways" and (a["issue"] or "").startswith("Cancel"))
    why = attach(airline_store, demo_config, alert)
    alert.update(status="open", resolved_at=None, resolved_by=None, open_key=alert["key"])  # listed first
    store_env.alerts.insert(alert)
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page("views/alerts.py").run()
    assert not at.exception, at.exception
    assert any(m.value == "**Why it is spiking**" for m in at.markdown)
    frames = [f.value for f in at.dataframe]
    terms = next(v for v in frames if "rising term" in v.columns)
    assert list(terms["rising term"]) == [t["term"] for t in why["terms"]]
    shown = next(v for v in frames if "copies" in v.columns)
    assert list(shown["text"]) == [m["text"] for m in why["examples"]]


def test_the_backtest_table_groups_each_rules_firings_with_why(explained):
    from listening.alerts import table
    from listening.notify.channels.text import reason

    out = table(explained)
    rules = list(dict.fromkeys(a["rule"] for a in explained))
    assert [line.split(":")[0] for line in out.splitlines() if line.endswith(("alert", "alerts"))] == rules
    assert out.count("\n  why: rising ") == len(explained)
    southwest = next(a for a in surge(explained) if a["brand"] == "Southwest")
    assert f"  why: {reason(southwest['explanation'])}" in out


def test_the_alerts_page_replays_the_backtest_with_why(airline_store, store_env, monkeypatch):
    """The page's Backtest expander on the airline tweets (the page reads that store)."""
    from streamlit.testing.v1 import AppTest

    from listening.app.serve import ENTRY

    monkeypatch.setenv("LISTENING_DB", airline_store.db.name)
    at = AppTest.from_file(str(ENTRY), default_timeout=180).run()
    at.switch_page("views/alerts.py").run()
    at.toggle(key="alerts_backtest").set_value(True).run()
    assert not at.exception, at.exception
    frames = [f.value for f in at.dataframe if "why" in f.value.columns]
    assert frames and all(w.startswith("rising ") for f in frames for w in f["why"])
    assert any("incidents" in c.value for c in at.code)  # the weekly budget
    assert any(m.value == "**Why it is spiking**" for m in at.markdown)  # one firing explained
