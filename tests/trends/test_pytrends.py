"""The real pytrends code against the replay server of real recorded Google answers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from pytrends import request as pt_request
from pytrends.request import TrendReq

from listening.trends.frames import TrendsRequest, strip_xssi
from listening.trends.pytrends_backend import MemoryCache, PytrendsBackend, endpoints
from listening.trends.resilience import Gate, TrendsError
from tests.support.clock import FakeClock
from tests.support.trends_replay import CASSETTES, load_cassettes, replay_server, request_keys

DAILY = "2021-01-01 2021-01-05"


@pytest.fixture(scope="module")
def server():
    with replay_server() as srv:
        yield srv


def _backend(server, cache=None):
    clock = FakeClock()
    return PytrendsBackend(base_url=server.url, cache=cache,
                           gate=Gate(pacing=0, clock=clock, sleep=clock.sleep))


def test_cassettes_decode_with_both_xssi_prefixes():
    exact, _ = load_cassettes(CASSETTES)
    bodies = {key[1]: rec.body.decode() for key, rec in exact.items() if rec.status == 200}
    assert bodies["/trends/api/explore"].startswith(")]}'\n{")
    assert bodies["/trends/api/widgetdata/multiline"].startswith(")]}',\n{")
    for body in bodies.values():
        assert strip_xssi(body).startswith("{") or body.startswith("{")


def test_pytrends_itself_runs_against_the_replay_and_endpoints_are_restored(server):
    with endpoints(server.url):
        pytrend = TrendReq()  # its constructor fetches the cookie: from the replay server
        assert "NID" in pytrend.cookies
        pytrend.build_payload(["pizza", "bagel"], timeframe=DAILY)
        df = pytrend.interest_over_time()
    assert df["pizza"].tolist() == [100, 83, 78, 49, 50]
    assert df["bagel"].tolist() == [2, 2, 2, 1, 1]
    assert TrendReq.GENERAL_URL == "https://trends.google.com/trends/api/explore"
    assert pt_request.BASE_TRENDS_URL == "https://trends.google.com/trends"


def test_pizza_vs_bagel_daily(server):
    frame = _backend(server).interest_over_time(TrendsRequest.of(["pizza", "bagel"], timeframe=DAILY))
    assert frame.resolution == "DAY"
    assert frame.dates[0] == datetime(2021, 1, 1, tzinfo=timezone.utc)
    assert frame.series("pizza") == [100, 83, 78, 49, 50]
    assert frame.series("bagel") == [2, 2, 2, 1, 1]
    assert not any(frame.partial)


@pytest.mark.parametrize("gprop,first", [("news", [100, 67, 78, 32, 75]), ("images", None),
                                         ("youtube", None), ("froogle", None)])
def test_properties_are_different_recordings(server, gprop, first):
    frame = _backend(server).interest_over_time(
        TrendsRequest.of(["pizza", "bagel"], timeframe=DAILY, gprop=gprop))
    assert len(frame.dates) == 5 and max(max(v) for v in frame.values) == 100
    if first:
        assert frame.series("pizza") == first


def test_five_years_weekly_with_its_partial_last_point(server):
    frame = _backend(server).interest_over_time(TrendsRequest.of(["pizza", "bagel"], timeframe="today 5-y"))
    assert frame.resolution == "WEEK" and len(frame.dates) == 260
    assert frame.partial[-1] and not any(frame.partial[:-1])
    assert frame.dates[-1] == datetime(2023, 3, 19, tzinfo=timezone.utc)
    assert frame.series("pizza")[-1] == 58 and frame.series("bagel")[-1] == 2


def test_multiple_regions_in_one_request(server):
    items = (("pizza", "US-NY"), ("pizza", "US-IL"), ("bagel", "US-NY"), ("bagel", "US-IL"))
    frame = _backend(server).interest_over_time(TrendsRequest(items, timeframe="today 5-y"))
    assert len(frame.dates) == 261 and frame.partial[-1]
    assert [frame.series(k, g)[0] for k, g in items] == [67, 69, 5, 2]
    assert [frame.series(k, g)[-1] for k, g in items] == [50, 60, 6, 3]


def test_related_rising_queries_with_breakout(server):
    rows = _backend(server).related_queries(
        TrendsRequest.of(["pizza", "bagel"], timeframe="2021-01-01 2021-12-31"))
    pizza = [r for r in rows if r.term == "pizza"]
    assert len([r for r in pizza if r.kind == "top"]) == 25
    assert len([r for r in pizza if r.kind == "rising"]) == 11
    breakout = next(r for r in pizza if r.query == "licorice pizza")
    assert breakout.breakout and breakout.formatted == "Breakout" and breakout.value == 8550
    assert {r.term for r in rows} == {"pizza", "bagel"}
    assert any(r.formatted.startswith("+") and r.formatted.endswith("%") for r in rows if r.kind == "rising")


def test_cached_answers_cost_no_request(server):
    cache = MemoryCache()
    first = _backend(server, cache)
    request = TrendsRequest.of(["pizza", "bagel"], timeframe=DAILY)
    frame = first.interest_over_time(request)
    assert first.gate.requests == 3  # cookie page, explore, multiline
    again = _backend(server, cache)
    before = server.requests()
    assert again.interest_over_time(request).values == frame.values
    assert again.gate.requests == 0 and server.requests() == before and again.cache_hits == 1


def test_a_request_with_no_recording_fails_without_retrying(server):
    backend = _backend(server)
    with pytest.raises(TrendsError, match="404"):
        backend.interest_over_time(TrendsRequest.of(["no such recording"], timeframe=DAILY))
    assert backend.gate.retries == 0


def test_replay_answers_429_with_retry_after(server):
    server.fail(1, retry_after=7)
    answer = requests.get(server.url + "/trends/api/explore", timeout=5)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert requests.get(server.url + "/trends/explore/?geo=US", timeout=5).status_code == 404  # as recorded


def test_requests_match_by_meaning_not_bytes():
    req = '{"comparisonItem": [{"keyword": "pizza", "time": "today 5-y", "geo": ""}], "category": 0, "property": ""}'
    reordered = '{"property":"","category":0,"comparisonItem":[{"geo":"","time":"today 5-y","keyword":"pizza"}]}'
    a = request_keys("POST", "/trends/api/explore", {"req": [req], "hl": ["en-US"], "tz": ["360"]})
    b = request_keys("POST", "/trends/api/explore", {"req": [reordered], "hl": ["en-US"], "tz": ["360"]})
    assert a == b
    widget = '{"time": "x", "comparisonItem": [{"geo": {"region": "US-NY"}, "complexKeywordsRestriction": ' \
             '{"keyword": [{"type": "BROAD", "value": "pizza"}]}}], "requestOptions": {"property": "", "category": 0}}'
    one = request_keys("GET", "/trends/api/widgetdata/multiline", {"req": [widget], "token": ["A"], "tz": ["360"]})
    two = request_keys("GET", "/trends/api/widgetdata/multiline", {"req": [widget], "token": ["B"], "tz": ["360"]})
    assert one == two  # tokens are ignored
    assert '"pizza","US-NY","x"' in one[1][2]  # the loose key: keyword, geo, time


def test_public_api_is_curated():
    import listening.trends as trends
    assert set(trends.__all__) <= set(dir(trends))
    assert {"collect", "PytrendsBackend", "CsvBackend", "Stitcher", "start_replay_server"} <= set(trends.__all__)


def test_moving_timeframes_age_in_the_cache_fixed_past_ones_do_not(server):
    from datetime import timedelta

    from listening.trends.pytrends_backend import is_settled
    cache, clock = MemoryCache(), FakeClock()
    backend = PytrendsBackend(base_url=server.url, cache=cache, max_age=timedelta(hours=20),
                              gate=Gate(pacing=0, clock=clock, sleep=clock.sleep))
    weekly = TrendsRequest.of(["pizza", "bagel"], timeframe="today 5-y")
    daily = TrendsRequest.of(["pizza", "bagel"], timeframe=DAILY)
    backend.interest_over_time(weekly), backend.interest_over_time(daily)
    clock.now += timedelta(hours=21)
    asked = backend.gate.requests
    backend.interest_over_time(daily)
    assert backend.gate.requests == asked  # 2021-01-01..05 is settled history
    backend.interest_over_time(weekly)
    assert backend.gate.requests == asked + 2  # explore + multiline again (cookie kept)
    assert is_settled(DAILY, clock.now) and not is_settled("today 5-y", clock.now)
    assert not is_settled("2026-01-01 2026-01-02", datetime(2026, 1, 3, tzinfo=timezone.utc))


def test_interest_by_region_is_a_share_per_country(server):
    rows = _backend(server).interest_by_region(
        TrendsRequest.of(["pizza", "bagel"], timeframe="2021-01-01 2021-12-31"))
    united_states = {r.term: r.value for r in rows if r.geo_code == "US"}
    assert united_states == {"pizza": 97, "bagel": 3}
    assert len({r.geo_code for r in rows}) == 250
    assert any(not r.has_data for r in rows)
