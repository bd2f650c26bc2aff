"""Voice and sentiment: share of voice, net sentiment over time, and the issues per brand."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from listening.app import common as d
from listening.app import mention
from listening.metrics import voice as metrics
from listening.store.feed import FeedFilter

SAMPLE = 300  # the newest mentions asked which method scored them


@st.cache_data(ttl=60, show_spinner=False)
def trend(key: str, since: datetime | None, until: datetime, bucket: str) -> list[dict]:
    return metrics.sentiment_trend(d.store(key), d.config(), since=since, until=until, bucket=bucket)


@st.cache_data(ttl=60, show_spinner=False)
def issues(key: str, since: datetime | None, until: datetime, brand_totals: dict[str, int]) -> list[dict]:
    return metrics.issue_breakdown(d.store(key), d.config(), since=since, until=until,
                                   brand_totals=brand_totals)


def summary_table(summary: dict[str, dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "brand": name, "mentions": s["mentions"], "share of voice": s["share_of_voice"],
        "positive": s["sentiment"]["positive"], "neutral": s["sentiment"]["neutral"],
        "negative": s["sentiment"]["negative"], "net sentiment": s["net_sentiment"],
    } for name, s in sorted(summary.items(), key=lambda kv: -kv[1]["mentions"])])


st.title("Voice and sentiment")
window = d.window_picker("voice")
key = d.db_key()
bucket = metrics.bucket_for(d.since_or_first(window), window.until)
rows = trend(key, window.since, window.until, bucket)
summary = metrics.voice_summary(rows, d.config())
table = summary_table(summary)
total = int(table["mentions"].sum()) if len(table) else 0

if total == 0:
    st.info("No mentions of the configured brands in this window. Widen the time range, or "
            "collect some: `listening crawl`, `listening import FILE` or `listening demo`.")
    st.stop()

a, b, c = st.columns(3)
a.metric("Mentions of all brands", f"{total:,}")
leader = table.iloc[0]
b.metric("Loudest brand", leader["brand"], f"{leader['share of voice']:.0%} share of voice",
         delta_color="off", delta_arrow="off")
weighted = (table["net sentiment"] * table["mentions"]).sum() / total
c.metric("Net sentiment, all brands", f"{weighted:+.2f}", help="(positive − negative) / mentions, from −1 to +1")

left, right = st.columns(2)
with left:
    st.subheader("Share of voice")
    sov = alt.Chart(table).mark_bar().encode(
        x=alt.X("share of voice:Q", axis=alt.Axis(format="%"), title=None),
        y=alt.Y("brand:N", sort="-x", title=None), color=d.brand_colour(legend=False),
        tooltip=["brand", "mentions", alt.Tooltip("share of voice:Q", format=".1%")],
    ).properties(height=40 * len(table) + 20)
    st.altair_chart(sov, width="stretch")
with right:
    st.subheader("Sentiment split")
    split = table.melt(id_vars=["brand"], value_vars=["positive", "neutral", "negative"],
                       var_name="sentiment", value_name="share")
    bars = alt.Chart(split).mark_bar().encode(
        x=alt.X("share:Q", stack="normalize", axis=alt.Axis(format="%"), title=None),
        y=alt.Y("brand:N", sort=list(table["brand"]), title=None),
        color=alt.Color("sentiment:N", sort=list(d.COLOURS),
                        scale=alt.Scale(domain=list(d.COLOURS), range=list(d.COLOURS.values()))),
        order=alt.Order("sentiment_order:Q"),
        tooltip=["brand", "sentiment", alt.Tooltip("share:Q", format=".0%")],
    ).transform_calculate(
        sentiment_order="indexof(['positive','neutral','negative'], datum.sentiment)",
    ).properties(height=40 * len(table) + 20)
    st.altair_chart(bars, width="stretch")
    first, last = d.data_bounds(window)
    sample = d.newest(key, FeedFilter(), first, last, SAMPLE).mentions
    st.caption(f"Sentiment scored by {mention.methods(sample)}: the newest {len(sample):,} mentions of the window.")

st.dataframe(table, hide_index=True, width="stretch", key="voice_table", column_config={
    col: st.column_config.NumberColumn(col, format="percent")
    for col in ("share of voice", "positive", "neutral", "negative")
} | {"net sentiment": st.column_config.NumberColumn("net sentiment", format="%+.2f")})

st.subheader(f"Net sentiment per {bucket}")
series = pd.DataFrame(rows)
line = alt.Chart(series).mark_line(point=True, clip=True).encode(
    x=d.time_x(window),
    y=alt.Y("net_sentiment:Q", title="net sentiment", scale=alt.Scale(domain=[-1, 1])),
    color=d.brand_colour(series["brand"].unique() if not series.empty else ()),
    tooltip=["brand", "time:T", "mentions", alt.Tooltip("net_sentiment:Q", format="+.2f")],
)
zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(strokeDash=[4, 4], color="#777").encode(y="y:Q")
st.altair_chart(line + zero, width="stretch")
st.caption("Net sentiment = (positive − negative) / mentions. Points with few mentions swing widely: "
           "hover for the count.")

st.subheader("Issues per brand")
breakdown = pd.DataFrame(issues(key, window.since, window.until,
                                {name: s["mentions"] for name, s in summary.items()}))
if breakdown.empty:
    st.info("No mention in this window raises a known issue. The issue taxonomy is in the config "
            "(`issues:`) or the built-in one.")
else:
    heat = alt.Chart(breakdown).mark_rect().encode(
        x=alt.X("issue:N", title=None,
              sort=list(breakdown.groupby("issue")["mentions"].sum().sort_values(ascending=False).index)),
        y=alt.Y("brand:N", title=None),
        color=alt.Color("share:Q", title="share of the brand's mentions", scale=alt.Scale(scheme="oranges"),
                        legend=alt.Legend(format="%")),
        tooltip=["brand", "issue", "mentions", alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("negative_share:Q", title="negative", format=".0%")],
    )
    text = heat.mark_text(fontSize=11).encode(text="mentions:Q", color=alt.value("black"))
    st.altair_chart(heat + text, width="stretch")
