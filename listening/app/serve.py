"""``listening serve``: Streamlit on the packaged entry file, in the foreground.

Only starts the server, so the CLI can import it without loading Streamlit. The entry
file ships inside the package (``listening/app/main.py``), so a plain ``pip install``
serves the dashboard from anywhere.

    serve("listening.yaml")          # what ``listening serve`` runs
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from listening.config import CONFIG_ENV, load_config

ENTRY = Path(__file__).resolve().with_name("main.py")
GRACE_SECONDS = 10.0  # Streamlit stops in about a second


def serve(config_path: str | os.PathLike | None = None, host: str | None = None,
          port: int | None = None) -> int:
    """Run ``streamlit run main.py`` in the foreground; host and port default to the config's
    ``dashboard`` section (127.0.0.1:8501). Returns streamlit's exit code (0 when stopped)."""
    env = dict(os.environ)
    if config_path:
        env[CONFIG_ENV] = str(Path(config_path).resolve())
    dashboard = load_config(config_path).dashboard
    command = [sys.executable, "-m", "streamlit", "run", str(ENTRY),
               "--server.address", host or dashboard.address,
               "--server.port", str(port or dashboard.port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.enableStaticServing", "false", "--client.toolbarMode", "viewer",
               "--client.disableDataExport", "true"]  # its CSV keeps =cells live: d.csv_download
    return foreground(command, env=env)


def foreground(command: list[str], *, env: dict[str, str] | None = None, grace: float = GRACE_SECONDS) -> int:
    """Run ``command`` in a process group of its own until it exits, and return its exit code.

    Ctrl-C or SIGTERM (``listening serve`` turns SIGTERM into KeyboardInterrupt) stops the
    whole group: SIGTERM, then SIGKILL for whatever is still there after ``grace`` seconds,
    so a child that ignores SIGTERM, or one it started, never outlives us. Returns 0 then.
    """
    child = subprocess.Popen(command, env=env, cwd=os.getcwd(), process_group=0)
    try:
        return child.wait()
    except KeyboardInterrupt:
        stop_group(child, grace)
        return 0


def stop_group(child: subprocess.Popen, grace: float) -> None:
    """SIGTERM to ``child``'s process group, SIGKILL to what is left after ``grace`` seconds
    (at once on a second Ctrl-C)."""
    _signal_group(child.pid, signal.SIGTERM)
    try:
        child.wait(grace)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    _signal_group(child.pid, signal.SIGKILL)  # the child's own children too, if it left any
    child.wait()


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:  # every member gone already
        pass
