"""Stopping the scheduler: SIGTERM stops the running subprocess job cleanly, then exits.

The job is a scheduled ``listening import`` (``schedule.commands``) of a CSV we generate;
kill -9 in the middle of a crawl is in test_schedule_crawl.py.
"""

from __future__ import annotations

import csv
import signal
from datetime import datetime, timezone
from pathlib import Path

import pytest

from listening.store.upgrade import KEYS, LEASE
from tests.jobs.test_schedule import ONLY_ALERTS, spawn, wait_for, write_config

ROWS = 20_000  # twenty batches of the import pipeline: SIGTERM lands well before the last


@pytest.fixture
def feed(tmp_path) -> Path:
    path = tmp_path / "drop.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "at"])
        for i in range(ROWS):
            writer.writerow([f"t{i}", f"United flight {i} delayed at the gate again", f"2026-11-20T{i % 24:02d}:00:00Z"])
    return path


@pytest.fixture
def config(tmp_path, feed) -> Path:
    args = ["import", str(feed), "--id-column", "id", "--text-column", "text", "--time-column", "at",
            "--source", "drop"]
    return write_config(tmp_path, disabled=[*ONLY_ALERTS, "alerts"], stop_grace_seconds=5,
                        commands=[{"id": "import:drop", "args": args, "every_minutes": 1}])


def importers(feed: Path) -> list[int]:
    """Pids of live ``listening import`` processes of our file."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
                state = (entry / "stat").read_text().split()[2]
            except OSError:
                continue
            if str(feed) in cmdline and "--heartbeat" not in cmdline and state != "Z":
                pids.append(int(entry.name))
    return pids


def test_sigterm_stops_the_running_job_then_exits(store_env, tmp_path, config, feed):
    store = store_env
    proc = spawn(config, tmp_path, "sched", "--speedup", "60")
    try:
        wait_for(lambda: store.mentions.count() > 0, 60, "the import's first batch")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    assert importers(feed) == []
    (run,) = store.runs.recent_scheduled("import:drop")
    assert run["status"] == "stopped" and run["finished_at"] is not None and run["job"] == "command"
    (child,) = store.runs.children(run["_id"])
    assert child["job"] == "import" and child["status"] == "stopped"  # the child closed its own run
    (lease,) = [lease for lease in store.leases.all() if lease["_id"] not in (LEASE, KEYS)]  # not the upgrades'
    assert lease["released_at"] is not None and lease["expires_at"] <= datetime.now(timezone.utc)
    assert "stopped" in (tmp_path / "sched.log").read_text()
