"""The shapes that flow through the pipeline, in the users' words."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

SentimentLabel = Literal["positive", "neutral", "negative", "unscored"]
UNSCORED = "unscored"  # text we cannot read (undetermined or unsupported language, no words)
MAX_NESTING = 20  # levels of labels and extra kept as they are
# Lone surrogates: a JSON "\ud800" escape, or bytes a decoder could not read (surrogateescape).
SURROGATE = re.compile("[\ud800-\udfff]")


class RawMention(BaseModel):
    """What a spider or an importer hands to the pipeline: parsed, not yet cleaned."""

    model_config = ConfigDict(extra="forbid")

    source: str
    source_kind: str
    text: str
    external_id: str | None = None
    former_id: str | None = Field(default=None, description="The id an older version gave the item "
                                  "(Mastodon's instance-local id), so a mention stored under it is found again.")
    url: str | None = None
    author: str | None = None
    title: str | None = None
    published_at: datetime | str | int | float | None = None
    lang: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict, description="Human labels, e.g. sentiment.")
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("*")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        return encodable(value)

    @field_validator("url")
    @classmethod
    def _web_page(cls, url: str | None) -> str | None:
        """A link a reader may open: ``javascript:``, ``mailto:`` and other schemes are dropped."""
        try:
            return url if url is None or urlsplit(url).scheme.lower() in ("http", "https", "") else None
        except ValueError:  # "http://[::1"
            return None


def without_surrogates(text: str) -> str:
    """Lone surrogates (a JSON ``"\\ud800"`` escape, bytes a decoder could not read) as
    U+FFFD, the replacement character: UTF-8 cannot carry them, and ``?`` (what
    ``encode(errors="replace")`` gives) would read as a question."""
    return text if text.isascii() else SURROGATE.sub("\ufffd", text)


def encodable(value: Any, depth: int = 0) -> Any:
    """``value`` as UTF-8, BSON and the crawl's hand-off can carry it: lone surrogates
    become U+FFFD; what is nested deeper than MAX_NESTING becomes its JSON text (MongoDB
    refuses documents nested over 100 levels deep)."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, (dict, list)) and depth >= MAX_NESTING:
        try:
            return encodable(json.dumps(value, ensure_ascii=False, default=str))
        except RecursionError:
            return "(nested too deep)"
    if isinstance(value, dict):
        return {field_name(k): encodable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [encodable(v, depth + 1) for v in value]
    return value


def field_name(key: object) -> str:
    """A key MongoDB keeps as plain data, never an operator or a path: no NUL, no ``.``, no
    leading ``$`` (full-width look-alikes stand in)."""
    key = encodable(str(key)).replace("\x00", "").replace(".", "\uff0e")
    return "\uff04" + key[1:] if key.startswith("$") else key


class Sentiment(BaseModel):
    """VADER-style scores plus the label they imply."""

    compound: float
    pos: float = 0.0
    neu: float = 1.0
    neg: float = 0.0
    label: SentimentLabel
    method: str = Field(default="lexicon", description="lexicon, model (learned from labels), "
                        "unscored (a language we cannot score: label is unscored too) or vader.")


def sentiment_label(sentiment: dict | None) -> str:
    """The label a stored sentiment counts under. A mention stored before unscored was a
    class of its own (label neutral, method unscored), or with no sentiment, is unscored."""
    if not sentiment or sentiment.get("method") == UNSCORED:
        return UNSCORED
    return sentiment.get("label") or UNSCORED


class Tags(BaseModel):
    """Everything the tagger says about one text."""

    sentiment: Sentiment
    issues: list[str] = Field(default_factory=list)
    intent: list[str] = Field(default_factory=list)
    lang: str | None = None
    towards: dict[str, Sentiment] = Field(default_factory=dict, description=(
        "Per brand, the sentiment towards it, for a mention naming several brands "
        "(one brand: the mention's own sentiment is the brand's)."))

    def stored(self) -> dict:
        """The fields a stored mention keeps of these tags (``towards`` as ``brand_sentiment``)."""
        return {"sentiment": self.sentiment.model_dump(), "issues": self.issues, "intent": self.intent,
                "lang": self.lang, "brand_sentiment": {b: s.model_dump() for b, s in self.towards.items()}}
