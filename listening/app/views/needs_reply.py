"""Needs reply: questions and complaints addressed to our brands, oldest first.

Marking a mention handled records who and when; correcting its sentiment or issues is
stored (learning reads it) with an audit trail. The team's median time to handle is
the number that matters here, not the size of the queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from listening.app import common as d
from listening.app import mention as shown
from listening.metrics import voice as metrics
from listening.models import sentiment_label
from listening.store.feed import LABELS, Page

QUEUE = 50
HANDLED_DAYS = 30
WHY = {"question": "asks a question", "needs_reply": "asks us to act", "churn_risk": "may leave us"}


def change(edit: dict) -> str:
    """An audit row's change in words: "sentiment negative → positive", "note: refunded"."""
    before, after = edit.get("before") or {}, edit.get("after") or {}
    words = [f"{k} {_words(before.get(k))} → {_words(v)}" for k, v in after.items()
             if k in ("sentiment", "issues") and before.get(k) != v]
    if after.get("note"):
        words.append(f"note: {after['note']}")
    return "; ".join(words)


def _words(value) -> str:
    return ", ".join(value) or "none" if isinstance(value, list) else str(value)


@st.cache_data(ttl=15, show_spinner=False)
def queue(key: str, brands: tuple[str, ...], since: datetime, until: datetime) -> Page:
    return d.store(key).feed.needs_reply(list(brands), since=since, until=until, limit=QUEUE)


@st.cache_data(ttl=15, show_spinner=False)
def handling(key: str, since: datetime, until: datetime) -> dict:
    return metrics.time_to_handle(d.store(key), since=since, until=until)


def refresh() -> None:
    """After an edit: re-read the queue, and let the day rollups pick up a correction."""
    queue.clear()
    handling.clear()
    d.time_span.clear()


st.title("Needs reply")
window = d.window_picker("reply")
key = d.db_key()
cfg = d.config()
own = [b.name for b in cfg.brands if b.own]
brands = tuple(st.multiselect("Our brands", own, default=[], key="reply_brands",
                              placeholder="all our brands")) or tuple(own)

now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
stats = handling(key, now - timedelta(days=HANDLED_DAYS), now + timedelta(minutes=1))
page = queue(key, brands, *d.data_bounds(window))
rows = page.mentions

a, b, c = st.columns(3)
a.metric("Waiting in this window", f"{len(rows)}{'+' if len(rows) == QUEUE or not page.complete else ''}")
b.metric(f"Median time to handle ({HANDLED_DAYS} days)", d.duration(stats["median_seconds"]),
         help="From when we could first see a mention (published, or collected if later) to "
              "when someone marked it handled.")
c.metric(f"Handled ({HANDLED_DAYS} days)", f"{stats['handled']:,}")

if not own:
    st.info("No brand in the config is ours (`own: true`): mark your brands to build the reply queue.")
    st.stop()
if not page.complete:
    st.caption(f"Looked through the mentions up to {page.reached:%d %b %Y %H:%M} UTC; handle these to see later ones.")
if not rows and page.complete:
    st.success("Nothing waiting in this window: every question and complaint has been handled. "
               "Widen the time range to check older mentions.")
elif rows:
    frame = pd.DataFrame([{
        "published": m["published_at"], "brands": ", ".join(m.get("brands") or ()),
        "why": ", ".join(WHY[i] for i in m.get("intent") or () if i in WHY),
        "sentiment": (m.get("sentiment") or {}).get("label"), "author": m.get("author") or "",
        "text": m.get("text") or "", "link": shown.link(m), "scored by": shown.method(m),
    } for m in rows])
    d.csv_download(frame, "needs-reply", "reply_csv")
    st.dataframe(frame, hide_index=True, width="stretch", key="reply_table", column_config={
        "published": st.column_config.DatetimeColumn("published (UTC)", format="D MMM YYYY HH:mm"),
        "text": st.column_config.TextColumn("text", width="large"),
        "link": st.column_config.LinkColumn("link", display_text="open"),
    })

    by_id = {m["_id"]: m for m in rows}
    chosen = st.selectbox("Act on", list(by_id), key="reply_pick",
                          format_func=lambda i: f"{by_id[i]['published_at']:%d %b %H:%M} · "
                                                f"{by_id[i].get('author') or '?'} · {(by_id[i].get('text') or '')[:70]}")
    mention = by_id[chosen]
    with st.container(border=True):
        # st.text, not markdown: escaping left :material/...: icons and www. autolinks live
        st.text(mention.get("text") or "")
        st.text(f"{', '.join(mention.get('brands') or ())} · {mention.get('source')} · "
                f"{mention.get('author') or 'unknown author'} · {mention['published_at']:%d %b %Y %H:%M} UTC · "
                f"{(mention.get('sentiment') or {}).get('label', 'neutral')} ({shown.method(mention)})")
        if mention.get("url"):
            st.link_button("Open the original", mention["url"])
        note = st.text_input("Note (optional)", key="reply_note", placeholder="replied by DM, refund issued...")
        if st.button("Mark handled", type="primary", key="reply_handled"):
            if d.store(key).feed.mark_handled(chosen, d.who(), note=note):
                st.toast(f"Handled by {d.who()}")
            else:
                st.toast("Someone else handled it first.")
            refresh()
            st.rerun()

    with st.form("reply_correct"):
        st.markdown("**Correct the tagging** (kept for learning, with an audit trail)")
        current = sentiment_label(mention.get("sentiment"))
        choices = LABELS if current in LABELS else (current, *LABELS)  # unscored stays unless changed
        sentiment = st.selectbox("Sentiment", choices, index=choices.index(current), key="reply_sentiment")
        options = sorted(set(d.issue_names()) | set(mention.get("issues") or ()))
        issues = st.multiselect("Issues", options, default=mention.get("issues") or [], key="reply_issues")
        if st.form_submit_button("Save correction"):
            changed = d.store(key).feed.correct(
                chosen, d.who(), sentiment=sentiment if sentiment != current else None,
                issues=issues if sorted(issues) != sorted(mention.get("issues") or []) else None)
            st.toast("Correction saved" if changed else "Nothing to change")
            refresh()
            st.rerun()

with st.expander("Recent actions"):
    edits = d.store(key).feed.recent_edits(20)
    if edits:
        texts = {i: (d.store(key).mentions.get(i) or {}).get("text") or "" for i in {e["mention_id"] for e in edits}}
        st.dataframe(pd.DataFrame([{"when": e["at"], "who": e["by"], "action": e["action"],
                                    "mention": texts[e["mention_id"]], "change": change(e)}
                                   for e in edits]), hide_index=True, width="stretch",
                     column_config={"when": st.column_config.DatetimeColumn(format="D MMM HH:mm")})
    else:
        st.caption("Nobody has handled or corrected a mention yet.")
