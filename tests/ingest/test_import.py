"""``listening import`` end to end on the shared airline tweets, and on bad rows."""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
import sys
from itertools import islice

import pytest

from listening.ingest.importer import import_file
from listening.ingest.pipeline import Pipeline
from tests.conftest import TWEETS_CSV

# 11,660 rows; 130 tweet ids appear twice (the last copy stands); 4 tweets name no airline.
UNIQUE_TWEETS = 11_530
NO_AIRLINE = 4


@pytest.fixture(scope="module")
def imported(mongo_uri, tmp_path_factory):
    """The tweets imported once, then a second time, into one database for the module."""
    from listening.config import PACKAGED_DEMO, load_config
    from tests.conftest import fresh_store

    config = load_config(PACKAGED_DEMO)
    with fresh_store(mongo_uri) as store:
        rejects = tmp_path_factory.mktemp("rejects") / "r.jsonl"
        runs = []
        for _ in range(2):
            pipeline = Pipeline(store, config)
            import_file(pipeline, TWEETS_CSV, config.import_mapping, source="tweets", rejects_path=rejects)
            runs.append(pipeline.counts)
        yield store, config, runs


def test_every_unique_tweet_is_stored_once(imported):
    store, _, (first, _) = imported
    assert first.read == 11_660
    assert first.rejected == 0
    assert first.unmatched == NO_AIRLINE
    assert first.new == UNIQUE_TWEETS - NO_AIRLINE
    assert store.mentions.count() == UNIQUE_TWEETS - NO_AIRLINE


def test_reimport_adds_nothing(imported):
    store, _, (_, second) = imported
    assert second.new == 0
    assert second.updated == 0
    assert store.mentions.count() == UNIQUE_TWEETS - NO_AIRLINE


def test_timestamps_are_utc(imported):
    store, _, _ = imported
    first = store.mentions.collection.find_one({"external_id": "570306133677760513"})
    # 2015-02-24 11:35:52 -0800
    assert first["published_at"].isoformat() == "2015-02-24T19:35:52+00:00"
    assert first["labels"]["sentiment"] == "neutral"
    assert "&amp;" not in "".join(d["text"] for d in store.mentions.collection.find({}, {"text": 1}).limit(2000))


def test_rollups_match_the_mentions(imported):
    store, _, _ = imported
    per_brand = {r["brand"]: r["count"] for r in store.mentions.totals(("brand",))}
    for brand, count in per_brand.items():
        assert count == store.mentions.collection.count_documents({"brands": brand})
    # Every cell exactly as a recount makes it, though the pipeline wrote the rollups of ten
    # batches at a time (summed across them), and the second import's batches held nothing.
    def cells():
        return sorted(cell for cell in store.mentions.cells() if cell[5])

    before = cells()
    store.mentions.rebuild_stats()
    assert cells() == before and len(before) > 1000


def test_bad_rows_are_rejected_with_line_numbers_and_the_rest_stored(store, demo_config, tmp_path):
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(
        "tweet_id,text,name,tweet_created\n"
        "1,@united lost my bag,ann,2015-02-24 11:35:52 -0800\n"
        "2,,bob,2015-02-24 11:35:52 -0800\n"
        "3,@JetBlue thanks!,cy,not a date at all\n"
        "4,\"@SouthwestAir multi\nline\",dee,2015-02-24 12:00:00 -0800\n"
        "5,@united extra,eve,2015-02-24 12:00:00 -0800,surplus\n"
        "6,@united fine again,fay,2015-02-24 13:00:00 -0800\n",
        encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    pipeline = Pipeline(store, demo_config)
    rejected = import_file(pipeline, csv_file, demo_config.import_mapping, source="t", rejects_path=rejects)
    assert rejected == 3
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["reason"].split()[0]) for r in lines] == [(3, "empty"), (4, "unreadable"), (7, "1")]
    assert store.mentions.count() == 3


