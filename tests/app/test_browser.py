"""End to end in a real browser: ``listening serve`` on 127.0.0.1, Debian's chromium driven
headless by Playwright. Opens every page, screenshots it, acknowledges an alert through
the UI and checks MongoDB. Screenshots go to a temporary folder, or with
``LISTENING_SCREENSHOTS=docs/screenshots`` to the ones the docs show (to refresh them).

Needs /usr/bin/chromium (``apt-get install chromium``); without it this test fails,
it never skips. Never ``playwright install``: it downloads a browser at run time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TWEETS_CSV
from tests.support.dashboard_seed import add_search_volume, open_alert, seed_tweets

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("LISTENING_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# (url path, file name, what to wait for)
PAGES = [
    ("", "live", '[data-testid="stVegaLiteChart"]'),
    ("needs_reply", "needs-reply", '[data-testid="stDataFrame"]'),
    ("alerts", "alerts", '[data-testid="stVegaLiteChart"]'),
    ("share_of_search", "share-of-search", '[data-testid="stVegaLiteChart"]'),
    ("voice", "voice-and-sentiment", '[data-testid="stVegaLiteChart"]'),
    ("sources", "sources-health", '[data-testid="stVegaLiteChart"]'),
    ("query_tester", "query-tester", '[data-testid="stDataFrame"]'),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(store_env, demo_config):
    """A tenth of the demo tweets behind a running ``listening.app.serve.serve``; yields (url, store, alert id)."""
    store = store_env
    assert seed_tweets(store, demo_config, TWEETS_CSV) > 1000
    alert_id = open_alert(store)
    add_search_volume(store, weeks=26, terms=[
        ("United Airlines", "United", 52, 0.2), ("American Airlines", "American", 48, -0.1),
        ("Southwest Airlines", "Southwest", 40, 0.3), ("JetBlue", "JetBlue", 22, 0.4),
        ("US Airways", "US Airways", 14, -0.3), ("Virgin America", "Virgin America", 8, 0.1)])
    run = store.runs.start("import", source="import:tweets.csv")
    store.runs.finish(run, status="ok", counts={"read": 1464, "new": 1400})
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", f"import sys; from listening.app.serve import serve; sys.exit(serve(None, port={port}))"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the dashboard did not start:\n{server.stdout.read().decode()}")
            time.sleep(0.2)
        yield url, store, alert_id
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.browser
def test_every_page_in_chromium_and_acknowledge_an_alert(served, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (this test never skips)")
    from playwright.sync_api import expect, sync_playwright

    url, store, alert_id = served
    shots = Path(os.environ.get("LISTENING_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1500})
            for path, name, ready in PAGES:
                page.goto(f"{url}/{path}")
                page.wait_for_selector(ready, timeout=60_000)
                page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
                assert page.locator('[data-testid="stException"]').count() == 0, name
                page.wait_for_timeout(700)  # let the data grids paint
                page.screenshot(path=str(shots / f"{name}.png"))

            # still on the last page's session: go to Alerts through the navigation, sign actions as "e2e"
            page.get_by_role("link", name="Alerts").first.click()
            page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=60_000)
            name_box = page.get_by_label("Your name (recorded on actions)")
            name_box.fill("e2e")
            name_box.press("Enter")
            page.get_by_role("button", name="Acknowledge").click()
            expect(page.get_by_text("Acknowledged by e2e at")).to_be_visible(timeout=60_000)
        finally:
            browser.close()

    alert = store.alerts.get(alert_id)
    assert alert["status"] == "acknowledged"
    assert alert["acknowledged_by"] == "e2e"
    assert alert["events"][-1]["event"] == "acknowledged"
