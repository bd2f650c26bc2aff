"""Live: the newest mentions as they arrive, filtered, searchable, refreshed in place."""

from __future__ import annotations

from datetime import datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from listening.app import common as d
from listening.app import mention
from listening.metrics import voice as metrics
from listening.store.feed import LABELS, FeedFilter

PAGE_SIZE = 25
# Mentions a text search reads to count its matches for the chart (cached 30 s): the whole demo
# week; at a million mentions 1.1 s on SecantusDB (bench: 20,000 read), where the page reads at most
# the feed's 6,000 (0.3 s).
COUNT_BUDGET = 20_000


@st.cache_data(ttl=30, show_spinner=False)
def volume(key: str, brands: tuple[str, ...], issues: tuple[str, ...], since: datetime | None,
           until: datetime, bucket: str) -> list[dict]:
    """Mentions per bucket, sentiment and source: one rollup query feeds the chart, the
    figures and the source filter's choices."""
    return metrics.volume_series(d.store(key), since=since, until=until, brands=list(brands),
                                 issues=list(issues), bucket=bucket)


@st.cache_data(ttl=30, show_spinner=False)
def text_volume(key: str, flt: FeedFilter, since: datetime, until: datetime, bucket: str) -> dict:
    """What a text search matches, counted per (bucket, label, source) like ``volume``: rollups
    know no words, so the window's mentions are scanned (at most ``COUNT_BUDGET`` of them;
    the result says how far back it got)."""
    page = d.store(key).feed.newest(flt, since=since, until=until, limit=COUNT_BUDGET, budget=COUNT_BUDGET)
    counts: dict[tuple, int] = {}
    for m in page.mentions:
        hour = m["published_at"].replace(minute=0, second=0, microsecond=0)
        cell = (metrics.bucket_start(hour, bucket), (m.get("sentiment") or {}).get("label", "neutral"),
                m.get("source"))
        counts[cell] = counts.get(cell, 0) + 1
    rows = [{"time": t, "label": label, "source": source, "count": n}
            for (t, label, source), n in sorted(counts.items(), key=lambda kv: kv[0][0])]
    # whole only when the scan reached the window's start (it stops after COUNT_BUDGET read)
    return {"rows": rows, "complete": page.reached <= since, "reached": page.reached}


def feed_table(rows: list[dict]) -> pd.DataFrame:
    """One row per mention; the text stays plain text (never HTML)."""
    return pd.DataFrame([{
        "published": m["published_at"],
        "sentiment": d.label_text(m.get("sentiment")),
        "brands": ", ".join(m.get("brands") or ()),
        "text": m.get("text") or "",
        "issues": ", ".join(m.get("issues") or ()),
        "link": mention.link(m),
        "author": m.get("author") or "",
        "source": m.get("source"),
        "scored by": mention.method(m),
    } for m in rows], columns=["published", "sentiment", "brands", "text", "issues", "link", "author",
                               "source", "scored by"])


def coloured(frame: pd.DataFrame):
    """Sentiment as colour: green, grey, red."""
    return frame.style.map(lambda label: f"color: white; background-color: {d.COLOURS.get(label, '#9e9e9e')}",
                           subset=["sentiment"])


st.title("Live")
window = d.window_picker("live")
cfg = d.config()
key = d.db_key()
if linked := st.query_params.get("mention"):
    mention.card(d.store(key).mentions.get(linked), linked)

since = d.since_or_first(window)
bucket = metrics.bucket_for(since, window.until)
c1, c2, c3, c4 = st.columns(4)
brands = tuple(c1.multiselect("Brand", [b.name for b in cfg.brands], key="live_brands"))
issues = tuple(c2.multiselect("Issue", d.issue_names(), key="live_issues"))
cells = volume(key, brands, issues, since, window.until, bucket)
known_sources = sorted({row["source"] for row in cells} | {s.name for s in cfg.sources})
flt = FeedFilter(
    brands=brands, issues=issues,
    sources=tuple(c3.multiselect("Source", known_sources, key="live_sources")),
    labels=tuple(c4.multiselect("Sentiment", list(LABELS), key="live_labels")),
    text=st.text_input("Search the text", key="live_text", placeholder="words or a phrase, e.g. lost bag"),
)
if "live_pages" not in st.session_state:
    st.session_state["live_pages"] = []  # a stack of (until, exclude) cursors for "older"
