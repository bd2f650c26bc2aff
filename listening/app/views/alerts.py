"""Alerts: open, acknowledged and resolved spikes; acknowledge and resolve with who and when.

An alert's detail shows why it fired (observed against the rule's baseline band), the
mentions behind it and the e-mails it sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from listening.alerts import explain
from listening.app import common as d
from listening.app import mention
from listening.notify.mail import day
from listening.store.feed import FeedFilter

SEVERITY = {"high": "HIGH", "medium": "medium", "low": "low"}
STATUSES = ("open", "acknowledged", "resolved")


@st.cache_data(ttl=15, show_spinner=False)
def alerts(key: str, since: datetime | None, until: datetime) -> list[dict]:
    """Every unresolved alert (they need someone, whatever the window) plus the window's resolved ones."""
    repo = d.store(key).alerts
    unresolved = repo.open_alerts()
    seen = {a["_id"] for a in unresolved}
    window = repo.between(since, until) if since and hasattr(repo, "between") else []
    return unresolved + [a for a in window if a["_id"] not in seen and a.get("status") == "resolved"]


@st.cache_data(ttl=60, show_spinner=False)
def band(key: str, alert_id: str) -> pd.DataFrame:
    """Observed against the rule's expected value and band, hour by hour around the alert.

    Built with the alert engine itself (``listening.alerts``), so it shows what the rule saw;
    falls back to the alert's own history when the engine cannot rebuild it.
    """
    store, cfg = d.store(key), d.config()
    alert = store.alerts.get(alert_id)
    try:
        series = explain.band(store, cfg, alert)
        if series is None:
            raise LookupError("no series for this key")
        return pd.DataFrame(series)
    except Exception:  # the engine changed or lacks data: show what the alert recorded
        points = alert.get("history") or [{"at": alert["opened_at"], "observed": alert["observed"],
                                           "expected": alert["expected"]}]
        return pd.DataFrame([{"time": p["at"], "observed": p["observed"], "expected": p["expected"],
                              "low": p["expected"], "high": p["expected"]} for p in points])


@st.cache_data(ttl=60, show_spinner=False)
def spiking(key: str, alert_id: str) -> dict | None:
    """Why it is spiking: the explanation stored with the alert, or computed now for older alerts."""
    store = d.store(key)
    alert = store.alerts.get(alert_id)
    return alert.get("explanation") or explain.attach(store, d.config(), alert)


def show_gap(alert: dict, why: dict | None) -> None:
    """A search_gap alert: weekly share of voice and of search, and the gap against its usual range."""
    gap = (why or {}).get("search_gap")
    if not gap:
        st.caption("This alert has no weekly series to show (its explanation could not be computed).")
        return
    usual = gap["usual"]
    st.markdown("**Why it moved**")
    st.caption(d.plain(
        f"In the week from {why['window']['start'][:10]}, {alert['brand']} had {gap['share_of_voice']:.1%} of the "
        f"{gap['category']} mentions ({gap['brand_mentions']} of {why['window']['mentions']}) and "
        f"{gap['share_of_search']:.1%} of its Google searches ({gap['share_of_search_lo']:.1%} to "
        f"{gap['share_of_search_hi']:.1%}): {gap['direction']}. Gap {100 * gap['gap']:+.1f} points; the "
        f"{why['baseline']['weeks']} weeks before put it at {100 * usual['median']:+.1f} "
        f"(usual range {100 * usual['low']:+.1f} to {100 * usual['high']:+.1f}). Share of search tends to lead "
        "market share (Binet): searched for more than talked about is demand the brand is gaining."))
    weeks = pd.DataFrame(gap["series"]).assign(date=lambda f: pd.to_datetime(f["date"]))
    shares = weeks.melt(id_vars="date", value_vars=["share_of_voice", "share_of_search"], var_name="share",
                        value_name="value").replace({"share_of_voice": "share of voice",
                                                     "share_of_search": "share of search"})
    top = alt.Chart(shares).mark_line(point=True).encode(
        x=alt.X("date:T", title=None), y=alt.Y("value:Q", title="share of category", axis=alt.Axis(format="%")),
        color=alt.Color("share:N", title=None), tooltip=["date:T", "share:N", alt.Tooltip("value:Q", format=".1%")])
    band = alt.Chart(pd.DataFrame({"low": [usual["low"]], "high": [usual["high"]]})).mark_rect(
        color="#9ecae1", opacity=0.4).encode(y="low:Q", y2="high:Q")
    line = alt.Chart(weeks).mark_line(point=True, color="#222222").encode(
        x=alt.X("date:T", title=None), y=alt.Y("gap:Q", title="gap (voice - search)", axis=alt.Axis(format="+%")),
        tooltip=["date:T", alt.Tooltip("gap:Q", format="+.1%")])
    st.altair_chart(alt.vconcat(top.properties(height=160), alt.layer(band, line).properties(height=140)),
                    width="stretch")
    st.caption("Top: the brand's weekly share of its category's mentions and of its searches. Bottom: the gap; "
               "blue: its usual range (the rule fires outside it).")


