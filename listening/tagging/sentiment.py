"""Sentiment of a mention: VADER tuned for customer talk, with no labelled data needed.

Social text is normalised first (HTML entities, @handles, URLs, hashtags split into
words, elongations), then scored by VADER whose lexicon is extended with the
customer-service words and phrases of ``lexicon.yaml`` plus any from the config.
Text in another language, of undetermined language or without words is labelled
``unscored`` (label and method): VADER's lexicon is English and we do not pretend
otherwise, nor count such text as neutral.

    >>> score("Flight delayed 3 hours and still on hold").label
    'negative'
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml
from vaderSentiment.vaderSentiment import BOOSTER_DICT, N_SCALAR, NEGATE, SentimentIntensityAnalyzer, SentiText

from listening.models import UNSCORED, Sentiment, without_surrogates
from listening.tagging import language, towards

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
LEXICON_FILE = Path(__file__).with_name("lexicon.yaml")
# VADER is quadratic in text length (100 KB takes ~20 s): long texts are scored in
# chunks, and only the first and last ones (openings and conclusions carry the tone).
CHUNK_CHARS = 1000
MAX_CHUNKS = 4
EMOJI_COST = 20
SCORED_LANGS = ("en",)
# A target's passage is a few words: it takes a stronger compound to be an opinion of it
# (chosen with towards.WINDOW on the first half of Dong et al.'s train split, 0.516 macro-F1;
# the second half, not tuned on, 0.520).
TARGET_THRESHOLD = 0.4

_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|(?<![\w@])@\w+", re.I)
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)")
_ELONGATED = re.compile(r"\b\w*?([^\W\d_])\1{2,}\w*\b")
_REPEAT = re.compile(r"([^\W\d_])\1{2,}")
_RUN = re.compile(r"(\S)\1{3,}")  # "🙂🙂🙂🙂🙂🙂": three say as much (VADER is slow on floods)
_SPACE = re.compile(r"\s+")
_PUNCTUATION = "".join(c for c in map(chr, range(33, 127)) if not c.isalnum() and c not in "'_")
# "waited 3 hours", "45 min on hold": a duration beside waiting is a complaint, while
# "battery lasts 10 hours" is not, so durations count only next to a waiting word.
_DURATION = re.compile(r"\b\d+\+?\s*(?:hours?|hrs?|h|mins?|minutes|days)\b", re.I)
_WAITING = re.compile(r"\b(?:wait\w*|hold|delay\w*|late|stuck|sitting|sat|still|stranded)\b", re.I)
LONG_WAIT = "long_wait"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def as_text(text: object) -> str:
    """Any input as a clean ``str``: None -> "", bytes decoded, lone surrogates replaced."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", "replace")
    return without_surrogates(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=65536)
def split_hashtag(tag: str) -> str:
    """``NeverAgain`` -> ``Never Again``; ``neveragain`` -> ``never again`` (wordsegment).

    Segmenting costs ~0.1 ms a tag, so only lower-case tags of 6 to 20 letters that are
    not a word already are segmented, and results are cached (tags repeat a lot).
    """
    if _CAMEL.search(tag):
        return _CAMEL.sub(" ", tag)
    if 6 <= len(tag) <= 20 and tag.isalpha():
        return " ".join(_segment(tag.lower()))
    return tag


def _segment(word: str) -> list[str]:
    import wordsegment

    if not wordsegment.UNIGRAMS:
        wordsegment.load()
    if word in wordsegment.UNIGRAMS:
        return [word]
    return wordsegment.segment(word) or [word]


def normalise(text: object) -> str:
    """Social text as plain words: what every tagger reads."""
    text = as_text(text)
    if "&" in text:
        text = html.unescape(text)
    ascii = text.isascii()
    if not ascii:
        text = _RUN.sub(r"\1\1\1", text.translate(_QUOTES))
    if "/" in text or "www" in text or "@" in text:
        text = _URL_OR_HANDLE.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(lambda m: split_hashtag(m.group(1)), text)
    return " ".join(text.split())


