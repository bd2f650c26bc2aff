"""The scheduler's job store holds plain data: nothing written into ``scheduler_jobs`` by someone
else is unpickled or imported, and a job that does not validate is refused, logged, never run.

The crafted documents are synthetic on purpose: they are the attack the real data lacks.
"""

from __future__ import annotations

import logging
import pickle
import time
from pathlib import Path

from bson import Binary

from listening.config import parse_config
from listening.jobs import schedule
from listening.store.jobstore import COLLECTION, REFUSED
from tests.jobs.test_schedule import ONLY_ALERTS, make_config


class Touch:
    """Unpickling this writes ``path``: what a crafted ``job_state`` pickle would do."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (self.path, "ran"))


def test_a_crafted_pickle_in_the_job_store_is_refused_and_nothing_runs(store, tmp_path, caplog):
    marker = tmp_path / "pwned"
    jobs = store.db[COLLECTION]
    jobs.insert_one({"_id": "alerts", "next_run_time": time.time() - 5,
                     "job_state": Binary(pickle.dumps(Touch(marker)))})
    jobs.insert_one({"_id": "evil", "next_run_time": time.time() - 5, "func": "os:system",
                     "trigger": {"type": "interval", "interval": [0, 1, 0],
                                 "start": "2024-01-01T00:00:00+00:00", "timezone": "UTC"},
                     "args": [f"touch {marker}"], "kwargs": {}, "name": "evil", "executor": "default",
                     "misfire_grace_time": 30, "coalesce": True, "max_instances": 1})
    config = parse_config(make_config(disabled=ONLY_ALERTS))

    with caplog.at_level(logging.ERROR, logger="listening.store.jobstore"):
        scheduler = schedule.start(store, config, speedup=300)
        try:
            time.sleep(1.5)  # let the loop pass its due time: nothing of the crafted jobs may fire
            assert {job.id for job in scheduler.get_jobs(jobstore="default")} == {"alerts"}
        finally:
            schedule.stop(scheduler)

    assert not marker.exists()
    refused = {doc["job"]["_id"]: doc["reason"] for doc in store.db[REFUSED].find()}
    assert set(refused) == {"alerts", "evil"}
    assert "not one of our job functions" in refused["evil"]
    assert "not a plain job document" in refused["alerts"]
    logged = [r.getMessage() for r in caplog.records if r.name == "listening.store.jobstore"]
    assert sum("refused stored job" in line for line in logged) == 2
    (alerts,) = jobs.find()  # the config's own alerts job replaced the crafted one, as plain data
    assert alerts["func"] == "listening.jobs.tasks:alerts" and "job_state" not in alerts
    assert store.runs.recent("alerts")  # and it ran


def test_jobs_round_trip_as_plain_data_with_their_triggers_intact(store):
    config = parse_config(make_config())
    first = schedule.start(store, config)
    schedule.stop(first)
    docs = {doc["_id"]: doc for doc in store.db[COLLECTION].find()}
    assert docs["crawl:hn"]["trigger"]["type"] == "interval" and docs["crawl:hn"]["args"] == ["hn"]
    digest = next(doc for key, doc in docs.items() if key.startswith("digest:"))
    assert digest["trigger"] == {"type": "cron", "fields": {"hour": "7", "minute": "30"}, "start": None,
                                 "end": None, "timezone": "Europe/Paris", "jitter": None}
    again = schedule.build(store, config)
    again.start(paused=True)
    try:
        assert set(schedule.sync_jobs(again, again.specs)["kept"]) == set(docs)
    finally:
        schedule.stop(again)
