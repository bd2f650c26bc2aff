"""``listening report --json``: DESIGN.md's shape, from the rollups."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from listening.ingest.pipeline import Pipeline
from listening.models import RawMention


@pytest.fixture
def seeded(store_env, demo_config):
    texts = ["@united thank you, great crew!", "@united lost my bag, terrible",
             "@united and @SouthwestAir both late", "@SouthwestAir ok I guess"]
    Pipeline(store_env, demo_config).run(
        RawMention(source="t", source_kind="import", text=t, external_id=str(i),
                   published_at=f"2024-05-0{i + 1}T12:00:00Z") for i, t in enumerate(texts))
    return store_env


def run_report(*args: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "listening", "report", "--json", *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_report_shape_and_shares(seeded):
    doc = run_report()
    assert doc["mentions"] == 4
    assert set(doc) == {"since", "until", "mentions", "brands", "share_of_search_by_category", "open_alerts"}
    united, southwest = doc["brands"]["United"], doc["brands"]["Southwest"]
    assert (united["mentions"], southwest["mentions"]) == (3, 2)
    assert united["share_of_voice"] == pytest.approx(3 / 5)
    assert sum(b["share_of_voice"] for b in doc["brands"].values()) == pytest.approx(1.0)
    assert sum(united["sentiment"].values()) == pytest.approx(1.0)
    assert united["net_sentiment"] == pytest.approx(
        united["sentiment"]["positive"] - united["sentiment"]["negative"])
    assert doc["brands"]["JetBlue"]["mentions"] == 0
    assert "share_of_search" in united


def test_report_window(seeded):
    doc = run_report("--since", "2024-05-02", "--until", "2024-05-04")
    assert doc["mentions"] == 2
    assert doc["since"].startswith("2024-05-02T00:00:00")
    assert doc["brands"]["United"]["mentions"] == 2


def test_an_empty_window_says_no_mentions_not_zero_percent(seeded):
    doc = run_report("--since", "2025-01-01")
    assert doc["mentions"] == 0
    united = doc["brands"]["United"]
    assert united["share_of_voice"] is None and united["net_sentiment"] is None
    assert set(united["sentiment"].values()) == {None}
    text = subprocess.run([sys.executable, "-m", "listening", "report", "--since", "2025-01-01"],
                          capture_output=True, text=True, timeout=120)
    assert text.returncode == 0 and "No mentions of any brand from 2025-01-01" in text.stdout
    assert "0%" not in text.stdout and "+0.00" not in text.stdout


def test_a_brand_without_mentions_has_no_sentiment_split(seeded):
    jetblue = run_report()["brands"]["JetBlue"]
    assert jetblue["mentions"] == 0 and jetblue["share_of_voice"] == 0.0
    assert jetblue["net_sentiment"] is None and set(jetblue["sentiment"].values()) == {None}


def test_the_readme_sample_has_the_real_shape(seeded):
    """The README's `report --json` sample: the keys the command really prints."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    sample = json.loads(readme.split("`listening report --json` prints")[1].split("```json")[1].split("```")[0])
    real = run_report()
    assert set(sample) == set(real)
    [brand] = sample["brands"].values()
    assert set(brand) == set(real["brands"]["United"])
    assert set(brand["sentiment"]) == set(real["brands"]["United"]["sentiment"])
    from datetime import datetime, timezone

    from listening.alerts.lifecycle import as_json

    alert = {"_id": "a", "rule": "r", "brand": "United", "issue": None, "status": "open", "observed": 1.0,
             "opened_at": datetime(2015, 2, 24, 17, tzinfo=timezone.utc), "expected": 1.0, "severity": "low"}
    assert [set(a) for a in sample["open_alerts"]] == [set(as_json(alert))]
