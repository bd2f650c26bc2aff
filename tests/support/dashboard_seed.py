"""A small, fixed set of mentions for the dashboard tests, written through the real pipeline.

Eight mentions of February 2015 (older than any default window, so pages must follow
the data): United 3, JetBlue 3, Southwest 1, Virgin America 1.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from listening.ingest.pipeline import Pipeline
from listening.models import RawMention
from listening.tagging import Tagger, intent

NEWEST = datetime(2015, 2, 24, 11, 30, tzinfo=timezone.utc)

# (hours before NEWEST, source, text, expected sentiment label)
MENTIONS = [
    (0, "tweets", "@united thank you so much, the crew was wonderful and the flight was great!", "positive"),
    (1, "tweets", "@united my flight is delayed again, this is terrible, please help me rebook", "negative"),
    (2, "news", "@united you cancelled my flight, awful service, I will never fly with you again", "negative"),
    (4, "tweets", "@JetBlue delayed three hours at JFK, horrible experience, so frustrated", "negative"),
    (5, "tweets", "@JetBlue love the free wifi, great job!", "positive"),
    (6, "news", "@JetBlue what time does the gate open tomorrow?", "neutral"),
    (8, "tweets", "@SouthwestAir best crew ever, thanks for the smooth flight", "positive"),
    (30, "news", "@VirginAmerica flight 23 boarding at gate 5", "neutral"),
]
BRAND_COUNTS = {"United": 3, "JetBlue": 3, "Southwest": 1, "Virgin America": 1}
NEEDS_REPLY = [5, 2, 1]  # the question and the two complaints asking for action, oldest first


class IntentTagger(Tagger):
    """The tagger plus intent detection (a no-op once the real tagger detects intent itself)."""

    def tag_many(self, texts, declared=None, targets=None):
        tags = super().tag_many(texts, declared, targets)
        for text, tag in zip(texts, tags):
            tag.intent = tag.intent or intent.detect(text, tag.sentiment.label)
        return tags


def seed(store, config, mentions=MENTIONS) -> list[str]:
    """Write the mentions; return their ids, newest first. Fails loudly if tagging drifted."""
    raws = [RawMention(source=source, source_kind="import", text=text, external_id=f"seed-{i}",
                       url=f"https://example.com/m/{i}", author=f"user{i}",
                       published_at=NEWEST - timedelta(hours=hours))
            for i, (hours, source, text, _) in enumerate(mentions)]
    counts = Pipeline(store, config, tagger=IntentTagger(config)).run(raws)
    assert counts.new == len(mentions), counts
    docs = sorted(store.mentions.collection.find({}), key=lambda m: m["published_at"], reverse=True)
    labels = [m["sentiment"]["label"] for m in docs]
    assert labels == [label for *_, label in mentions], labels
    if mentions is MENTIONS:
        asking = [i for i, m in enumerate(docs) if set(m["intent"]) & {"question", "needs_reply", "churn_risk"}]
        assert sorted(asking, reverse=True) == NEEDS_REPLY, [m["intent"] for m in docs]
    return [m["_id"] for m in docs]


def open_alert(store, brand="United", issue="Delay", hours_before=1):
    """An alert as the engine opens one (lifecycle.new_alert), at the seed's time."""
    from listening.alerts.detect import Finding
    from listening.alerts.lifecycle import new_alert

    end = NEWEST.replace(minute=0) - timedelta(hours=hours_before) + timedelta(hours=1)
    alert = new_alert(Finding(rule="issue-negative", kind="issue_negative", brand=brand, issue=issue,
                              window_start=end - timedelta(hours=6), window_end=end, observed=9.0,
                              expected=1.5, score=6.2, severity="high"), "Operations")
    assert store.alerts.insert(alert)
    return alert["_id"]


TERMS = (("United Airlines", "United", 60.0, 0.0), ("JetBlue", "JetBlue", 20.0, 1.0))


def add_search_volume(store, weeks: int = 4, terms=TERMS):
    """Weekly search volume (term, brand, first value, growth per week) up to Feb 2015;
    the last week still partial. By default United 60 flat, JetBlue 20 growing by 1."""
    start = NEWEST.replace(hour=0, minute=0) - timedelta(days=7 * (weeks - 1))
    docs = []
    for w in range(weeks):
        for term, brand, first, growth in terms:
            value = first + growth * w
            docs.append({"category": "airlines", "scope": "geo", "term": term, "brand": brand, "geo": "",
                         "trends_category": 0, "property": "", "resolution": "WEEK",
                         "date": start + timedelta(days=7 * w), "value": value, "stitched": value, "lo": value - 2,
                         "hi": value + 2, "is_partial": w == weeks - 1, "batch_id": "b1",
                         "fetched_at": NEWEST})
    store.trends.upsert_points(docs)


def seed_tweets(store, config, path, every: int = 10) -> int:
    """Every ``every``-th airline tweet of the shared fixture through the real importer and
    pipeline: real text and real proportions for screenshots, in a second or two."""
    from listening.ingest.importer import Rejected, read_rows, to_raw

    raws = []
    for line, row in read_rows(path):
        if line % every or isinstance(row, Rejected):
            continue
        raw = to_raw(row, config.import_mapping, "demo:tweets", line)
        if not isinstance(raw, Rejected):
            raws.append(raw)
    return Pipeline(store, config, tagger=IntentTagger(config)).run(raws).new
