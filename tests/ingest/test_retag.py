"""Re-tagging stored mentions in place (``listening.ingest.retag``), on the first 300 real
airline tweets as the demo stores them: the rollups move with the tags, a second pass writes
nothing, and a person's correction stands."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console

from listening.demo import build as demo
from listening.ingest.retag import retag
from listening.tagging import Tagger
from tests.demo.test_feed import small_csv  # noqa: F401 - the fixture


def cells(store) -> Counter:
    return Counter({cell[:5]: cell[5] for cell in store.mentions.cells() if cell[5]})


def recounted(store) -> Counter:
    store.mentions.rebuild_stats()
    return cells(store)


def test_retag_moves_the_rollups_and_keeps_corrections(store, demo_config, small_csv, monkeypatch):  # noqa: F811
    monkeypatch.setattr(demo, "TWEETS", small_csv)
    built = demo.build(store, demo_config, console=Console(file=io.StringIO()))  # the model re-tags in place
    assert built["re-tagged by the learned model"] > 0
    assert cells(store) == recounted(store)
    assert retag(store, demo_config)["changed"] == 0  # the same model again: nothing to write

    tweet = store.db["mentions"].find_one({"sentiment.label": "negative"})
    assert store.feed.correct(tweet["_id"], "care@example.com", sentiment="positive")
    lexicon = retag(store, demo_config, tagger=Tagger(demo_config))  # back to the lexicon
    assert lexicon["scanned"] == store.mentions.count() and lexicon["corrected by a person"] == 1
    assert lexicon["changed"] > 0
    methods = Counter(d["sentiment"]["method"] for d in store.db["mentions"].find({}, {"sentiment.method": 1}))
    assert methods["model"] == 0 and methods["human"] == 1, methods
    assert store.mentions.get(tweet["_id"])["sentiment"]["label"] == "positive"
    assert cells(store) == recounted(store)
