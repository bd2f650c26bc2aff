"""Every dashboard page in Debian's chromium, headless, through Playwright: the browser tests
open them this way, and the docs' screenshots are refreshed the same way from a running demo.

    listening demo                                   # serves the demo on 127.0.0.1:8501
    .venv/bin/python -m harness.browser [--url URL] [--out docs/screenshots]

Needs /usr/bin/chromium (``apt-get install chromium``; ``LISTENING_CHROMIUM`` for another).
Never ``playwright install``: it downloads a browser at run time.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("LISTENING_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 1500}
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


def launch(playwright):
    """Chromium, headless; a clear error when it is not installed."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: `apt-get install chromium`")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def open_page(page, url: str, ready: str) -> None:
    """Go to ``url`` and wait until its ``ready`` element shows and Streamlit stops running;
    fail on any exception the page shows."""
    page.goto(url)
    page.wait_for_selector(ready, timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    if page.locator('[data-testid="stException"]').count():
        raise AssertionError(f"{url} shows an exception: {page.locator('[data-testid=stException]').first.inner_text()}")
    page.wait_for_timeout(700)  # let the data grids paint


def screenshot_pages(page, url: str, out: Path) -> list[Path]:
    """Every page of ``PAGES`` on the dashboard at ``url``, as ``out/NAME.png``."""
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for path, name, ready in PAGES:
        open_page(page, f"{url}/{path}", ready)
        shots.append(out / f"{name}.png")
        page.screenshot(path=str(shots[-1]))
    return shots


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description="Screenshot every dashboard page in headless chromium.")
    parser.add_argument("--url", default="http://127.0.0.1:8501", help="the running dashboard")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="folder for NAME.png")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for shot in screenshot_pages(browser.new_page(viewport=VIEWPORT), args.url.rstrip("/"), args.out):
                print(shot)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