@lru_cache(maxsize=1)
def builtin_lexicon() -> tuple[dict[str, float], dict[str, float]]:
    """(words, phrases) of the shipped customer-service lexicon."""
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    return dict(data.get("words") or {}), dict(data.get("phrases") or {})


@lru_cache(maxsize=1)
def _base_analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def bare_vader(text: object) -> Sentiment:
    """Plain VADER at its default thresholds: the baseline we measure against."""
    scores = _base_analyzer().polarity_scores(as_text(text))
    return Sentiment(**scores, label=label_for(scores["compound"]), method="vader")


def label_for(compound: float, positive: float = POSITIVE_THRESHOLD,
              negative: float = NEGATIVE_THRESHOLD) -> str:
    if compound >= positive:
        return "positive"
    if compound <= negative:
        return "negative"
    return "neutral"


# Courtesy is not praise: "thanks", "please", "hope" beside a complaint or inside a
# request say nothing good about the service, so they count for little there.
COURTESY = frozenset("""thanks thank thx ty please pls plz appreciate appreciated help hope
hoping wish like want welcome sure ok okay yes kind care free""".split())
COMPLAINT_VALENCE = -1.0
QUESTION_MARK = "q_mark"  # appended by Scorer.prepare to texts that ask something
COURTESY_FACTOR = 0.2
QUESTION_FACTOR = 0.5  # a customer's question is rarely praise: "what's the best number?"
_NEGATE = frozenset(NEGATE)
_REQUEST = frozenset(("can you", "could you", "would you", "will you", "can i", "could i",
                      "can we", "do you", "how do", "how can", "is there", "are there",
                      "let me know", "any way", "is it", "are you"))


class _ServiceAnalyzer(SentimentIntensityAnalyzer):
    """VADER with the courtesy rule applied after its own 'but' rule, and emoji replaced
    by their descriptions with one ``str.translate`` instead of a loop per character."""

    def __init__(self, lexicon: dict[str, float], emojis: dict[str, str]):
        self.lexicon, self.emojis = lexicon, emojis
        self._emoji_table = {ord(e): f" {d} " for e, d in emojis.items() if len(e) == 1}

    def polarity_scores(self, text):  # VADER 3.3.2's, but for the emoji step
        if not text.isascii():
            text = _SPACE.sub(" ", text.translate(self._emoji_table))
        sentitext = SentiText(text.strip())
        words, lexicon = sentitext.words_and_emoticons, self.lexicon
        if words and not any(w.lower() in lexicon for w in words):
            return {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}  # what VADER would say
        sentiments: list[float] = []
        for i, item in enumerate(words):
            lowered = item.lower()
            if lowered not in lexicon:  # what sentiment_valence gives it, without the call
                sentiments.append(0)
                continue
            if lowered in BOOSTER_DICT or (
                    lowered == "kind" and i < len(words) - 1 and words[i + 1].lower() == "of"):
                sentiments.append(0)
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)

    @staticmethod
    def _negation_check(valence, words_and_emoticons, start_i, i):  # type: ignore[override]
        """VADER 3.3.2's rule, lowering the three words it reads instead of the whole text
        (it did that for every sentiment word: a fifth of the tagger's time)."""
        before = {k: words_and_emoticons[i - k].lower() for k in range(1, start_i + 2)}
        if start_i == 1 and before[2] == "never" and before[1] in ("so", "this"):
            return valence * 1.25
        if start_i == 2 and ((before[3] == "never" and before[2] in ("so", "this"))
                             or before[1] in ("so", "this")):
            return valence * 1.25
        if start_i == 1 and before[2] == "without" and before[1] == "doubt":
            return valence
        if start_i == 2 and before[3] == "without" and "doubt" in (before[2], before[1]):
            return valence
        word = before[start_i + 1]
        return valence * N_SCALAR if word in _NEGATE or "n't" in word else valence

    @staticmethod
    def _special_idioms_check(valence, words_and_emoticons, i):  # type: ignore[override]
        """VADER's, handed only the six words around ``i`` that it reads (it lowers the
        whole text per call). VADER calls it only for ``i >= 3``."""
        return SentimentIntensityAnalyzer._special_idioms_check(
            valence, words_and_emoticons[i - 3:i + 3], 3)

    def _but_check(self, words, sentiments):  # type: ignore[override]
        sentiments = SentimentIntensityAnalyzer._but_check(words, sentiments)
        if not any(s > 0 for s in sentiments):
            return sentiments
        lowered = [w.lower() for w in words]
        complaint = any(s <= COMPLAINT_VALENCE for s in sentiments)
        request = complaint or QUESTION_MARK in lowered or any(f"{a} {b}" in _REQUEST for a, b in zip(lowered, lowered[1:]))
        question = QUESTION_MARK in lowered
        if request:
            sentiments = [s * COURTESY_FACTOR if s > 0 and w in COURTESY
                          else s * QUESTION_FACTOR if s > 0 and question else s
                          for s, w in zip(sentiments, lowered)]
        return sentiments


