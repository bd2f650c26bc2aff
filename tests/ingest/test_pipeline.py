"""The shared pipeline: normalise, match, stable ids, tags, and rollups that follow changes."""

from __future__ import annotations

from datetime import datetime, timezone

from listening.ingest.pipeline import Pipeline, clean_text, mention_id
from listening.models import RawMention, Sentiment, Tags


def raw(text: str, ext: str = "1", when: object = "2024-05-01T10:15:00Z", **kw) -> RawMention:
    return RawMention(source="test", source_kind="import", text=text, external_id=ext,
                      published_at=when, **kw)


class FixedTagger:
    """Tags every text the same way, so a test can change the tags between runs."""

    def __init__(self, label: str, issues: list[str]):
        self.label, self.issues = label, issues

    def tag_many(self, texts, declared=None, targets=None):
        return [Tags(sentiment=Sentiment(compound=0.0, label=self.label), issues=self.issues)
                for _ in texts]


def stats(store):
    return sorted((c["brand"], c["issue"], c["label"], c["count"])
                  for c in store.mentions.stats.find({"count": {"$ne": 0}}))


def test_clean_text():
    assert clean_text("  A &amp;amp; B\x00\n\tC  ") == "A & B C"
    assert clean_text("bad \ud800 surrogate") == "bad \ufffd surrogate"


def test_ids_are_stable_and_source_scoped():
    assert mention_id("s", "42", None, "x") == mention_id("s", "42", "http://u", "y")
    assert mention_id("s", "42", None, "x") != mention_id("t", "42", None, "x")
    assert mention_id("s", None, "http://u/a#frag", "x") == mention_id("s", None, "http://u/a", "z")


def test_unmatched_and_empty_mentions_are_counted_not_stored(store, demo_config):
    counts = Pipeline(store, demo_config).run([
        raw("@united thanks", "1"), raw("nothing about airlines", "2"), raw("   ", "3")])
    assert (counts.read, counts.matched, counts.unmatched, counts.rejected) == (3, 1, 1, 1)
    assert store.mentions.count() == 1


def test_missing_date_is_estimated_and_flagged(store, demo_config):
    before = datetime.now(timezone.utc)
    Pipeline(store, demo_config).run([raw("@JetBlue hi", when="someday maybe")])
    doc = store.mentions.collection.find_one()
    assert doc["date_estimated"] is True
    assert doc["published_at"] >= before.replace(microsecond=0)


def test_retagging_moves_rollups_instead_of_adding(store, demo_config):
    mentions = [raw("@united my flight is late", "1"), raw("@united and @SouthwestAir", "2")]
    Pipeline(store, demo_config, tagger=FixedTagger("neutral", [])).run(mentions)
    assert stats(store) == [("Southwest", "*", "neutral", 1), ("United", "*", "neutral", 2)]
    counts = Pipeline(store, demo_config, tagger=FixedTagger("negative", ["delay"])).run(mentions)
    assert (counts.new, counts.updated) == (0, 2)
    assert stats(store) == [
        ("Southwest", "*", "negative", 1), ("Southwest", "delay", "negative", 1),
        ("United", "*", "negative", 2), ("United", "delay", "negative", 2)]
    again = Pipeline(store, demo_config, tagger=FixedTagger("negative", ["delay"])).run(mentions)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert store.mentions.rebuild_stats() == 4
    assert stats(store) == [
        ("Southwest", "*", "negative", 1), ("Southwest", "delay", "negative", 1),
        ("United", "*", "negative", 2), ("United", "delay", "negative", 2)]


def test_rollups_are_hourly_utc(store, demo_config):
    Pipeline(store, demo_config).run([raw("@united a", "1", "2024-05-01 10:59:59 +0200"),
                                      raw("@united b", "2", "2024-05-01T09:00:00Z")])
    hours = {c["hour"].isoformat() for c in store.mentions.stats.find({"issue": "*"})}
    assert hours == {"2024-05-01T08:00:00+00:00", "2024-05-01T09:00:00+00:00"}


def test_rollups_add_up_across_writers_that_do_not_know_each_others_cells(store, demo_config):
    """A second process inserts into cells the first created: its inserts fall back to $inc."""
    from listening.store import Store

    first = [raw("@united late again", "1"), raw("@united still late", "2")]
    second = [raw("@united late", "3"), raw("@united late, new hour", "4", "2024-05-01T11:05:00Z")]
    Pipeline(store, demo_config, tagger=FixedTagger("negative", ["delay"])).run(first)
    other = Store(store.client, store.db.name)
    Pipeline(other, demo_config, tagger=FixedTagger("negative", ["delay"])).run(second)
    by_hour = sorted((c["hour"].hour, c["issue"], c["count"]) for c in store.mentions.stats.find())
    assert by_hour == [(10, "*", 3), (10, "delay", 3), (11, "*", 1), (11, "delay", 1)]
