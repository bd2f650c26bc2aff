"""The shapes that flow through the pipeline, in the users' words."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SentimentLabel = Literal["positive", "neutral", "negative"]


class RawMention(BaseModel):
    """What a spider or an importer hands to the pipeline: parsed, not yet cleaned."""

    model_config = ConfigDict(extra="forbid")

    source: str
    source_kind: str
    text: str
    external_id: str | None = None
    url: str | None = None
    author: str | None = None
    title: str | None = None
    published_at: datetime | str | int | float | None = None
    lang: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict, description="Human labels, e.g. sentiment.")
    extra: dict[str, Any] = Field(default_factory=dict)


class Sentiment(BaseModel):
    """VADER-style scores plus the label they imply."""

    compound: float
    pos: float = 0.0
    neu: float = 1.0
    neg: float = 0.0
    label: SentimentLabel
    method: str = Field(default="lexicon", description="lexicon, model (learned from labels), "
                        "unscored (a language we cannot score: label is neutral) or vader.")


class Tags(BaseModel):
    """Everything the tagger says about one text."""

    sentiment: Sentiment
    issues: list[str] = Field(default_factory=list)
    intent: list[str] = Field(default_factory=list)
    lang: str | None = None
