"""Running one scheduled job: its lease, its ``runs`` record, its context.

``run_recorded`` wraps every job body:

1. take the job's lease, else skip (another scheduler runs it or just ran it);
2. write a ``runs`` document (``running``), closing any run a dead holder left open;
3. run the body; a library it calls that records its own run records this one;
4. finish the run (ok / partial / failed / timeout / stopped, counts, error) and
   release the lease, held shut until half the job's period has passed.

The store and config come from the ``Context`` the scheduler binds once per process.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from listening.config import Config
from listening.errors import StoreError
from listening.store import Store
from listening.store.runs import scheduled

log = logging.getLogger("listening.jobs.tasks")

LEASE_TTL_S = 120.0  # a dead scheduler blocks its jobs this long; live ones renew every third


@dataclass(frozen=True)
class Timing:
    """How often a job runs (seconds); the lease stays shut half of that after a run."""

    period: float = 3600.0


@dataclass
class Context:
    """What every job needs, bound once per scheduler process."""

    store: Store
    config: Config
    config_path: str | None = None  # where the config came from (children get a snapshot)
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    timing: dict[str, Timing] = field(default_factory=dict)
    lease_ttl: float = LEASE_TTL_S
    stopping: threading.Event = field(default_factory=threading.Event)


@dataclass
class Outcome:
    """How a job body ended, when it has more to say than counts."""

    status: str = "ok"
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


_context: Context | None = None


def bind(context: Context | None) -> Context | None:
    """Give this process's jobs their store and config (None: unbind)."""
    global _context
    _context = context
    return context


def current() -> Context:
    if _context is None:
        raise RuntimeError("no job context: the scheduler binds one (listening.jobs.runner.bind)")
    return _context


def request_stop() -> None:
    """SIGTERM: start no new job, and ask running subprocess jobs to stop cleanly."""
    if _context is not None:
        _context.stopping.set()


def run_recorded(job_id: str, body: Callable[[Context, str], Any], *, kind: str | None = None) -> str | None:
    """Run ``body`` under the job's lease with a ``runs`` record; the run id, None if skipped.

    The record's ``job`` is the kind (``crawl``, the part of the id before ``:``), as
    when the same thing runs from the CLI, so whoever reads runs by kind (the alert
    rules' coverage check, the Sources page) sees scheduled runs too; ``scheduled_job``
    is the id. A failure is recorded and then re-raised, so the scheduler's
    EVENT_JOB_ERROR listener sees it too.
    """
    kind = kind or job_id.split(":")[0]
    ctx = current()
    if ctx.stopping.is_set():
        return None
    lease = ctx.store.leases.acquire(job_id, owner=ctx.owner, ttl=ctx.lease_ttl)
    if lease is None:
        log.info("%s: skipped, its lease is held (another scheduler ran or runs it)", job_id)
        return None
    _close_abandoned(ctx, lease.previous)
    run_id = ctx.store.runs.start(kind, scheduled_job=job_id, scheduler=ctx.owner)
    ctx.store.leases.attach_run(lease, run_id)
    started = datetime.now(timezone.utc)
    outcome = Outcome()
    renewer = _Renewer(ctx, lease)
    try:
        with scheduled(kind, run_id):  # a library that records its own run records this one
            outcome = as_outcome(body(ctx, run_id))
    except BaseException as exc:
        outcome = Outcome("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        renewer.stop()
        _finish(ctx, job_id, lease, run_id, outcome, started)
    return run_id


def _finish(ctx: Context, job_id: str, lease, run_id: str, outcome: Outcome, started: datetime) -> None:
    """Record how the run ended and release its lease. With the database still gone, say so:
    the run stays open, closed at exit or by the next holder of the expired lease."""
    try:
        ctx.store.runs.finish_if_running(run_id, status=outcome.status, counts=outcome.counts,
                                         error=outcome.error)
        final = ctx.store.runs.get(run_id) or {}
        # A stopped run may go again at once (after a restart); any other waits for its slot to pass.
        period = ctx.timing.get(job_id, Timing()).period
        hold = None if final.get("status") == "stopped" else started + timedelta(seconds=period / 2)
        ctx.store.leases.release(lease, hold_until=hold)
    except StoreError as exc:
        log.error("%s: %s, and its end could not be recorded: %s", job_id, outcome.status, exc)
        return
    log.info("%s: %s %s%s", job_id, final.get("status"), final.get("counts"),
             f" ({final['error'][:200]})" if final.get("error") else "")


def _close_abandoned(ctx: Context, previous: dict | None) -> None:
    """The lease we took had expired unreleased: its holder died mid-run."""
    if previous and previous.get("run_id") and not previous.get("released_at"):
        reason = f"{previous.get('owner')} stopped holding it without finishing"
        if ctx.store.runs.abandon(previous["run_id"], reason):
            log.warning("%s: closed abandoned run %s", previous["_id"], previous["run_id"])
        for child in ctx.store.runs.children(previous["run_id"]):
            ctx.store.runs.abandon(child["_id"], reason)


class _Renewer:
    """Renews a lease every third of its ttl while the job runs."""

    def __init__(self, ctx: Context, lease):
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(ctx, lease), daemon=True,
                                        name=f"lease:{lease.job}")
        self._thread.start()

    def _loop(self, ctx: Context, lease) -> None:
        while not self._done.wait(ctx.lease_ttl / 3):
            try:
                if not ctx.store.leases.renew(lease, ttl=ctx.lease_ttl):
                    log.error("%s: lease lost while running (expired and taken over)", lease.job)
                    return
            except Exception:  # the database blinked: try again next time
                log.exception("%s: lease renewal failed", lease.job)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def as_outcome(result: Any) -> Outcome:
    """Counts from whatever the library returned: a dict, a dataclass, a list, a number."""
    if isinstance(result, Outcome):
        return result
    if result is None:
        return Outcome()
    if hasattr(result, "as_dict"):
        result = result.as_dict()
    elif hasattr(result, "model_dump"):
        result = result.model_dump()
    elif is_dataclass(result) and not isinstance(result, type):
        result = asdict(result)
    if isinstance(result, dict):
        status = result.get("status") if result.get("status") in ("ok", "partial", "failed") else "ok"
        return Outcome(status, counts={k: v for k, v in result.items()
                                       if isinstance(v, (int, float)) and not isinstance(v, bool)})
    if isinstance(result, (list, tuple)):
        return Outcome(counts={"items": len(result)})
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return Outcome(counts={"count": result})
    return Outcome()


def call(module: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Import ``module`` now and call its ``name`` (a missing module fails the run only)."""
    return getattr(importlib.import_module(module), name)(*args, **kwargs)