def show_spiking(why: dict, prefix: str = "alerts") -> None:
    """Rising terms, where they come from, tone and examples; mention text only in tables (as text)."""
    st.markdown("**Why it is spiking**")
    tone = why["tone"]
    st.caption(f"{why['window']['mentions']} mentions in the window against {why['baseline']['mentions']} in the "
               f"baseline from {day(why['baseline']['start'])} to {day(why['baseline']['end'])}."
               + ("" if tone["negative_now"] is None or tone["negative_baseline"] is None else
                  f" Negative share {tone['negative_now']:.0%} now, {tone['negative_baseline']:.0%} in the baseline."))
    terms, where = st.columns([1, 1])
    terms.dataframe(pd.DataFrame(why["terms"], columns=["term", "count", "expected"]).rename(
        columns={"term": "rising term", "count": "now"}), hide_index=True, width="stretch", key=f"{prefix}_terms")
    where.dataframe(pd.DataFrame(
        [{"from": kind, "name": r["name"], "mentions": r["count"], "share": r["share"],
          "baseline share": r["baseline_share"], "many posts": r.get("many", False)}
         for kind in ("sources", "authors", "languages") for r in why[kind]]),
        hide_index=True, width="stretch", key=f"{prefix}_where",
        column_config={"share": st.column_config.NumberColumn(format="percent"),
                       "baseline share": st.column_config.NumberColumn(format="percent")})
    if why["examples"]:
        st.dataframe(pd.DataFrame([{"when": m["when"][:16].replace("T", " "), "copies": m["copies"],
                                    "author": m["author"], "text": m["text"], "shows": ", ".join(m["terms"]),
                                    "link": m["link"]} for m in why["examples"]]),
                     hide_index=True, width="stretch", key=f"{prefix}_examples", column_config={
                         "text": st.column_config.TextColumn(width="large"),
                         "link": st.column_config.LinkColumn(display_text="open")})


@st.cache_data(ttl=60, show_spinner=False)
def evidence(key: str, alert_id: str) -> list[dict]:
    """The mentions behind the alert: its brand (and issue), negative, in its window, newest first."""
    store = d.store(key)
    alert = store.alerts.get(alert_id)
    start = alert.get("window_start") or alert["opened_at"] - timedelta(hours=alert.get("window_hours") or 6)
    end = (alert.get("window_end") or alert["opened_at"]) + timedelta(hours=1)
    issue = alert.get("issue")
    flt = FeedFilter(brands=(alert["brand"],), issues=(issue,) if issue and issue != "*" else (),
                     labels=() if alert.get("kind") in ("sentiment_shift", "search_gap") else ("negative",))
    return store.feed.newest(flt, since=start, until=end, limit=d.config().alerts.examples or 5).mentions


@st.cache_data(ttl=60, show_spinner=False)
def counts(key: str, alert_id: str) -> pd.DataFrame:
    """The alert's key hour by hour around it, and its observed window sum (cheap: one issue's cells)."""
    store = d.store(key)
    alert = store.alerts.get(alert_id)
    hours = alert.get("window_hours") or 6
    # two days before it opened to half a day past its last firing (an alert may fire for days)
    start = alert["opened_at"] - timedelta(days=2)
    end = max(alert["opened_at"], alert.get("window_end") or alert["opened_at"]) + timedelta(hours=12)
    label = None if alert.get("kind") == "sentiment_shift" else "negative"
    got = dict(store.daily.hourly(alert["brand"], alert.get("issue"), label, start - timedelta(hours=hours), end))
    times = pd.date_range(start, end, freq="h", inclusive="left")
    per_hour = pd.Series([got.get(t.to_pydatetime(), 0) for t in
                          pd.date_range(start - timedelta(hours=hours), end, freq="h", inclusive="left")])
    observed = per_hour.rolling(hours, min_periods=1).sum().iloc[hours:].to_numpy()
    return pd.DataFrame({"hour": times, "time": times + timedelta(hours=1),
                         "mentions": per_hour.iloc[hours:].to_numpy(), "observed": observed})


