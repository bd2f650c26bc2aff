"""Mention text is shown as text: the Needs-reply card renders it with st.text, so icon
shortcodes and bare web addresses in it stay characters, never an icon or a link."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from listening.app.serve import ENTRY
from tests.support.dashboard_seed import seed

# Synthetic: the report's payloads, which the recorded texts lack.
TRAP = "@united :material/warning: my bag is lost, call www.evil.example now? **urgent**"


def test_the_needs_reply_card_shows_the_mention_text_verbatim(store_env, demo_config):
    seed(store_env, demo_config, mentions=[(0, "tweets", TRAP, "negative")])
    at = AppTest.from_file(str(ENTRY), default_timeout=30).run()
    at.switch_page("views/needs_reply.py").run()
    assert not at.exception, at.exception
    assert TRAP in [t.value for t in at.text]
    assert not any(":material/warning:" in m.value or "www.evil" in m.value for m in at.markdown)
    assert not any(":material/warning:" in c.value for c in at.caption)


def test_plain_breaks_the_patterns_streamlit_turns_into_icons_and_links():
    """What chromium showed: escaped markdown still made :material/warning: an icon and www.…,
    mailto: and a@b.example links; plain() puts a word joiner into each of those patterns."""
    from listening.app.common import plain

    shown = plain("Acme :material/warning: www.evil.example WWW.x.example mailto:a@b.example http://x")
    for live in (":material/warning:", "www.", "WWW.", "mailto:a", "a@b", "http://"):
        assert live not in shown.replace("\\", "")
    assert shown.replace("\u2060", "").replace("\\", "") == \
        "Acme :material/warning: www.evil.example WWW.x.example mailto:a@b.example http://x"