class Scorer:
    """VADER with the domain lexicon merged in, and its own thresholds."""

    def __init__(self, *, positive_threshold: float = POSITIVE_THRESHOLD,
                 negative_threshold: float = NEGATIVE_THRESHOLD,
                 lexicon: Mapping[str, float] | None = None, domain: bool = True,
                 neutral_words: Iterable[str] = (), english: bool = True):
        """``english=False``: a scorer of another language, its ``lexicon`` alone (VADER's
        English words and our customer-service ones never score another language)."""
        self.positive_threshold = positive_threshold
        self.negative_threshold = negative_threshold
        self.domain = domain = domain and english
        words, phrases = builtin_lexicon() if domain else ({}, {})
        words, phrases = dict(words), dict(phrases)
        for entry, valence in (lexicon or {}).items():
            (phrases if " " in entry.strip() else words)[entry.strip().lower()] = float(valence)
        base = _base_analyzer()
        # A brand's own name ("United") is not an opinion about it.
        neutral = {w.lower(): 0.0 for w in neutral_words if w.lower() in base.lexicon}
        merged = {**(base.lexicon if english else {}), **neutral, **{w.lower(): v for w, v in words.items()},
                  **{_join(p): v for p, v in phrases.items()}}
        # A word of valence 0 is no lexicon word: dropping it lets VADER skip it, and lets
        # "no" before it count ("no help" is a complaint, not a negated nothing).
        merged = {word: valence for word, valence in merged.items() if valence}
        self._analyzer = (_ServiceAnalyzer(merged, base.emojis) if domain
                          else SentimentIntensityAnalyzer.__new__(SentimentIntensityAnalyzer))
        self._analyzer.lexicon, self._analyzer.emojis = merged, base.emojis
        self._phrases = {" ".join(p.lower().split()) for p in phrases}
        self._phrase_starts: dict[str, int] = {}
        for phrase in self._phrases:
            first, length = phrase.split()[0], len(phrase.split())
            self._phrase_starts[first] = max(length, self._phrase_starts.get(first, 0))

    def prepare(self, text: object) -> str:
        """Normalised text with elongations undone and phrases joined into tokens."""
        return self.prepare_normalised(normalise(text))

    def prepare_normalised(self, text: str) -> str:
        """``prepare`` for text already through ``normalise``."""
        if self.domain and _DURATION.search(text) and _WAITING.search(text):
            text = _DURATION.sub(lambda m: f"{m.group(0)} {LONG_WAIT}", text)
        if _REPEAT.search(text):
            text = _ELONGATED.sub(self._unelongate, text)
        if self._phrases:
            text = self._join_phrases(text)
        if self.domain and "?" in text:
            text = f"{text} {QUESTION_MARK}"
        return text

    def _join_phrases(self, text: str) -> str:
        """"on hold" -> "on_hold": one token, so VADER looks the phrase up as a word."""
        words = text.split(" ")
        keys = [w.strip(_PUNCTUATION).lower() for w in words]
        starts = self._phrase_starts
        candidates = [i for i, key in enumerate(keys) if key in starts]
        if not candidates:
            return text
        done = -1
        for i in candidates:
            if i <= done:
                continue
            for n in range(min(starts[keys[i]], len(words) - i), 1, -1):
                if " ".join(keys[i:i + n]) in self._phrases:
                    last = words[i + n - 1]
                    words[i] = "_".join(keys[i:i + n]) + last[len(last.rstrip(_PUNCTUATION)):]
                    for j in range(i + 1, i + n):
                        words[j] = ""
                    done = i + n - 1
                    break
        return " ".join(w for w in words if w)

    def lexicon_sums(self, prepared: str) -> tuple[float, float]:
        """Raw sums of the positive and of the negative valences of a prepared text's words."""
        lexicon = self._analyzer.lexicon
        positive = negative = 0.0
        for word in prepared.split():
            valence = lexicon.get(word.strip(_PUNCTUATION).lower(), 0.0)
            if valence > 0:
                positive += valence
            else:
                negative -= valence
        return positive, negative

    def _unelongate(self, match: re.Match) -> str:
        word = match.group(0)
        two = _REPEAT.sub(r"\1\1", word)
        one = _REPEAT.sub(r"\1", word)
        lexicon = self._analyzer.lexicon
        if two.lower() in lexicon or one.lower() not in lexicon:
            return two
        return one

    def polarity(self, text: object) -> dict[str, float]:
        """VADER's four scores for one text; long texts are scored in chunks."""
        return self.polarity_prepared(self.prepare(text))

    def polarity_prepared(self, prepared: str) -> dict[str, float]:
        """``polarity`` for text already through ``prepare``."""
        if len(prepared) <= CHUNK_CHARS and (
                prepared.isascii() or sum(map(_cost, prepared.split(" "))) <= CHUNK_CHARS):
            return self._analyzer.polarity_scores(prepared)
        chunks = _chunks(prepared)
        scored = [self._analyzer.polarity_scores(chunk) for chunk in chunks]
        weights = [len(chunk) for chunk in chunks]
        total = sum(weights)
        return {key: sum(s[key] * w for s, w in zip(scored, weights)) / total
                for key in ("neg", "neu", "pos", "compound")}

    def score(self, text: object, lang: str | None = "detect", target: str | None = None) -> Sentiment:
        """Score one text, or its sentiment towards ``target`` when given; ``lang`` skips
        detection when the caller knows it."""
        if lang == "detect":
            lang = language.detect(as_text(text))
        prepared = self.prepare(text)
        if not scorable(lang, prepared):
            return unscored()
        if target:
            return self.towards(normalise(text), target) or self.sentiment(self.polarity_prepared(prepared))
        return self.sentiment(self.polarity_prepared(prepared))

    def towards(self, normalised: str, target: str) -> Sentiment | None:
        """The sentiment towards ``target`` from its passages (``towards.py``); a switch away
        from it is negative, to it positive; None when the text does not name it."""
        found = towards.passages(normalised, target)
        if not found:
            return None
        scores = [self.polarity_prepared(self.prepare_normalised(p)) for p in found]
        mean = {key: sum(s[key] for s in scores) / len(scores) for key in ("neg", "neu", "pos", "compound")}
        role = towards.switch_role(normalised, target)
        if role:
            mean["compound"] = max(mean["compound"], TARGET_THRESHOLD) if role > 0 else min(mean["compound"], -TARGET_THRESHOLD)
        return Sentiment.model_construct(
            compound=mean["compound"], pos=mean["pos"], neu=mean["neu"], neg=mean["neg"], method="lexicon",
            label=label_for(mean["compound"], max(self.positive_threshold, TARGET_THRESHOLD),
                            min(self.negative_threshold, -TARGET_THRESHOLD)))

    def sentiment(self, scores: dict[str, float]) -> Sentiment:
        """VADER scores as a labelled Sentiment, at this scorer's thresholds."""
        return Sentiment.model_construct(  # VADER's floats and our label: valid by construction
            compound=scores["compound"], pos=scores["pos"], neu=scores["neu"], neg=scores["neg"],
            method="lexicon", label=label_for(scores["compound"], self.positive_threshold,
                                              self.negative_threshold))

    def score_many(self, texts: Iterable[object], langs: Sequence[str | None] | None = None,
                   targets: Sequence[str | None] | None = None) -> list[Sentiment]:
        texts = list(texts)
        if langs is None:
            langs = language.detect_many(as_text(t) for t in texts)
        targets = targets if targets is not None else [None] * len(texts)
        return [self.score(*item) for item in zip(texts, langs, targets)]


