"""The recorded Google Trends for tests: the package's replay server on 127.0.0.1.

The server itself lives in ``listening.trends.replay`` because the demo uses it too;
this module gives the tests its cassette folder and a fixture-friendly starter.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from listening.trends.replay import ReplayServer, load_cassettes, request_keys
from tests.conftest import FIXTURES

CASSETTES = FIXTURES / "google_trends_pytrends_cassettes"

__all__ = ["CASSETTES", "ReplayServer", "load_cassettes", "replay_server", "request_keys"]


@contextmanager
def replay_server() -> Iterator[ReplayServer]:
    """A fresh replay server (its own 429 switch and request log) for one test."""
    server = ReplayServer.start(CASSETTES)
    try:
        yield server
    finally:
        server.stop()
