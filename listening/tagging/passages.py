"""The passages of a long text that talk about a brand: what long text is tagged from.

An essay that names a brand once says little about it elsewhere; its other words (a "?"
in a quotation, "on time" in a paragraph about something else) are not about the brand.
A passage is ``WINDOW`` words either side of each match of one of the brand's terms.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from listening.tagging.issues import tokens

WINDOW = 30
# Longer than this (characters of normalised text) is long-form: news, blogs, reviews.
LONG_FORM_CHARS = 600


def is_long(text: str) -> bool:
    return len(text) > LONG_FORM_CHARS


def spans(words: Sequence[str], terms: Iterable[str], window: int = WINDOW) -> list[tuple[int, int]]:
    """Merged (start, end) word spans around every match of a term (its tokens in a row)."""
    found = []
    for term in {" ".join(tokens(t)) for t in terms if tokens(t)}:
        parts = term.split(" ")
        n = len(parts)
        for i in range(len(words) - n + 1):
            if words[i] == parts[0] and words[i:i + n] == parts:
                found.append((max(0, i - window), min(len(words), i + n + window)))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def passages(text: str, terms: Iterable[str], window: int = WINDOW) -> str:
    """The words around the terms' matches, passages joined by " ... "; "" when none match."""
    words = text.split()
    lowered = [" ".join(tokens(w)) for w in words]
    flat: list[str] = []
    index: list[int] = []  # token -> its word
    for w, toks in enumerate(lowered):
        for tok in toks.split(" ") if toks else ():
            flat.append(tok)
            index.append(w)
    out = []
    for start, end in spans(flat, terms, window):
        out.append(" ".join(words[index[start]:index[end - 1] + 1]))
    return " ... ".join(out)
