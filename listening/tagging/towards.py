"""The words of a text that speak about one target: what sentiment towards a brand reads.

"left United for Delta, so much better" is good news for Delta and bad for United. A
target's passage is ``WINDOW`` words either side of each of its matches, cut at a contrast
("but", "unlike", "whereas" ...) so the other side's opinion stays there. A switch ("switched
from X to Y", "left X for Y", "unlike X") says which side the author left: ``switch_role``.
"""

from __future__ import annotations

import re

WINDOW = 5
CONTRAST = frozenset("""but however although though whereas unlike while except yet
instead nevertheless""".split())
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*", re.UNICODE)
_SWITCH = r"(?:switch\w*|mov\w*|left|leav\w*|ditch\w*|dump\w*|drop\w*|quit\w*|went|go\w*|chang\w*)"


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def matches(tokens: list[str], target: str) -> list[tuple[int, int]]:
    """(start, end) token spans where the target's words occur in a row."""
    parts = words(target)
    n = len(parts)
    if not n:
        return []
    return [(i, i + n) for i in range(len(tokens) - n + 1) if tokens[i:i + n] == parts]


def names(text: str, target: str) -> bool:
    """Whether the text names the target (its words in a row)."""
    return bool(matches(words(text), target))


def passages(text: str, target: str, window: int = WINDOW) -> list[str]:
    """The target's passages (lower-case words), cut at contrasts; [] when it is not named."""
    tokens = words(text)
    out = []
    for start, end in matches(tokens, target):
        left = max(0, start - window)
        for k in range(start - 1, left - 1, -1):
            if tokens[k] in CONTRAST:
                left = k + 1
                break
        right = min(len(tokens), end + window)
        for k in range(end, right):
            if tokens[k] in CONTRAST:
                right = k
                break
        out.append(" ".join(tokens[left:right]))
    return out


def switch_role(text: str, target: str) -> int:
    """-1 when the author left the target ("switched from X to ...") or holds it up as the
    counter-example ("unlike X, ..."), +1 when they went to it ("left ... for X"), 0 when
    no switch names it."""
    name = r"\s+".join(map(re.escape, words(target)))
    if not name:
        return 0
    lowered = " ".join(words(text))
    if re.search(rf"\b(?:unlike|than|instead\s+of|rather\s+than)\s+{name}\b", lowered):
        return -1
    if re.search(rf"\b{_SWITCH}\s+(?:from\s+|away\s+from\s+)?{name}\b\s+(?:to|for)\b", lowered):
        return -1
    if re.search(rf"\b{_SWITCH}\s+(?:from\s+)?\w+(?:\s+\w+)?\s+(?:to|for)\s+{name}\b", lowered):
        return 1
    return 0
