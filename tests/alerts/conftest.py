"""The airline tweets through the real pipeline, once for every alert test module."""

from __future__ import annotations

import uuid

import pytest
from pymongo import MongoClient

from listening.ingest.importer import import_file
from listening.ingest.pipeline import Pipeline
from listening.store import Store
from tests.conftest import TWEETS_CSV


@pytest.fixture(scope="package")
def airline_store(mongo_uri, demo_config, tmp_path_factory):
    """The airline tweets through the real pipeline, once for the package (read-only here)."""
    client = MongoClient(mongo_uri, tz_aware=True)
    store = Store(client, f"test_alerts_{uuid.uuid4().hex[:8]}")
    store.ensure_indexes()
    import_file(Pipeline(store, demo_config), TWEETS_CSV, demo_config.import_mapping,
                source="tweets", rejects_path=tmp_path_factory.mktemp("alerts") / "r.jsonl")
    yield store
    client.drop_database(store.db.name)
    client.close()
