"""kill -9 of the embedded server mid-ingest: the import waits, the server comes back,
and every mention is stored exactly once with rollups that add up."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

from listening.store import Store, embedded

ROWS = 6000


def test_import_survives_the_store_being_killed(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("LISTENING_DATA", str(data))
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.setenv("LISTENING_DB", "outage")
    source = tmp_path / "mentions.csv"
    with open(source, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tweet_id", "text", "tweet_created"])
        for i in range(ROWS):
            writer.writerow([i, f"@united flight {i} was late again", f"2024-03-01T{i % 24:02d}:{i % 60:02d}:00Z"])

    store = Store.connect()
    importer = subprocess.Popen(
        [sys.executable, "-m", "listening", "import", str(source), "--source", "outage"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while store.mentions.count() < 1000 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.mentions.count() >= 1000, "the import never got going"
        pid = json.loads((data / "secantus.json").read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        out, err = importer.communicate(timeout=300)
        assert importer.returncode == 0, err
        assert "the embedded store stopped answering; restarting it" in err  # the importer's own client healed it
        store = Store.connect()
        assert store.mentions.count() == ROWS
        assert sum(r["count"] for r in store.mentions.totals(("brand",))) == ROWS, err
        store.close()
    finally:
        importer.kill()
        embedded.stop(data)  # the server the import restarted, whatever happened


def test_an_idle_scheduler_restarts_the_killed_store_itself(tmp_path, monkeypatch):
    """No crawl, nobody else: the scheduler's own client notices the server gone and restarts it;
    alert evaluations go on and no run is left running."""
    from tests.jobs.test_schedule import ONLY_ALERTS, spawn, wait_for, write_config

    data = tmp_path / "data"
    monkeypatch.setenv("LISTENING_DATA", str(data))
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.setenv("LISTENING_DB", "idle")
    config = write_config(tmp_path, disabled=ONLY_ALERTS)
    store = Store.connect()
    scheduler = spawn(config, tmp_path, "sched", "--speedup", "300")
    try:
        wait_for(lambda: len(store.runs.recent("alerts")) >= 2, 120, "two alert evaluations")
        store.close()  # only the scheduler's client is left to notice
        pid = json.loads((data / "secantus.json").read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        wait_for(lambda: json.loads((data / "secantus.json").read_text())["pid"] != pid, 120,
                 "the scheduler to restart the store")
        store = Store.connect()
        wait_for(lambda: sum(r["status"] == "ok" and r["started_at"].timestamp() > killed_at
                             for r in store.runs.recent("alerts")) >= 2, 120, "alerts after the restart")
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=60) == 0
        assert store.runs.collection.count_documents({"status": "running"}) == 0
        assert "restarting it" in (tmp_path / "sched.log").read_text()
        store.close()
    finally:
        scheduler.kill()
        embedded.stop(data)