@st.cache_data(ttl=30, show_spinner=False)
def emails(key: str, alert_id: str) -> list[dict]:
    outbox = getattr(d.store(key), "outbox", None)
    if outbox is None:
        return []
    return [m for m in outbox.recent(limit=500) if m.get("ref") == alert_id
            or str(m.get("_id", "")).startswith(f"alert:{alert_id}")]


def show_hourly(key: str, chosen: str, alert: dict) -> None:
    """Mentions per hour around the alert, its observed window, and (on demand) the rule's band."""
    hourly = counts(key, chosen)
    hours = alert.get("window_hours")
    history = alert.get("history") or []
    # Only the firings on the window the black line sums: a 6 h firing's expectation beside a 24 h sum misleads.
    points = pd.DataFrame([{"time": p["at"], "expected": p["expected"], "observed": p["observed"]}
                           for p in history if p.get("window_hours", hours) == hours])
    others = sorted({p["window_hours"] for p in history if p.get("window_hours", hours) != hours})
    layers = [
        alt.Chart(hourly).mark_bar(color="#999999", opacity=0.6).encode(
            x=alt.X("hour:T", title=None, axis=alt.Axis(format="%d %b %H:%M", labelOverlap=True)), x2="time:T", y=alt.Y("mentions:Q", title="mentions"), y2=alt.datum(0),
            tooltip=[alt.Tooltip("hour:T", format="%d %b %H:%M"), "mentions:Q"]),
        alt.Chart(hourly).mark_line(color="#222222", interpolate="step-after").encode(
            x="time:T", y="observed:Q",
            tooltip=["time:T", alt.Tooltip("observed:Q", title=f"observed ({hours or '?'} h)")]),
        alt.Chart(pd.DataFrame({"t": [alert["opened_at"]]})).mark_rule(color="#e6550d", strokeWidth=2).encode(x="t:T"),
    ]
    if not points.empty:
        layers.append(alt.Chart(points).mark_point(color="#3182bd", shape="diamond", size=70, filled=True).encode(
            x="time:T", y="expected:Q", tooltip=["time:T", alt.Tooltip("expected:Q", format=".1f"), "observed:Q"]))
    st.altair_chart(alt.layer(*layers).properties(height=240), width="stretch")
    n = len(history) - len(points)  # the firings on the other windows
    also = (f" (it also fired {'once' if n == 1 else f'{n} times'} on its "
            f"{' and '.join(f'{h} h' for h in others)} window, not drawn)") if others else ""
    st.caption(f"Grey: mentions per hour. Black: observed, the rule's {hours or '?'} h window. "
               f"Blue diamonds: what the baseline expected each time the rule fired on that window{also}. "
               "Orange: when the alert opened.")
    if st.toggle("Show the rule's baseline band (recomputes the rule: slower on big stores)", key="alerts_band"):
        series = band(key, chosen)
        base = alt.Chart(series).encode(x=alt.X("time:T", title=None))
        chart = alt.layer(
            base.mark_area(opacity=0.3, color="#9ecae1").encode(y=alt.Y("low:Q", title="mentions in the window"),
                                                                y2="high:Q"),
            base.mark_line(color="#3182bd", strokeDash=[4, 3]).encode(y="expected:Q"),
            base.mark_line(color="#222222").encode(y="observed:Q", tooltip=["time:T", "observed:Q",
                                                                            alt.Tooltip("expected:Q", format=".1f")]),
            alt.Chart(pd.DataFrame({"t": [alert["opened_at"]]})).mark_rule(color="#e6550d", strokeWidth=2).encode(x="t:T"),
        ).properties(height=240)
        st.altair_chart(chart, width="stretch")
        st.caption(f"In the alert's own {hours or '?'} h window. Black: observed. Dashed: "
                   "expected. Blue band: the baseline's spread up to where the rule fires.")


@st.cache_data(ttl=300, show_spinner="Replaying the rules...")
def replayed(key: str, start: datetime, end: datetime) -> tuple[list[dict], str]:
    """``alerts --backtest``: what the rules would have opened in the period, each with why, and
    the weekly budget (alerts per department, e-mails per recipient, raw and grouped)."""
    from listening.alerts.backtest import backtest, budget

    found = backtest(d.store(key), d.config(), start, end)
    return found, budget(found, d.config())


