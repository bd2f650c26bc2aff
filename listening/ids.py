"""Ids and keys made of several parts: rollup cells, alert series, Trends points, alerts.

``stable_id`` hashes the parts as one JSON list, so no part can run into the next one
(joined with "|", brand "A|x" + issue "*" and brand "A" + issue "x|*" were one rollup
cell), and parts of different types stay apart (None and "None", 1 and "1" and True).

    stable_id("Acme", "*", "negative", "rss", "2024-05-01T13")  # -> 24 hex digits
"""

from __future__ import annotations

import hashlib
import json


def stable_id(*parts: str | int | float | None, length: int = 24) -> str:
    """The same hex id for the same parts; any other parts give another id.

    Parts are JSON scalars (a datetime raises ``TypeError``: format it first, to the
    precision the key means). Lone surrogates are fine (escaped, never encoded).
    """
    text = json.dumps(parts, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha1(text.encode("ascii")).hexdigest()[:length]


def alert_key(rule: str, brand: str, issue: str | None) -> str:
    """One (rule, brand, issue) series of alerts: their ``key``, and ``open_key`` while unresolved."""
    return stable_id(rule, brand, issue)
