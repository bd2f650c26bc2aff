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
        assert "database unreachable" in err
        store = Store.connect()
        assert store.mentions.count() == ROWS
        assert sum(r["count"] for r in store.mentions.totals(("brand",))) == ROWS, err
        store.close()
    finally:
        importer.kill()
        embedded.stop(data)  # the server the import restarted, whatever happened
