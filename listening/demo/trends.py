"""The demo's search data: real Google Trends answers, collected the way users collect theirs.

The demo's airlines have no recorded search data, so the demo's share of search is
search-only categories (``trends.search_only``), every number Google's own:

- CSV exports downloaded from trends.google.com (``EXPORTS``): running-shoe brands in
  Canada (two requests of five sharing four terms: six brands stitched on one scale)
  and online marketplaces in Malaysia. ``collect_exports`` reads them with the CSV
  backend, the documented way to bring your own downloads.
- pizza vs bagel, answers recorded by the pytrends project's tests: ``collect_recorded``
  serves them from the local replay server to the real pytrends code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from listening.config import Config
from listening.trends.collect import Progress, collect
from listening.trends.csv_backend import CsvBackend
from listening.trends.replay import ReplayServer

SOURCE_LABEL = "Google Trends, recorded 2023 (pytrends test cassettes), replayed"
SOURCE_NOTE = ("Google Trends answers recorded from trends.google.com in March-April 2023 by the "
               "pytrends project's tests (Apache-2.0), replayed locally through the real pytrends code.")


def collect_recorded(store, config: Config, cassettes: str | Path, *,
                     progress: Progress | None = None) -> dict:
    """Start the replay server on the cassettes, collect through it, stop it."""
    server = ReplayServer.start(cassettes)
    try:
        trends = config.trends.model_copy(update={"base_url": server.url, "pacing_seconds": 0.0})
        summary = collect(store, config.model_copy(update={"trends": trends}), progress=progress,
                          source_label=SOURCE_LABEL)
    finally:
        server.stop()
    summary["source_note"] = SOURCE_NOTE
    return summary


@dataclass(frozen=True)
class Export:
    """A search-only category answered by the CSV exports: its market and its terms."""

    category: str
    geo: str
    timeframe: str
    terms: tuple[str, ...]
    exported: datetime | None = None  # when it was downloaded: a bucket running then is partial


# The first five terms are one export (the reference scale); New Balance comes from the
# second export through a shared anchor (google_trends_exports_real/PROVENANCE.md).
EXPORTS = (
    Export("running shoes", "CA", "2020-03-08 2025-03-15",
           ("Adidas running", "Nike running", "Hoka Running", "Saucony Running", "Asics Running",
            "New balance Running"),
           exported=datetime(2025, 3, 10, tzinfo=timezone.utc)),  # "the last week partial"
    Export("online marketplaces", "MY", "2020-01-01 2025-12-31", ("Shopee", "Lazada", "TikTok Shop")),
)
EXPORTS_NOTE = ("Google Trends CSV exports downloaded from trends.google.com and published on GitHub "
                "(reggieflete/google-trends-analysis, ooi-darren/malaysia-ecommerce-market-intelligence).")


def collect_exports(store, config: Config, folder: str | Path, *, exports=EXPORTS) -> list[dict]:
    """Collect each export category through the csv backend, in its own market; one run each."""
    summaries = []
    for export in exports:
        trends = config.trends.model_copy(update={
            "backend": "csv", "csv_dir": str(folder), "geo": export.geo, "regions": [],
            "timeframe": export.timeframe, "categories": [], "search_only": {export.category: list(export.terms)},
            "related": False, "by_region": False, "pacing_seconds": 0.0})
        backend = CsvBackend(folder, now=export.exported)
        backend.source = f"Google Trends CSV exports: {export.category} ({export.geo})"
        summaries.append(collect(store, config.model_copy(update={"trends": trends}), backend=backend))
    return summaries
