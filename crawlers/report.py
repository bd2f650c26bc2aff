"""What one source's crawl did, for the ``runs`` record: pages, items, problems, new state.

A spider fills its ``report`` as it goes; problems never raise, they are counted here
with the URL and a one-line reason, so a bad page costs that page only.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_PROBLEMS = 50  # examples kept per source; the counts stay exact


@dataclass
class SourceReport:
    """One source's crawl, filled in by its spider and item pipeline."""

    source: str
    kind: str
    pages: int = 0
    not_modified: int = 0
    items: int = 0
    undated: int = 0
    known: int = 0  # items skipped: an earlier crawl saw them unchanged
    http_errors: Counter = field(default_factory=Counter)
    problem_counts: Counter = field(default_factory=Counter)
    problems: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)
    validators: dict[str, dict[str, str | None]] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)  # identity -> content digest of the items this crawl saw
    incomplete: set[str] = field(default_factory=set)  # start URLs whose paging broke off
    started: float = field(default_factory=time.monotonic)
    duration_s: float = 0.0

    def problem(self, kind: str, url: str, detail: str = "", *, start: str | None = None) -> None:
        """Record a bad page or item: ``kind`` is a short slug (timeout, malformed_xml...).

        ``start``: the page's start URL, whose cursor then stays put (the pages after
        the bad one were not read).
        """
        if start:
            self.incomplete.add(start)
        self.problem_counts[kind] += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"kind": kind, "url": url, "detail": detail[:300]})

    def http_error(self, status: int, url: str, *, start: str | None = None) -> None:
        self.http_errors[str(status)] += 1
        self.problem(f"http_{status}", url, start=start)

    def saw(self, key: str, when: datetime | None, item_id: str | None) -> None:
        """Move the start URL's cursor to the newest item seen."""
        if when is None:
            return
        cursor = self.cursors.get(key)
        if cursor is None or when.isoformat() > cursor["last_time"]:
            self.cursors[key] = {"last_time": when.isoformat(), "last_id": item_id}

    def finish(self) -> None:
        self.duration_s = round(time.monotonic() - self.started, 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "kind": self.kind, "pages": self.pages,
            "not_modified": self.not_modified, "items": self.items, "undated": self.undated, "known": self.known,
            "http_errors": dict(self.http_errors), "problem_counts": dict(self.problem_counts),
            "problems": self.problems, "counts": self.counts,
            "cursors": {k: v for k, v in self.cursors.items() if k not in self.incomplete},
            "validators": {url: {k: v for k, v in val.items() if k != "start"} for url, val in self.validators.items()
                           if val.get("start") not in self.incomplete},
            "seen": self.seen, "duration_s": self.duration_s,
        }
