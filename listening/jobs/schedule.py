"""``listening schedule``: every job from config, kept in MongoDB, run until SIGTERM.

    run(store, config)                     # the CLI: blocks until SIGTERM / Ctrl-C
    scheduler = start(store, config)       # tests: a started BackgroundScheduler
    stop(scheduler)

Jobs live in ``scheduler_jobs`` as plain data (``listening.store.jobstore``: no pickle, only
the functions of ``listening.jobs.tasks``) with explicit ids,
UTC, ``coalesce``, ``max_instances=1`` and a misfire grace of half their period, so a
restart keeps them and a long downtime runs each missed job once. Interval jobs sit
on a fixed grid (a fixed anchor plus a stable per-job offset): every scheduler
process computes the same fire times, restarts never push a job back, and crawls
don't all start on the same second. Two schedulers on one database both fire; the
job's lease (``listening.jobs.runner``) lets exactly one run it.

``JOBS`` is the registry: each entry turns the config into job specs, so a new job
is one function and one entry.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from listening.config import Config
from listening.jobs import runner as jobrunner
from listening.jobs import tasks as jobs
from listening.store import Store
from listening.store.jobstore import job_store

log = logging.getLogger("listening.jobs.schedule")

ANCHOR = datetime(2024, 1, 1, tzinfo=timezone.utc)  # the grid every interval job sits on
DAY_S = 86_400.0
HEARTBEAT_EVERY_S = 15
# The only functions a stored job may name: the job store refuses any other (never imports it).
ALLOWED = frozenset(f"{jobs.__name__}:{name}" for name in jobs.__all__)


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: what to call, when, and how often (seconds)."""

    id: str
    func: Callable[..., None]
    trigger: BaseTrigger
    period: float
    args: tuple = ()


class Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, plus the job specs it was built from."""

    specs: list[JobSpec] = []

    def _process_jobs(self):
        # APScheduler 3 skips a pass only when paused; a pass that starts while shutdown()
        # waits for running jobs would submit to a closed executor and log an error.
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


class Clock:
    """Builds triggers; ``speedup`` compresses time (60: an hour of schedule in a minute)."""

    def __init__(self, speedup: float = 1.0):
        self.speedup = speedup

    def every(self, job_id: str, seconds: float, *, jitter_s: float = 0) -> tuple[BaseTrigger, float]:
        """A fixed-grid interval, offset per job so jobs of one period don't collide."""
        period = seconds / self.speedup
        offset = (zlib.crc32(job_id.encode()) % 1000) / 1000 * period
        trigger = IntervalTrigger(seconds=period, start_date=ANCHOR + timedelta(seconds=offset),
                                  timezone=timezone.utc, jitter=int(jitter_s / self.speedup) or None)
        return trigger, period

    def daily(self, at: str, tz: str = "UTC", *, jitter_s: float = 0) -> tuple[BaseTrigger, float]:
        """Daily at ``HH:MM`` in ``tz``; compressed, a fixed grid keeping the times' order."""
        hour, minute = (int(part) for part in at.split(":"))
        if self.speedup == 1:
            return CronTrigger(hour=hour, minute=minute, timezone=tz,
                               jitter=int(jitter_s) or None), DAY_S
        period = DAY_S / self.speedup
        start = ANCHOR + timedelta(seconds=(hour * 3600 + minute * 60) / self.speedup)
        return IntervalTrigger(seconds=period, start_date=start, timezone=timezone.utc,
                               jitter=int(jitter_s / self.speedup) or None), period


# --- the registry ----------------------------------------------------------------------

def crawl_jobs(config: Config, clock: Clock) -> Iterator[JobSpec]:
    for source in config.sources:
        if source.enabled:
            job_id = f"crawl:{source.name}"
            yield JobSpec(job_id, jobs.crawl, *clock.every(job_id, source.every_minutes * 60),
                          args=(source.name,))