def test_cli_exit_code_and_summary(store_env, tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("text,when\n@united hello,2024-01-01T00:00:00Z\n,2024-01-01\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "listening", "import", str(csv_file), "--time-column", "when",
         "--rejects", str(tmp_path / "rej.jsonl")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "1 rows rejected" in result.stderr
    assert store_env.mentions.count() == 1


@pytest.mark.parametrize(("encoding", "said"), [("utf-8-sig", "UTF-8"), ("utf-16", "UTF-16")])
def test_files_saved_with_a_byte_order_mark_are_read_and_the_encoding_said(store, demo_config, tmp_path,
                                                                            caplog, encoding, said):
    """The real tweets as Excel saves them: "CSV UTF-8" (a UTF-8 BOM) or UTF-16 with its BOM."""
    with open(TWEETS_CSV, newline="", encoding="utf-8") as handle:
        head = "".join(islice(handle, 201))  # the header and 200 tweets (no quoted newline in them)
    saved = tmp_path / "excel.csv"
    saved.write_text(head, encoding=encoding, newline="")
    rows = sum(1 for _ in csv.DictReader(io.StringIO(head)))
    with caplog.at_level(logging.WARNING, logger="listening.ingest.importer"):
        rejected = import_file(Pipeline(store, demo_config), saved, demo_config.import_mapping, source="xl",
                               rejects_path=tmp_path / "rejects.jsonl")
    assert rejected == 0 and store.mentions.count() == rows
    assert f"excel.csv starts with a {said} byte order mark" in caplog.text
    first = next(csv.DictReader(io.StringIO(head)))
    assert store.mentions.collection.find_one({"text": first["text"]}) is not None  # no BOM in the text


def test_cut_texts_are_counted_and_bad_urls_refused_with_a_reason(store, demo_config, tmp_path, caplog):
    """Synthetic: a 5 MB cell and URLs with CR/LF, a tab and a NUL, which the recorded files lack."""
    big = "@united " + "delayed again " * 400_000
    rows = [{"tweet_id": 1, "text": big, "url": "https://example.com/1"},
            {"tweet_id": 2, "text": "@united hi", "url": "https://example.com/2\r\nSet-Cookie: x=1"},
            {"tweet_id": 3, "text": "@united hi", "url": "https://example.com/ 3"},
            {"tweet_id": 4, "text": "@united hi", "url": "https://example.com/\x004"},
            {"tweet_id": 5, "text": "@united fine", "url": " https://example.com/5 "}]
    source = tmp_path / "m.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    mapping = demo_config.import_mapping.model_copy(update={"url": "url"})
    with caplog.at_level(logging.WARNING, logger="listening.ingest.importer"):
        rejected = import_file(Pipeline(store, demo_config), source, mapping, source="t", rejects_path=rejects)
    assert rejected == 3
    reasons = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in reasons] == [2, 3, 4]
    assert all("contains whitespace or control characters" in r["reason"] for r in reasons)
    assert "m.jsonl: 1 text(s) longer than 100000 characters were cut" in caplog.text
    assert sorted(m["url"] for m in store.mentions.collection.find()) == ["https://example.com/1",
                                                                         "https://example.com/5"]


def test_rebuilds_read_every_cell_across_years_a_window_at_a_time(store, demo_config, tmp_path):
    """Rebuilds walk the store in indexed windows from the span every cell write keeps.

    Real tweets of Feb 2015 plus one synthetic tweet eleven years later (a store that went
    quiet and came back: the real file has no gap); the rebuilds must find both ends."""
    rows = list(islice(csv.DictReader(TWEETS_CSV.open(encoding="utf-8")), 1500))
    rows.append({**rows[0], "tweet_id": "1", "text": "@united still late, eleven years on",
                 "tweet_created": "2026-11-30 08:15:00 -0800"})
    sample = tmp_path / "sample.csv"
    with sample.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import_file(Pipeline(store, demo_config), sample, demo_config.import_mapping, source="tweets",
                rejects_path=tmp_path / "rejects.jsonl")
    first, last = store.mentions.hour_span()
    assert (first.year, last.isoformat()) == (2015, "2026-11-30T16:00:00+00:00")

    def cells():
        return sorted(cell for cell in store.mentions.cells() if cell[5])

    def days():
        return sorted((r["brand"], r["count"]) for r in store.daily.totals(("brand",)))

    before = cells()
    store.daily.rebuild()
    by_day = days()
    assert by_day == sorted((r["brand"], r["count"]) for r in store.mentions.totals(("brand",)))
    store.mentions.rebuild_stats()
    assert cells() == before
    store.mentions.meta.delete_one({"_id": "cell_hours"})  # a store from before the span was kept
    store.mentions.rebuild_stats()
    store.daily.rebuild()
    assert cells() == before and days() == by_day
    assert store.mentions.hour_span() == (first, last)
