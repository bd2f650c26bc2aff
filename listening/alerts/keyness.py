"""Which words rose: weighted log-odds with an informative Dirichlet prior (Monroe,
Colaresi and Quinn 2008, "Fightin' Words", eq. 22).

Why this measure: raw ratios crown words seen once; frequency differences crown "the".
The z-score of the log-odds ratio, shrunk toward the background rate of each word
(the prior), ranks a word high only when it is both frequent and clearly more frequent
now than in the baseline.

    terms = rising(now_texts, baseline_texts, drop={"united"}, top=10)
    # [{"term": "cancelled flightled", "count": 41, "expected": 3.2, "z": 7.9}, ...]
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Iterable

PRIOR_WEIGHT = 500.0   # alpha_0: how many pseudo-words the background prior is worth
MIN_COUNT = 3          # a term seen fewer times now is anecdote, not a rise
BIGRAM_SHARE = 0.6     # a bigram replaces its word when it carries this share of the word's uses

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_WORD = re.compile(r"[a-z][a-z0-9']*[a-z0-9]|[a-z]")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's English list, plus the shapes tweets add ("rt", "amp", contractions)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    extra = {"rt", "amp", "im", "i'm", "it's", "don't", "can't", "didn't", "doesn't", "won't",
             "i've", "you're", "we're", "they're", "that's", "isn't", "wasn't", "i'll", "u", "ur"}
    return frozenset(ENGLISH_STOP_WORDS | extra)


def words(text: str) -> list[str]:
    """Lower-case words of a mention: links and @handles out (handles name people, not topics)."""
    text = _HANDLE.sub(" ", _URL.sub(" ", (text or "").lower().replace("\u2019", "'")))
    return _WORD.findall(text)


def terms(text: str, drop: frozenset[str] | set[str]) -> set[str]:
    """A mention's countable terms (each counted once per mention): words that are neither stop
    words nor in ``drop``, and bigrams of two such adjacent words."""
    stop = stop_words()
    ws = words(text)
    keep = [w if w not in stop and w not in drop and len(w) > 1 else None for w in ws]
    out = {w for w in keep if w}
    out.update(f"{a} {b}" for a, b in zip(keep, keep[1:]) if a and b)
    return out


def document_counts(texts: Iterable[str], drop: frozenset[str] | set[str]) -> tuple[Counter, int]:
    """(term -> number of mentions containing it, number of mentions)."""
    counts, n = Counter(), 0
    for text in texts:
        counts.update(terms(text, drop))
        n += 1
    return counts, n


def log_odds(now: Counter, base: Counter, prior_weight: float = PRIOR_WEIGHT) -> dict[str, float]:
    """z-scores of the log-odds ratio now vs baseline for each term seen now (Monroe eq. 22).

    The prior is the pooled corpus: alpha_w = alpha_0 * the pooled share of term w. Each
    mention counts a term once, so one long post cannot carry a term on its own.
    """
    n_i, n_j = sum(now.values()), sum(base.values())
    pooled = now + base
    total = max(sum(pooled.values()), 1)
    a0 = prior_weight
    z = {}
    for term, y_i in now.items():
        y_j = base.get(term, 0)
        alpha = a0 * pooled[term] / total
        delta = (math.log((y_i + alpha) / (n_i + a0 - y_i - alpha))
                 - math.log((y_j + alpha) / (n_j + a0 - y_j - alpha)))
        z[term] = delta / math.sqrt(1 / (y_i + alpha) + 1 / (y_j + alpha))
    return z


def rising(now_texts: Iterable[str], base_texts: Iterable[str], *, drop: set[str] | frozenset[str] = frozenset(),
           top: int = 10, min_count: int = MIN_COUNT) -> list[dict]:
    """The terms that rose most, strongest first, each with mentions now and expected.

    ``expected``: the baseline's share of mentions with the term, times the mentions now; a
    term rose when its z-score is positive and it is seen more often than expected.
    A bigram that carries most uses of one of its words stands in for that word.
    """
    now, n_now = document_counts(now_texts, drop)
    base, n_base = document_counts(base_texts, drop)
    if not n_now:
        return []
    z = log_odds(now, base)
    rate = n_now / n_base if n_base else 0.0
    ranked = sorted((t for t in z if now[t] >= min_count and z[t] > 0 and now[t] > base.get(t, 0) * rate),
                    key=lambda t: -z[t])
    chosen: list[str] = []
    for term in ranked:
        parts = term.split(" ")
        if len(parts) == 1 and any(term in c.split(" ") and now[c] >= BIGRAM_SHARE * now[term] for c in chosen):
            continue  # a chosen bigram already says it
        if len(parts) == 2 and any(now[term] < BIGRAM_SHARE * now[p] for p in parts if p in chosen):
            continue  # its word reads as well alone
        if len(parts) == 2:
            chosen = [c for c in chosen if not (c in parts and now[term] >= BIGRAM_SHARE * now[c])]
        chosen.append(term)
        if len(chosen) >= top:
            break
    return [{"term": t, "count": now[t], "expected": round(base.get(t, 0) * rate, 1), "z": round(z[t], 2)}
            for t in chosen[:top]]
