"""The ``listening`` commands that act on alerts and mail, run as users run them (subprocess,
the real store, a real SMTP server on 127.0.0.1). The data: test_mail's synthetic spike."""

from __future__ import annotations

import json
import subprocess
import sys

from listening.alerts import check
from tests.notify.test_mail import SPIKE, load_spike
from tests.support.smtp_server import smtp_server


def listening(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "listening", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_alerts_at_is_a_dry_run_unless_applied(store_env, demo_config):
    load_spike(store_env, demo_config)
    dry = listening("alerts", "--at", SPIKE.isoformat(), "--json")
    assert dry.returncode == 0, dry.stderr
    found = json.loads(dry.stdout)
    assert found and "Dry run" in dry.stderr
    assert store_env.alerts.count() == 0 and store_env.outbox.counts() == {}
    applied = listening("alerts", "--at", SPIKE.isoformat(), "--apply", "--json")
    assert {a["id"] for a in json.loads(applied.stdout)} == {a["id"] for a in found}
    assert store_env.alerts.count() == len(found)
    listed = json.loads(listening("alerts", "--open", "--json").stdout)
    assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in found)


def test_alerts_apply_says_what_it_did(store_env, demo_config):
    from datetime import timedelta

    load_spike(store_env, demo_config)
    first = listening("alerts", "--at", SPIKE.isoformat(), "--apply")
    assert first.returncode == 0, first.stderr
    queued = store_env.outbox.counts()["pending"]
    assert f"Applied: {store_env.alerts.count()} opened; {queued} messages queued" in first.stderr
    # an hour before the last evaluation: nothing applied, and it says so
    past = listening("alerts", "--at", (SPIKE - timedelta(hours=5)).isoformat(), "--apply")
    assert past.returncode == 0, past.stderr
    assert ("Applied: nothing new (the rules were evaluated up to "
            f"{SPIKE:%Y-%m-%d %H}:00 UTC already).") in " ".join(past.stderr.split())


def test_send_delivers_the_queued_mail(store_env, demo_config):
    load_spike(store_env, demo_config)
    check(store_env, demo_config, SPIKE)
    queued = store_env.outbox.counts()["pending"]
    assert queued >= 1
    with smtp_server() as (inbox, port):
        result = listening("send", env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"})
    assert result.returncode == 0, result.stderr
    assert len(inbox.messages) == queued
    assert store_env.outbox.counts() == {"sent": queued}


def answers(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_on_serve_stops_the_dashboard_it_started(store_env, tmp_path):
    import os
    import signal

    from tests.jobs.test_schedule import wait_for
    from tests.support.smtp_server import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "listening", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        wait_for(lambda: answers(port), 180, "the dashboard to answer")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert not answers(port)  # the Streamlit child went with it


def test_stop_says_what_it_did(tmp_path, monkeypatch):
    monkeypatch.delenv("MONGO_URI", raising=False)
    result = listening("stop", env={"LISTENING_DATA": str(tmp_path)})
    assert result.returncode == 0 and f"No embedded store was running for {tmp_path}" in result.stderr
