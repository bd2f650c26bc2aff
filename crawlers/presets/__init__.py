"""json_api presets: a field mapping per well-known API, shipped as YAML data.

A source names one with ``preset:``; its own ``mapping:`` keys override the preset's.

    >>> load_preset("hackernews")["items"]
    'hits'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

PRESETS = Path(__file__).resolve().parent


def names() -> list[str]:
    """The shipped presets."""
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


@lru_cache(maxsize=None)
def _read(name: str) -> dict:
    path = PRESETS / f"{name}.yaml"
    if not path.is_file():
        raise KeyError(f"unknown json_api preset {name!r}; known: {', '.join(names())}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_preset(name: str) -> dict:
    """The preset's mapping (a fresh copy)."""
    return dict(_read(name)["mapping"])


def preset_info(name: str) -> dict:
    """The whole preset file: description, documentation link, example URL, mapping."""
    return dict(_read(name))