def trends_job(config: Config, clock: Clock) -> Iterator[JobSpec]:
    s = config.schedule
    yield JobSpec("trends", jobs.trends, *clock.daily(s.trends_at, jitter_s=s.trends_jitter_minutes * 60))


def alerts_job(config: Config, clock: Clock) -> Iterator[JobSpec]:
    yield JobSpec("alerts", jobs.alerts, *clock.every("alerts", config.schedule.alerts_every_minutes * 60))


def outbox_job(config: Config, clock: Clock) -> Iterator[JobSpec]:
    yield JobSpec("outbox", jobs.outbox, *clock.every("outbox", config.schedule.outbox_every_minutes * 60))


def digest_jobs(config: Config, clock: Clock) -> Iterator[JobSpec]:
    for department in config.departments:
        yield JobSpec(f"digest:{department.name}", jobs.digest,
                      *clock.daily(department.digest_at, department.timezone), args=(department.name,))


def retrain_job(config: Config, clock: Clock) -> Iterator[JobSpec]:
    yield JobSpec("retrain", jobs.retrain, *clock.daily(config.schedule.retrain_at))


def retention_job(config: Config, clock: Clock) -> Iterator[JobSpec]:
    yield JobSpec("retention", jobs.retention, *clock.daily(config.schedule.retention_at))


def command_jobs(config: Config, clock: Clock) -> Iterator[JobSpec]:
    for cmd in config.schedule.commands:
        yield JobSpec(cmd.id, jobs.command, *clock.every(cmd.id, cmd.every_minutes * 60),
                      args=(cmd.id, list(cmd.args), cmd.timeout_minutes * 60))


JOBS: tuple[Callable[[Config, Clock], Iterable[JobSpec]], ...] = (
    crawl_jobs, trends_job, alerts_job, outbox_job, digest_jobs, retrain_job, retention_job,
    command_jobs,
)


def plan(config: Config, *, speedup: float = 1.0) -> list[JobSpec]:
    """Every job the config asks for, minus ``schedule.disabled`` (ids or kinds)."""
    clock = Clock(speedup)
    disabled = set(config.schedule.disabled)
    return [spec for entry in JOBS for spec in entry(config, clock)
            if spec.id not in disabled and spec.id.split(":")[0] not in disabled]


# --- building and running ----------------------------------------------------------------

