"""Fast checks of the detection parts on synthetic numpy series (no store)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from listening.alerts.baseline import cumulative, expect
from listening.alerts.coverage import guard, source_inclusion
from listening.alerts.detect import Finding
from listening.alerts.lifecycle import Book
from listening.config import AlertRule

UTC = timezone.utc
DAYS = 21
H = DAYS * 24


def diurnal(rng, level_per_hour: float, hours: int = H) -> np.ndarray:
    t = np.arange(hours)
    return rng.poisson(level_per_hour * (1 + 0.8 * np.sin(2 * np.pi * ((t % 24) - 9) / 24))).astype(float)


def common(**kw):
    return dict(window=6, baseline_days=14, min_history_days=3, seasonal_after_days=14, **kw)


def run_guard(tot, ends, gaps=None, resumed=None, jump=10.0):
    gaps = np.zeros(tot.shape[1], bool) if gaps is None else gaps
    resumed = np.zeros(tot.shape[1], bool) if resumed is None else resumed
    return guard(tot, gaps, resumed, ends, coverage_jump=jump, **common())


def test_expected_follows_the_time_of_day_and_ignores_an_old_spike():
    rng = np.random.default_rng(1)
    tot = diurnal(rng, 20)[None]
    x = diurnal(rng, 1)[None]
    x[0, 5 * 24:5 * 24 + 12] += 30                     # an old incident in the baseline
    ends = np.arange(16 * 24, H + 1)
    inc = np.ones((1, len(ends)), bool)
    e = expect(cumulative(x), cumulative(tot), inc, cumulative(np.zeros((1, H))), ends,
               floor_per_day=1.0, **{k: v for k, v in common().items() if k != "min_history_days"})
    assert np.all(e.seasonal)                          # two weeks covered: hour-of-week profile
    assert 4 < np.median(e.expected) < 8               # ~6 per 6 h, not inflated by the old spike
    peak = e.expected[(ends % 24) == 15].mean()        # the window over the busy hours
    trough = e.expected[(ends % 24) == 3].mean()
    assert peak > 2 * trough


def test_collection_start_is_guarded_but_a_real_rise_is_not():
    rng = np.random.default_rng(2)
    steady = diurnal(rng, 10)
    started = np.concatenate([rng.poisson(0.05, 10 * 24), diurnal(rng, 40, H - 10 * 24)]).astype(float)
    ends = np.arange(9 * 24, H + 1)
    g_start = run_guard(started[None], ends)
    first = ends[[i for i, r in enumerate(g_start.reason) if "collection" in r][0]]
    assert 10 * 24 <= first <= 10 * 24 + 2             # trips in the first buckets of the jump
    held = g_start.reason[(ends > 10 * 24) & (ends < 13 * 24)]
    assert all(held)                                   # ...and holds while there is no new history
    assert not any(g_start.reason[ends >= 15 * 24])    # then the new level is the baseline
    inc = source_inclusion(started[None], ends, 6, 3)
    e = expect(cumulative(started[None]), cumulative(started[None]), inc, cumulative(np.zeros((1, H))),
               ends, window=6, baseline_days=14, floor_per_day=1.0, seasonal_after_days=14,
               level_shift=10.0)
    assert (e.observed / e.expected)[ends >= 15 * 24].max() < 2
    rise = steady.copy()
    rise[15 * 24:16 * 24] *= 2.5                       # a storm: everything up 2.5x
    g_rise = run_guard(rise[None], ends)
    assert not any("collection" in r for r in g_rise.reason)


def test_no_history_and_resumed_collection_are_guarded():
    rng = np.random.default_rng(3)
    tot = diurnal(rng, 10)[None]
    early = run_guard(tot, np.arange(30, 60))
    assert all(r.startswith("no history") for r in early.reason)
    gaps = np.zeros(H, bool)
    gaps[12 * 24:14 * 24] = True
    resumed = np.zeros(H, bool)
    resumed[14 * 24] = True
    g = run_guard(tot, np.arange(14 * 24, 16 * 24), gaps, resumed)
    assert g.reason[5].startswith("collection resumed") and g.reason[-1] == ""


def test_a_young_source_counts_only_once_it_has_history():
    tot = np.zeros((2, H))
    tot[0] = 5
    tot[1, 10 * 24:] = 50                              # a new feed from day 10
    inc = source_inclusion(tot, np.array([10 * 24 + 6, 12 * 24, H]), 6, 3)  # half the history: counts
    assert inc[0].all()
    assert inc[1].tolist() == [False, False, True]


def finding(t, observed=20.0, severity="high"):
    return Finding("r", "issue_negative", "B", "Delay", t - timedelta(hours=6), t,
                   observed, 2.0, 9.0, severity)


def test_book_grows_one_incident_resolves_after_quiet_buckets_and_cools_down():
    rule = AlertRule(name="r", resolve_after_quiet=3, cooldown_hours=12)
    book = Book({"r": rule})
    t0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    dept = lambda f: "Operations"  # noqa: E731
    assert len(book.step(t0, [finding(t0, 10)], dept).opened) == 1
    assert len(book.step(t0 + hour, [finding(t0 + hour, 30)], dept).grown) == 1
    assert not book.step(t0 + 2 * hour, [], dept).resolved
    assert not book.step(t0 + 3 * hour, [], dept).resolved
    done = book.step(t0 + 4 * hour, [], dept).resolved
    assert len(done) == 1 and done[0]["observed"] == 30 and done[0]["peak_at"] == t0 + hour
    assert done[0]["buckets"] == 2 and done[0]["resolved_by"] == "auto"
    back = book.step(t0 + 6 * hour, [finding(t0 + 6 * hour, 40)], dept).reopened  # within the cooldown
    assert back and back[0]["_id"] == done[0]["_id"] and back[0]["observed"] == 40
    book.step(t0 + 9 * hour, [], dept)
    assert book.step(t0 + 22 * hour, [finding(t0 + 22 * hour)], dept).opened  # after it


@pytest.mark.parametrize("kind", ["issue_negative", "brand_negative", "sentiment_shift"])
def test_builtin_rules_are_registered(kind):
    from listening.alerts import RULES

    assert kind in RULES


def test_public_api():
    """What the CLI, scheduler and dashboard import; changing it breaks them."""
    import listening.alerts as alerts
    from listening.alerts import manage
    from listening.notify.mail import send_digests  # noqa: F401
    from listening.notify.channels import flush as post  # noqa: F401
    from listening.notify.outbox import flush  # noqa: F401

    assert sorted(alerts.__all__) == ["RULES", "acknowledge", "as_json", "backtest", "budget", "check",
                                      "register", "replay", "resolve", "table"]
    assert all(hasattr(alerts, name) for name in alerts.__all__)
    assert issubclass(manage.AlertStateError, ValueError)


def test_pauses_between_collection_runs_become_gaps():
    from listening.alerts.frame import Frame

    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    frame = Frame(t0, 48)
    runs = [{"started_at": t0 + timedelta(hours=h), "finished_at": t0 + timedelta(hours=h, minutes=5)}
            for h in (0, 1, 2, 20, 21)]                 # crawls stop after 02:05, resume at 20:00
    frame.mark_gaps(runs, max_gap_hours=6)
    assert frame.gaps[3:21].all() and not frame.gaps[:2].any() and not frame.gaps[22:].any()
    assert np.flatnonzero(frame.resumed).tolist() == [20]


def test_an_unknown_rule_kind_fails_with_the_rules_name(demo_config):
    from listening.alerts.detect import enabled_rules
    from listening.config import parse_config

    raw = demo_config.model_dump(exclude_none=True)
    raw["alerts"] = {"rules": [{"name": "typo", "kind": "issue_negativ"}]}
    with pytest.raises(ValueError, match="typo.*issue_negativ"):
        enabled_rules(parse_config(raw))
