"""``runs``: one document per job run (import, crawl, trends, alerts, digest...).

People judge how fresh and complete the data is from these, so a run is written when
it starts (status ``running``) and finished with its counts, status and error.

Runs always finish. A run names the host and process that started it; whoever reads runs next
marks one whose process is gone ``abandoned`` (``reap``). In the process itself, SIGTERM becomes
an exit that runs ``finally`` blocks (unless the program set its own handler, as the scheduler
does), and at exit any run still open is closed: ``stopped`` after SIGTERM or Ctrl-C,
``failed`` otherwise (an uncaught error, an early ``sys.exit``).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import sys
import threading
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Iterator

import pymongo
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from listening.store.edge import guarded_class
from listening.store.embedded import process_alive

FAILED = ("failed", "timeout", "abandoned")
HOST = socket.gethostname()
log = logging.getLogger(__name__)
PARENT_RUN_ENV = "LISTENING_PARENT_RUN"  # set by the scheduler for the subprocesses it starts
_SCHEDULED: ContextVar[tuple[str, str] | None] = ContextVar("scheduled_run", default=None)


@contextmanager
def scheduled(job: str, run_id: str) -> Iterator[None]:
    """Within this block (this thread), ``start(job)`` returns ``run_id`` (see ``RunRepo.start``)."""
    token = _SCHEDULED.set((job, run_id))
    try:
        yield
    finally:
        _SCHEDULED.reset(token)


class _Open:
    """The runs this process has started and not finished, closed at exit whatever happens."""

    def __init__(self):
        self.runs: dict[str, "RunRepo"] = {}
        self.lock = threading.Lock()
        self.ending: str | None = None  # why the process is ending, once known
        self.armed = False

    def add(self, run_id: str, repo: "RunRepo") -> None:
        with self.lock:
            self.runs[run_id] = repo
            if not self.armed:
                self.armed = True
                atexit.register(self.close_all)
                _catch_stop_signals()
                hook = sys.excepthook

                def excepthook(kind, value, tb):
                    self.ending = self.ending or ("stopped" if issubclass(kind, KeyboardInterrupt)
                                                  else f"failed:{kind.__name__}: {value}")
                    hook(kind, value, tb)
                sys.excepthook = excepthook

    def discard(self, run_id: str) -> None:
        with self.lock:
            self.runs.pop(run_id, None)

    def close_all(self) -> None:
        ending = self.ending or "failed:the process exited before the run finished"
        status, _, error = ending.partition(":")
        for run_id, repo in list(self.runs.items()):
            try:
                with pymongo.timeout(3):  # exiting: never wait long for a database that is gone
                    repo.finish_if_running(run_id, status=status,
                                           error=error or "stopped by a signal before it finished")
            except Exception as exc:  # noqa: BLE001 - the database is gone too: the next reader reaps it
                log.warning("could not close run %s at exit: %s", run_id, exc)


OPEN = _Open()


def failing(error: str) -> None:
    """The process is ending on ``error`` (``cli.main`` caught it): the runs it leaves open
    close ``failed`` with it at exit."""
    OPEN.ending = OPEN.ending or f"failed:{error}"


def _catch_stop_signals() -> None:
    """SIGTERM (docker stop, kill) as an exit that unwinds ``finally`` blocks and atexit,
    where the default would end the process on the spot; Ctrl-C noted as a stop, since the
    CLI turns its KeyboardInterrupt into a plain exit."""
    if threading.current_thread() is not threading.main_thread():
        return

    def on_term(signum: int, frame: object) -> None:
        OPEN.ending = "stopped:stopped by SIGTERM before it finished"
        raise SystemExit(128 + signum)

    def on_int(signum: int, frame: object) -> None:
        OPEN.ending = "stopped:stopped by Ctrl-C before it finished"
        signal.default_int_handler(signum, frame)

    # Only where the program kept the defaults: the scheduler stops its jobs itself.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, on_term)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_int)


@guarded_class
class RunRepo:
    """``runs``."""

    def __init__(self, db: Database):
        self.collection = db["runs"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("job", ASCENDING), ("started_at", DESCENDING)])
        self.collection.create_index([("started_at", DESCENDING)])
        self.collection.create_index([("status", ASCENDING), ("started_at", DESCENDING)])
        self.collection.create_index([("parent_run", ASCENDING)], sparse=True)
        self.collection.create_index([("scheduled_job", ASCENDING), ("started_at", DESCENDING)], sparse=True)

    def start(self, job: str, **details: Any) -> str:
        """Record that ``job`` started; return the run id.

        Inside a scheduled run of the same job (``scheduled``: a scheduled crawl that
        calls ``listening.ingest.crawl.run``), the library's run is that run: one record, with
        the library's counts. Inside another scheduled run, or in a subprocess one
        started, the new run names it as ``parent_run``.
        """
        outer = _SCHEDULED.get()
        if outer and outer[0] == job:
            if details:
                self.collection.update_one({"_id": outer[1]}, {"$set": details})
            return outer[1]
        parent = outer[1] if outer else os.environ.get(PARENT_RUN_ENV)
        if parent:
            details.setdefault("parent_run", parent)
        run_id = f"{job}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.collection.insert_one({
            "_id": run_id, "job": job, "status": "running",
            "started_at": datetime.now(timezone.utc), "finished_at": None,
            "counts": {}, "error": None, "host": HOST, "pid": os.getpid(), **details,
        })
        OPEN.add(run_id, self)
        return run_id

    def finish(self, run_id: str, *, status: str = "ok", counts: dict | None = None,
               error: str | None = None, **details: Any) -> None:
        """Record how the run ended: ``ok``, ``partial`` (some rejects) or ``failed``.
        Until that write succeeds, the run stays open for ``close_all`` at exit."""
        self.collection.update_one({"_id": run_id}, {"$set": {
            "status": status, "finished_at": datetime.now(timezone.utc),
            "counts": counts or {}, "error": error, **details,
        }})
        OPEN.discard(run_id)

    def finish_if_running(self, run_id: str, **outcome: Any) -> bool:
        """``finish`` unless the run was already finished (by the library that adopted it)."""
        doc = self.collection.find_one({"_id": run_id}, {"status": 1})
        if doc is None or doc.get("status") != "running":
            return False
        self.finish(run_id, **outcome)
        return True

    def get(self, run_id: str) -> dict | None:
        return self.collection.find_one({"_id": run_id})

    def recent(self, job: str | None = None, limit: int = 50) -> list[dict]:
        """The newest runs, of one job or of all."""
        self.reap()
        query = {"job": job} if job else {}
        return list(self.collection.find(query).sort("started_at", DESCENDING).limit(limit))

    def abandon(self, run_id: str, reason: str) -> bool:
        """Close a run left ``running`` by a process that died; True when one was open."""
        OPEN.discard(run_id)
        result = self.collection.update_one({"_id": run_id, "status": "running"}, {"$set": {
            "status": "abandoned", "finished_at": datetime.now(timezone.utc), "error": reason}})
        return result.modified_count == 1

    def reap(self) -> int:
        """Mark ``abandoned`` the open runs of this host whose process is gone; how many.

        Readers call it first, so a run killed with SIGKILL (or with its machine's power)
        never shows as running for ever. Runs of other hosts are left to those hosts."""
        gone = [doc for doc in self.collection.find({"status": "running", "host": HOST}, {"pid": 1})
                if doc.get("pid") != os.getpid() and not process_alive(int(doc["pid"]))]
        return sum(self.abandon(doc["_id"], f"its process ({HOST}:{doc['pid']}) is gone") for doc in gone)

    def jobs(self) -> list[str]:
        """Every job name that has runs."""
        return sorted(self.collection.distinct("job"))

    def last_runs_by_job(self, jobs: list[str] | None = None, *, scheduled: bool = False) -> dict[str, dict]:
        """Each job's newest run (one indexed lookup per job, cheap however long ``runs`` grows).

        ``scheduled``: ``jobs`` are scheduler job ids (``crawl:reddit``), not job kinds.
        """
        self.reap()
        field = "scheduled_job" if scheduled else "job"
        last = {}
        for job in jobs if jobs is not None else self.jobs():
            doc = self.collection.find_one({field: job}, sort=[("started_at", DESCENDING)])
            if doc:
                last[job] = doc
        return last

    def recent_scheduled(self, job_id: str, limit: int = 50) -> list[dict]:
        """The newest runs of one scheduler job id (``crawl:reddit``, ``digest:Baggage``)."""
        self.reap()
        return list(self.collection.find({"scheduled_job": job_id}).sort("started_at", DESCENDING).limit(limit))

    def failures(self, *, since: datetime | None = None, limit: int = 20) -> list[dict]:
        """The newest runs that did not end well (failed, timeout, abandoned), newest first."""
        self.reap()
        query: dict[str, Any] = {"status": {"$in": list(FAILED)}}
        if since is not None:
            query["started_at"] = {"$gte": since}
        return list(self.collection.find(query).sort("started_at", DESCENDING).limit(limit))

    def between(self, since: datetime, until: datetime | None = None) -> list[dict]:
        """Runs started in ``[since, until)``, oldest first (timelines)."""
        self.reap()
        window: dict[str, datetime] = {"$gte": since}
        if until is not None:
            window["$lt"] = until
        return list(self.collection.find({"started_at": window}).sort("started_at", ASCENDING))

    def delete_before(self, cutoff: datetime) -> int:
        """Forget finished runs started before ``cutoff`` (retention); return how many."""
        return self.collection.delete_many(
            {"started_at": {"$lt": cutoff}, "status": {"$ne": "running"}}).deleted_count

    def children(self, run_id: str) -> list[dict]:
        """Runs started by a subprocess of ``run_id`` (a scheduled crawl's own ``crawl`` run)."""
        return list(self.collection.find({"parent_run": run_id}))
