"""Share of search: each brand's share of its category's Google searches, with share of
voice beside it and the gap between the two."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from listening.app import common as d
from listening.metrics.export import SEARCH_COLUMNS
from listening.metrics import voice as metrics

SMOOTHING = {"auto": "auto (12 months / 4 weeks / 7 days)", "none": "none", 2: "2 buckets",
             4: "4 buckets", 8: "8 buckets", 12: "12 buckets", 26: "26 buckets"}


@st.cache_data(ttl=300, show_spinner=False)
def categories(key: str) -> list[str]:
    """Categories with search data, the ones comparing most terms first (the fullest story)."""
    repo = d.store(key).trends
    terms = {c: len({p["term"] for p in repo.points(category=c)}) for c in repo.categories()}
    return sorted(terms, key=lambda c: (-terms[c], c))


@st.cache_data(ttl=300, show_spinner=False)
def series(key: str, category: str, smoothing: str | int) -> list[dict]:
    from listening.metrics.search import share_series
    return share_series(d.store(key), category, smoothing=smoothing)  # the geo it was collected for


@st.cache_data(ttl=120, show_spinner=False)
def voice_vs_search(key: str, category: str, since: datetime | None, until: datetime) -> list[dict]:
    """``listening.metrics.search.voice_vs_search`` for one category, counting voice from the day rollups."""
    from listening.metrics.search import period_share

    cfg = d.config()
    brands = [b for b in cfg.brands if b.category == category]
    counts = {r["brand"]: r["count"] for r in metrics.rollup_totals(d.store(key))(
        ("brand",), since=since, until=until, brands=[b.name for b in brands])}
    total = sum(counts.values())
    search = period_share(d.store(key), category, since=since, until=until)
    rows = []
    for brand in brands:
        sov = counts.get(brand.name, 0) / total if total else None
        sos = search.get(brand.name, {}).get("share")
        rows.append({"brand": brand.name, "category": category, "mentions": counts.get(brand.name, 0),
                     "share_of_voice": sov, "share_of_search": sos,
                     "gap": None if sov is None or sos is None else sov - sos})
    return rows


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


st.title("Share of search")
key = d.db_key()
try:
    found = categories(key)
except Exception:  # noqa: BLE001 -- an older store without search volume
    found = []
if not found:
    d.window_picker("search", span=None)
    st.info("No search data yet: run `listening trends` to collect Google Trends volumes for the "
            "configured brands (`listening demo` loads recorded ones).")
    st.stop()

cfg = d.config()
ours = [c for c in dict.fromkeys(b.category for b in cfg.brands) if c in found]
top = st.columns([2, 2, 3])
category = top[0].selectbox("Category", ours + [c for c in found if c not in ours], key="search_category")
smoothing = top[1].selectbox("Smoothing", list(SMOOTHING), format_func=SMOOTHING.get, key="search_smoothing")
rows = pd.DataFrame(series(key, category, smoothing))
if rows.empty:
    d.window_picker("search", span=None)
    st.info(f"No complete search data for {category!r} yet: run `listening trends`.")
    st.stop()
window = d.window_picker("search", span=(rows["date"].min(), rows["date"].max()),
                         default="All time", what="search data")
rows = rows[(rows["date"] < window.until) & ((rows["date"] >= window.since) if window.since else True)]
if rows.empty:
    st.info("No search data in this window: widen the time range.")
    st.stop()
colour = d.brand_colour(rows["brand"].unique())
where = rows["geo"].iloc[0] or "worldwide"
top[2].caption(f"{where}, {rows['date'].nunique()} buckets, {rows['date'].min():%d %b %Y} – "
               f"{rows['date'].max():%d %b %Y}; shares are within the category, on one stitched scale. "
               f"Hollow points are partial buckets (still filling) and are left out of smoothing.")

complete = rows[~rows["is_partial"]]
latest_date = complete["date"].max() if not complete.empty else rows["date"].max()
latest = rows[rows["date"] == latest_date].sort_values("smoothed_share", ascending=False, na_position="last")
cols = st.columns(min(len(latest), 6) or 1)
for col, (_, row) in zip(cols, latest.iterrows()):
    col.metric(row["brand"], percent(row["smoothed_share"]),
               help=f"Band {percent(row['smoothed_lo'])} – {percent(row['smoothed_hi'])}, "
                    f"smoothed over {row['window']} bucket(s), at {latest_date:%d %b %Y}.")

d.csv_download(rows.assign(category=category, date=rows["date"].map(pd.Timestamp.isoformat))[list(SEARCH_COLUMNS)],
               f"share-of-search {category}", key="search_csv")  # what `listening export search` writes

line_tab, area_tab = st.tabs(["Share over time", "100% stacked volume"])
with line_tab:
    base = alt.Chart(rows).encode(x=d.time_x(window, "date"))
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("smoothed_lo:Q", title="share of search",
                                                       axis=alt.Axis(format="%")), y2="smoothed_hi:Q",
                                               color=colour)
    line = base.mark_line().encode(color=colour, y="smoothed_share:Q", tooltip=[
        "brand", "date:T", alt.Tooltip("smoothed_share:Q", format=".1%", title="share (smoothed)"),
        alt.Tooltip("share:Q", format=".1%", title="share (raw)"), "is_partial"])
    partial = base.transform_filter("datum.is_partial").mark_point(filled=False, size=60).encode(
        color=colour, y="share:Q", tooltip=["brand", "date:T", alt.Tooltip("share:Q", format=".1%"), "is_partial"])
    st.altair_chart(band + line + partial, width="stretch")
with area_tab:
    area = alt.Chart(rows).mark_area().encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("volume:Q", stack="normalize", axis=alt.Axis(format="%"), title="share of volume"),
        color=colour, tooltip=["brand", "date:T", alt.Tooltip("volume:Q", format=".1f")])
    st.altair_chart(area, width="stretch")

st.subheader("Share of voice beside share of search")
compare = pd.DataFrame(voice_vs_search(key, category, window.since, window.until))
if compare.empty:
    st.info(f"{category!r} is a search-only category (`trends.search_only`): none of its terms is a "
            "configured brand with mentions, so there is no share of voice to compare. Pick a brand "
            "category, or give these brands `category: " + category + "` in listening.yaml.")
elif compare["share_of_voice"].isna().all():
    st.info("No mentions of these brands in this window, so no share of voice to compare: widen the "
            "time range, or collect mentions (`listening crawl`, `listening import FILE`).")
else:
    long = compare.melt(id_vars=["brand"], value_vars=["share_of_voice", "share_of_search"],
                        var_name="measure", value_name="share").dropna()
    long["measure"] = long["measure"].str.replace("_", " ")
    bars = alt.Chart(long).mark_bar().encode(
        y=alt.Y("brand:N", title=None), x=alt.X("share:Q", axis=alt.Axis(format="%"), title=None),
        color=alt.Color("measure:N", title=None, scale=alt.Scale(range=["#4c78a8", "#f58518"])),
        yOffset="measure:N",
        tooltip=["brand", "measure", alt.Tooltip("share:Q", format=".1%")])
    st.altair_chart(bars, width="stretch")
    compare["gap"] = compare["gap"] * 100  # percentage points
    st.dataframe(compare[["brand", "mentions", "share_of_voice", "share_of_search", "gap"]],
                 hide_index=True, width="stretch", key="search_gap", column_config={
                     c: st.column_config.NumberColumn(c.replace("_", " "), format="percent")
                     for c in ("share_of_voice", "share_of_search")} | {
                     "gap": st.column_config.NumberColumn("gap (points, voice − search)", format="%+.1f")})
    st.caption("A positive gap: talked about more than searched for (often complaints or news); "
               "negative: searched for more than talked about.")
