"""Fuzz: Google Trends answers garbled on the way (truncated, reshaped, out of scale, not
JSON), through the real pytrends code, the CSV exports, the stitcher and ``collect``.

An answer is read into a well-formed result or refused with a TrendsError; a refused
answer is not cached, a run records it and goes on, and no point out of scale is stored.
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listening.config import parse_config
from listening.trends import collect
from listening.trends.csv_backend import CsvBackend
from listening.trends.frames import TrendsFrame, TrendsRequest, strip_xssi
from listening.trends.pytrends_backend import MemoryCache, PytrendsBackend
from listening.trends.replay import Recording, request_keys
from listening.trends.resilience import Gate, TrendsError
from listening.trends.stitch import Stitcher
from tests.conftest import fresh_store
from tests.support.clock import FakeClock
from tests.support.strategies import deep_json, edited, fuzz, hostile_text, json_values, mutations
from tests.support.trends_replay import CASSETTES, load_cassettes, replay_server

DAILY = "2021-01-01 2021-01-05"
YEAR = "2021-01-01 2021-12-31"  # the recorded related-queries and by-region answers
ENDPOINTS = ("api/explore", "widgetdata/multiline", "widgetdata/relatedsearches", "widgetdata/comparedgeo")
RECORDED = {e: [r.body for key, r in load_cassettes(CASSETTES)[0].items() if key[1].endswith(e) and r.status == 200]
            for e in ENDPOINTS}
OFF_SCALE = st.sampled_from([-1, 101, 1e308, float("inf"), float("nan"), "", None, [], {}, "Breakout", "<1", "98%"])


def with_prefix(doc) -> bytes:
    return b")]}',\n" + json.dumps(doc).encode()


def garbage_for(endpoint: str) -> st.SearchStrategy[bytes]:
    """A recorded answer of ``endpoint`` damaged, reshaped or replaced."""
    real = st.sampled_from(RECORDED[endpoint])
    return st.one_of(
        real.flatmap(mutations),
        real.map(lambda body: json.loads(strip_xssi(body.decode()))).flatmap(
            lambda doc: edited(doc, json_values | OFF_SCALE)).map(with_prefix),
        json_values.map(with_prefix), deep_json.map(str.encode), st.binary(max_size=256))


answers = st.sampled_from(ENDPOINTS).flatmap(lambda e: st.tuples(st.just(e), garbage_for(e)))


@pytest.fixture(scope="module")
def garbling():
    """The replay server of the real recordings; ``server.garbage`` answers one endpoint instead."""
    with replay_server() as server:
        recorded = server.find
        server.garbage = None

        def find(method, path, query):
            if server.garbage and path.endswith(server.garbage[0]):
                return Recording(200, "application/json; charset=utf-8", server.garbage[1], "fuzz")
            return recorded(method, path, query)

        server.find = find
        yield server


def backend(server, cache=None) -> PytrendsBackend:
    clock = FakeClock()
    return PytrendsBackend(base_url=server.url, cache=cache if cache is not None else MemoryCache(),
                           gate=Gate(pacing=0, max_retries=0, clock=clock, sleep=clock.sleep))


def assert_well_formed(frame: TrendsFrame, request: TrendsRequest) -> None:
    n = len(frame.dates)
    assert frame.items == request.items and len(frame.partial) == n
    assert len(frame.values) == len(request.items)
    assert all(len(row) == n and all(0 <= v <= 100 for v in row) for row in frame.values)


def read_all(b: PytrendsBackend) -> int:
    """Ask for each kind of answer; check what is read; return how many were refused."""
    daily, year = (TrendsRequest.of(["pizza", "bagel"], timeframe=t) for t in (DAILY, YEAR))
    checks = [(lambda: b.interest_over_time(daily), lambda frame: assert_well_formed(frame, daily)),
              (lambda: b.related_queries(year), lambda rows: all(
                  isinstance(r.query, str) and r.kind in ("top", "rising") and 0 <= r.value < 2**63 for r in rows)),
              (lambda: b.interest_by_region(year), lambda rows: all(
                  isinstance(r.geo_name, str) and 0 <= r.value <= 100 for r in rows))]
    refused = 0
    for ask, check in checks:
        try:
            answer = ask()
        except TrendsError:
            refused += 1
            continue
        assert check(answer) is not False
    return refused


@fuzz
@given(answers)
def test_pytrends_answers_are_read_or_refused_and_only_readable_ones_cached(garbling, answer):
    garbling.garbage = answer
    cache = MemoryCache()
    b = backend(garbling, cache)
    refused = read_all(b)
    assert len(cache) == 3 - refused
    garbling.garbage, asked = None, len(garbling.log)
    assert read_all(b) == 0 and b.cache_hits == 3 - refused  # the cached answers read again, unasked
    assert (len(garbling.log) > asked) == (refused > 0)  # the refused ones were not cached: asked again


@pytest.fixture(scope="module")
def trends_store(mongo_uri):
    with fresh_store(mongo_uri) as store:
        yield store


@settings(fuzz, max_examples=fuzz.max_examples // 3)  # ~8 requests each; the reading itself is fuzzed above
@given(answers)
def test_collect_records_a_refused_answer_and_stores_nothing_off_scale(garbling, trends_store, answer):
    store = trends_store
    for collection in (store.trends.volume, store.trends.cache, store.trends.related, store.trends.by_region):
        collection.delete_many({})  # nothing from an earlier example: every answer is asked for
    garbling.garbage = answer
    config = parse_config({"brands": [{"name": "A"}], "trends": {
        "base_url": garbling.url, "timeframe": DAILY, "snapshot_timeframe": YEAR, "categories": [],
        "search_only": {"food": ["pizza", "bagel"]}, "by_region": True, "pacing_seconds": 0, "max_retries": 0}})
    clock = FakeClock()
    summary = collect(store, config, clock=clock, sleep=clock.sleep)
    assert summary["status"] in ("ok", "partial", "failed")
    assert store.runs.recent("trends", limit=1)[0]["status"] == summary["status"]
    for point in store.trends.volume.find():
        assert 0 <= point["raw"] <= 100
        if point["stitched"] is not None:
            assert point["lo"] <= point["stitched"] <= point["hi"]
    assert all(0 <= r["value"] <= 100 for r in store.trends.by_region.find())
    assert all(f["error"] for f in summary["failed"])


EXPORT = "Category: All categories\n\nDay,pizza: (Worldwide),bagel: (Worldwide)\n" + "".join(
    f"2021-01-0{d},{100 - 5 * d},<1\n" for d in range(1, 8))


@fuzz
@given(st.lists(mutations(EXPORT.encode()) | st.binary(max_size=128) | hostile_text.map(str.encode),
                min_size=1, max_size=3))
def test_csv_exports_are_read_or_refused(files):
    with tempfile.TemporaryDirectory() as folder:
        for i, data in enumerate(files):
            (Path(folder) / f"multiTimeline{i}.csv").write_bytes(data)
        exports = CsvBackend(folder, now=datetime(2022, 1, 1, tzinfo=timezone.utc))
        request = TrendsRequest.of(["pizza", "bagel"], timeframe=DAILY)
        try:
            assert_well_formed(exports.interest_over_time(request), request)
        except TrendsError:
            pass


class Generated:
    """A backend whose answers are any well-formed frames: gaps, zeros, moved windows."""

    name = "generated"

    def __init__(self, data):
        self.data = data

    def interest_over_time(self, request: TrendsRequest) -> TrendsFrame:
        start = self.data.draw(st.integers(0, 3))
        n = self.data.draw(st.integers(0, 6))
        dates = [datetime(2021, 1, 1, tzinfo=timezone.utc) + timedelta(days=start + t) for t in range(n)]
        values = [self.data.draw(st.lists(st.integers(0, 100), min_size=n, max_size=n)) for _ in request.items]
        return TrendsFrame(request.items, dates, values, [False] * n, "DAY", [[True] * n for _ in values])


@fuzz
@given(st.data(), st.integers(1, 12), st.integers(1, 3))
def test_stitching_any_well_formed_answers(data, terms, repeats):
    items = [(f"term{i}", "") for i in range(terms)]
    try:
        stitched = Stitcher(Generated(data), timeframe=DAILY, repeats=repeats).run(items)
    except TrendsError:
        return
    for i in range(len(items)):
        for value, lo, hi in zip(stitched.value[i], stitched.lo[i], stitched.hi[i]):
            assert math.isnan(value) or lo <= value <= hi


@fuzz
@given(st.dictionaries(st.sampled_from(["req", "token", "hl", "tz", "geo"]) | hostile_text,
                       st.lists(json_values.map(json.dumps) | hostile_text | deep_json, min_size=1, max_size=2)),
       st.sampled_from(["GET", "POST"]), st.sampled_from([f"/trends/{e}" for e in ENDPOINTS]))
def test_replay_server_matches_or_misses_any_request(query, method, path):
    exact, loose = request_keys(method, path, query)
    assert exact[:2] == loose[:2] == (method, path)
