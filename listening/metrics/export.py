"""CSV exports a spreadsheet cannot be attacked through, and the share-of-search series as one.

A cell starting with ``= + - @`` (or a tab or CR) is a formula to Excel and LibreOffice, and
mention text often starts with ``@``: every text cell of an export is made inert first.

    search_rows(store, ["running shoes"])     -> one row per category, term and bucket
    safe_csv(pandas.DataFrame(rows, columns=SEARCH_COLUMNS))  -> UTF-8 CSV bytes
"""

from __future__ import annotations

from datetime import datetime

from pandas.api.types import is_object_dtype, is_string_dtype

from listening.errors import ListeningError
from listening.metrics.search import Smoothing, share_series

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# share_series' row, its category first; the dates as ISO 8601 in UTC
SEARCH_COLUMNS = ("category", "geo", "term", "brand", "date", "is_partial", "volume", "volume_lo", "volume_hi",
                  "share", "share_lo", "share_hi", "smoothed_share", "smoothed_lo", "smoothed_hi", "window")


def inert_cell(value: object) -> object:
    """A text cell a spreadsheet will not run: one starting (after any spaces) with ``= + - @``,
    or with a tab or CR, gets a leading ``'`` (shown as text, the rest kept as it was)."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame) -> bytes:
    """The frame as UTF-8 CSV (with a BOM, so Excel reads it as UTF-8), every text cell inert."""
    inert = frame.copy()
    for column in inert.columns:
        if is_object_dtype(inert[column]) or is_string_dtype(inert[column]):
            inert[column] = inert[column].map(inert_cell)
    inert.columns = [inert_cell(str(c)) for c in inert.columns]
    # CRLF rows (RFC 4180): the writer then quotes a cell holding a lone CR, which would split a row
    return inert.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def search_rows(store, categories: list[str] | None = None, *, smoothing: Smoothing = "auto",
                since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """Share of search per category, term and bucket with its band (``share_series``), every
    category with search data when ``categories`` is None. An unknown category is an error
    naming the ones there are."""
    known = store.trends.categories()
    unknown = [c for c in categories or () if c not in known]
    if unknown:
        raise ListeningError(f"no search data for {', '.join(map(repr, unknown))}; categories with "
                             f"search data: {', '.join(map(repr, known)) or 'none (run `listening trends`)'}")
    return [{"category": category, **row, "date": row["date"].isoformat()}
            for category in categories or known
            for row in share_series(store, category, smoothing=smoothing, since=since, until=until)]


def search_csv(rows: list[dict]) -> bytes:
    """``search_rows`` as a safe CSV, the header alone when there are none."""
    import pandas as pd

    return safe_csv(pd.DataFrame(rows, columns=list(SEARCH_COLUMNS)))