def scorable(lang: str | None, text: str, langs: Iterable[str] = SCORED_LANGS) -> bool:
    """Whether a lexicon of ``langs`` may score ``text``: it is in one of them, or has no
    words at all (emoji and emoticons say the same in every language)."""
    return bool(text) and (lang in langs or (lang is None and not any(map(str.isalpha, text))))


def unscored() -> Sentiment:
    """What we say about text we cannot read: not scored, a class of its own (never neutral)."""
    return Sentiment(compound=0.0, pos=0.0, neu=0.0, neg=0.0, label=UNSCORED, method=UNSCORED)


def _join(phrase: str) -> str:
    return "_".join(phrase.lower().split())


def _cost(word: str) -> int:
    """Characters VADER will see: an emoji becomes its description (~20 characters)."""
    return len(word) + 1 + (EMOJI_COST * sum(ord(c) > 0x2000 for c in word) if not word.isascii() else 0)


def _words(text: str):
    """Space-separated words; a word too long for one chunk comes in slices."""
    step = CHUNK_CHARS // (EMOJI_COST + 1)
    for word in text.split(" "):
        if _cost(word) <= CHUNK_CHARS:
            yield word
        else:
            yield from (word[i:i + step] for i in range(0, len(word), step))


def _chunks(text: str) -> list[str]:
    """Up to MAX_CHUNKS word-aligned chunks: the first ones and the last one."""
    pieces: list[str] = []
    current: list[str] = []
    cost = 0
    for word in _words(text):
        if current and cost + _cost(word) > CHUNK_CHARS:
            pieces.append(" ".join(current))
            current, cost = [], 0
        current.append(word)
        cost += _cost(word)
    pieces.append(" ".join(current))
    if len(pieces) > MAX_CHUNKS:
        pieces = pieces[:MAX_CHUNKS - 1] + pieces[-1:]
    return pieces


