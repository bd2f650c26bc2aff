"""What a Trends backend is asked and what it answers, and the parsers of Google's JSON.

A ``TrendsRequest`` is one Google request: up to five comparison items (keyword, geo)
over one timeframe. A ``TrendsFrame`` is its answer: integer values 0-100 per item and
bucket, all scaled by the request's own maximum, with the partial last bucket flagged.
Every backend (pytrends, CSV exports, the simulator) returns the same shapes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

MAX_ITEMS = 5
Item = tuple[str, str]  # (keyword, geo)


def strip_xssi(text: str) -> str:
    """Drop Google's ``)]}'`` or ``)]}',`` guard: everything before the first ``{``."""
    start = text.find("{")
    return text[start:] if start >= 0 else text


@dataclass(frozen=True)
class TrendsRequest:
    """One Google Trends request."""

    items: tuple[Item, ...]
    timeframe: str = "today 5-y"
    category: int = 0
    gprop: str = ""
    repeat: int = 0

    def __post_init__(self) -> None:
        if not 1 <= len(self.items) <= MAX_ITEMS:
            raise ValueError(f"a Trends request holds 1..{MAX_ITEMS} items, not {len(self.items)}")

    @classmethod
    def of(cls, keywords, geo: str = "", **options) -> "TrendsRequest":
        return cls(tuple((k, geo) for k in keywords), **options)

    @property
    def keywords(self) -> list[str]:
        return [k for k, _ in self.items]

    @property
    def geos(self) -> list[str]:
        return [g for _, g in self.items]

    def key(self, operation: str, origin: str = "") -> str:
        """The cache key of this request for one operation (interest, related) at one origin."""
        doc = {"op": operation, "items": self.items, "time": self.timeframe,
               "cat": self.category, "prop": self.gprop, "repeat": self.repeat}
        if origin:
            doc["origin"] = origin
        return hashlib.sha1(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    def describe(self) -> dict:
        return {"items": [list(i) for i in self.items], "timeframe": self.timeframe,
                "category": self.category, "property": self.gprop, "repeat": self.repeat}


@dataclass
class TrendsFrame:
    """Interest over time for one request: ``values[i][t]`` is item i in bucket t."""

    items: tuple[Item, ...]
    dates: list[datetime]
    values: list[list[float]]  # integers from Google; 0.5 for a CSV "<1", means of repeats
    partial: list[bool]
    resolution: str = ""
    has_data: list[list[bool]] = field(default_factory=list)
    source: str = ""
    fetched_at: datetime | None = None  # when Google answered (a cached answer keeps its time)

    def series(self, keyword: str, geo: str | None = None) -> list[int]:
        for i, (k, g) in enumerate(self.items):
            if k == keyword and (geo is None or g == geo):
                return self.values[i]
        raise KeyError((keyword, geo))


@dataclass
class RelatedQuery:
    """A related search of a term: TOP (value 0-100) or RISING (value = % growth)."""

    term: str
    geo: str
    kind: str  # "top" | "rising"
    query: str
    value: int
    formatted: str
    breakout: bool
    link: str = ""

    def __post_init__(self) -> None:
        """Stored as is: a garbled answer fails here, not in MongoDB (8-byte ints, no documents)."""
        if not (isinstance(self.query, str) and isinstance(self.link, str) and 0 <= self.value < 2**63):
            raise ValueError(f"not a related query: {self.query!r}, {self.value!r}, {self.link!r}")


@dataclass
class RegionValue:
    """A term's percentage of the compared terms' searches in one region (Google rounds it)."""

    term: str
    geo_code: str
    geo_name: str
    value: float
    has_data: bool

    def __post_init__(self) -> None:
        if not (isinstance(self.geo_code, str) and isinstance(self.geo_name, str)):
            raise ValueError(f"not a region: {self.geo_code!r}, {self.geo_name!r}")


class Backend(Protocol):
    """What the collector needs from a source of Trends data."""

    name: str

    def interest_over_time(self, request: TrendsRequest) -> TrendsFrame: ...

    def related_queries(self, request: TrendsRequest) -> list[RelatedQuery]: ...

    def interest_by_region(self, request: TrendsRequest, resolution: str = "COUNTRY") -> list[RegionValue]: ...


def _utc(epoch: str | int | float) -> datetime:
    return datetime.fromtimestamp(int(float(epoch)), tz=timezone.utc)


def on_scale(value: object) -> float:
    """A Trends value, which Google scales to 0-100; anything else is a ValueError."""
    number = float(value)  # type: ignore[arg-type]
    if not 0 <= number <= 100:  # NaN fails too
        raise ValueError(f"{value!r} is not on the 0-100 scale")
    return number


def parse_timeline(data: dict, items: tuple[Item, ...], resolution: str = "", source: str = "") -> TrendsFrame:
    """Google's ``widgetdata/multiline`` JSON -> TrendsFrame (one value per item per bucket)."""
    rows = (data.get("default") or {}).get("timelineData") or []
    n = len(items)
    values: list[list[int]] = [[] for _ in range(n)]
    has: list[list[bool]] = [[] for _ in range(n)]
    dates, partial = [], []
    for row in rows:
        dates.append(_utc(row["time"]))
        partial.append(bool(row.get("isPartial", False)))
        row_values = list(row.get("value") or [])
        if len(row_values) != n:
            raise ValueError(f"a bucket has {len(row_values)} values for {n} items")
        flags = list(row.get("hasData") or [True] * n)
        for i in range(n):
            values[i].append(int(on_scale(row_values[i])))
            has[i].append(bool(flags[i]))
    if not resolution and len(dates) > 1:
        resolution = guess_resolution(dates)
    return TrendsFrame(items, dates, values, partial, resolution, has, source)


def guess_resolution(dates: list[datetime]) -> str:
    """HOUR / DAY / WEEK / MONTH from the spacing of the buckets."""
    if len(dates) < 2:
        return ""
    days = (dates[1] - dates[0]).total_seconds() / 86400
    if days < 1:
        return "HOUR"
    if days < 2:
        return "DAY"
    if days < 8:
        return "WEEK"
    return "MONTH"


def parse_related(data: dict, term: str, geo: str = "") -> list[RelatedQuery]:
    """``widgetdata/relatedsearches`` JSON -> TOP and RISING queries ("Breakout" flagged)."""
    ranked = (data.get("default") or {}).get("rankedList") or []
    out: list[RelatedQuery] = []
    for kind, block in zip(("top", "rising"), ranked):
        for entry in block.get("rankedKeyword") or []:
            query = entry.get("query") or (entry.get("topic") or {}).get("title")
            if not query:
                continue
            formatted = str(entry.get("formattedValue", entry.get("value", "")))
            out.append(RelatedQuery(term, geo, kind, query, int(entry.get("value", 0)), formatted,
                                    formatted.strip().lower() == "breakout", entry.get("link", "")))
    return out


def parse_geo_map(data: dict, keywords: list[str]) -> list[RegionValue]:
    """``widgetdata/comparedgeo`` JSON -> one RegionValue per term and region.

    With several terms Google answers percentages per region ("98%", "2%"): the
    share of search in that region directly. Regions without data are kept, flagged.
    """
    out = []
    for row in (data.get("default") or {}).get("geoMapData") or []:
        code = row.get("geoCode") or str(row.get("coordinates", ""))
        flags = row.get("hasData") or [True] * len(keywords)
        for term, value, has in zip(keywords, row.get("value") or [], flags):
            out.append(RegionValue(term, code, row.get("geoName", code), on_scale(value), bool(has)))
    return out


def related_keyword(req: dict) -> tuple[str, str]:
    """The (keyword, geo) a ``relatedsearches`` widget request is about."""
    restriction = req.get("restriction") or {}
    words = restriction.get("complexKeywordsRestriction", {}).get("keyword") or [{}]
    geo = restriction.get("geo") or {}
    return words[0].get("value", ""), geo.get("region") or geo.get("country") or ""
