"""Without signing in, no HTTP endpoint we serve says anything about the data.

``listening serve`` runs for real on 127.0.0.1 with sign-in required, on a store with a tenth
of the real airline tweets and an open alert, while someone signed in reads the Live page in
chromium (so the caches and metrics are warm). Every route the Streamlit
server has (health, host config, metrics, the script health check, the agent API, media,
uploads, components, static app files, sign-in routes, the page itself) is asked without a
session, and so is ``listening schedule --healthcheck`` (what the compose healthchecks run).
No answer names a brand, an issue, a department or its lead, quotes a mention, gives a count,
or shows the config or the environment.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from harness.ports import free_port
from listening.config import PACKAGED_DEMO, load_config
from tests.app.test_browser import launch, stop_group
from tests.conftest import TWEETS_CSV
from tests.support.dashboard_seed import open_alert, seed_tweets

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
# Every route of Streamlit 1.67's server (web/server/starlette/starlette_routes.py, _agent_routes,
# _auth_routes), as a visitor without a session reaches them.
ROUTES = [("GET", "/"), ("GET", "/_stcore/health"), ("GET", "/_stcore/host-config"),
          ("GET", "/_stcore/metrics"), ("GET", "/_stcore/script-health-check"),
          ("GET", "/_stcore/agent/openapi.json"), ("POST", "/_stcore/agent/interact"),
          ("POST", "/_stcore/agent/mcp"), ("GET", "/media/anything.png"),
          ("PUT", "/_stcore/upload_file/session/file"), ("GET", "/component/x/index.html"),
          ("GET", "/_stcore/bidi-components/x"), ("GET", "/app/static/listening.yaml"),
          ("GET", "/auth/login"), ("GET", "/oauth2callback"), ("GET", "/needs_reply"),
          ("GET", "/_stcore/stream")]


def secrets_of(store, config) -> tuple[list[str], list[int]]:
    """What must not leak: names, text, people, the config's and environment's values; and the
    counts (the total and each brand's, all in the hundreds or more, so a match means something)."""
    words = [*(b.name for b in config.brands), *store.mentions.collection.distinct("issues"),
             *(d.name for d in config.departments), *(lead for d in config.departments for lead in d.leads),
             PASSWORD, store.db.name, os.environ["MONGO_URI"].split("//")[-1].split("/")[0]]
    words += [doc["text"][:40] for doc in store.mentions.collection.find({}, {"text": 1}).limit(50)]
    counts = [store.mentions.count(), *(row["count"] for row in store.mentions.totals(("brand",)))]
    return [w for w in words if len(w) > 3], [n for n in counts if n >= 100]


@pytest.fixture
def signed_out(store_env, demo_config, tmp_path):
    store = store_env
    assert seed_tweets(store, demo_config, TWEETS_CSV) > 1000
    open_alert(store)
    raw = yaml.safe_load(PACKAGED_DEMO.read_text(encoding="utf-8"))
    raw["dashboard"] = {"auth": {"method": "password"}}
    config_path = tmp_path / "listening.yaml"
    config_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "listening", "--config", str(config_path), "serve", "--port", str(port)],
        cwd=tmp_path, env={**os.environ, "LISTENING_DASHBOARD_PASSWORD": PASSWORD},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while fetch("GET", f"{url}/_stcore/health")[0] != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the dashboard did not start:\n{server.stdout.read().decode()}")
            time.sleep(0.2)
        yield url, store, load_config(config_path), tmp_path
    finally:
        stop_group(server)


def fetch(method: str, url: str) -> tuple[int, str, str]:
    """Status, headers and body of one request without a session (0 when nothing answered)."""
    request = urllib.request.Request(url, method=method, data=b"{}" if method in ("POST", "PUT") else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, str(answer.headers), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as refused:
        return refused.code, str(refused.headers), refused.read().decode("utf-8", "replace")
    except OSError:
        return 0, "", ""


def signed_in_session(url: str, p):
    """Someone signed in and reading the Live page in chromium: the caches and metrics are warm."""
    browser = launch(p)
    page = browser.new_page()
    page.goto(url)
    page.get_by_label("Your name").fill("dana")
    page.get_by_label("Team password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=60_000)
    return browser


@pytest.mark.browser
def test_no_endpoint_tells_a_visitor_without_a_session_about_the_data(signed_out):
    from playwright.sync_api import sync_playwright

    url, store, config, tmp_path = signed_out
    words, counts = secrets_of(store, config)
    assert counts and len(words) > 50
    with sync_playwright() as p:
        browser = signed_in_session(url, p)
        try:
            answers = {f"{method} {path}": fetch(method, url + path) for method, path in ROUTES}
        finally:
            browser.close()
    assert "active_sessions 1" in answers["GET /_stcore/metrics"][2]  # the session was there
    assert answers["GET /_stcore/health"][0::2] == (200, "ok")
    shell = answers["GET /"][2]  # Streamlit's static page: a route that is off answers with it
    assert answers["GET /_stcore/script-health-check"][2] == shell  # off: it would run the app for anyone
    assert answers["POST /_stcore/agent/interact"][0] == 403  # the agent API is off
    for route, (status, headers, body) in answers.items():
        said = f"{headers}\n{body}".lower()
        for word in words:
            assert word.lower() not in said, (route, status, word)
        for count in counts:
            assert not re.search(rf"(?<![\w.]){count}(?![\w.])", body), (route, count, body[:500])

    heartbeat = tmp_path / "scheduler.heartbeat"
    heartbeat.write_text("2026-01-01T00:00:00+00:00", encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "listening", "schedule", "--healthcheck",
                            "--heartbeat", str(heartbeat)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and re.fullmatch(r"heartbeat \d+s old\n", check.stdout), check
    assert not any(word.lower() in (check.stdout + check.stderr).lower() for word in words)
