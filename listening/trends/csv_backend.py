"""Google Trends CSV exports as a backend: what people download by hand when rate-limited.

An interest-over-time export (``multiTimeline.csv``) looks like this (from Google's
English UI; other UI languages translate the first two lines, which is fine)::

    Category: All categories

    Week,pizza: (Worldwide),bagel: (Worldwide)
    2018-03-25,77,2
    2018-04-01,74,<1

Columns of one file share one scale, so any subset of a file's terms answers a request
just as Google would (up to the constant the stitcher estimates anyway). ``<1`` is
read as 0.5, so the +-0.5 band covers 0..1. When no file holds every requested term,
the error names the comparison to export.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from listening.errors import MissingExport
from listening.trends.frames import RegionValue, RelatedQuery, TrendsFrame, TrendsRequest, guess_resolution, on_scale

HEADER = re.compile(r"^(?P<term>.+?):\s*\((?P<place>[^)]*)\)\s*$")
DATE_START = re.compile(r"^\d{4}-\d{2}")
FIRST_COLUMN = {"Day": "DAY", "Week": "WEEK", "Month": "MONTH", "Time": "HOUR"}
GEO_COLUMN = {"Country": "COUNTRY", "Region": "REGION", "Subregion": "REGION", "Metro": "DMA",
              "DMA": "DMA", "City": "CITY"}
STEPS = {"HOUR": timedelta(hours=1), "DAY": timedelta(days=1), "WEEK": timedelta(days=7),
         "MONTH": timedelta(days=28)}


def _value(cell: str) -> float:
    cell = cell.strip()
    if cell.startswith("<"):
        return 0.5
    return on_scale(cell) if cell else 0.0


def _date(cell: str) -> datetime:
    cell = cell.strip()
    for fmt in ("%Y-%m-%dT%H", "%Y-%m-%d", "%Y-%m"):
        try:
            return datetime.strptime(cell, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise ValueError(f"not a Trends export date: {cell!r}")


def _is_time_header(lines: list[str], i: int) -> bool:
    """The header row: ``Week,...`` in English, or in any UI language (``Semana``, ``Woche``)
    term columns ``term: (place)`` above a row that starts with a date."""
    cells = next(csv.reader([lines[i]]), [])
    if not cells or cells[0].strip() in FIRST_COLUMN:
        return bool(cells)
    return (len(cells) > 1 and all(HEADER.match(c) for c in cells[1:]) and i + 1 < len(lines)
            and DATE_START.match(lines[i + 1]) is not None)


def read_export(text: str) -> tuple[list[str], list[str], list[datetime], list[list[float]], str]:
    """Parse one interest-over-time export: terms, places, dates, values[term][t], resolution."""
    lines = text.lstrip("\ufeff").splitlines()
    start = next((i for i in range(len(lines)) if _is_time_header(lines, i)), None)
    if start is None:
        raise ValueError("no Day/Week/Month header row")
    rows = list(csv.reader(io.StringIO("\n".join(lines[start:]))))
    header, body = rows[0], [r for r in rows[1:] if r and r[0].strip()]
    terms, places = [], []
    for cell in header[1:]:
        match = HEADER.match(cell)
        terms.append((match.group("term") if match else cell).strip())
        places.append(match.group("place").strip() if match else "")
    dates = [_date(r[0]) for r in body]
    values = [[_value(r[j + 1]) for r in body] for j in range(len(terms))]
    resolution = FIRST_COLUMN.get(header[0].strip()) or guess_resolution(dates)
    return terms, places, dates, values, resolution


def read_geo_export(text: str) -> tuple[str, list[str], list[tuple[str, list[str]]]]:
    """Parse a by-region export (``geoMap.csv``): level, terms, [(region name, cells)]."""
    lines = text.lstrip("\ufeff").splitlines()
    start = next((i for i, line in enumerate(lines) if line.split(",", 1)[0].strip() in GEO_COLUMN), None)
    if start is None:
        raise ValueError("no Country/Region/Metro/City header row")
    rows = [r for r in csv.reader(io.StringIO("\n".join(lines[start:]))) if r and r[0].strip()]
    terms = [(m.group("term") if (m := HEADER.match(c)) else c).strip() for c in rows[0][1:]]
    return GEO_COLUMN[rows[0][0].strip()], terms, [(r[0].strip(), r[1:]) for r in rows[1:]]


class CsvBackend:
    """Answers requests from a folder of Google Trends CSV exports (geo is not checked)."""

    name = "csv"

    def __init__(self, folder: str | Path, *, now: datetime | None = None):
        self.folder = Path(folder)
        self.now = now or datetime.now(timezone.utc)
        self.source = f"csv:{self.folder}"
        self.cache_hits = 0
        self.exports, self.maps = [], []
        for path in sorted(self.folder.glob("*.csv")):
            try:
                text = path.read_text(encoding="utf-8-sig")
            except ValueError:  # not UTF-8: not one of Google's exports
                continue
            for reader, into in ((read_export, self.exports), (read_geo_export, self.maps)):
                try:
                    into.append((path, *reader(text)))
                    break
                except (ValueError, IndexError):
                    continue  # another kind of export (e.g. relatedQueries.csv)

    def interest_over_time(self, request: TrendsRequest) -> TrendsFrame:
        wanted = [k.lower() for k in request.keywords]
        for path, terms, _places, dates, values, resolution in self.exports:
            lower = [t.lower() for t in terms]
            if all(w in lower for w in wanted):
                rows = [values[lower.index(w)] for w in wanted]
                # Exports don't flag the bucket still running: one that ends after now is partial.
                step = STEPS.get(resolution, timedelta(0))
                partial = [d + step > self.now for d in dates]
                # Answered when the file was saved: re-reading an unchanged export changes nothing.
                saved = datetime.fromtimestamp(int(path.stat().st_mtime), timezone.utc)
                return TrendsFrame(request.items, dates, rows, partial, resolution,
                                   [[True] * len(dates) for _ in rows], f"csv:{path.name}", saved)
        raise MissingExport(f"no CSV export in {self.folder} compares {', '.join(request.keywords)}: "
                            "export that comparison from trends.google.com")

    def related_queries(self, request: TrendsRequest) -> list[RelatedQuery]:
        return []

    def interest_by_region(self, request: TrendsRequest, resolution: str = "COUNTRY") -> list[RegionValue]:
        """From a by-region export of the same terms (regions are named, not coded)."""
        wanted = [k.lower() for k in request.keywords]
        for _name, level, terms, rows in self.maps:
            lower = [t.lower() for t in terms]
            if level == resolution and all(w in lower for w in wanted):
                out = []
                for region, cells in rows:
                    for keyword, w in zip(request.keywords, wanted):
                        cell = cells[lower.index(w)].strip().rstrip("%")
                        out.append(RegionValue(keyword, region, region, _value(cell) if cell else 0.0, bool(cell)))
                return out
        raise MissingExport(f"no by-region ({resolution}) export in {self.folder} compares "
                            f"{', '.join(request.keywords)}")
