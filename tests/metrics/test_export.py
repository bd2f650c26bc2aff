"""CSV exports cannot attack a spreadsheet: cells starting with = + - @, tab or CR are made
inert with a leading ', the text otherwise kept, read back by a CSV reader as written."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pandas as pd

from listening.metrics.export import inert_cell, safe_csv
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


# -- the share-of-search series, from the real Google Trends CSV exports ---------------------
def _listening(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "listening", *args], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ))


def test_export_search_writes_each_term_and_bucket_with_its_band(store_env, demo_config, tmp_path):
    from listening.demo.trends import collect_exports
    from listening.metrics.export import SEARCH_COLUMNS
    from tests.trends.test_real_exports import FOLDER

    collect_exports(store_env, demo_config, FOLDER)
    out = tmp_path / "search.csv"
    done = _listening("export", "search", str(out), "--category", "running shoes", "--smoothing", "none")
    assert done.returncode == 0, done.stderr
    rows = _read(out.read_bytes())
    assert len(rows) == 6 * 262 and f"Wrote {len(rows):,} rows" in done.stderr
    assert tuple(rows[0]) == SEARCH_COLUMNS
    assert {r["category"] for r in rows} == {"running shoes"} and {r["geo"] for r in rows} == {"CA"}
    assert len({r["term"] for r in rows}) == 6
    for r in rows:
        assert float(r["share_lo"]) <= float(r["share"]) <= float(r["share_hi"])
        assert float(r["volume_lo"]) <= float(r["volume"]) <= float(r["volume_hi"])
    last = max(r["date"] for r in rows)
    assert last.endswith("+00:00") and all(r["is_partial"] == str(r["date"] == last) for r in rows)
    by_date: dict[str, float] = {}
    for r in rows:
        by_date[r["date"]] = by_date.get(r["date"], 0.0) + float(r["share"])
    assert all(abs(total - 1) < 1e-9 for total in by_date.values())
    # stdout, every category, smoothed: both exports' categories, smoothing empty in the partial week
    every = _read(_listening("export", "search").stdout.encode("utf-8-sig"))
    assert {r["category"] for r in every} == {"running shoes", "online marketplaces"}
    assert len(every) == 6 * 262 + 3 * 72
    assert all(r["smoothed_lo"] == "" for r in every if r["is_partial"] == "True")


def test_export_search_names_unknown_categories_and_neutralises_formulas(store_env, demo_config, tmp_path):
    """Synthetic category name (the real exports' names are harmless): the file is still real."""
    from dataclasses import replace

    from listening.demo.trends import EXPORTS, collect_exports
    from tests.trends.test_real_exports import FOLDER

    evil = '=HYPERLINK("http://evil.example","shoes")'
    collect_exports(store_env, demo_config, FOLDER, exports=[replace(EXPORTS[0], category=evil)])
    unknown = _listening("export", "search", "--category", "pizza")
    assert unknown.returncode == 1 and "no search data for 'pizza'" in unknown.stderr
    rows = _read(_listening("export", "search", "--category", evil).stdout.encode("utf-8-sig"))
    assert rows and {r["category"] for r in rows} == {"'" + evil}
