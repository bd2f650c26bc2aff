"""End to end in a real browser: ``listening serve`` on 127.0.0.1, Debian's chromium driven
headless by Playwright. Opens every page, screenshots it, acknowledges an alert through
the UI and checks MongoDB, and follows the links of a real rendered alert e-mail. The data
are real: a tenth of the demo's tweets and the real Google Trends CSV exports the demo loads
(no invented search volume). Screenshots go to a temporary folder, or with
``LISTENING_SCREENSHOTS=docs/screenshots`` to the ones the docs show (to refresh them).

Needs /usr/bin/chromium (``apt-get install chromium``); without it this test fails,
it never skips. Never ``playwright install``: it downloads a browser at run time.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from harness.browser import CHROMIUM, PAGES, VIEWPORT, screenshot_pages
from harness.browser import launch as start_chromium
from harness.ports import free_port
from listening.app.serve import GRACE_SECONDS
from listening.demo.trends import collect_exports
from listening.notify.mail import render_alert
from tests.conftest import FIXTURES, TWEETS_CSV
from tests.support.dashboard_seed import open_alert, seed_tweets

ROOT = Path(__file__).resolve().parents[2]
@pytest.fixture
def served(store_env, demo_config):
    """A tenth of the demo tweets behind a running ``listening.app.serve.serve``; yields (url, store, alert id)."""
    store = store_env
    assert seed_tweets(store, demo_config, TWEETS_CSV) > 1000
    alert_id = open_alert(store)
    collect_exports(store, demo_config, FIXTURES / "google_trends_exports_real")
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
        stop_group(server)


def children(pid: int) -> list[int]:
    """``pid``'s child processes, as the kernel lists them (Linux, like ``cli._pass_on``)."""
    return [int(child) for listing in Path(f"/proc/{pid}/task").glob("*/children")
            for child in listing.read_text().split()]


def stop_group(server: subprocess.Popen, grace_s: float = GRACE_SECONDS + 10.0) -> None:
    """SIGTERM to the wrapper, which stops its Streamlit child's own group (SIGKILL after its
    grace); then SIGKILL whatever is left of either group. Waiting less than the wrapper's
    own grace killed it mid-stop and orphaned Streamlit (seen after the suite)."""
    streamlit = children(server.pid)
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    for group in (server.pid, *streamlit):
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:  # stopped already, as it should
            pass
    server.wait()


@pytest.mark.browser
def test_every_page_in_chromium_and_acknowledge_an_alert(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, store, alert_id = served
    shots = Path(os.environ.get("LISTENING_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            assert [s.stem for s in screenshot_pages(page, url, shots)] == [name for _, name, _ in PAGES]

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


def launch(p):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (this test never skips)")
    return start_chromium(p)


@pytest.mark.browser
def test_links_in_a_real_alert_email_open_that_alert_and_that_mention(served, demo_config):
    """The e-mail's "open this alert" link lands on that alert (another alert is newer), and its
    mention link on that mention: links taken from the HTML part of the rendered message."""
    from playwright.sync_api import expect, sync_playwright

    url, store, newest = served
    linked = open_alert(store, brand="United", issue="Customer service", hours_before=6)
    alert = store.alerts.get(linked)
    config = demo_config.model_copy(update={"dashboard_url": url})
    message = render_alert(store, config, alert, to=["ops-lead@example.com"], key=f"alert:{linked}")
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', message.get_body(("html",)).get_content())]
    alert_link = next(h for h in links if "/alerts?" in h)
    mention_link = next(h for h in links if "/live?mention=" in h)  # the demo tweets have no URL of their own
    mention = store.mentions.get(mention_link.rsplit("=", 1)[1])
    assert alert_link == f"{url}/alerts?alert={linked}" and newest != linked and mention is not None

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1200})
            page.goto(alert_link)
            expect(page.get_by_role("heading", name="United · Customer service")).to_be_visible(timeout=60_000)
            expect(page.get_by_role("combobox", name="Alert")).to_have_value(
                f"HIGH · United · Customer service · {alert['opened_at']:%d %b %H:%M} · open")
            assert page.url == alert_link

            page.goto(mention_link)
            card = page.locator(".st-key-linked_mention")
            expect(card).to_contain_text("Linked mention", timeout=60_000)
            expect(card).to_contain_text(mention["text"][:40])
            assert page.get_by_text("Page not found").count() == 0
        finally:
            browser.close()
