#!/usr/bin/env python3
"""The README's two commands, on a fresh machine with only Python 3.11+.

    python3 dev.py demo    # set up .venv, then run the demo and open the dashboard
    python3 dev.py test    # set up .venv (+ test tools, chromium), then run every test

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


def ensure_chromium() -> None:
    """The dashboard's browser tests drive Debian's chromium; install it where we can."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing chromium (apt-get) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env)
    else:
        print("chromium is missing and cannot be installed here: the browser tests will fail.")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        ensure_venv("")
        return subprocess.call([str(BIN / "listening"), "demo", *rest], cwd=ROOT)
    ensure_venv("test")
    ensure_chromium()
    return subprocess.call([str(BIN / "python"), "-m", "pytest", "-n", "2", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
