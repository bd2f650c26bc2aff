"""Riding out a database outage: wait, heal, retry, instead of losing a batch.

Only transient failures (the server gone or unreachable) are retried; a bad query or
a bad document fails at once. ``heal`` lets the embedded store restart its server.

``Healer`` gives every client of the embedded store the restart, not only mention writes:
the driver's monitor notices the server gone within a heartbeat and the healer restarts it
(on its old port) in the background, while the driver's own waiting (server selection, up to
30 s) and retryable reads and writes (one retry each) carry alerts, runs, the outbox, the
scheduler and the dashboard over the gap.
"""

from __future__ import annotations

import atexit
import logging
import random
import sys
import threading
import time
from typing import Callable, TypeVar

from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError
from pymongo.monitoring import ServerHeartbeatListener

from listening.errors import StoreError, StoreUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)
TRANSIENT = (ConnectionFailure, ServerSelectionTimeoutError)


def with_retry(action: Callable[[], T], *, heal: Callable[[], object] | None = None,
               give_up_after_s: float = 300.0, sleep: Callable[[float], None] = time.sleep) -> tuple[T, int]:
    """Run ``action`` until it succeeds; return its result and how many retries it took."""
    deadline = time.monotonic() + give_up_after_s
    delay, retries = 0.2, 0
    while True:
        try:
            return action(), retries
        except TRANSIENT as exc:
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"database unreachable for {give_up_after_s:.0f}s: {exc}") from exc
            retries += 1
            log.warning("database unreachable (%s); retry %d in %.1fs", exc.__class__.__name__, retries, delay)
            sleep(delay * (1 + random.random() / 2))
            delay = min(delay * 2, 10.0)
            if heal is not None:
                try:
                    heal()
                except Exception as heal_exc:  # noqa: BLE001 - healing is best effort; we retry anyway
                    log.warning("could not restart the embedded store: %s", heal_exc)
        except PyMongoError as exc:  # refused, not unreachable: retrying would not help
            raise StoreError(f"the database refused the write: {exc}") from exc


class Healer(ServerHeartbeatListener):
    """Restart the embedded server when the driver's heartbeat finds it gone (one at a time)."""

    def __init__(self, heal: Callable[[], object]):
        self.heal = heal
        self.busy = threading.Lock()
        self.stopped = False
        atexit.register(self.stop)  # the driver's last heartbeats fail as the process ends

    def stop(self) -> None:
        """No more restarts: the client is closing (a failed heartbeat now is ours, not the server's)."""
        self.stopped = True

    def started(self, event) -> None:
        pass

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        if self.stopped or sys.is_finalizing():
            return
        if self.busy.acquire(blocking=False):
            threading.Thread(target=self._heal, name="store-healer", daemon=True).start()

    def _heal(self) -> None:
        try:
            log.warning("the embedded store stopped answering; restarting it")
            self.heal()
        except Exception as exc:  # noqa: BLE001 - the next failed heartbeat tries again
            log.warning("could not restart the embedded store: %s", exc)
        finally:
            self.busy.release()
