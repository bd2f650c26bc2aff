"""``listening serve`` stops its Streamlit child's whole process group on SIGTERM, and a
child that ignores SIGTERM is killed after the grace period (the real Streamlit child is
tested in tests/test_cli.py). Synthetic: the stubborn child and its grandchild are two small
Python processes, since Streamlit itself stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.jobs.test_schedule import wait_for

# ignores SIGTERM, starts a grandchild that ignores it too, writes both pids, then waits
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
open(sys.argv[1], "w").write(f"{__import__('os').getpid()} {grandchild.pid}")
time.sleep(600)
"""
# what `listening serve` runs around the dashboard: its SIGTERM handling, then foreground()
RUNNER = """
import sys
from listening.app.serve import foreground
from listening.cli import State, stopped_cleanly
with stopped_cleanly(State(None)):
    sys.exit(foreground([sys.executable, "-c", sys.argv[1], sys.argv[2]], grace=float(sys.argv[3])))
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited: only its parent has not reaped it
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_kills_a_child_that_ignores_it_and_its_group(tmp_path):
    pids = tmp_path / "pids"
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, STUBBORN, str(pids), "2"],
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "MONGO_URI": ""})
    try:
        wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, 60, "the child to start")
        child, grandchild = map(int, pids.read_text().split())
        assert os.getpgid(child) == os.getpgid(grandchild) == child != os.getpgid(runner.pid)
        started = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        _, err = runner.communicate(timeout=60)
        took = time.monotonic() - started
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, err  # stopped as asked: serve returns 0
    wait_for(lambda: not alive(child) and not alive(grandchild), 10, "the group to be killed")
    assert 2 <= took < 30  # the grace period, then SIGKILL
