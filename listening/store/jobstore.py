"""APScheduler's job store, kept in the project's database (collection ``scheduler_jobs``), as
plain data: no pickle ever travels from the database into a process.

APScheduler's own ``MongoDBJobStore`` keeps each job as a pickle, so anyone who can write to
the database can run code in the next ``listening schedule``. Here a job is a document of plain
values: its id, a function reference that must be on the caller's allow-list (our job
functions), a trigger (interval or cron, as numbers and strings) and JSON arguments. A stored
job that does not validate is refused: logged, moved to ``scheduler_jobs_refused`` for
inspection, and never imported or run; the scheduler then installs that job afresh from config.

It shares the store's client and leaves closing it to ``Store.close``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Annotated, Any, Iterable, Literal, Union

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from listening.errors import StoreError
from listening.store.edge import guarded, guarded_class

COLLECTION = "scheduler_jobs"
REFUSED = "scheduler_jobs_refused"
log = logging.getLogger(__name__)


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IntervalSpec(_Plain):
    type: Literal["interval"]
    interval: tuple[int, int, int]  # timedelta's days, seconds, microseconds: exact
    start: str  # ISO 8601: BSON dates keep only milliseconds
    end: str | None = None
    timezone: str
    jitter: int | None = None


class CronSpec(_Plain):
    type: Literal["cron"]
    fields: dict[Literal["year", "month", "day", "week", "day_of_week", "hour", "minute", "second"], str]
    start: str | None = None
    end: str | None = None
    timezone: str
    jitter: int | None = None


class StoredJob(_Plain):
    """What a ``scheduler_jobs`` document must hold to be run."""

    id: str = Field(alias="_id")
    func: str
    trigger: Annotated[Union[IntervalSpec, CronSpec], Field(discriminator="type")]
    args: list[JsonValue]
    kwargs: dict[str, JsonValue]
    name: str
    executor: str
    misfire_grace_time: int | None
    coalesce: bool
    max_instances: int
    next_run_time: float | None


class RefusedJob(StoreError, ValueError):
    """A stored job that is not one of ours, or not plain data."""


def trigger_data(trigger: BaseTrigger) -> dict[str, Any]:
    """A trigger as plain values (only the interval and cron triggers our schedule uses)."""
    common = {"timezone": str(trigger.timezone), "jitter": trigger.jitter,
              "start": _iso(trigger.start_date), "end": _iso(getattr(trigger, "end_date", None))}
    if isinstance(trigger, IntervalTrigger):
        span = trigger.interval
        return {"type": "interval", "interval": (span.days, span.seconds, span.microseconds), **common}
    if isinstance(trigger, CronTrigger):
        return {"type": "cron", **common,
                "fields": {f.name: str(f) for f in trigger.fields if not f.is_default}}
    raise RefusedJob(f"cannot store a {type(trigger).__name__}: only interval and cron triggers")


def build_trigger(spec: IntervalSpec | CronSpec) -> BaseTrigger:
    """The trigger back from its plain values."""
    dates = {"start_date": _date(spec.start), "end_date": _date(spec.end)}
    if isinstance(spec, IntervalSpec):
        days, seconds, micro = spec.interval
        return IntervalTrigger(days=days, seconds=seconds + micro / 1e6, **dates,
                               timezone=spec.timezone, jitter=spec.jitter)
    return CronTrigger(**spec.fields, **dates, timezone=spec.timezone, jitter=spec.jitter)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _date(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise RefusedJob(f"trigger date {text!r} has no time zone")
    return moment


@guarded_class
class PlainJobStore(BaseJobStore):
    """An APScheduler job store of plain documents, running only allow-listed functions."""

    def __init__(self, collection, allowed: Iterable[str]):
        super().__init__()
        self.collection = collection
        self.refused = collection.database[REFUSED]
        self.allowed = frozenset(allowed)

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        self.collection.create_index("next_run_time", sparse=True)

    def lookup_job(self, job_id):
        jobs = self._get_jobs({"_id": job_id})
        return jobs[0] if jobs else None

    def get_due_jobs(self, now):
        return self._get_jobs({"next_run_time": {"$lte": datetime_to_utc_timestamp(now)}})

    def get_next_run_time(self):
        doc = self.collection.find_one({"next_run_time": {"$ne": None}}, ["next_run_time"],
                                       sort=[("next_run_time", ASCENDING)])
        return utc_timestamp_to_datetime(doc["next_run_time"]) if doc else None

    def get_all_jobs(self):
        jobs = self._get_jobs({})
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job):
        try:
            self.collection.insert_one(self.document(job))
        except DuplicateKeyError:
            raise ConflictingIdError(job.id) from None

    def update_job(self, job):
        doc = self.document(job)
        if self.collection.replace_one({"_id": job.id}, doc).matched_count == 0:
            raise JobLookupError(job.id)

    def remove_job(self, job_id):
        if self.collection.delete_one({"_id": job_id}).deleted_count == 0:
            raise JobLookupError(job_id)

    def remove_all_jobs(self):
        self.collection.delete_many({})

    def shutdown(self) -> None:
        """The store owns the client; nothing to close here."""

    def document(self, job: Job) -> dict[str, Any]:
        """The job as the plain document we store, checked as it will be on the way back."""
        if job.func_ref not in self.allowed:
            raise RefusedJob(f"job {job.id!r}: {job.func_ref} is not one of our job functions")
        doc = {"_id": job.id, "func": job.func_ref, "trigger": trigger_data(job.trigger),
               "args": list(job.args), "kwargs": dict(job.kwargs), "name": job.name,
               "executor": job.executor, "misfire_grace_time": job.misfire_grace_time,
               "coalesce": job.coalesce, "max_instances": job.max_instances,
               "next_run_time": datetime_to_utc_timestamp(job.next_run_time)}
        StoredJob.model_validate(doc)
        return doc

    def job(self, doc: dict) -> Job:
        """A stored document back as a job, or ``RefusedJob`` (nothing imported, nothing run)."""
        try:
            plain = StoredJob.model_validate(doc)
        except ValidationError as exc:
            raise RefusedJob(f"not a plain job document: {exc.error_count()} problem(s), "
                             f"first: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from None
        if plain.func not in self.allowed:
            raise RefusedJob(f"{plain.func!r} is not one of our job functions")
        try:
            trigger = build_trigger(plain.trigger)
        except (ValueError, KeyError, TypeError) as exc:  # a bad date, cron field or time zone
            raise RefusedJob(f"bad trigger: {exc}") from None
        job = Job.__new__(Job)
        job.__setstate__({
            "version": 1, "id": plain.id, "func": plain.func, "trigger": trigger,
            "executor": plain.executor, "args": tuple(plain.args), "kwargs": plain.kwargs,
            "name": plain.name, "misfire_grace_time": plain.misfire_grace_time,
            "coalesce": plain.coalesce, "max_instances": plain.max_instances,
            "next_run_time": utc_timestamp_to_datetime(plain.next_run_time)})
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _get_jobs(self, conditions: dict) -> list[Job]:
        jobs = []
        for doc in self.collection.find(conditions, sort=[("next_run_time", ASCENDING)]):
            try:
                jobs.append(self.job(doc))
            except RefusedJob as exc:
                self._refuse(doc, str(exc))
        return jobs

    def _refuse(self, doc: dict, reason: str) -> None:
        """Log the refusal and move the document aside: it never runs, and it no longer wakes
        the scheduler (its next run time would come round again and again)."""
        log.error("refused stored job %r: %s (moved to %s)", doc.get("_id"), reason, REFUSED)
        self.refused.insert_one({"job": doc, "reason": reason, "refused_at": datetime.now(timezone.utc)})
        self.collection.delete_one({"_id": doc["_id"]})


def job_store(store, allowed: Iterable[str]) -> PlainJobStore:
    """The job store on ``store``'s database, running only the ``allowed`` function references."""
    return PlainJobStore(store.db[COLLECTION], allowed)


@guarded
def next_runs(store) -> dict[str, datetime | None]:
    """Job id -> next run time (None: paused), read without building any job.

    ``listening status`` reads this from another process than the scheduler.
    """
    return {
        doc["_id"]: (datetime.fromtimestamp(doc["next_run_time"], timezone.utc)
                     if doc.get("next_run_time") is not None else None)
        for doc in store.db[COLLECTION].find({}, {"next_run_time": 1})
    }
