"""Jobs: every run recorded under its lease; failures recorded; retention keeps rollups whole."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from listening.jobs import isolated
from listening.jobs import runner as jobrunner
from listening.jobs import tasks as jobs
from listening.store.retention import expire_mentions


@pytest.fixture
def context(store, demo_config):
    ctx = jobrunner.bind(jobrunner.Context(store=store, config=demo_config, owner="test:1",
                                 timing={"tick": jobrunner.Timing(period=60)}, lease_ttl=30))
    yield ctx
    jobrunner.bind(None)


def test_every_run_is_recorded_and_the_next_waits_for_its_slot(context, store):
    run_id = jobrunner.run_recorded("tick", lambda ctx, rid: {"new": 3, "note": "x", "flag": True})
    run = store.runs.get(run_id)
    assert run["status"] == "ok" and run["counts"] == {"new": 3}
    assert run["finished_at"] >= run["started_at"] and run["scheduler"] == "test:1"
    assert jobrunner.run_recorded("tick", lambda ctx, rid: None) is None  # same slot: skipped
    assert store.runs.collection.count_documents({"job": "tick"}) == 1


def test_a_failure_is_recorded_then_raised_and_a_missing_module_fails_only_its_run(context, store):
    with pytest.raises(ModuleNotFoundError):
        jobrunner.run_recorded("broken", lambda ctx, _: jobrunner.call("listening.no_such_module", "run"))
    (run,) = store.runs.recent_scheduled("broken")
    assert run["status"] == "failed" and "no_such_module" in run["error"]
    assert store.leases.acquire("broken", owner="x", ttl=5) is None  # held until half its period


def test_a_library_that_records_its_own_run_records_the_scheduled_one(context, store):
    def library(ctx, _):
        rid = ctx.store.runs.start("tick", detail="from the library")
        ctx.store.runs.finish(rid, status="partial", counts={"read": 5})
        child = ctx.store.runs.start("other")
        ctx.store.runs.finish(child)
        return {"ignored": 1}

    run_id = jobrunner.run_recorded("tick", library)
    run = store.runs.get(run_id)
    assert (run["status"], run["counts"], run["detail"]) == ("partial", {"read": 5}, "from the library")
    assert store.runs.collection.count_documents({"job": "tick"}) == 1
    assert [c["job"] for c in store.runs.children(run_id)] == ["other"]
    assert run["scheduled_job"] == "tick"


def test_a_scheduled_run_is_recorded_under_its_kind(context, store):
    run_id = jobrunner.run_recorded("crawl:reddit", lambda ctx, _: ctx.store.runs.start("crawl"))
    run = store.runs.get(run_id)
    assert (run["job"], run["scheduled_job"]) == ("crawl", "crawl:reddit")  # what the alert rules read
    assert store.runs.recent_scheduled("crawl:reddit")[0]["_id"] == run_id


def test_a_dead_holders_run_is_closed_as_abandoned(context, store):
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=10)
    dead = store.leases.acquire("tick", owner="dead:9", ttl=60, now=long_ago)
    dead_run = store.runs.start("tick", scheduler="dead:9")
    store.leases.attach_run(dead, dead_run)
    jobrunner.run_recorded("tick", lambda ctx, _: None)
    closed = store.runs.get(dead_run)
    assert closed["status"] == "abandoned" and "dead:9" in closed["error"]


def test_retention_strips_old_mentions_and_keeps_rollups_whole(context, store):
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    docs = [{"_id": f"m{i}", "source": "s", "brands": ["United"], "issues": ["delay"],
             "sentiment": {"label": "negative", "compound": -0.5}, "fingerprint": f"f{i}",
             "text": f"text {i}", "author": "someone", "url": f"https://x/{i}",
             "published_at": now - timedelta(days=400 + i),  # a backfill: old posts...
             "collected_at": now - timedelta(days=100 if i < 3 else 1)}  # ...collected lately
            for i in range(5)]
    store.mentions.upsert_batch([dict(d) for d in docs])
    before = sorted((r["hour"], r["count"]) for r in store.mentions.totals(by=("hour",)))
    assert expire_mentions(store, now - timedelta(days=90)) == 3
    old = store.mentions.get("m0")
    assert old["text"] is None and old["author"] is None and old["brands"] == ["United"]
    assert store.mentions.get("m4")["text"] == "text 4"
    # re-collecting an expired mention adds nothing; a rebuild recounts the stubs
    assert store.mentions.upsert_batch([dict(docs[0])]).unchanged == 1
    store.mentions.rebuild_stats()
    assert sorted((r["hour"], r["count"]) for r in store.mentions.totals(by=("hour",))) == before
    jobs.retention()
    (run,) = store.runs.recent("retention")
    assert run["status"] == "ok" and run["counts"] == {"mentions_expired": 0, "runs_deleted": 0}


def counted(store, config):
    """Isolated job bodies (imported by path in the child process)."""
    return {"done": 7, "brands": len(config.brands), "status": "partial"}


def adopting(store, config):
    run_id = store.runs.start("iso", detail="child")
    store.runs.finish(run_id, status="ok", counts={"points": 3})


def sleepy(store, config):
    time.sleep(60)


def test_an_isolated_job_records_its_run_from_the_child(context, store_env):
    store = store_env
    context.config = context.config.model_copy(update={"brands": context.config.brands[:1]})
    for job, target, expected in (("iso:a", "counted", ("partial", {"done": 7, "brands": 1})),
                                  ("iso:b", "adopting", ("ok", {"points": 3}))):
        run_id = jobrunner.run_recorded(job, lambda ctx, rid: isolated.run_isolated(
            ctx, rid, "iso", f"tests.jobs.test_tasks:{target}", 60))
        run = store.runs.get(run_id)
        assert (run["status"], run["counts"]) == expected
    assert store.runs.collection.count_documents({}) == 2


def test_stopping_ends_an_isolated_job_without_waiting_for_it(context, store_env):
    store = store_env
    worker = threading.Thread(target=jobrunner.run_recorded, args=("iso", lambda ctx, rid: isolated.run_isolated(
        ctx, rid, "iso", "tests.jobs.test_tasks:sleepy", 60)))
    worker.start()
    wait = time.monotonic() + 20
    while not store.runs.recent_scheduled("iso") and time.monotonic() < wait:
        time.sleep(0.05)
    time.sleep(1.0)
    context.stopping.set()
    # SIGTERM ends it: waiting out the job (60 s) or the grace before a SIGKILL would not fit in the join
    assert context.config.schedule.stop_grace_seconds > 20
    worker.join(timeout=20)
    assert not worker.is_alive()
    (run,) = store.runs.recent_scheduled("iso")
    assert run["status"] == "stopped"