def show_backtest(key: str, window) -> None:
    """Each rule's firings over a period, with why each fired, as ``alerts --backtest`` prints them."""
    from listening.notify.channels.text import reason

    with st.expander("Backtest: what the rules would have sent, and why"):
        end = window.until
        start = window.since or end - timedelta(days=7)
        st.caption(f"Replays {start:%d %b %Y %H:%M} to {end:%d %b %Y %H:%M} UTC (the time range in the sidebar) "
                   "through the same rules, in memory: nothing is stored or sent.")
        if not st.toggle("Run the backtest", key="alerts_backtest"):
            return
        found, weekly = replayed(key, start, end)
        st.code(weekly or "No alerts in this period.", language=None)
        for rule in dict.fromkeys(a["rule"] for a in found):
            mine = [a for a in found if a["rule"] == rule]
            st.markdown(f"**{d.plain(rule)}**: {len(mine)} alert{'s' * (len(mine) != 1)}")
            st.dataframe(pd.DataFrame([{
                "opened": a["opened_at"][:16].replace("T", " "), "brand": a["brand"],
                "issue": a["issue"] or "all mentions", "severity": a["severity"], "why": reason(a["explanation"]),
                "department": a["department"], "incident": a["incident"]} for a in mine]),
                hide_index=True, width="stretch", key=f"alerts_backtest_{rule}",
                column_config={"why": st.column_config.TextColumn(width="large")})
        if found:
            pick = st.selectbox("Explain one", range(len(found)), key="alerts_backtest_pick", format_func=lambda i: (
                f"{found[i]['rule']} · {found[i]['brand']} · {found[i]['issue'] or 'all mentions'} · "
                f"{found[i]['opened_at'][:16].replace('T', ' ')}"))
            picked = found[pick]
            if picked.get("kind") == "search_gap":
                show_gap(picked, picked["explanation"])
            elif picked["explanation"]:
                show_spiking(picked["explanation"], prefix="alerts_backtest")


def act(action: str, alert_id: str) -> None:
    """Acknowledge or resolve through the alert engine's lifecycle, recording who.

    A button callback (it runs before the page), so the selection stays on the alert
    acted on and its label shows the new status on the same run.
    """
    from listening.alerts import manage

    try:
        getattr(manage, action)(d.store(), alert_id, d.who())
        st.toast(f"{action.capitalize()}d by {d.who()}")
    except manage.AlertStateError as exc:
        st.toast(str(exc))
    alerts.clear()
    st.session_state["alerts_pick"] = alert_id


def follow_link(by_id: dict) -> None:
    """``/alerts?alert=ID`` (the e-mails' link) selects that alert, whatever the window."""
    linked = st.query_params.get("alert")
    if not linked or st.session_state.get("alerts_linked") == linked:
        return
    st.session_state["alerts_linked"] = linked
    found = by_id.get(linked) or d.store().alerts.get(linked)
    if found is None:
        st.warning(f"No alert {linked!r} in this store: showing the newest instead.")
        return
    by_id.setdefault(linked, found)
    st.session_state["alerts_pick"] = linked


def label(a: dict) -> str:
    return (f"{SEVERITY.get(a.get('severity'), a.get('severity'))} · {a['brand']} · "
            f"{a.get('issue') or 'all mentions'} · {a['opened_at']:%d %b %H:%M} · {a['status']}")


st.title("Alerts")
window = d.window_picker("alerts")
key = d.db_key()
rows = alerts(key, window.since, window.until)
by_status = {s: [a for a in rows if a.get("status") == s] for s in STATUSES}

a, b, c = st.columns(3)
a.metric("Open", len(by_status["open"]), help="Nobody has acknowledged these yet.")
b.metric("Acknowledged", len(by_status["acknowledged"]))
c.metric("Resolved in the window", len(by_status["resolved"]))

show_backtest(key, window)
by_id = {x["_id"]: x for x in rows}
follow_link(by_id)
rows = list(by_id.values())
if not rows:
    st.info("No alerts. Rules run with `listening alerts` (or on schedule with `listening schedule`); "
            "`listening alerts --backtest FROM TO` shows what they would have caught.")
    st.stop()

