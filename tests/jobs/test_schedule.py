"""The scheduler: jobs from config kept in MongoDB, restarts, two schedulers racing.

Time is compressed (``speedup``): 300 makes the 5-minute alert evaluation run every
second, against the session's real wire-protocol server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from apscheduler.triggers.cron import CronTrigger
from rich.console import Console

from listening import cli
from listening.config import PACKAGED_DEMO, ConfigError, parse_config
from listening.jobs import runner as jobrunner
from listening.jobs import schedule
from listening.jobs.status import render, status

ROOT = Path(__file__).resolve().parents[2]
ONLY_ALERTS = ["trends", "retrain", "retention", "digest", "outbox", "crawl"]


def make_config(**schedule_section):
    raw = yaml.safe_load(PACKAGED_DEMO.read_text(encoding="utf-8"))
    raw["sources"] = [
        {"name": "hn", "kind": "json_api", "urls": ["http://127.0.0.1:9/{query}"], "every_minutes": 10},
        {"name": "off", "kind": "feed", "urls": ["http://127.0.0.1:9/feed"], "enabled": False},
    ]
    raw["departments"][0].update(digest_at="07:30", timezone="Europe/Paris")
    raw["schedule"] = schedule_section
    return raw


def write_config(tmp_path: Path, **schedule_section) -> Path:
    path = tmp_path / "listening.yaml"
    path.write_text(yaml.safe_dump(make_config(**schedule_section)), encoding="utf-8")
    return path


def spawn(config: Path, tmp_path: Path, name: str, *extra: str) -> subprocess.Popen:
    """``listening schedule`` on the test database (store_env), logging to a file."""
    log = open(tmp_path / f"{name}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "listening", "--config", str(config), "schedule",
                             "--heartbeat", str(tmp_path / f"{name}.heartbeat"), *extra],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)


def wait_for(predicate, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_plan_has_every_job_from_config():
    config = parse_config(make_config(disabled=["retrain"]))
    specs = {spec.id: spec for spec in schedule.plan(config)}
    departments = [f"digest:{d.name}" for d in config.departments]
    assert sorted(specs) == sorted(["crawl:hn", "trends", "alerts", "outbox", "retention", *departments])
    assert specs["crawl:hn"].period == 600 and specs["crawl:hn"].args == ("hn",)
    digest = specs["digest:Operations"].trigger
    assert isinstance(digest, CronTrigger) and str(digest.timezone) == "Europe/Paris"
    assert specs["trends"].trigger.jitter == 3600 and specs["alerts"].period == 300
    fast = {spec.id: spec.period for spec in schedule.plan(config, speedup=300)}
    assert fast["alerts"] == 1 and fast["trends"] == 288
    disabled = parse_config(make_config(disabled=["crawl", "digest:Baggage"]))
    ids = {spec.id for spec in schedule.plan(disabled)}
    assert "crawl:hn" not in ids and "digest:Baggage" not in ids and "digest:Operations" in ids


def test_a_bad_schedule_fails_when_the_config_loads():
    with pytest.raises(ConfigError, match=r"schedule\.trends_at"):
        parse_config(make_config(trends_at="25:00"))
    with pytest.raises(ConfigError, match=r"schedule\.commands\.0\.args"):
        parse_config(make_config(commands=[{"id": "nightly", "args": []}]))


def test_a_restarted_scheduler_keeps_its_jobs_from_the_job_store(store):
    config = parse_config(make_config())
    first = schedule.start(store, config)
    stored = {job.id: job.next_run_time for job in first.get_jobs(jobstore="default")}
    schedule.stop(first)
    assert "alerts" in stored and "crawl:hn" in stored

    again = schedule.build(store, config)
    again.start(paused=True)
    kept = {job.id: job.next_run_time for job in again.get_jobs()}
    assert kept == stored  # read back from MongoDB before the config is applied
    report = schedule.sync_jobs(again, again.specs)
    assert set(report["kept"]) == set(stored) and not (report["added"] or report["replaced"])
    assert {job.id: job.next_run_time for job in again.get_jobs()} == stored
    schedule.stop(again)

    changed = parse_config({**make_config(alerts_every_minutes=10), "sources": []})
    third = schedule.build(store, changed)
    third.start(paused=True)
    report = schedule.sync_jobs(third, third.specs)
    assert report["replaced"] == ["alerts"] and report["removed"] == ["crawl:hn"]
    assert len(third.get_jobs()) == len(stored) - 1
    schedule.stop(third)


def test_real_jobs_run_on_short_intervals_and_status_shows_them(store):
    config = parse_config(make_config(disabled=ONLY_ALERTS))
    scheduler = schedule.start(store, config, speedup=300)
    try:
        wait_for(lambda: len(store.runs.recent("alerts")) >= 3, 15, "three alert evaluations")
        assert [s["id"] for s in status(store)["schedulers"]] == [jobrunner.current().owner]
    finally:
        schedule.stop(scheduler)
    assert status(store)["schedulers"] == []
    runs = store.runs.recent("alerts")
    assert all(r["status"] == "ok" and r["scheduler"] == jobrunner.current().owner for r in runs)
    assert store.runs.collection.count_documents({}) == len(runs)  # the library's run is the scheduled one
    starts = sorted(r["started_at"] for r in runs)
    assert all((b - a).total_seconds() > 0.5 for a, b in zip(starts, starts[1:]))

    report = status(store)
    (row,) = [r for r in report["jobs"] if r["job"] == "alerts"]
    assert row["scheduled"] and row["last"]["status"] == "ok" and row["next_run"]
    console = Console(record=True, width=160)
    console.print(render(report))
    text = console.export_text()
    assert "alerts" in text and "ok" in text and "next run" in text and "crawl:hn" not in text
    assert "No scheduler is running" in text


def test_two_scheduler_processes_run_each_slot_once(store_env, tmp_path):
    config = write_config(tmp_path, disabled=ONLY_ALERTS)
    procs = [spawn(config, tmp_path, f"s{i}", "--speedup", "300") for i in range(2)]
    try:
        wait_for(lambda: len(store_env.runs.recent("alerts")) >= 4, 40, "four alert runs")
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=30) for proc in procs] == [0, 0]
    finally:
        for proc in procs:
            proc.kill()
    runs = sorted(store_env.runs.recent("alerts"), key=lambda r: r["started_at"])
    gaps = [(b["started_at"] - a["started_at"]).total_seconds() for a, b in zip(runs, runs[1:])]
    assert min(gaps) > 0.5, gaps  # one run per 1-second slot, never two
    assert all(r["status"] == "ok" for r in runs)


def test_the_entry_point_checks_health_and_refuses_a_bad_config(tmp_path, capsys, monkeypatch):
    def main(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["listening", *args])
        with pytest.raises(SystemExit) as ended:
            cli.main()
        return ended.value.code or 0

    bad = tmp_path / "bad.yaml"
    bad.write_text("brands: []\n", encoding="utf-8")
    assert main("--config", str(bad), "schedule") == 2
    assert "config error" in capsys.readouterr().err
    beat = tmp_path / "hb"
    check = ["schedule", "--healthcheck", "--heartbeat", str(beat)]
    assert main(*check) == 1
    schedule.touch(beat)
    assert main(*check) == 0
    os.utime(beat, (time.time() - 600, time.time() - 600))
    assert main(*check) == 1
