"""Items: spiders yield ``listening.models.RawMention``, or ``Rejected`` for an item they could not read.

A ``Rejected`` still flows to the item pipeline so the run's ``read`` and ``rejected``
counts stay exact (``read = matched + unmatched + rejected``).
"""

from __future__ import annotations

from dataclasses import dataclass

from listening.models import RawMention

__all__ = ["RawMention", "Rejected"]


@dataclass
class Rejected:
    """An item of a source that could not become a mention, and why."""

    source: str
    reason: str
    url: str = ""
