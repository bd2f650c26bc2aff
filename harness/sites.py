"""A local HTTP server for crawl tests: the shared real feeds and pages, API samples, and faults.

    site = Site.start()        # site.url == "http://127.0.0.1:PORT"
    ...
    site.stop()

Routes:
- ``/feeds/NAME``: ``fixtures/feeds_real/NAME``; ``/pages/NAME/``: ``fixtures/html_pages_real/NAME/source.html``.
  Both send ETag and Last-Modified and answer a matching conditional GET with 304.
- ``/api/NAME``: ``tests/data/NAME.json``, or ``NAME.VALUE.json`` when a paging parameter
  (page, after, cursor, max_id, next_token) is VALUE; ``/us/rss/customerreviews/page=N/...``:
  ``appstore.N.json``. API hosts in the samples are rewritten to this server.
- ``/forum/?page=N`` and ``/forum/thread/N``: a small generated forum (listing -> thread -> next).
- ``/robots.txt`` disallows ``/private/``.
- ``/fault/...``: 500, 404, slow, garbage, oversized, oversized-unannounced, gzip-bomb, redirect-loop, bad.json, wrong-shape.json,
  truncated.xml, truncated.html, latin1.xml, dates.xml.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("LISTENING_SHARED", ROOT.parent / "shared")) / "fixtures"
FEEDS = FIXTURES / "feeds_real"
PAGES = FIXTURES / "html_pages_real"
DATA = ROOT / "tests" / "data"
LAST_MODIFIED = "Mon, 09 Mar 2015 16:00:00 GMT"
API_HOSTS = ("https://itunes.apple.com", "https://hn.algolia.com", "https://www.reddit.com",
             "https://mastodon.social", "https://public.api.bsky.app")
PAGING_PARAMS = ("page", "after", "cursor", "max_id", "next_token")
SLOW_SECONDS = 5.0
OVERSIZED_BYTES = 2 * 1024 * 1024
# A synthetic gzip bomb (no real page is one): 20 KB on the wire, 20 MB of zeros once inflated.
GZIP_BOMB = gzip.compress(bytes(20 * 1024 * 1024), compresslevel=9)

# The generated forum: thread n has posts (author, ISO time or "3/09/15 8:00am" style, text).
FORUM_PAGES = 2
THREADS_PER_PAGE = 2
FORUM_POSTS = {
    1: [("ana", "2015-03-09T15:00:00Z", "My Dell R730 fans are loud after the update."),
        ("ben", "3/09/15 8:12am", "Same here; Dell support said to flash the iDRAC.")],
    2: [("cy", "1425916025643", "Cisco 3650 or a Dell switch for a homelab?")],
    3: [("dee", "2015-03-10 09:30:00 -0800", "Dell warranty replaced my drive in a day."),
        ("eve", "", "No date on this one, but Dell is mentioned.")],
    4: [("fay", "2099-01-01T00:00:00Z", "An absurd date; Dell again.")],
}
FEED_DATES = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Dates</title><link>http://example.com/</link>
<item><title>No date</title><link>http://example.com/1</link><guid>d-1</guid>
<description>Dell laptop, no date at all</description></item>
<item><title>Absurd date</title><link>http://example.com/2</link><guid>d-2</guid>
<pubDate>Sat, 01 Jan 2999 00:00:00 GMT</pubDate><description>Dell from the future</description></item>
<item><title>Good date</title><link>http://example.com/3</link><guid>d-3</guid>
<pubDate>Tue, 20 Sep 2022 11:00:17 +0000</pubDate><description>Dell on time</description></item>
</channel></rss>"""


def _forum_listing(page: int) -> str:
    first = (page - 1) * THREADS_PER_PAGE + 1
    links = "".join(f'<li class="thread"><a class="title" href="/forum/thread/{n}">Thread {n}</a></li>'
                    for n in range(first, first + THREADS_PER_PAGE))
    nxt = f'<a class="next" href="/forum/?page={page + 1}">Next</a>' if page < FORUM_PAGES else ""
    return f"<html><head><title>Forum page {page}</title></head><body><ul>{links}</ul>{nxt}</body></html>"


def _forum_thread(n: int) -> str:
    posts = "".join(
        f'<div class="post" id="p{n}-{i}"><span class="author">{author}</span>'
        f'<time datetime="{when}">{when}</time><div class="body"><p>{text}</p></div></div>'
        for i, (author, when, text) in enumerate(FORUM_POSTS[n], start=1))
    return f"<html><head><title>Thread {n}</title></head><body><h1>Thread {n}</h1>{posts}</body></html>"


