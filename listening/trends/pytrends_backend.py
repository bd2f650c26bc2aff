"""The pytrends backend: real pytrends code, our retries, a cache in front.

pytrends 4.9.2 is unmaintained and has three traps, handled here without forking it:

- ``TrendReq()`` fetches a Google cookie in its constructor (fails offline). Our
  subclass fetches it lazily, only when a request really has to go out.
- its ``retries`` option crashes with urllib3 2.x (``method_whitelist``): we keep it
  at 0 and every HTTP call goes through our ``Gate`` (pacing, backoff, breaker).
- its endpoints are ``TrendReq`` class attributes and the module's
  ``BASE_TRENDS_URL``, not instance settings: ``endpoints(base_url)`` swaps them in
  and back out under a lock, so a replay server never leaks into other code.

Answers are cached per request (raw JSON of every call it took) once they parse: asking
again costs no request at all, and a run interrupted by a 429 resumes where it stopped.
An answer in a shape we cannot read (Google changed, a proxy's error page) is a
``TrendsError`` for that request, and is not cached.
"""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, Protocol, TypeVar

import requests
from pytrends import exceptions as pt_errors
from pytrends import request as pt_request
from pytrends.request import TrendReq

from listening.trends.frames import (RegionValue, RelatedQuery, TrendsFrame, TrendsRequest, parse_geo_map,
                                     parse_related, parse_timeline, related_keyword)
from listening.trends.resilience import Gate, RateLimited, ServerError, TrendsError, retry_after_seconds

GOOGLE = "https://trends.google.com"
_ORIGINAL_BASE = pt_request.BASE_TRENDS_URL
_URL_ATTRS = {name: value for name, value in vars(TrendReq).items()
              if name.endswith("_URL") and isinstance(value, str) and value.startswith(_ORIGINAL_BASE)}
_ENDPOINT_LOCK = threading.RLock()


@contextmanager
def endpoints(base_url: str | None) -> Iterator[None]:
    """Point pytrends at ``base_url`` (e.g. the replay server) for the block, then restore."""
    with _ENDPOINT_LOCK:
        if not base_url or base_url.rstrip("/") == GOOGLE:
            yield
            return
        base = base_url.rstrip("/") + "/trends"
        saved = {name: getattr(TrendReq, name) for name in _URL_ATTRS}
        saved_base = pt_request.BASE_TRENDS_URL
        try:
            pt_request.BASE_TRENDS_URL = base
            for name, value in _URL_ATTRS.items():
                setattr(TrendReq, name, base + value[len(_ORIGINAL_BASE):])
            yield
        finally:
            pt_request.BASE_TRENDS_URL = saved_base
            for name, value in saved.items():
                setattr(TrendReq, name, value)


T = TypeVar("T")
# What pytrends or our parsers raise on an answer of an unexpected shape.
_UNREADABLE = (LookupError, TypeError, ValueError, AttributeError, ArithmeticError, OSError, StopIteration,
               RecursionError)


@contextmanager
def _readable() -> Iterator[None]:
    """Any error of reading an answer of an unexpected shape, as a TrendsError."""
    try:
        yield
    except _UNREADABLE as exc:
        raise TrendsError(f"unreadable answer: {exc!r}"[:300]) from exc


FIXED = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2})? (?P<end>\d{4}-\d{2}-\d{2})(T\d{2})?$")


def is_settled(timeframe: str, fetched_at: datetime) -> bool:
    """True for a fixed period that had ended (plus 3 days to settle) when it was fetched."""
    match = FIXED.match(timeframe.strip())
    if not match:
        return False
    end = datetime.strptime(match.group("end"), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=timezone.utc)
    return fetched_at >= end + timedelta(days=3)


class Cache(Protocol):
    """Raw responses keyed by request (``TrendsRepo`` in the store, a dict in tests)."""

    def get(self, key: str) -> dict | None: ...

    def put(self, key: str, request: dict, responses: list[dict], source: str,
            fetched_at: datetime) -> None: ...


