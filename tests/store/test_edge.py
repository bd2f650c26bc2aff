"""No pymongo error leaves the store: every command meets a database outage with one line.

Three outages, each real: nothing listening at MONGO_URI, the embedded server with the wrong
password, and a store whose server was killed (SIGKILL) after the command connected. Each
command ends with exit code 3 and one ``store error:`` line, no traceback. The commands run
in this process through ``cli.main`` (a subprocess each would take minutes); one runs as a
user runs it.
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
from listening.errors import StoreUnavailable
from listening.store import Store, embedded
from tests.conftest import TWEETS_CSV

# Every command that opens the store (demo and serve start the same way, then serve).
COMMANDS = [["status"], ["report", "--json"], ["alerts", "--apply"], ["alerts", "--open"], ["send"],
            ["rebuild-stats"], ["rematch"], ["query", "test", "Dell"], ["import", str(TWEETS_CSV)],
            ["crawl"], ["trends"], ["retrain"], ["schedule", "--heartbeat", "{tmp}/hb"], ["demo", "--no-serve"]]


def one_store_error_line(stderr: str) -> str:
    """The one line that says what went wrong, last (a progress bar may come before it)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert [line for line in lines if "error" in line.lower()] == lines[-1:], stderr
    assert lines[-1].startswith("store error: "), stderr
    return lines[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The embedded store of a data folder of its own (with its credential), for this module."""
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LISTENING_DATA", str(data))
        patch.delenv("MONGO_URI", raising=False)
        Store.connect().close()
        yield json.loads((data / "secantus.json").read_text())["uri"]
        embedded.stop(data)


def unreachable(_: str) -> str:
    return f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=500"  # nothing listens there


def wrong_password(plain: str) -> str:
    return embedded.with_credential(plain, "not-the-password") + "&serverSelectionTimeoutMS=500"


OUTAGES = {"unreachable": (unreachable, "the database is unreachable"),
           "wrong password": (wrong_password, "the database refused our credentials")}


def run_cli(command: list[str], tmp_path: Path, monkeypatch, capsys) -> str:
    """``cli.main`` in this process (as ``listening`` runs it); the one line it printed."""
    monkeypatch.setattr(sys, "argv", ["listening", *[a.replace("{tmp}", str(tmp_path)) for a in command]])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    err = capsys.readouterr().err
    assert ended.value.code == 3, err
    return one_store_error_line(err)


@pytest.mark.parametrize("outage", OUTAGES)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_meets_a_store_it_cannot_use_with_one_line(server, outage, command, tmp_path,
                                                                  monkeypatch, capsys):
    uri_of, said = OUTAGES[outage]
    monkeypatch.setenv("MONGO_URI", uri_of(server))
    line = run_cli(command, tmp_path, monkeypatch, capsys)
    assert said in line and "not-the-password" not in line


def test_the_command_line_itself_exits_3_with_one_line(server, tmp_path):
    """The real entry point, as a user runs it (the in-process tests call the same ``main``)."""
    env = {**os.environ, "MONGO_URI": wrong_password(server)}
    done = subprocess.run([sys.executable, "-m", "listening", "alerts", "--apply"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert "refused our credentials" in one_store_error_line(done.stderr)


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


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] != "demo"], ids=" ".join)
def test_a_store_lost_after_connecting_is_one_line_too(killed_store, command, tmp_path, monkeypatch, capsys):
    """The store the command uses is the one whose server we killed after it connected."""
    monkeypatch.setattr(cli.State, "store", property(lambda self: killed_store))
    assert "the database is unreachable" in run_cli(command, tmp_path, monkeypatch, capsys)


def test_the_edge_keeps_the_drivers_error_as_the_cause(killed_store):
    with pytest.raises(StoreUnavailable) as raised:
        killed_store.runs.recent()
    assert type(raised.value.__cause__).__module__.startswith("pymongo")
    with pytest.raises(StoreUnavailable):  # a generator's every step is guarded too
        list(killed_store.series.cells(datetime(2024, 1, 1, tzinfo=timezone.utc),
                                       datetime(2024, 1, 2, tzinfo=timezone.utc)))
