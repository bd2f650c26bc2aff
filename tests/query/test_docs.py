"""docs/queries.md stays true: its examples parse, its mistakes fail, its config loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from listening.config import parse_config
from listening.query import QuerySyntaxError, parse

DOC = (Path(__file__).resolve().parents[2] / "docs" / "queries.md").read_text(encoding="utf-8")
TABLE = [line.split("|")[1] for line in DOC.splitlines() if line.startswith("| `")]
EXAMPLES = [q for cell in TABLE for q in re.findall(r"`([^`]+)`", cell)]
MISTAKES = re.findall(r"`([^`]+)`", DOC.split("Common ones:")[1].split("\n\n")[0])


@pytest.mark.parametrize("query", EXAMPLES)
def test_every_example_in_the_table_parses(query):
    parse(query)


@pytest.mark.parametrize("query", [m for m in MISTAKES if m not in ("NOT variant", "NEAR/3")])
def test_every_listed_mistake_fails(query):
    with pytest.raises(QuerySyntaxError):
        parse(query)


def test_the_config_example_loads():
    example = DOC.split("```yaml")[1].split("```")[0]
    config = parse_config(yaml.safe_load(example))
    assert [b.name for b in config.brands] == ["JetBlue", "United"]


def test_the_table_covers_every_operator():
    for needle in ("AND", "OR", "NOT", "NEAR/", "ONEAR/", '"', "*", "{", "@", "#",
                   "title:", "text:", "source:", "lang:", "author:"):
        assert any(needle in q for q in EXAMPLES), needle