if st.session_state.get("live_last_filter") != (flt, window):
    st.session_state["live_last_filter"] = (flt, window)
    st.session_state["live_pages"] = []


def _per_bucket(series: list[dict]) -> dict:
    out: dict = {}
    for row in series:
        out[row["time"]] = out.get(row["time"], 0) + row["count"]
    return out


@st.fragment(run_every=cfg.dashboard.refresh_seconds)
def feed() -> None:
    """Re-runs on its own every few seconds: only this part of the page reloads."""
    if flt.text.strip():
        matched = text_volume(key, flt, *d.data_bounds(window), bucket)
        series = matched["rows"]
    else:
        series = [row for row in volume(key, brands, issues, since, window.until, bucket)
                  if (not flt.sources or row["source"] in flt.sources)
                  and (not flt.labels or row["label"] in flt.labels)]
    total = sum(row["count"] for row in series)
    a, b, c = st.columns(3)
    a.metric("Mentions matching the search" if flt.text.strip() else "Mentions in the window", f"{total:,}")
    negative = sum(r["count"] for r in series if r["label"] == "negative")
    b.metric("Negative", f"{negative / total:.0%}" if total else "–")
    c.metric(f"Mentions per {bucket}, peak", f"{max(_per_bucket(series).values(), default=0):,}")
    if flt.text.strip() and not matched["complete"]:
        st.caption(f"Counted the newest {COUNT_BUDGET:,} mentions of the window, back to "
                   f"{matched['reached']:%d %b %Y %H:%M} UTC: narrow the time range for a full count.")
    if series:
        frame = pd.DataFrame(series)
        frame["end"] = frame["time"] + d.BUCKET[bucket]
        chart = alt.Chart(frame).mark_bar(clip=True).encode(
            x=d.time_x(window), x2="end:T",
            y=alt.Y("sum(count):Q", title=f"mentions per {bucket}"),
            color=alt.Color("label:N", title="sentiment", sort=list(LABELS),
                            scale=alt.Scale(domain=list(LABELS), range=[d.COLOURS[x] for x in LABELS])),
            tooltip=[alt.Tooltip("time:T", title=f"{bucket} from (UTC)", format="%d %b %Y %H:%M"),
                     "label:N", alt.Tooltip("sum(count):Q", title="mentions")],
        ).properties(height=180)
        st.altair_chart(chart, width="stretch")

    pages = st.session_state["live_pages"]
    first, last = d.data_bounds(window)
    until, exclude = pages[-1] if pages else (last, ())
    page = d.newest(key, flt, first, until, PAGE_SIZE, exclude)
    rows = page.mentions
    if not page.complete:
        st.caption(f"Searched back to {page.reached:%d %b %Y %H:%M} UTC without filling the page: "
                   "press Older to keep searching.")
    if not rows and page.complete:
        if pages:
            st.info("No older mentions in this window: widen the time range.")
        elif flt != FeedFilter():
            st.info("No mention matches these filters in the window: clear a filter or widen the time range.")
        else:
            st.info("No mentions yet. Collect some with `listening crawl`, import a file with "
                    "`listening import FILE`, or load the demo with `listening demo`.")
    else:
        st.caption(f"{'Newest' if not pages else 'Older'} {len(rows)} mentions, newest first"
                   + (" (refreshes by itself)" if not pages else ""))
        d.csv_download(feed_table(rows), "live", "live_csv")
        st.dataframe(coloured(feed_table(rows)), hide_index=True, width="stretch", key="live_feed",
                     column_config={
                         "published": st.column_config.DatetimeColumn("published (UTC)", format="D MMM HH:mm"),
                         "sentiment": st.column_config.TextColumn(width="small"),
                         # px: as much text as fits with the issues and the link still on screen
                         "text": st.column_config.TextColumn("text", width=460),
                         "issues": st.column_config.TextColumn("issues", width=170),
                         "link": st.column_config.LinkColumn("link", display_text="open", width="small"),
                     })
    left, right = st.columns(2)
    if pages and left.button("← Newer", key="live_newer"):
        pages.pop()
        st.rerun(scope="fragment")
    if (len(rows) == PAGE_SIZE or not page.complete) and right.button("Older →", key="live_older"):
        last = page.reached  # the next page ends just after it, minus those shown
        pages.append((last + timedelta(milliseconds=1),
                      tuple(m["_id"] for m in rows if m["published_at"] == last)))
        st.rerun(scope="fragment")


feed()
