"""Which language a mention is in, decided per item from its own text.

py3langid (a naive-Bayes byte n-gram model shipped in its wheel) decides. It needs more
confidence on short texts, which fool any detector; a text too short or too unsure stays
``None`` (undetermined, BCP 47 ``und``). A text whose words are mostly English function
words is English without asking the model (a third of its words, not any two: "Das ist
was wir in der Stadt haben" has two): cheap, and right on the mostly English stream.
A text the model cannot decide takes the language its feed or page declared
(``declared``) when the model finds that language plausible: the declaration is a prior,
never an override, because a Swedish blog also posts in English. Unsure with no plausible
prior, the model's best guess stands only when it is English (short tweets, mostly).
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Iterable, Sequence

MIN_LETTERS = 3
SHORT_LETTERS = 40  # below this the model must be very sure
MIN_CONFIDENCE = 0.7
MIN_CONFIDENCE_SHORT = 0.95
ENGLISH_SHARE = 0.3  # English function words per word in running English: about 0.4
MAX_CHARS = 2000
PRIOR_WEIGHT = 20  # how much likelier the declared language is than any other, a priori

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})
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


def preload() -> None:
    """Start loading the model in the background: 0.5 s, most of it LZMA, which frees the
    GIL, so a tagger's owner reads and normalises its first batch meanwhile."""
    _loading()


@lru_cache(maxsize=1)
def _loading() -> Future:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="langid-model")
    try:
        return pool.submit(_load)
    finally:
        pool.shutdown(wait=False)  # the load still runs; the thread ends with it


def _load():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _identifier():
    return _loading().result()


def primary(tag: str | None) -> str | None:
    """A declared language tag as its primary subtag: ``sv-SE`` -> ``sv``; junk -> None."""
    if not isinstance(tag, str):
        return None
    code = tag.strip().replace("_", "-").split("-")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 and code != "und" else None


def detect(text: str | None, declared: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``'s language; ``declared`` (the feed's or page's) when the
    text cannot tell; ``None`` when neither can."""
    if not isinstance(text, str) or not text:
        return primary(declared)
    text = _NOISE.sub(" ", text[:MAX_CHARS].translate(_QUOTES))
    return detect_words(text, [w.lower() for w in _WORD.findall(text)], declared)


def detect_words(text: str, words: Sequence[str], declared: str | None = None) -> str | None:
    """``detect`` for a text already split into lower-case words (handles and URLs gone)."""
    letters = hits = count = 0
    for word in words:
        if word.isalpha():
            count += 1
            letters += len(word)
            hits += word in _ENGLISH
    prior = primary(declared)
    if letters < MIN_LETTERS:
        return prior
    if (hits >= 2 and hits >= ENGLISH_SHARE * count) or (hits and count <= 3):
        return "en"
    try:
        lang, confidence = _identifier().classify(text[:MAX_CHARS].encode("utf-8", "replace"))
    except Exception:  # a detector failure must never stop the pipeline
        return prior
    if confidence >= (MIN_CONFIDENCE_SHORT if letters < SHORT_LETTERS else MIN_CONFIDENCE):
        return lang
    if prior and plausible(text, prior, confidence):
        return prior
    # Unsure, but English is the model's best guess: English (short tweets, mostly).
    return "en" if lang == "en" else None


def plausible(text: str, prior: str, best: float) -> bool:
    """Whether the model finds the declared language near its own unsure best guess."""
    try:
        ranked = dict(_identifier().rank(text[:MAX_CHARS].encode("utf-8", "replace")))
    except Exception:
        return True
    return prior not in ranked or ranked[prior] * PRIOR_WEIGHT >= best


def detect_many(texts: Iterable[str | None],
                declared: Iterable[str | None] | None = None) -> list[str | None]:
    """``detect`` for a batch (``declared``: one prior per text, or none)."""
    texts = list(texts)
    priors = list(declared) if declared is not None else [None] * len(texts)
    return [detect(text, prior) for text, prior in zip(texts, priors)]
