"""Runs always finish: SIGTERM and Ctrl-C mark a run stopped, a crash marks it failed, and a
run whose process was killed outright is marked abandoned by whoever reads runs next."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import TWEETS_CSV


def _open_run(store, proc: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        doc = store.runs.collection.find_one({"job": "import", "pid": proc.pid})
        if doc and store.mentions.count() > 0:  # well inside the import
            return doc
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    raise AssertionError("the import never started its run")


def _import(tmp_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "listening", "import", str(TWEETS_CSV), "--source", "airline"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=os.environ.copy())


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, None)])
def test_a_signalled_import_marks_its_run_stopped(store_env, tmp_path, sig, code):
    proc = _import(tmp_path)
    try:
        run = _open_run(store_env, proc)
        proc.send_signal(sig)
        proc.wait(timeout=120)
    finally:
        proc.kill()
    if code is not None:
        assert proc.returncode == code
    doc = store_env.runs.get(run["_id"])
    assert doc["status"] == "stopped" and doc["finished_at"] is not None, doc


def test_a_killed_import_is_marked_abandoned_by_the_next_reader(store_env, tmp_path):
    proc = _import(tmp_path)
    try:
        run = _open_run(store_env, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert store_env.runs.collection.find_one({"_id": run["_id"]})["status"] == "running"
    (latest,) = store_env.runs.recent("import")
    assert latest["status"] == "abandoned" and str(proc.pid) in latest["error"]


def test_a_crash_marks_the_run_failed_with_its_error(store_env, tmp_path):
    """Synthetic: a program that starts a run and then dies of an uncaught error."""
    script = ("from listening.store import Store\n"
              "store = Store.connect()\n"
              "store.runs.start('probe')\n"
              "raise RuntimeError('disk on fire')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=os.environ.copy())
    assert done.returncode == 1 and "disk on fire" in done.stderr
    (run,) = store_env.runs.recent("probe")
    assert run["status"] == "failed" and run["error"] == "RuntimeError: disk on fire"


def test_a_command_ending_on_our_error_closes_its_run_failed_with_it(store_env, tmp_path):
    """Synthetic: a command that starts a run and then meets a store error (as one lost mid-run
    raises it), through the real ``cli.main``: one line, exit 3, the run failed with the error."""
    script = ("import sys\n"
              "from listening import cli\n"
              "from listening.errors import StoreUnavailable\n"
              "from listening.store import Store\n"
              "@cli.app.command('probe')\n"
              "def probe():\n"
              "    Store.connect().runs.start('probe')\n"
              "    raise StoreUnavailable('the database is unreachable: synthetic')\n"
              "sys.argv = ['listening', 'probe']\n"
              "cli.main()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=os.environ.copy())
    assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == "store error: the database is unreachable: synthetic"
    (run,) = store_env.runs.recent("probe")
    assert run["status"] == "failed" and run["error"] == "StoreUnavailable: the database is unreachable: synthetic"
