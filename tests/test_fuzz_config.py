"""Fuzz: ``listening.yaml`` damaged, mistyped, nested too deep or full of hostile names.

A config loads or fails with ``ConfigError``: one line, naming the file; never a traceback
of another type (the CLI prints ConfigError as ``config error: ...`` and exits 2).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from listening.config import PACKAGED_DEMO, Config, ConfigError, load_config, parse_config
from tests.conftest import ROOT
from tests.support.strategies import JUNK_BYTES, edited, fuzz, hostile_text, json_values, mutations, nested_json

CONFIGS = [PACKAGED_DEMO, ROOT / "listening.example.yaml"]
DEMO = yaml.safe_load(PACKAGED_DEMO.read_text(encoding="utf-8"))


def loads_or_fails_in_one_line(load, origin: str) -> None:
    try:
        assert isinstance(load(), Config)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{origin}: ")
        assert "\n" not in message and "\r" not in message, message


def load_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "listening.yaml"
        path.write_bytes(data)
        loads_or_fails_in_one_line(lambda: load_config(path), str(path))


@fuzz
@given(st.sampled_from([p.read_bytes() for p in CONFIGS]).flatmap(mutations))
def test_damaged_real_configs(data):
    load_bytes(data)


@fuzz
@given(st.one_of(st.binary(max_size=512), st.lists(JUNK_BYTES).map(b"".join),
                 st.integers(1, 20_000).map(lambda n: nested_json(n).encode()),
                 json_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode("utf-8", "surrogatepass")),
                 st.sampled_from([b"!!python/object:os.system {}", b"a: &a [*a]", b"--- \n...\n---\n", b"\xff\xfe",
                                  b"brands: !!binary aGk=", b"brands: [{name: A}]\n\tsources: []"])))
def test_garbage_files(data):
    load_bytes(data)


@fuzz
@given(edited(DEMO))
def test_hostile_values_and_keys_in_the_demo_config(raw):
    loads_or_fails_in_one_line(lambda: parse_config(raw, origin="x.yaml"), "x.yaml")


@fuzz
@given(hostile_text | st.sampled_from(["Europe/London", "UTC", "America", "../etc/passwd", "", "Etc/GMT+99"]),
       hostile_text | st.sampled_from(["08:00", "23:59", "24:00", "25:99", "7:30"]),
       st.lists(hostile_text | st.sampled_from([r"\bdelay\w*", "(unclosed", "*", "(?P<x>a)(?P<x>b)", "[z-a]"]),
                max_size=3),
       hostile_text | st.just("*"))
def test_a_config_that_loads_is_usable(zone, digest_at, patterns, issue):
    """Time zones, digest times, issue names and patterns are used hours after loading: a bad one fails now."""
    from datetime import time
    from zoneinfo import ZoneInfo

    from listening.tagging import Tagger

    raw = {"brands": [{"name": "A"}],
           "departments": [{"name": "Ops", "leads": ["ops@example.com"], "timezone": zone, "digest_at": digest_at}],
           "issues": [{"name": issue, "department": "Ops", "patterns": patterns}],
           "sources": [{"name": "s", "kind": "feed", "urls": ["http://x.test/f"], "timezone": zone}]}
    try:
        config = parse_config(raw, origin="x.yaml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        return
    ZoneInfo(config.departments[0].timezone)
    time.fromisoformat(config.departments[0].digest_at)
    assert config.issues[0].name != "*"  # the rollups' every-issue cell
    Tagger(config)