def build(store: Store, config: Config, *, config_path: str | None = None,
          speedup: float = 1.0, lease_ttl: float | None = None) -> Scheduler:
    """A scheduler on the store's job store, not started; binds the jobs' context."""
    specs = plan(config, speedup=speedup)
    jobrunner.bind(jobrunner.Context(
        store=store, config=config, config_path=str(config_path) if config_path else None,
        timing={spec.id: jobrunner.Timing(spec.period) for spec in specs},
        lease_ttl=lease_ttl or jobrunner.LEASE_TTL_S))
    scheduler = Scheduler(
        jobstores={"default": job_store(store, ALLOWED), "local": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(config.schedule.max_workers),
                   "local": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=timezone.utc)
    scheduler.add_listener(_on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    scheduler.specs = specs  # what sync_jobs will install
    return scheduler


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> dict[str, list[str]]:
    """Make the job store match ``specs``: keep unchanged jobs (and their next run times,
    so misfires are caught up), replace changed ones, drop ones no longer configured."""
    stored = {job.id: job for job in scheduler.get_jobs(jobstore="default")}
    report: dict[str, list[str]] = {"kept": [], "added": [], "replaced": [], "removed": []}
    for spec in specs:
        grace = max(1, int(spec.period / 2))
        old = stored.pop(spec.id, None)
        if old is not None and _same(old, spec, grace):
            report["kept"].append(spec.id)
            continue
        scheduler.add_job(spec.func, spec.trigger, args=spec.args, id=spec.id, name=spec.id,
                          misfire_grace_time=grace, coalesce=True, max_instances=1,
                          jobstore="default", replace_existing=True)
        report["replaced" if old is not None else "added"].append(spec.id)
    for job_id in stored:
        scheduler.remove_job(job_id, jobstore="default")
        report["removed"].append(job_id)
    return report


def _same(job, spec: JobSpec, grace: int) -> bool:
    return (job.func is spec.func and tuple(job.args) == tuple(spec.args)
            and repr(job.trigger) == repr(spec.trigger) and job.misfire_grace_time == grace)


def start(store: Store, config: Config, *, config_path: str | None = None, speedup: float = 1.0,
          lease_ttl: float | None = None, heartbeat: Path | None = None) -> Scheduler:
    """Build, start paused, sync the stored jobs with the config, then resume."""
    scheduler = build(store, config, config_path=config_path, speedup=speedup, lease_ttl=lease_ttl)
    scheduler.start(paused=True)
    changes = sync_jobs(scheduler, scheduler.specs)
    log.info("jobs: %s", ", ".join(f"{k} {len(v)}" for k, v in changes.items()))
    beat(heartbeat)
    scheduler.add_job(beat, "interval", seconds=HEARTBEAT_EVERY_S, args=(heartbeat,),
                      id="heartbeat", jobstore="local", executor="local")
    scheduler.resume()
    return scheduler


def beat(path: Path | None = None) -> None:
    """Proof of life from the job loop: a document for ``listening status``, a file for Docker."""
    ctx = jobrunner.current()
    try:
        ctx.store.leases.beat(ctx.owner, jobs=len(ctx.timing))
    except Exception:  # the database blinked: the file still says the loop is alive
        log.exception("heartbeat: could not reach the database")
    if path:
        touch(path)


def stop(scheduler: BackgroundScheduler) -> None:
    """Start nothing new, let running jobs finish (crawls get SIGTERM), then shut down."""
    scheduler.pause()  # no new submissions while the running jobs finish
    jobrunner.request_stop()
    scheduler.shutdown(wait=True)
    ctx = jobrunner.current()
    ctx.store.leases.gone(ctx.owner)


def run(store: Store, config: Config, *, config_path: str | None = None, speedup: float = 1.0,
        heartbeat: Path | None = None, lease_ttl: float | None = None) -> None:
    """``listening schedule``: run until SIGTERM or Ctrl-C, then stop cleanly."""
    scheduler = start(store, config, config_path=config_path, speedup=speedup, heartbeat=heartbeat,
                      lease_ttl=lease_ttl)
    asked = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if asked.is_set():  # a second Ctrl-C: don't wait; the leases expire, runs get closed
            log.warning("second signal: exiting now, running jobs are abandoned")
            os._exit(1)
        asked.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    ctx = jobrunner.current()
    log.info("scheduler %s running %d jobs from %s", ctx.owner, len(scheduler.specs),
             ctx.config_path or "the default config")
    try:
        while not asked.wait(1.0):
            pass
        log.info("stopping: waiting for running jobs")
    finally:
        stop(scheduler)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")


def configure_logging(level: int = logging.INFO) -> None:
    """One line per event on stderr (docker logs keeps them)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # _on_event logs misses and overlaps
    logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)  # and job errors, once


def default_heartbeat() -> Path:
    """``DATA/scheduler.heartbeat``: touched every 15 s by a running scheduler."""
    from listening.store.embedded import data_dir

    return data_dir() / "scheduler.heartbeat"


def touch(path: Path) -> None:
    """Write the heartbeat file the container healthcheck reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(datetime.now(timezone.utc).isoformat(), encoding="utf-8")


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the last heartbeat; None when there is none."""
    try:
        return datetime.now(timezone.utc).timestamp() - path.stat().st_mtime
    except OSError:
        return None


def _on_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_ERROR:
        log.error("job %s failed: %r", event.job_id, event.exception,
                  exc_info=(type(event.exception), event.exception, event.exception.__traceback__))
    elif event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its %s run (beyond its misfire grace)", event.job_id,
                    event.scheduled_run_time)
    else:
        log.warning("job %s is still running; skipped an overlapping run", event.job_id)
