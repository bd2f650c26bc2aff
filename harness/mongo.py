"""The MongoDB a benchmark measures: a real one named by URI (``--uri``, by default
``$TEST_MONGO_URI``), so users who outgrow the embedded store see what they would gain, or
else a SecantusDB server of the benchmark's own in a folder, whose process it can watch.
"""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from listening.store.embedded import start_server


@dataclass(frozen=True)
class Server:
    uri: str
    pid: int | None  # None: a server we did not start, whose memory is not ours to read

    @property
    def name(self) -> str:
        return "SecantusDB (embedded)" if self.pid else "MongoDB at --uri"


def add_uri_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uri", default=os.environ.get("TEST_MONGO_URI") or None, metavar="URI",
                        help="measure this MongoDB instead of an embedded SecantusDB server "
                             "(default: $TEST_MONGO_URI); the benchmark writes to its own databases there")


@contextmanager
def bench_server(uri: str | None, folder: Path) -> Iterator[Server]:
    """``uri`` as it is, or a SecantusDB server on ``folder/db`` for the block's duration."""
    if uri:
        yield Server(uri, None)
        return
    folder.mkdir(parents=True, exist_ok=True)
    proc, local = start_server(str(folder / "db"), folder / "secantus.log")
    try:
        yield Server(local, proc.pid)
    finally:
        proc.terminate()
        proc.wait()