@lru_cache(maxsize=16)
def _scorer(positive: float, negative: float, lexicon: tuple[tuple[str, float], ...],
            neutral_words: frozenset[str]) -> Scorer:
    return Scorer(positive_threshold=positive, negative_threshold=negative,
                  lexicon=dict(lexicon), neutral_words=neutral_words)


def brand_words(config) -> frozenset[str]:
    """The words of every brand's name, terms and handles."""
    words = set()
    for brand in config.brands:
        for term in (brand.name, *brand.terms, *brand.handles):
            words.update(re.findall(r"[^\W\d_]+", term.lower()))
    return frozenset(words)


def scorer_for(config=None) -> Scorer:
    """The (cached) scorer of a ``listening.config.Config``; the defaults without one."""
    if config is None:
        return _scorer(POSITIVE_THRESHOLD, NEGATIVE_THRESHOLD, (), frozenset())
    section = config.sentiment
    return _scorer(section.positive_threshold, section.negative_threshold,
                   tuple(sorted(section.lexicon.items())), brand_words(config))


def language_scorers(config=None) -> dict[str, Scorer]:
    """The config's other languages' scorers (``sentiment.languages``), by language code."""
    if config is None:
        return {}
    section = config.sentiment
    return {lang: _language_scorer(section.positive_threshold, section.negative_threshold,
                                   tuple(sorted(words.items())))
            for lang, words in section.languages.items() if lang != "en"}


@lru_cache(maxsize=16)
def _language_scorer(positive: float, negative: float, lexicon: tuple[tuple[str, float], ...]) -> Scorer:
    return Scorer(positive_threshold=positive, negative_threshold=negative, lexicon=dict(lexicon),
                  english=False)


def score(text: object, target: str | None = None) -> Sentiment:
    """Score one text with the default scorer; with ``target``, the sentiment towards it."""
    return scorer_for().score(text, target=target)


def score_many(texts: Iterable[object], targets: Sequence[str | None] | None = None) -> list[Sentiment]:
    """Score a batch of texts with the default scorer (``targets``: one per text, or none)."""
    return scorer_for().score_many(texts, targets=targets)
