"""The line channel from a crawl's child process to ``listening.ingest.crawl`` in the parent.

``listening.ingest.crawl`` passes the write end of a pipe as ``$LISTENING_HANDOFF_FD``; the
child writes one JSON object per line: ``{"t": "item", "s": SOURCE, "m": RawMention}``,
``{"t": "reject", "s": SOURCE, "reason": ...}`` and ``{"t": "progress", ...}``. A full
pipe blocks the writer, so a slow store slows the crawl instead of filling memory.
"""

from __future__ import annotations

import json
import os
import signal
from functools import lru_cache
from typing import IO, Any

FD_ENV = "LISTENING_HANDOFF_FD"


@lru_cache(maxsize=1)
def channel() -> IO[str] | None:
    """The shared writer of this process, or None when not started by ``listening.ingest.crawl``."""
    fd = os.environ.get(FD_ENV)
    return os.fdopen(int(fd), "w", encoding="utf-8", buffering=1 << 16) if fd else None


_broken = False


def send(message: dict[str, Any], *, flush: bool = False) -> None:
    out = channel()
    if out is None or _broken:
        return
    try:
        out.write(json.dumps(message, ensure_ascii=False, default=str) + "\n")
        if flush:
            out.flush()
    except BrokenPipeError:
        _parent_gone()


def flush() -> None:
    out = channel()
    if out is not None and not _broken:
        try:
            out.flush()
        except BrokenPipeError:
            _parent_gone()


def _parent_gone() -> None:
    """Nobody stores what we fetch any more: stop the crawl the way Ctrl-C would."""
    global _broken
    _broken = True
    os.kill(os.getpid(), signal.SIGTERM)


def close() -> None:
    """Flush and close: the parent's reader sees the end of the crawl."""
    out = channel()
    if out is not None and not _broken:
        try:
            out.close()
        except BrokenPipeError:
            pass
