"""Which language a mention is in: fast enough to run on every mention.

English is recognised first by its function words (most mentions, and the cheapest
check); only the rest go to py3langid, a naive-Bayes byte n-gram model that ships in
its wheel. Short social texts fool any detector, so a non-English verdict needs a
confident model and no English evidence; text with too few letters is ``None``
(unknown) rather than a guess.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

MIN_LETTERS = 3
MIN_CONFIDENCE = 0.7
MAX_CHARS = 2000

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|&\w+;")
# Frequent English words that are rare as words of other Latin-script languages.
_ENGLISH = frozenset("""
the and you your is are was were have has had not this that with for from what when why
how who which will would can could should just been being they them their there our
my me it's i'm don't can't didn't doesn't isn't won't wasn't please thanks thank get got
any about into after before again still now today tonight time flight service customer
back been over only very too also than then here where does did of to in on at by an it
be we us he she his her its if or so no yes all one out up
""".split())


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str | None) -> str | None:
    """ISO 639-1 code of ``text``'s language, or ``None`` when it cannot tell."""
    if not isinstance(text, str) or not text:
        return None
    text = _NOISE.sub(" ", text[:MAX_CHARS])
    return detect_words(text, [w.lower() for w in _WORD.findall(text)])


def detect_words(text: str, words: Sequence[str]) -> str | None:
    """``detect`` for a text already split into lower-case words (handles and URLs gone)."""
    letters = 0
    hits = 0
    for word in words:
        if word.isalpha():
            letters += len(word)
            hits += word in _ENGLISH
    if letters < MIN_LETTERS:
        return None
    if hits >= 2 or (hits and len(words) <= 3):
        return "en"
    text = text[:MAX_CHARS]
    try:
        lang, confidence = _identifier().classify(text.encode("utf-8", "replace"))
    except Exception:  # a detector failure must never stop the pipeline
        return None
    if lang == "en" or confidence >= MIN_CONFIDENCE:
        return lang
    return "en" if hits else None


def detect_many(texts: Iterable[str | None]) -> list[str | None]:
    """``detect`` for a batch."""
    return [detect(text) for text in texts]
