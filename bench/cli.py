"""How long the command line takes to answer, beside a bare interpreter, in one run.

    .venv/bin/python bench/cli.py [--data DIR] [--runs 5]

``--data DIR``: a store built by ``listening demo --no-serve`` with ``LISTENING_DATA=DIR``
(built here into a temporary folder when not given: about two minutes). Each command runs
as users run it (a new process, ``python -m listening``), ``--runs`` times after one warm-up
that starts the store's server; the median and the fastest wall time and the median CPU
time of the command itself are printed. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "listening --help": ["-m", "listening", "--help"],
    "listening report --json": ["-m", "listening", "report", "--json"],
    "listening query test": ["-m", "listening", "query", "test", '"lost" NEAR/3 (bag OR luggage)'],
}


def seconds(args: list[str], env: dict) -> tuple[float, float]:
    """Wall time, and the command's own CPU time (user + system: what other load on the
    machine inflates least; the store's server is not in it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="a demo store's LISTENING_DATA folder")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="bench-cli-"))
    env = {**os.environ, "LISTENING_DATA": str(data), "PYTHONPATH": str(ROOT)}
    env.pop("MONGO_URI", None)
    if args.data is None:
        print(f"building the demo store in {data} ...", flush=True)
        subprocess.run([sys.executable, "-m", "listening", "demo", "--no-serve"], env=env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.runs} runs each")
    print(f"{'command':28} {'median s':>9} {'fastest s':>10} {'cpu s':>6}")
    for name, command in COMMANDS.items():
        seconds(command, env)  # warm-up: the store's server, the OS file cache
        runs = [seconds(command, env) for _ in range(args.runs)]
        walls = [wall for wall, _ in runs]
        print(f"{name:28} {statistics.median(walls):9.2f} {min(walls):10.2f} "
              f"{statistics.median(cpu for _, cpu in runs):6.2f}", flush=True)


if __name__ == "__main__":
    main()
