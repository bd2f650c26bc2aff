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
    assert set(doc) == {"since", "until", "mentions", "brands", "open_alerts"}
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