class Handler(BaseHTTPRequestHandler):
    site: "Site"

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.site.hits[path] += 1
        try:
            self.route(path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path: str, query: dict[str, str]) -> None:
        if path == "/robots.txt":
            return self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path.startswith("/feeds/"):
            return self.send_file(FEEDS / path.removeprefix("/feeds/"), "application/xml")
        if path.startswith("/pages/"):
            return self.send_file(PAGES / path.removeprefix("/pages/").strip("/") / "source.html", "text/html")
        if path.startswith("/api/"):
            return self.send_api(path.removeprefix("/api/"), query)
        if path.startswith("/us/rss/customerreviews/page="):
            number = path.split("page=")[1].split("/")[0]
            return self.send_api(f"appstore.{number}", {})
        if path == "/forum/":
            return self.send(200, _forum_listing(int(query.get("page", 1))).encode(), "text/html; charset=utf-8")
        if path.startswith("/forum/thread/"):
            n = int(path.rsplit("/", 1)[1])
            if n not in FORUM_POSTS:
                return self.send(404, b"no such thread", "text/plain")
            return self.send(200, _forum_thread(n).encode(), "text/html; charset=utf-8")
        if path.startswith("/private/"):
            return self.send(200, b"<html><body><p>Dell secret</p></body></html>", "text/html")
        if path.startswith("/fault/"):
            return self.fault(path.removeprefix("/fault/"))
        return self.send(404, b"not found", "text/plain")

    def fault(self, name: str) -> None:
        if name == "500":
            return self.send(500, b"internal error", "text/plain")
        if name == "404":
            return self.send(404, b"not found", "text/plain")
        if name == "slow":
            time.sleep(SLOW_SECONDS)
            return self.send(200, b"<rss version='2.0'><channel></channel></rss>", "application/rss+xml")
        if name == "garbage":
            return self.send(200, hashlib.sha512(b"x").digest() * 64, "application/rss+xml")
        if name == "oversized":
            return self.send(200, b"<html><body>" + b"Dell " * (OVERSIZED_BYTES // 5) + b"</body></html>", "text/html")
        if name == "oversized-unannounced":  # no Content-Length: the limit bites while reading
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>" + b"Dell " * (OVERSIZED_BYTES // 5) + b"</body></html>")
            return None
        if name == "gzip-bomb":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(GZIP_BOMB)))
            self.end_headers()
            self.wfile.write(GZIP_BOMB)
            return None
        if name == "redirect-loop":
            self.send_response(302)
            self.send_header("Location", "/fault/redirect-loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if name == "bad.json":
            return self.send(200, b'{"data": [{"id": 1, "text": "Dell', "application/json")
        if name == "wrong-shape.json":
            return self.send(200, json.dumps({"error": {"code": 429, "message": "slow down"}}).encode(),
                             "application/json")
        if name == "truncated.xml":
            body = (FEEDS / "atom_mediarss_reddit_1.xml").read_bytes()
            return self.send(200, body[: len(body) // 3], "application/atom+xml")
        if name == "truncated.html":
            return self.send(200, _forum_thread(1).encode()[:260], "text/html; charset=utf-8")
        if name == "latin1.xml":
            body = FEED_DATES.replace("Dell laptop", "Dell café portátil").encode("latin-1")
            return self.send(200, body, "application/rss+xml; charset=utf-8")
        if name == "dates.xml":
            return self.send(200, FEED_DATES.encode(), "application/rss+xml; charset=utf-8")
        return self.send(404, b"no such fault", "text/plain")

    def send_file(self, path: Path, content_type: str) -> None:
        if not path.is_file():
            return self.send(404, b"not found", "text/plain")
        body = path.read_bytes()
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.site.not_modified[self.path] += 1
            return self.send(304, b"", None, etag=etag)
        return self.send(200, body, content_type, etag=etag)

    def send_api(self, name: str, query: dict[str, str]) -> None:
        cursor = next((query[p] for p in PAGING_PARAMS if p in query), None)
        path = DATA / (f"{name}.{cursor}.json" if cursor is not None else f"{name}.json")
        if not path.is_file():
            return self.send(404, b'{"error": "not found"}', "application/json")
        body = path.read_text(encoding="utf-8")
        for host in API_HOSTS:
            body = body.replace(host, self.site.url)
        return self.send(200, body.encode(), "application/json; charset=utf-8")

    def send(self, status: int, body: bytes, content_type: str | None, *, etag: str | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet."""


class Site:
    """The server, its base URL and what it was asked for."""

    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.hits: Counter = Counter()
        self.not_modified: Counter = Counter()

    @classmethod
    def start(cls, handler: type[Handler] = Handler) -> "Site":
        """Serve on a free port; ``handler`` may extend ``Handler.route`` with more pages."""
        handler = type("BoundHandler", (handler,), {})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        site = cls(server)
        handler.site = site
        threading.Thread(target=server.serve_forever, name="test-site", daemon=True).start()
        return site

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
