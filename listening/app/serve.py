"""``listening serve``: Streamlit on the packaged entry file, in the foreground.

Only starts the server, so the CLI can import it without loading Streamlit. The entry
file ships inside the package (``listening/app/main.py``), so a plain ``pip install``
serves the dashboard from anywhere.

    serve("listening.yaml")          # what ``listening serve`` runs
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from listening.config import CONFIG_ENV, load_config

ENTRY = Path(__file__).resolve().with_name("main.py")


def serve(config_path: str | os.PathLike | None = None, host: str | None = None,
          port: int | None = None) -> int:
    """Run ``streamlit run main.py`` in the foreground; host and port default to the config's
    ``dashboard`` section (127.0.0.1:8501). Returns streamlit's exit code."""
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
    try:
        return subprocess.run(command, env=env, cwd=os.getcwd()).returncode
    except KeyboardInterrupt:
        return 0
