"""APScheduler's job store, kept in the project's database (collection ``scheduler_jobs``).

It shares the store's client: APScheduler's own ``MongoDBJobStore.shutdown`` closes
the client it was given, which would cut the scheduler's jobs off from the database
while they finish, so our subclass leaves closing to ``Store.close``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.jobstores.mongodb import MongoDBJobStore

COLLECTION = "scheduler_jobs"


class SharedClientJobStore(MongoDBJobStore):
    """A ``MongoDBJobStore`` that does not close the client it shares."""

    def shutdown(self) -> None:
        """The store owns the client; nothing to close here."""


def job_store(store) -> MongoDBJobStore:
    """The job store on ``store``'s database."""
    return SharedClientJobStore(database=store.db.name, collection=COLLECTION, client=store.client)


def next_runs(store) -> dict[str, datetime | None]:
    """Job id -> next run time (None: paused), read without unpickling any job.

    ``listening status`` reads this from another process than the scheduler; loading
    the jobs through APScheduler would delete any it could not unpickle.
    """
    return {
        doc["_id"]: (datetime.fromtimestamp(doc["next_run_time"], timezone.utc)
                     if doc.get("next_run_time") is not None else None)
        for doc in store.db[COLLECTION].find({}, {"next_run_time": 1})
    }
