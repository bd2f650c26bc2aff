"""Listening Centre: the Streamlit entry point. It only signs the reader in and builds the navigation."""

import streamlit as st

from listening.app import common as dashboard
from listening.errors import StoreError

st.set_page_config(page_title="Listening Centre", page_icon=":material/hearing:", layout="wide")
dashboard.require_login(dashboard.config())

LIVE = {"page": "views/live.py", "title": "Live", "icon": ":material/dynamic_feed:"}
pages = st.navigation({
    "Respond": [
        # Live is the front page; /live is the same page (the e-mails link /live?mention=ID),
        # hidden from the menu so it is listed once.
        st.Page(**LIVE, default=True, url_path="front"),
        st.Page(**LIVE, url_path="live", visibility="hidden"),
        st.Page("views/needs_reply.py", title="Needs reply", icon=":material/reply:"),
        st.Page("views/alerts.py", title="Alerts", icon=":material/notifications_active:"),
    ],
    "Understand": [
        st.Page("views/share_of_search.py", title="Share of search", icon=":material/query_stats:"),
        st.Page("views/voice.py", title="Voice and sentiment", icon=":material/forum:"),
    ],
    "Operate": [
        st.Page("views/sources.py", title="Sources health", icon=":material/monitor_heart:"),
        st.Page("views/query_tester.py", title="Query tester", icon=":material/manage_search:"),
    ],
})
dashboard.who_box()
try:
    pages.run()
except StoreError as exc:  # an outage is one clear line, not a traceback; the next rerun tries again
    st.error(f"The database cannot be used right now: {exc}", icon=None)
