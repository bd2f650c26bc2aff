"""Jobs in a child process, stopped on timeout or when the scheduler stops.

Library calls that are long, CPU-heavy or unkillable in-process (crawls: Scrapy's
reactor cannot restart in-process and a hung crawl must be killed; Trends pacing;
retraining) run in ``python -m listening.jobs.isolated`` (``run_isolated``), so they never
hold the scheduler's GIL and SIGTERM need not wait for them. Scheduled CLI commands
run ``python -m listening ARGS`` (``run_cli``). Each child gets its own process group,
stopped as a whole (SIGTERM, then SIGKILL after ``schedule.stop_grace_seconds``), and
dies with the scheduler even on kill -9 (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Iterator

from listening.jobs.runner import Context, Outcome, as_outcome, call
from listening.store import Store
from listening.store.runs import PARENT_RUN_ENV, scheduled

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the scheduler dies (kill -9), never run on orphaned."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_cli(ctx: Context, run_id: str, args: list[str], timeout_s: float) -> Outcome:
    """``python -m listening ARGS`` in its own process group; stop it on timeout or SIGTERM.

    The child's own runs (``crawl``, ``import``) carry ``parent_run``; their counts
    become this run's counts.
    """
    with config_file(ctx) as config:
        argv = [sys.executable, "-m", "listening", "--config", config, *args]
        ended, code, tail = _spawn(ctx, run_id, argv, timeout_s)
    children = ctx.store.runs.children(run_id)
    for child in children:
        if child.get("status") == "running":  # the child was stopped before it could say so
            ctx.store.runs.abandon(child["_id"], f"its process ended ({ended}, exit {code})")
    counts = _summed_counts(children)
    counts["exit_code"] = code
    if ended != "exited":
        return _interrupted(ended, timeout_s, counts)
    if code == 0:
        return Outcome("ok", counts)
    partial = code == 1 and any(c.get("status") == "partial" for c in children)
    return Outcome("partial" if partial else "failed", counts, tail[-500:] or f"exit code {code}")


def run_isolated(ctx: Context, run_id: str, kind: str, target: str, timeout_s: float,
                 args: list | None = None) -> Outcome:
    """``module:function(store, config)`` in a fresh process (``python -m listening.jobs.isolated``).

    For slow or CPU-heavy jobs (Trends pacing, retraining): they don't hold the GIL
    of the scheduler, and SIGTERM or the timeout stops them without waiting. The
    child records the run itself (``child_main``); this side only records how it ended
    when the child could not.
    """
    with config_file(ctx) as config:
        argv = [sys.executable, "-m", "listening.jobs.isolated", kind, run_id, target,
                json.dumps(args or []), config]
        ended, code, tail = _spawn(ctx, run_id, argv, timeout_s)
    if ended != "exited":
        return _interrupted(ended, timeout_s, {})
    if code == 0:
        return Outcome()
    return Outcome("failed", {"exit_code": code}, tail[-500:] or f"exit code {code}")


@contextmanager
def config_file(ctx: Context) -> Iterator[str]:
    """The scheduler's config as a file: a child runs with exactly what the scheduler
    loaded (an edited listening.yaml applies to jobs and schedules alike at restart)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="listening-config-",
                                     delete=False, encoding="utf-8") as handle:
        json.dump(ctx.config.model_dump(mode="json"), handle)
    try:
        yield handle.name
    finally:
        os.unlink(handle.name)


def _interrupted(ended: str, timeout_s: float, counts: dict) -> Outcome:
    if ended == "timeout":
        return Outcome("timeout", counts, f"still running after {timeout_s:.0f}s: stopped")
    return Outcome("stopped", counts, "the scheduler was asked to stop")


def _spawn(ctx: Context, run_id: str, argv: list[str], timeout_s: float) -> tuple[str, int, str]:
    """Run ``argv`` in its own process group; (how it ended, exit code, output tail)."""
    env = {**os.environ, PARENT_RUN_ENV: run_id, "LISTENING_DB": ctx.store.db.name}
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_die_with_parent)
        ended = _wait(proc, ctx, timeout_s)
        output.seek(0, os.SEEK_END)
        output.seek(max(output.tell() - 2000, 0))
        tail = output.read().decode("utf-8", "replace").strip()
    return ended, proc.returncode, tail


def _wait(proc: subprocess.Popen, ctx: Context, timeout_s: float) -> str:
    """Wait for the child: ``exited``, or ``timeout`` / ``stopped`` after stopping it."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            proc.wait(timeout=0.2)
            return "exited"
        except subprocess.TimeoutExpired:
            pass
        if ctx.stopping.is_set() or time.monotonic() > deadline:
            reason = "stopped" if ctx.stopping.is_set() else "timeout"
            stop_process(proc, grace_s=ctx.config.schedule.stop_grace_seconds)
            return reason


def stop_process(proc: subprocess.Popen, *, grace_s: float) -> None:
    """SIGTERM the child's process group (Scrapy then closes cleanly); SIGKILL after the grace."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _summed_counts(children: list[dict]) -> dict[str, Any]:
    """The summed numeric counts of the runs the child recorded."""
    totals: dict[str, Any] = {}
    for child in children:
        for key, value in (child.get("counts") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals


def child_main(argv: list[str]) -> int:
    """``python -m listening.jobs.isolated KIND RUN_ID MODULE:FUNCTION ARGS_JSON CONFIG``: one job body,
    ``function(store, config, *args)``; a run of KIND it records is RUN_ID."""
    import traceback

    from listening.config import load_config

    kind, run_id, target, args, config_path = argv[:5]
    config = load_config(config_path)
    store = Store.connect()
    module, name = target.split(":")
    try:
        with scheduled(kind, run_id):  # the library's own run record is this run
            outcome = as_outcome(call(module, name, store, config, *json.loads(args)))
        store.runs.finish_if_running(run_id, status=outcome.status, counts=outcome.counts,
                                     error=outcome.error)
        return 0
    except Exception as exc:
        store.runs.finish_if_running(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
        return 1
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