class MemoryCache(dict):
    """A Cache in a dict, for tests and the bench."""

    def get(self, key: str) -> dict | None:  # type: ignore[override]
        return super().get(key)

    def put(self, key: str, request: dict, responses: list[dict], source: str,
            fetched_at: datetime) -> None:
        self[key] = {"request": request, "responses": responses, "source": source,
                     "fetched_at": fetched_at}


class _TrendReq(TrendReq):
    """TrendReq with a lazy cookie and every HTTP call through our Gate."""

    def __init__(self, gate: Gate, *, hl: str, tz: int, timeout: tuple[float, float],
                 cookies: dict | None = None):
        self._gate = gate
        self._cookie_done = cookies is not None
        self._known_cookies = cookies
        self.calls: list[dict] = []
        super().__init__(hl=hl, tz=tz, timeout=timeout, retries=0, backoff_factor=0)

    def GetGoogleCookie(self):  # noqa: N802 - pytrends' name
        return self._known_cookies or {}  # else fetched lazily, on the first real request

    def _fetch_cookie(self) -> None:
        url = f"{pt_request.BASE_TRENDS_URL}/explore/?geo={self.hl[-2:]}"

        def once():
            try:
                response = requests.get(url, timeout=self.timeout)
            except requests.RequestException as exc:
                raise ServerError(str(exc)) from exc
            if response.status_code == 429:
                raise RateLimited("429 on the cookie page",
                                  retry_after_seconds(response.headers.get("Retry-After"),
                                                      datetime.now(timezone.utc)))
            return {k: v for k, v in response.cookies.items() if k == "NID"}

        self.cookies = self._gate.call(once) or {}
        self._cookie_done = True

    def _get_data(self, url, method=TrendReq.GET_METHOD, trim_chars=0, **kwargs):
        if not self._cookie_done:
            self._fetch_cookie()
        data = self._gate.call(lambda: self._once(url, method, trim_chars, **kwargs))
        params = kwargs.get("params") or {}
        req = params.get("req")
        self.calls.append({"endpoint": url.rsplit("/trends/", 1)[-1], "method": method,
                           "req": json.loads(req) if isinstance(req, str) else req,
                           "body": json.dumps(data)})
        return data

    def _once(self, url, method, trim_chars, **kwargs):
        try:
            return TrendReq._get_data(self, url, method, trim_chars, **kwargs)
        except pt_errors.TooManyRequestsError as exc:
            header = exc.response.headers.get("Retry-After")
            raise RateLimited(str(exc), retry_after_seconds(header, datetime.now(timezone.utc))) from exc
        except pt_errors.ResponseError as exc:
            if exc.response.status_code >= 500:
                raise ServerError(str(exc)) from exc
            raise TrendsError(f"{exc} for {url}") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ServerError(str(exc)) from exc
        except (KeyError, ValueError) as exc:  # no Content-Type, or a body that is not JSON
            raise TrendsError(f"unreadable answer from {url}: {exc!r}") from exc


def _interest(req: _TrendReq) -> None:
    """pytrends' own interest_over_time; its DataFrame step cannot name columns of
    repeated keywords (one per region), but by then the raw JSON we parse is in."""
    try:
        req.interest_over_time()
    except ValueError:
        if not any(c["endpoint"].endswith("widgetdata/multiline") for c in req.calls):
            raise


def _by_region(req: _TrendReq, resolution: str) -> None:
    try:
        req.interest_by_region(resolution=resolution, inc_low_vol=False, inc_geo_code=True)
    except (ValueError, KeyError):  # its DataFrame step, as above
        if not any(c["endpoint"].endswith("widgetdata/comparedgeo") for c in req.calls):
            raise


