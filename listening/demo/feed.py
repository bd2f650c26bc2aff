"""The demo source: the shared airline tweets served like a social API, on 127.0.0.1.

``listening demo`` starts this server and crawls it with the normal ``json_api``
spider, so the demo exercises the same path as a real source. The shape follows
Twitter's v2 search (newest first, ``next_token`` paging, ``since_id``)::

    GET /2/tweets/search/recent?max_results=500[&next_token=T][&since_id=ID]
    {"data": [{"id", "text", "created_at", "author": {"username"}, "airline",
               "labels": {"sentiment", "issue"}}, ...],
     "meta": {"result_count", "newest_id", "oldest_id", "next_token"?}}

    server, url = serve_tweets(TWEETS)   # url: http://127.0.0.1:PORT
    ...
    server.shutdown(); server.server_close()
"""

from __future__ import annotations

import csv
import json
import threading
from datetime import timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from listening.tagging.issues import fix_text
from listening.timeparse import parse_time

SEARCH_PATH = "/2/tweets/search/recent"
DEFAULT_PAGE = 100
MAX_PAGE = 1000

# What to add to a config's ``sources:`` to crawl this feed (``{demo_feed}`` is the URL).
DEMO_SOURCE = {
    "name": "demo_tweets",
    "kind": "json_api",
    "urls": ["{demo_feed}" + SEARCH_PATH + "?max_results=500"],
    "mapping": {
        "items": "data", "id": "id", "text": "text", "author": "author.username",
        "time": "created_at", "next": "meta.next_token", "next_param": "next_token",
        "since_param": "since_id",
        "labels": {"sentiment": "labels.sentiment", "issue": "labels.issue"},
    },
    "max_pages": 100,
    "allow_private_host": True,  # the demo feed is served on 127.0.0.1
}


def load_tweets(csv_path: Path) -> list[dict]:
    """Every row of the airline tweets CSV as an API item, newest first (duplicates kept)."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    tweets = []
    for row in rows:
        created = parse_time(row["tweet_created"])
        tweets.append({
            "id": row["tweet_id"],
            "text": fix_text(row["text"], "airline_tweets"),  # the curators' edits undone
            "created_at": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z") if created else None,
            "author": {"username": row["name"]},
            "airline": row["airline"],
            "retweet_count": int(row["retweet_count"] or 0),
            "labels": {"sentiment": row["airline_sentiment"] or None, "issue": row["negativereason"] or None},
        })
    tweets.sort(key=lambda t: (t["created_at"] or "", int(t["id"])), reverse=True)
    return tweets


def page(tweets: list[dict], query: dict[str, str]) -> dict:
    """One page of the feed for the request's query parameters."""
    size = max(1, min(int(query.get("max_results") or DEFAULT_PAGE), MAX_PAGE))
    offset = int(query.get("next_token") or 0)
    if query.get("since_id"):
        since = int(query["since_id"])
        tweets = [t for t in tweets if int(t["id"]) > since]
    data = tweets[offset:offset + size]
    meta: dict = {"result_count": len(data)}
    if data:
        meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
    if offset + size < len(tweets):
        meta["next_token"] = str(offset + size)
    return {"data": data, "meta": meta}


def _handler(tweets: list[dict]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            if parts.path != SEARCH_PATH:
                self._send(404, {"title": "Not Found"})
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            try:
                self._send(200, page(tweets, query))
            except ValueError:
                self._send(400, {"title": "Invalid Request"})

        def _send(self, status: int, doc: dict) -> None:
            body = json.dumps(doc, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            """Quiet: the crawl reports what it fetched."""

    return Handler


def serve_tweets(csv_path: Path, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start the feed in a daemon thread; return the server and its base URL."""
    server = ThreadingHTTPServer((host, port), _handler(load_tweets(Path(csv_path))))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="demo-feed", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"
