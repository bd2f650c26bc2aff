"""Shared test fixtures: one in-memory SecantusDB per test session, a fresh database per test.

With ``TEST_MONGO_URI`` set, the same tests run against that real MongoDB instead.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from pymongo import MongoClient

from listening.config import PACKAGED_DEMO, load_config
from listening.store import Store, embedded

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LISTENING_SHARED", ROOT.parent / "shared"))
FIXTURES = SHARED / "fixtures"
TWEETS_CSV = FIXTURES / "twitter_us_airline_sentiment" / "Tweets.csv"


@pytest.fixture(scope="session", autouse=True)
def embedded_data(tmp_path_factory):
    """The embedded store's default folder for this session: nothing a test runs may start a
    server on (or write to) the ./data of whoever runs the tests. Any server left is stopped."""
    folder = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LISTENING_DATA", str(folder))
        yield folder
    embedded.stop(folder)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory):
    """A real wire-protocol server for the whole session."""
    if os.environ.get("TEST_MONGO_URI"):
        yield os.environ["TEST_MONGO_URI"]
        return
    log = tmp_path_factory.mktemp("secantus") / "server.log"
    proc, uri = embedded.start_server(":memory:", log)
    yield uri
    proc.terminate()
    proc.wait(timeout=30)


@contextmanager
def fresh_store(uri: str):
    """A Store on a new, uniquely named database, dropped on exit."""
    client = MongoClient(uri, tz_aware=True)
    db_name = f"test_{uuid.uuid4().hex[:12]}"
    store = Store(client, db_name)
    store.ensure_indexes()
    try:
        yield store
    finally:
        client.drop_database(db_name)
        client.close()


@pytest.fixture
def store(mongo_uri):
    """A Store on a fresh database, dropped afterwards."""
    with fresh_store(mongo_uri) as store:
        yield store


@pytest.fixture
def store_env(mongo_uri, store, monkeypatch):
    """Point subprocesses and ``Store.connect()`` at the test database."""
    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setenv("LISTENING_DB", store.db.name)
    return store


@pytest.fixture(scope="session")
def demo_config():
    return load_config(PACKAGED_DEMO)


@pytest.fixture(scope="module")
def ingest(mongo_uri, demo_config):
    """A fresh Pipeline per call on one store for the module; the tagger loads once (fuzz suites)."""
    from listening.ingest.pipeline import Pipeline
    from listening.matching import BrandMatcher
    from listening.tagging import Tagger

    with fresh_store(mongo_uri) as store:
        tagger, matcher = Tagger(demo_config), BrandMatcher(demo_config.brands)
        yield lambda: Pipeline(store, demo_config, tagger=tagger, matcher=matcher)
