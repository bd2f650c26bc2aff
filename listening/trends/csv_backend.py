"""Google Trends CSV exports as a backend: what people download by hand when rate-limited.

An interest-over-time export (``multiTimeline.csv``) looks like::

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
from datetime import datetime, timezone
from pathlib import Path

from listening.trends.frames import Frame, RelatedQuery, TrendsRequest, guess_resolution
from listening.trends.resilience import TrendsError

HEADER = re.compile(r"^(?P<term>.+?):\s*\((?P<place>[^)]*)\)\s*$")
FIRST_COLUMN = {"Day": "DAY", "Week": "WEEK", "Month": "MONTH", "Time": "HOUR"}


class MissingExport(TrendsError):
    """No CSV export holds the requested terms."""


def _value(cell: str) -> float:
    cell = cell.strip()
    if cell.startswith("<"):
        return 0.5
    return float(cell) if cell else 0.0


def _date(cell: str) -> datetime:
    cell = cell.strip()
    for fmt in ("%Y-%m-%dT%H", "%Y-%m-%d", "%Y-%m"):
        try:
            return datetime.strptime(cell, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise ValueError(f"not a Trends export date: {cell!r}")


def read_export(text: str) -> tuple[list[str], list[str], list[datetime], list[list[float]], str]:
    """Parse one interest-over-time export: terms, places, dates, values[term][t], resolution."""
    lines = text.lstrip("\ufeff").splitlines()
    start = next((i for i, line in enumerate(lines) if line.split(",", 1)[0].strip() in FIRST_COLUMN), None)
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


class CsvBackend:
    """Answers requests from a folder of Google Trends CSV exports (geo is not checked)."""

    name = "csv"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.source = f"csv:{self.folder}"
        self.cache_hits = 0
        self.exports = []
        for path in sorted(self.folder.glob("*.csv")):
            try:
                self.exports.append((path.name, *read_export(path.read_text(encoding="utf-8-sig"))))
            except (ValueError, IndexError):
                continue  # not an interest-over-time export (e.g. relatedQueries.csv)

    def interest_over_time(self, request: TrendsRequest) -> Frame:
        wanted = [k.lower() for k in request.keywords]
        for name, terms, _places, dates, values, resolution in self.exports:
            lower = [t.lower() for t in terms]
            if all(w in lower for w in wanted):
                rows = [values[lower.index(w)] for w in wanted]
                return Frame(request.items, dates, rows, [False] * len(dates), resolution,
                             [[True] * len(dates) for _ in rows], f"csv:{name}")
        raise MissingExport(f"no CSV export in {self.folder} compares {', '.join(request.keywords)}: "
                            "export that comparison from trends.google.com")

    def related_queries(self, request: TrendsRequest) -> list[RelatedQuery]:
        return []
