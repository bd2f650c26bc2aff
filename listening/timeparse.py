"""Turn whatever a source says about time into an aware UTC datetime.

Fast paths first (datetimes, epoch seconds or milliseconds, ISO 8601, RFC 822, the
``2015-02-24 11:35:52 -0800`` style); dateparser only for the rest ("3/09/15 8:00am",
"2 hours ago"), because it costs 1-25 ms a call. Before it, a shape check: a text with no
digit and no English time word ("N/A", a mis-mapped text column) is no date (dateparser took
15 ms to say so, and read "N/A" as today); and a cache, since feeds repeat their placeholders.
Relative words of other languages without a digit ("hier") are therefore not read.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=1)
_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z", "%a %b %d %H:%M:%S %z %Y")
_DATEPARSER_SETTINGS = {"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC"}
_TIME_WORD = re.compile(r"(?i)\b(ago|now|today|yesterday|tomorrow|noon|midnight|last|next|"
                        r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|"
                        r"sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?|"
                        r"(mon|tues?|wed(nes)?|thu(rs)?|fri|sat(ur)?|sun)(day)?|"
                        r"secs?|seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?|months?|years?)\b")


def parse_time(value: object, *, now: datetime | None = None) -> datetime | None:
    """An aware UTC datetime, or None when ``value`` is missing, unreadable or absurd.

    Naive values are taken as UTC. Absurd means before 1990 or more than a day ahead.
    """
    parsed = _parse(value, now)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    parsed = parsed.astimezone(timezone.utc)
    now = now or datetime.now(timezone.utc)
    if not EARLIEST <= parsed <= now + FUTURE_SLACK:
        return None
    return parsed


def _parse(value: object, now: datetime | None) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    text = str(value).strip()
    if not text or len(text) > 100:
        return None
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    if not any(ch.isdigit() for ch in text) and not _TIME_WORD.search(text):
        return None
    return _dateparser(text, now.astimezone(timezone.utc).replace(tzinfo=None) if now else None)


@lru_cache(maxsize=4096)
def _dateparser(text: str, base: datetime | None) -> datetime | None:
    import dateparser  # here: its import (0.03 s) is for the few texts that reach it, not every command

    settings = dict(_DATEPARSER_SETTINGS)
    if base is not None:
        settings["RELATIVE_BASE"] = base
    return dateparser.parse(text, settings=settings)


def _from_epoch(number: float) -> datetime | None:
    """Epoch seconds, or milliseconds when the number is too large for seconds."""
    if number != number or number <= 0:  # NaN or non-positive
        return None
    if number > 1e11:
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
