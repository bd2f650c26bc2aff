"""How texts and query terms are cut into words, the same way for both.

A word is a run of letters, digits or ``_``; ``@handle`` and ``#hashtag`` are one word
each when the sign starts the word (``a@b.com`` holds no handle). Everything else
(spaces, punctuation, ``&``, ``'``) only separates words, so ``"Jet-Blue"`` and
``"jet blue"`` are the same phrase and ``JetBlue's`` holds the word ``jetblue``.
"""

from __future__ import annotations

import re

WORD = re.compile(r"(?<!\w)[@#]\w+|\w+")


def words(text: str) -> list[str]:
    """The words of ``text``, in their original case."""
    return WORD.findall(text)
