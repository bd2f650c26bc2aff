"""How texts and query terms are cut into words, the same way for both.

A word is a run of letters, digits or ``_``; ``@handle`` and ``#hashtag`` are one word
each when the sign starts the word (``a@b.com`` holds no handle). Everything else
(spaces, punctuation, ``&``, ``'``) only separates words, so ``"Jet-Blue"`` and
``"jet blue"`` are the same phrase and ``JetBlue's`` holds the word ``jetblue``.

Matching ignores case and accents (``fold``): ``nestle`` finds *Nestlé*; only a
``{Cased}`` term compares the original words.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"(?<!\w)[@#]\w+|\w+")


def words(text: str) -> list[str]:
    """The words of ``text``, in their original case."""
    return WORD.findall(text)


def fold(word: str) -> str:
    """One word in lower case without accents (and still one word)."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c) and c != " ")


def folded_text(found: list[str]) -> str:
    """The words folded and joined by single spaces, padded with one space each side."""
    joined = " ".join(found)
    return f" {joined.lower()} " if joined.isascii() else " " + " ".join(map(fold, found)) + " "
