"""CSV exports cannot attack a spreadsheet: cells starting with = + - @, tab or CR are made
inert with a leading ', the text otherwise kept, read back by a CSV reader as written."""

from __future__ import annotations

import csv
import io

import pandas as pd

from listening.app.common import inert_cell, safe_csv
from tests.conftest import TWEETS_CSV


def _read(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_real_tweets_starting_with_a_handle_are_exported_inert_and_readable():
    tweets = pd.read_csv(TWEETS_CSV, usecols=["tweet_id", "text", "airline"], nrows=500)
    rows = _read(safe_csv(tweets))
    assert len(rows) == 500 and safe_csv(tweets).startswith("\ufeff".encode())
    handles = 0
    for original, exported in zip(tweets["text"], (r["text"] for r in rows)):
        if original.startswith("@"):
            handles += 1
            assert exported == "'" + original
        else:
            assert exported == original
    assert handles > 400  # nearly every airline tweet starts with @airline
    assert [r["tweet_id"] for r in rows] == [str(i) for i in tweets["tweet_id"]]  # numbers untouched


def test_every_formula_start_is_neutralised():
    """Synthetic: the payloads of the report, which the recorded texts lack."""
    cases = ['=HYPERLINK("http://evil.example","x")', "@SUM(A1:A9)", "+1+cmd|' /C calc'!A0", "-2+3",
             '\t=HYPERLINK("http://evil.example")', "\r=1+1", '  =1+1']
    assert [inert_cell(c) for c in cases] == ["'" + c for c in cases]
    assert inert_cell("a = b") == "a = b" and inert_cell(-5) == -5 and inert_cell(None) is None
    rows = _read(safe_csv(pd.DataFrame({"text": cases, "=col": [1] * len(cases)})))
    assert [r["text"] for r in rows] == ["'" + c for c in cases]
    assert "'=col" in rows[0]
