"""A bad config fails with the path of the bad field and a one-line reason."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from listening.config import ConfigError, load_config, parse_config
from tests.conftest import ROOT


def test_demo_config_is_valid(demo_config):
    assert [b.name for b in demo_config.brands] == [
        "United", "US Airways", "American", "Southwest", "JetBlue", "Virgin America"]


def test_example_config_is_valid():

    config = load_config(ROOT / "listening.example.yaml")
    assert config.sources


@pytest.mark.parametrize("raw, where", [
    ({"brands": [{"name": "A"}, {"terms": ["x"]}]}, "brands.1.name: Field required"),
    ({"brands": [{"name": "A", "colour": "red"}]}, "brands.0.colour: Extra inputs are not permitted"),
    ({"brands": []}, "brands: List should have at least 1 item"),
    ({"brands": [{"name": "A"}], "departments": [{"name": "Ops", "leads": []}]}, "departments.0.leads"),
    ({"brands": [{"name": "A"}, {"name": "A"}]}, "duplicate names ['A']"),
])
def test_bad_fields_are_named(raw, where):
    with pytest.raises(ConfigError) as err:
        parse_config(raw, origin="x.yaml")
    assert str(err.value).startswith("x.yaml: ")
    assert where in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_reports_bad_yaml_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("brands: [\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "LISTENING_DATA")}
    result = subprocess.run([sys.executable, "-m", "listening", "--config", str(bad), "report"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**env, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "config error" in result.stderr and "not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # no embedded server started for a bad config


def test_handles_get_an_at_sign():
    config = parse_config({"brands": [{"name": "A", "handles": ["acme"]}]})
    assert config.brands[0].handles == ["@acme"]
