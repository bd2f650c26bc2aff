"""Query tester: try a brand query on sample texts and recent mentions before putting it
in the config (the language is in docs/queries.md)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from listening.app import common as d
from listening.app import mention
from listening.config import Brand
from listening.matching import BrandMatcher
from listening.query import QuerySyntaxError, parse
from listening.store.feed import FeedFilter

SAMPLE = 300


@st.cache_data(ttl=60, show_spinner=False)
def recent(key: str, since, until) -> list[dict]:
    return d.store(key).feed.newest(FeedFilter(), since=since, until=until, limit=SAMPLE).mentions


def current_query(brand: Brand, saved: dict | None) -> str:
    if saved:
        return saved["query"]
    if brand.query:
        return " ".join(brand.query.split())
    words = [f'"{t}"' if " " in t else t for t in brand.terms] + brand.handles
    return " OR ".join(words)


st.title("Query tester")
window = d.window_picker("query")
cfg = d.config()
names = [b.name for b in cfg.brands]
name = st.selectbox("Start from the brand", names, key="query_brand")
query = st.text_area("Query", value=current_query(cfg.brand(name), d.store().brand_queries.current().get(name)), key=f"query_text_{name}", height=110,
                     help='Words, "phrases", @handles, #tags, wildcards (fly*), AND / OR / NOT, '
                          "NEAR/n, field:value. See docs/queries.md.")
try:
    parsed = parse(query)
except QuerySyntaxError as exc:
    st.error(f"Not a valid query: {exc}")
    st.stop()
st.caption(f"Read as: {d.plain(str(parsed))}")  # a saved query is another user's text
matcher = BrandMatcher([Brand(name=name, query=query)])
saved = d.store().brand_queries.current().get(name)
if saved:
    st.caption(f"{name}'s query in use was saved here by {d.plain(saved['by'])} on {saved['at']:%d %b %Y %H:%M} UTC; "
               "it overrides the config file's.")
if st.button(f"Use this query for {name}", key="query_save",
             help="Saved in the database with your name and the time; new mentions are matched with it. "
                  "Run `listening rematch` to re-apply it to stored mentions."):
    d.store().brand_queries.save(name, query, d.who())
    st.success(f"Saved: new mentions of {name} are matched with this query.")

st.subheader("On sample texts")
texts = st.text_area("One text per line", key="query_samples", height=110,
                     placeholder="@united my flight is delayed again\nProud to be from the United States")
if texts.strip():
    st.dataframe(pd.DataFrame([{"matches": bool(hit := matcher.matched_terms(line).get(name)),
                                "terms": ", ".join(hit or ()), "text": line}
                               for line in texts.splitlines() if line.strip()]),
                 hide_index=True, width="stretch", key="query_sample_result")

st.subheader(f"On the newest {SAMPLE} mentions")
since, until = d.data_bounds(window)
mentions = recent(d.db_key(), since, until)
if not mentions:
    st.info("No mentions in this window to test on: widen the time range or collect some.")
    st.stop()
rows = []
for m in mentions:
    hit = matcher.matched_terms(m.get("text") or "", source=m.get("source"), author=m.get("author"),
                                title=m.get("title"), lang=m.get("lang")).get(name)
    now = name in (m.get("brands") or ())
    if hit or now:
        rows.append({"change": "kept" if hit and now else "added" if hit else "dropped",
                     "terms": ", ".join(hit or ()), "text": m.get("text") or "", "link": mention.link(m)})
found = pd.DataFrame(rows, columns=["change", "terms", "text", "link"])
a, b, c = st.columns(3)
a.metric("Would match", int((found["change"] != "dropped").sum()))
b.metric("New matches", int((found["change"] == "added").sum()),
         help="Stored mentions (of other brands) that this query would also tag with this brand.")
c.metric("Lost matches", int((found["change"] == "dropped").sum()), help="Tagged with this brand today.")
d.csv_download(found.sort_values("change"), "query-test", "query_csv")
st.dataframe(found.sort_values("change"), hide_index=True, width="stretch", key="query_result",
             column_config={"text": st.column_config.TextColumn(width="large"),
                            "link": st.column_config.LinkColumn(display_text="open")})
