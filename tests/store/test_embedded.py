"""The embedded default: one server per data folder, found and reused, recovered when stale."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys

import pytest

from listening.store import embedded


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LISTENING_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("MONGO_URI", raising=False)
    yield tmp_path / "data"
    embedded.stop(tmp_path / "data")


def test_second_process_reuses_the_first_server(data):
    uri = embedded.embedded_uri()
    info = json.loads((data / "secantus.json").read_text())
    other = subprocess.run(
        [sys.executable, "-c", "from listening.store.embedded import embedded_uri; print(embedded_uri())"],
        capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert other.stdout.strip() == uri
    assert json.loads((data / "secantus.json").read_text())["pid"] == info["pid"]


def test_dead_server_and_stale_port_file_are_recovered(data):
    uri = embedded.embedded_uri()
    pid = json.loads((data / "secantus.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    _reap(pid)
    assert not embedded.ping(uri, timeout_ms=300)
    new_uri = embedded.embedded_uri()
    assert embedded.ping(new_uri)
    assert json.loads((data / "secantus.json").read_text())["pid"] != pid


def test_data_survives_a_restart(data):
    from listening.store import Store

    store = Store.connect(db_name="persist")
    store.runs.start("probe")
    store.close()
    embedded.stop(data)
    store = Store.connect(db_name="persist")
    assert [r["job"] for r in store.runs.recent()] == ["probe"]
    store.close()


def test_garbage_port_file_is_ignored(data):
    data.mkdir(parents=True)
    (data / "secantus.json").write_text("{not json", encoding="utf-8")
    assert embedded.ping(embedded.embedded_uri())


def _reap(pid: int) -> None:
    """Collect the killed server if this process started it (it then leaves no zombie)."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def test_the_store_requires_our_credential_kept_private(data):
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    uri = embedded.embedded_uri()
    credential = embedded.credential_path(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    password = json.loads(credential.read_text())["password"]
    assert len(password) >= 40 and password in uri
    address = json.loads((data / "secantus.json").read_text())["uri"]
    assert password not in address  # the address file names no secret
    stranger = MongoClient(address, serverSelectionTimeoutMS=3000)
    with pytest.raises(OperationFailure, match="requires authentication"):
        stranger.listening.mentions.insert_one({"text": "x"})
    with pytest.raises(OperationFailure, match="requires authentication"):
        stranger.listening.scheduler_jobs.find_one()
    stranger.close()
    ours = MongoClient(uri)
    ours.listening.probe.insert_one({"ok": 1})
    assert ours.listening.probe.count_documents({}) == 1
    ours.close()


def test_a_user_slipped_in_without_auth_is_removed_at_the_next_start(data, tmp_path):
    """Synthetic: someone reaches the server while it runs without auth (the first start's
    window, or a server started by hand) and adds a user of their own."""
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    embedded.embedded_uri()
    embedded.stop(data)
    proc, open_uri = embedded.start_server(str(data / "db"), tmp_path / "open.log")
    MongoClient(open_uri).admin.command("createUser", "intruder", pwd="guess", roles=["root"])
    embedded._terminate(proc.pid)
    uri = embedded.embedded_uri()
    users = MongoClient(uri).admin["system.users"].distinct("user")
    assert users == ["listening"]
    address = json.loads((data / "secantus.json").read_text())["uri"]
    intruder = MongoClient(address, username="intruder", password="guess", authSource="admin",
                           serverSelectionTimeoutMS=3000)
    with pytest.raises(OperationFailure):
        intruder.listening.mentions.find_one()
