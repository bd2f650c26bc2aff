#!/usr/bin/env python3
"""The README's two commands, on a fresh machine with only Python 3.11+.

    python3 dev.py demo    # set up .venv, then run the demo and open the dashboard
    python3 dev.py test    # set up .venv (+ test tools, chromium, redis-server), then run every test

Each creates or updates ``.venv`` and installs what the project needs; re-running
installs nothing new unless ``pyproject.toml`` changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".installed"
# Programs the tests run for real: the dashboard's browser and the shared crawl queue's Redis.
TEST_PROGRAMS = {"chromium": "chromium", "redis-server": "redis-server"}


def ensure_venv(extras: str) -> None:
    """Create the virtualenv and (re)install the project when its metadata changed."""
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print(f"Installing the project{f' [{extras}]' if extras else ''} into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f".[{extras}]" if extras else "."], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def ensure_debian_packages(packages: dict[str, str]) -> None:
    """Install the Debian packages (program -> package) whose programs are missing, where we can."""
    missing = [package for program, package in packages.items()
               if not (shutil.which(program) or Path("/usr/bin", program).exists())]
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"Installing {', '.join(missing)} (apt-get) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False, env=env)
    else:
        print(f"{', '.join(missing)} missing and cannot be installed here: the tests that need them will fail.")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        ensure_venv("")
        return subprocess.call([str(BIN / "listening"), "demo", *rest], cwd=ROOT)
    ensure_venv("test")
    ensure_debian_packages(TEST_PROGRAMS)
    return subprocess.call([str(BIN / "python"), "-m", "pytest", "-n", "2", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
