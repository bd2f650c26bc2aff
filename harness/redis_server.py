"""Debian's ``redis-server`` on a free 127.0.0.1 port, keeping nothing on disk, for shared crawls.

Needs ``apt-get install redis-server`` (``python3 dev.py test`` installs it); without it the
tests that use it fail, they never skip.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from harness.ports import free_port


@contextmanager
def redis_server() -> Iterator[str]:
    """Run a server for the block; yield its URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="listening-redis-") as folder:
        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", folder],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_until_up(url, server)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with Redis.from_url(url) as client:
        while True:
            try:
                client.ping()
                return
            except RedisConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start (exit code {server.poll()})") from None
                time.sleep(0.05)