class PytrendsBackend:
    """Google Trends (or a replay of it) through pytrends."""

    name = "pytrends"

    def __init__(self, *, base_url: str | None = None, gate: Gate | None = None,
                 cache: Cache | None = None, hl: str = "en-US", tz: int = 360,
                 timeout: tuple[float, float] = (5, 30), max_age: timedelta | None = None,
                 source_label: str | None = None):
        self.base_url = base_url
        self.source = source_label or base_url or GOOGLE  # what the dashboard names as the origin
        self.max_age = max_age
        self.gate = gate or Gate()
        self.cache = cache if cache is not None else MemoryCache()
        self.hl, self.tz, self.timeout = hl, tz, timeout
        self.cache_hits = 0
        self._cookies: dict | None = None

    def interest_over_time(self, request: TrendsRequest) -> TrendsFrame:
        def read(calls: list[dict]) -> TrendsFrame:
            explore = next(c for c in calls if c["endpoint"] == "api/explore")
            widget = next(w for w in json.loads(explore["body"])["widgets"] if w.get("id") == "TIMESERIES")
            timeline = next(c for c in calls if c["endpoint"].endswith("widgetdata/multiline"))
            return parse_timeline(json.loads(timeline["body"]), request.items,
                                  widget.get("request", {}).get("resolution", ""), self.source)

        frame, fetched_at = self._answer(request, "interest", _interest, read)
        frame.fetched_at = fetched_at
        return frame

    def related_queries(self, request: TrendsRequest) -> list[RelatedQuery]:
        def read(calls: list[dict]) -> list[RelatedQuery]:
            out: list[RelatedQuery] = []
            for call in calls:
                if call["endpoint"].endswith("widgetdata/relatedsearches"):
                    keyword, geo = related_keyword(call["req"] or {})
                    out.extend(parse_related(json.loads(call["body"]), keyword, geo))
            return out

        return self._answer(request, "related", lambda req: req.related_queries(), read)[0]

    def interest_by_region(self, request: TrendsRequest, resolution: str = "COUNTRY") -> list[RegionValue]:
        """Each term's share of the compared terms' searches per region (pytrends' interest_by_region)."""
        def read(calls: list[dict]) -> list[RegionValue]:
            geo = next(c for c in calls if c["endpoint"].endswith("widgetdata/comparedgeo"))
            return parse_geo_map(json.loads(geo["body"]), request.keywords)

        return self._answer(request, f"region:{resolution}", lambda req: _by_region(req, resolution), read)[0]

    def _answer(self, request: TrendsRequest, op: str, action: Callable[[TrendReq], object],
                read: Callable[[list[dict]], T]) -> tuple[T, datetime]:
        """The answer read from the cache, else asked for (``action``), read, then cached."""
        key = request.key(op, self.base_url or GOOGLE)  # a replay's answers never pass for Google's
        hit = self.cache.get(key)
        if hit is not None and self._fresh(hit, request):
            self.cache_hits += 1
            with _readable():
                return read(hit["responses"]), hit.get("fetched_at") or self.gate.clock()
        with endpoints(self.base_url):
            req = _TrendReq(self.gate, hl=self.hl, tz=self.tz, timeout=self.timeout, cookies=self._cookies)
            try:
                with _readable():
                    self._payload(req, request)
                    action(req)
            finally:
                if req._cookie_done:
                    self._cookies = req.cookies
        with _readable():
            answer = read(req.calls)
        now = self.gate.clock()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # what MongoDB keeps
        self.cache.put(key, {"op": op, **request.describe()}, req.calls, self.source, now)
        return answer, now

    def _fresh(self, hit: dict, request: TrendsRequest) -> bool:
        """A past fixed period never changes; "today 5-y" moves, so its answer ages."""
        fetched = hit.get("fetched_at")
        if self.max_age is None or fetched is None or is_settled(request.timeframe, fetched):
            return True
        if fetched.tzinfo is None:
            fetched = fetched.replace(tzinfo=timezone.utc)
        return self.gate.clock() - fetched <= self.max_age

    @staticmethod
    def _payload(req: TrendReq, request: TrendsRequest) -> None:
        geos = set(request.geos)
        if len(geos) == 1:
            req.build_payload(request.keywords, cat=request.category, timeframe=request.timeframe,
                              geo=geos.pop(), gprop=request.gprop)
            return
        # pytrends 4.9.2 takes one geo per payload: build the per-item one it would build.
        req.kw_list = request.keywords
        req.token_payload = {"hl": req.hl, "tz": req.tz, "req": json.dumps({
            "comparisonItem": [{"keyword": k, "time": request.timeframe, "geo": g} for k, g in request.items],
            "category": request.category, "property": request.gprop})}
        req._tokens()
