"""Times from any source become aware UTC datetimes, or None when unreadable or absurd."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from listening.timeparse import parse_time

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, expected", [
    ("2015-02-24 11:35:52 -0800", "2015-02-24T19:35:52+00:00"),
    ("2023-07-23T10:04:53+00:00", "2023-07-23T10:04:53+00:00"),
    ("2023-06-07T20:54:26.829Z", "2023-06-07T20:54:26.829000+00:00"),
    ("Tue, 20 Sep 2022 11:00:17 +0000", "2022-09-20T11:00:17+00:00"),
    ("Thu, 14 Oct 2021 12:59:53 GMT", "2021-10-14T12:59:53+00:00"),
    (1425913200000, "2015-03-09T15:00:00+00:00"),
    ("1425913200000", "2015-03-09T15:00:00+00:00"),
    (1425913200, "2015-03-09T15:00:00+00:00"),
    ("3/09/15 8:00am", "2015-03-09T08:00:00+00:00"),
    ("2 hours ago", "2026-01-10T10:00:00+00:00"),
    ("yesterday", "2026-01-09T12:00:00+00:00"),
    ("24 février 2015", "2015-02-24T00:00:00+00:00"),
])
def test_readable_times(value, expected):
    assert parse_time(value, now=NOW).isoformat() == expected


@pytest.mark.parametrize("value", [None, "", "not a date", "1850-01-01", "2099-01-01T00:00:00Z",
                                   float("nan"), -5, True, "x" * 1000,
                                   "N/A", "unknown", "TBD", "@united what a trip"])
def test_unreadable_or_absurd_times_are_none(value):
    assert parse_time(value, now=NOW) is None


def test_unreadable_text_never_reaches_dateparser_and_repeats_are_cached(monkeypatch):
    """The shape check answers "N/A" and text without a digit or time word itself (dateparser
    took ~15 ms each, and read "N/A" as today); what does reach dateparser is asked once."""
    import dateparser

    from listening import timeparse

    calls = []
    real = dateparser.parse
    monkeypatch.setattr(dateparser, "parse", lambda text, **kw: calls.append(text) or real(text, **kw))
    timeparse._dateparser.cache_clear()
    assert [parse_time(v, now=NOW) for v in ["N/A", "soon", "@united what a trip"] * 100] == [None] * 300
    assert calls == []
    stamps = {parse_time("3/09/15 8:00am", now=NOW) for _ in range(100)}
    assert len(stamps) == 1 and calls == ["3/09/15 8:00am"]