table = pd.DataFrame([{
    "status": x["status"], "severity": SEVERITY.get(x.get("severity"), x.get("severity")), "brand": x["brand"],
    "issue": x.get("issue") or "all mentions", "rule": x["rule"], "opened": x["opened_at"],
    "observed": x.get("observed"), "expected": x.get("expected"), "department": x.get("department"),
    "acknowledged by": x.get("acknowledged_by") or "", "resolved by": x.get("resolved_by") or "",
} for x in rows])
d.csv_download(table, "alerts", "alerts_csv")
st.dataframe(table, hide_index=True, width="stretch", key="alerts_table", column_config={
    "opened": st.column_config.DatetimeColumn("opened (UTC)", format="D MMM YYYY HH:mm"),
    "expected": st.column_config.NumberColumn(format="%.1f")})

if st.session_state.get("alerts_pick") not in by_id:
    st.session_state.pop("alerts_pick", None)
chosen = st.selectbox("Alert", list(by_id), key="alerts_pick", format_func=lambda i: label(by_id[i]))
alert = d.store(key).alerts.get(chosen) or by_id[chosen]
st.query_params["alert"] = chosen  # the address bar is a link to what is shown
st.session_state["alerts_linked"] = chosen

st.subheader(d.plain(f"{alert['brand']} · {alert.get('issue') or 'all mentions'}"))  # config names: text
if alert.get("kind") == "search_gap":
    st.caption(f"Rule {alert['rule']}: share of voice minus share of search {100 * alert['observed']:+.1f} points "
               f"in the week, usually {100 * alert['expected']:+.1f} (score {alert.get('score') or 0:.1f}); "
               f"department {d.plain(alert.get('department') or '–')}.")
else:
    st.caption(f"Rule {alert['rule']}: {alert.get('observed', 0):.0f} mentions in {alert.get('window_hours', '?')} h "
               f"against {alert.get('expected', 0):.1f} expected (score {alert.get('score') or 0:.1f}); "
               f"department {d.plain(alert.get('department') or '–')}.")
left, right, state = st.columns([1, 1, 3])
if alert["status"] == "open":
    left.button("Acknowledge", type="primary", key="alerts_ack", on_click=act, args=("acknowledge", chosen))
if alert["status"] in ("open", "acknowledged"):
    right.button("Resolve", key="alerts_resolve", on_click=act, args=("resolve", chosen))
who_when = [f"{verb} by **{d.plain(alert.get(f'{field}_by'))}** at {alert[f'{field}_at']:%d %b %Y %H:%M} UTC"
            for verb, field in (("Acknowledged", "acknowledged"), ("Resolved", "resolved"))
            if alert.get(f"{field}_at")]
state.markdown("  \n".join(who_when) or f"Status: **{alert['status']}**")

if alert.get("kind") == "search_gap":
    show_gap(alert, spiking(key, chosen))
else:
    show_hourly(key, chosen, alert)

st.markdown("**Evidence**")
examples = evidence(key, chosen)
if examples:
    evidence_frame = pd.DataFrame([{"published": m["published_at"], "author": m.get("author") or "",
                                    "text": m.get("text") or "", "link": mention.link(m)} for m in examples])
    d.csv_download(evidence_frame, "alert-evidence", "evidence_csv")
    st.dataframe(evidence_frame,
                 hide_index=True, width="stretch", key="alerts_evidence", column_config={
                     "published": st.column_config.DatetimeColumn(format="D MMM HH:mm"),
                     "text": st.column_config.TextColumn(width="large"),
                     "link": st.column_config.LinkColumn(display_text="open")})
else:
    st.caption("No example mentions found in the alert's window.")

why = spiking(key, chosen)
if why and alert.get("kind") != "search_gap":
    show_spiking(why)

st.markdown("**E-mails**")
sent = emails(key, chosen)
if sent:
    st.dataframe(pd.DataFrame([{"subject": m.get("subject"), "to": ", ".join(m.get("to") or ()),
                                "status": m.get("status"), "queued": m.get("created_at"),
                                "sent": m.get("sent_at"), "attempts": m.get("attempts"),
                                "error": m.get("last_error")} for m in sent]),
                 hide_index=True, width="stretch", key="alerts_emails")
else:
    st.caption("No e-mail queued for this alert in the last 7 days (`listening send` sends queued mail).")
if alert.get("events"):
    with st.expander("History"):
        st.dataframe(pd.DataFrame(alert["events"]), hide_index=True, width="stretch")
