"""How one mention is shown on every page: its link, which method scored it, its card."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from listening.app.common import plain

METHODS = {"vader": "VADER lexicon", "lexicon": "lexicon", "model": "learned model",
           "unscored": "not scored (not English)", "label": "the source's own label"}


def link(mention: dict) -> str:
    """The original when it is http(s), else the mention's own page in the dashboard (never empty)."""
    url = mention.get("url") or ""
    if url.startswith(("https://", "http://")):
        return url
    return f"/live?mention={quote(str(mention['_id']))}"


def method(mention: dict) -> str:
    """Who decided the sentiment, in words ("–" for mentions stored before it was recorded)."""
    name = (mention.get("sentiment") or {}).get("method")
    fix = mention.get("correction") or {}
    if fix.get("sentiment") != (fix.get("before") or {}).get("sentiment"):
        return f"corrected by {fix.get('by') or 'hand'}"
    return METHODS.get(name, name or "–")


def towards(mention: dict) -> str:
    """The sentiment towards each brand of a mention naming several, and what scored it:
    "towards JetBlue: positive (learned model), United: negative (learned model)"; "" else."""
    found = mention.get("brand_sentiment") or {}
    shown = [f"{brand}: {s.get('label')} ({METHODS.get(s.get('method'), s.get('method') or '–')})"
             for brand, s in sorted(found.items()) if isinstance(s, dict)]
    return "towards " + ", ".join(shown) if shown else ""


def methods(mentions: list[dict]) -> str:
    """Which methods scored these mentions' sentiment, most used first: "lexicon (290), learned model (10)"."""
    counts: dict[str, int] = {}
    for m in mentions:
        counts[method(m)] = counts.get(method(m), 0) + 1
    return ", ".join(f"{name} ({n:,})" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "–"


def card(mention: dict | None, mention_id: str) -> None:
    """The mention a link points at (``/live?mention=ID``), as plain text, above the feed."""
    with st.container(border=True, key="linked_mention"):
        if mention is None:
            st.warning(f"No mention {mention_id!r} in this store: it may have been collected into another one.")
        else:
            sentiment = (mention.get("sentiment") or {}).get("label", "neutral")
            st.markdown(f"**Linked mention** · {plain(', '.join(mention.get('brands') or ()))} · "
                        f"{mention['published_at']:%d %b %Y %H:%M} UTC")
            # st.text: what people wrote stays as written (no markdown, no icons, no autolinks)
            st.text(mention.get("text") or "")
            st.text(f"{mention.get('author') or 'unknown author'} · {mention.get('source')} · "
                    f"{sentiment} ({method(mention)}) · issues: {', '.join(mention.get('issues') or ()) or 'none'}")
            if per_brand := towards(mention):
                st.text(per_brand)
            if (url := mention.get("url") or "").startswith(("https://", "http://")):
                st.link_button("Open the original", url)
        if st.button("Close", key="linked_mention_close"):
            del st.query_params["mention"]
            st.rerun()
