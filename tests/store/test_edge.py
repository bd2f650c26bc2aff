"""No pymongo error leaves the store: every command meets a database outage with one line.

Three outages, each against a real server: nothing listening at MONGO_URI, the right server
with the wrong password, and a store whose server was killed (SIGKILL) after the command
connected. Each command ends with exit code 3 and one ``store error:`` line, no traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pymongo import MongoClient

from harness.ports import free_port
from listening import cli
from listening.errors import StoreError, StoreUnavailable
from listening.store import Store, embedded

ROOT = Path(__file__).resolve().parents[2]
TWEETS = ROOT.parent / "shared" / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"
# Every command that opens the store (demo and serve start the same way, then serve).
COMMANDS = [["status"], ["report", "--json"], ["alerts", "--apply"], ["alerts", "--open"], ["send"],
            ["rebuild-stats"], ["rematch"], ["query", "test", "Dell"], ["import", str(TWEETS)],
            ["crawl"], ["trends"], ["retrain"], ["schedule", "--heartbeat", "{tmp}/hb"], ["demo", "--no-serve"]]


def one_store_error_line(stderr: str) -> str:
    """The one line that says what went wrong, last (a progress bar may come before it)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert [line for line in lines if "error" in line.lower()] == lines[-1:], stderr
    assert lines[-1].startswith("store error: "), stderr
    return lines[-1]


def run_all(env: dict, tmp_path: Path) -> dict[str, tuple[int, str]]:
    """Every command as a user runs it, a few at a time (each waits for the store half a second)."""
    results, pending = {}, []
    for command in COMMANDS:
        args = [a.replace("{tmp}", str(tmp_path)) for a in command]
        pending.append((" ".join(command), subprocess.Popen(
            [sys.executable, "-m", "listening", *args], cwd=tmp_path, env={**os.environ, **env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        if len(pending) == 4 or command is COMMANDS[-1]:
            for name, proc in pending:
                _, err = proc.communicate(timeout=120)
                results[name] = (proc.returncode, err)
            pending = []
    return results


def test_every_command_meets_an_unreachable_store_with_one_line(tmp_path):
    uri = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=500"  # nothing listens there
    for name, (code, err) in run_all({"MONGO_URI": uri}, tmp_path).items():
        assert code == 3, (name, err)
        assert "the database is unreachable" in one_store_error_line(err), (name, err)


def test_every_command_meets_wrong_credentials_with_one_line(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("LISTENING_DATA", str(data))
    monkeypatch.delenv("MONGO_URI", raising=False)
    Store.connect().close()  # the embedded server, with its credential
    try:
        plain = json.loads((data / "secantus.json").read_text())["uri"]
        wrong = embedded.with_credential(plain, "not-the-password") + "&serverSelectionTimeoutMS=500"
        for name, (code, err) in run_all({"MONGO_URI": wrong}, tmp_path).items():
            assert code == 3, (name, err)
            line = one_store_error_line(err)
            assert "refused our credentials" in line and "not-the-password" not in line, (name, line)
    finally:
        embedded.stop(data)


@pytest.fixture
def killed_store(tmp_path):
    """A store connected to a server that was then killed with SIGKILL (nobody restarts it)."""
    proc, uri = embedded.start_server(str(tmp_path / "db"), tmp_path / "server.log")
    store = Store(MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=300), "killed")
    store.ensure_indexes()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    yield store
    store.close()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] not in ("demo",)], ids=" ".join)
def test_a_store_lost_after_connecting_is_one_line_too(killed_store, command, tmp_path, monkeypatch, capsys):
    """In process, so the store the command uses is the one whose server we killed."""
    monkeypatch.setattr(cli.State, "store", property(lambda self: killed_store))
    monkeypatch.setattr(sys, "argv", ["listening", *[a.replace("{tmp}", str(tmp_path)) for a in command]])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 3
    assert "the database is unreachable" in one_store_error_line(capsys.readouterr().err)


def test_the_edge_keeps_the_drivers_error_as_the_cause(killed_store):
    with pytest.raises(StoreUnavailable) as raised:
        killed_store.runs.recent()
    assert type(raised.value.__cause__).__module__.startswith("pymongo")
    with pytest.raises(StoreUnavailable):  # a generator's every step is guarded too
        list(killed_store.series.cells(datetime(2024, 1, 1, tzinfo=timezone.utc),
                                       datetime(2024, 1, 2, tzinfo=timezone.utc)))
