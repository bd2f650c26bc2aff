"""Example mentions that cover an alert's rising terms, one per story.

Why: five copies of one retweet explain nothing. Near-duplicates (retweets, copies, the
same text from several sources) fold into one example with a count, and each example is
picked for a rising term the earlier ones did not show.

    picks = cover(mentions, ["cancelled flightled", "hold"], drop=..., limit=5)
    # [{"mention": {...}, "copies": 4, "terms": ["cancelled flightled"]}, ...]
"""

from __future__ import annotations

import re

from listening.alerts.keyness import terms as mention_terms
from listening.alerts.keyness import words

SAME = 0.8  # Jaccard of word sets at which two texts are one story
_RETWEET = re.compile(r"^\s*rt\s+@\w+:?\s*", re.I)


def fingerprint(text: str) -> frozenset[str]:
    """The words of a text with retweet prefix, links, handles and punctuation gone."""
    return frozenset(words(_RETWEET.sub("", text or "")))


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if a == b:
        return True
    return bool(a and b) and len(a & b) / len(a | b) >= SAME


def stories(mentions: list[dict]) -> list[list[dict]]:
    """Mentions grouped into near-duplicate clusters, in the order first seen."""
    clusters: list[tuple[frozenset[str], list[dict]]] = []
    for m in mentions:
        fp = fingerprint(m.get("text") or "")
        for rep, members in clusters:
            if similar(fp, rep):
                members.append(m)
                break
        else:
            clusters.append((fp, [m]))
    return [members for _, members in clusters]


def cover(mentions: list[dict], rising: list[str], *, drop: set[str] | frozenset[str], limit: int) -> list[dict]:
    """Up to ``limit`` stories, greedily the one showing the most rising terms not yet shown,
    ties to the bigger story, then the more negative one; then the biggest stories left."""
    groups = stories(mentions)
    wanted = set(rising)
    found = [(g, mention_terms(g[0].get("text") or "", drop) & wanted) for g in groups]

    def tone(g: list[dict]) -> float:
        return (g[0].get("sentiment") or {}).get("compound", 0.0)

    picks: list[dict] = []
    shown: set[str] = set()
    left = list(range(len(found)))
    while left and len(picks) < limit:
        best = max(left, key=lambda i: (len(found[i][1] - shown), len(found[i][0]), -tone(found[i][0])))
        left.remove(best)
        group, hits = found[best]
        shown |= hits
        picks.append({"mention": group[0], "copies": len(group),
                      "terms": [t for t in rising if t in hits]})
    return picks
