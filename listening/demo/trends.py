"""The demo's search data: Google's real recorded answers, collected through pytrends.

The demo's airlines have no recorded search data, so the demo adds a search-only
category (pizza vs bagel) whose answers were recorded from trends.google.com by the
pytrends project. ``collect_recorded`` serves them from the local replay server and
runs the normal collector against it: the real pytrends path, no invented numbers.
"""

from __future__ import annotations

from pathlib import Path

from listening.config import Config
from listening.trends.collect import Progress, collect
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
