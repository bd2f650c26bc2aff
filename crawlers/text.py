"""Plain text from the HTML fragments that feeds and APIs put in their text fields."""

from __future__ import annotations

import re

from w3lib.html import remove_tags, remove_tags_with_content

_BLOCK = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?h\d|/?blockquote|/?tr)\b[^>]*>", re.I)


def strip_html(fragment: str) -> str:
    """Drop tags (and script/style bodies), keeping a space where blocks and line breaks were."""
    if "<" not in fragment:
        return fragment
    fragment = remove_tags_with_content(fragment, which_ones=("script", "style"))
    return remove_tags(_BLOCK.sub(" ", fragment))
