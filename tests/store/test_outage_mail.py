"""kill -9 of the embedded server while alerts are applied and while mail (a digest among it)
is sent: each command recovers or fails with one line, no run is left running, and every
alert's mail and every digest reaches the real SMTP server on 127.0.0.1 exactly once.

The kill is driven by what happens, not by a clock: when the first alert is stored, and when
the SMTP server receives the first digest. The data is test_mail's synthetic spike.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pymongo import MongoClient

from listening.alerts import check
from listening.notify.mail import send_digests
from listening.store import Store, embedded
from tests.jobs.test_schedule import wait_for
from tests.notify.test_mail import SPIKE, load_spike, spike_config
from tests.support.smtp_server import Inbox, free_port, smtp_server

DIGEST_TIME = SPIKE + timedelta(days=1)  # every department's digest_at has passed


@pytest.fixture
def data(tmp_path, monkeypatch):
    """The embedded store of a data folder of our own; the test closes its own client before
    the kill, so only the command's client can notice and restart the server."""
    folder = tmp_path / "data"
    monkeypatch.setenv("LISTENING_DATA", str(folder))
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.setenv("LISTENING_DB", "mail")
    yield folder
    embedded.stop(folder)


def kill_server(data: Path) -> int:
    pid = json.loads((data / "secantus.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    return pid


def listening(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "listening", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def ended_cleanly(proc: subprocess.Popen) -> tuple[int, str]:
    """Exit 0 (it rode the outage out: its own client restarted the server) or one ``store
    error`` line; never a traceback."""
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err, err
    if proc.returncode == 0:
        assert "the embedded store stopped answering; restarting it" in err, err
    else:
        assert proc.returncode == 3 and err.strip().splitlines()[-1].startswith("store error:"), err
    return proc.returncode, err


def no_run_running(store: Store) -> None:
    store.runs.reap()  # a run whose process is gone is closed by whoever looks
    assert store.runs.collection.count_documents({"status": "running"}) == 0, list(
        store.runs.collection.find({"status": "running"}))


def words(subject: str) -> str:
    return " ".join(str(subject).split())  # as queued, whatever header folding did on the way


def mail_of(store: Store) -> dict[str, str]:
    return {doc["_id"]: words(doc["subject"]) for doc in store.outbox.collection.find({}, {"subject": 1})}


def received(inbox: Inbox) -> Counter:
    return Counter(words(m["Subject"]) for _, m in inbox.messages)


def test_alerts_apply_survives_the_store_killed_after_the_first_alert(data, demo_config):
    store = Store.connect()
    config = spike_config(demo_config, free_port())
    load_spike(store, config)
    control = Store(store.client, "control")  # the same spike, undisturbed
    load_spike(control, config)
    want = {a["id"] for a in check(control, config, SPIKE)}
    want_mail = mail_of(control)
    assert want and want_mail
    store.close()

    watcher: MongoClient = MongoClient(embedded.embedded_uri(data))  # no healer of ours
    applying = listening("alerts", "--at", SPIKE.isoformat(), "--apply")
    wait_for(lambda: watcher["mail"]["alerts"].count_documents({}) >= 1, 120, "the first alert stored", step=0.01)
    kill_server(data)
    watcher.close()
    code, err = ended_cleanly(applying)
    if code:  # it failed cleanly: the next evaluation catches up
        ended_cleanly(listening("alerts", "--at", SPIKE.isoformat(), "--apply"))
    store = Store.connect()
    assert {a["_id"] for a in store.alerts.collection.find({}, {"_id": 1})} == want
    assert mail_of(store) == want_mail  # each alert's mail queued, none for the wrong alert
    store.close()
    with smtp_server() as (inbox, port):
        proc = listening("send", env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"})
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert received(inbox) == Counter(want_mail.values())
    store = Store.connect()
    no_run_running(store)
    store.close()


class KillAtFirstDigest(Inbox):
    """An SMTP server that kills the store as the first digest arrives (then accepts it)."""

    def __init__(self, data: Path):
        super().__init__()
        self.data = data
        self.killed_at: float | None = None

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if self.killed_at is None and "digest" in self.messages[-1][1]["Subject"].lower():
            kill_server(self.data)
            self.killed_at = time.monotonic()
        return answer


def test_send_survives_the_store_killed_as_the_digest_arrives(data, demo_config):
    store = Store.connect()
    config = spike_config(demo_config, free_port())
    load_spike(store, config)
    check(store, config, SPIKE)
    assert send_digests(store, config, DIGEST_TIME)["queued"] == len(config.departments)
    queued = mail_of(store)
    assert sum("digest" in s.lower() for s in queued.values()) == len(config.departments) and len(queued) > 2
    store.close()

    inbox = KillAtFirstDigest(data)
    with smtp_server(handler=inbox) as (_, port):
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"}
        code, err = ended_cleanly(listening("send", env=env))
        assert inbox.killed_at is not None, "no digest was sent"
        store = Store.connect()
        if code or store.outbox.counts() != {"sent": len(queued)}:
            ended_cleanly(listening("send", env=env))  # what the scheduler's next flush does
    assert received(inbox) == Counter(queued.values()), err
    assert store.outbox.counts() == {"sent": len(queued)}
    no_run_running(store)
    store.close()
