"""A real HTTP receiver on 127.0.0.1 for channel tests: records every POST, and can answer
500 to the first N of them (a chat service having a bad minute)."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


class Receiver:
    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.posts: list[dict] = []  # every POST: path, headers, body, status answered
        self.lock = threading.Lock()
        self.url = ""

    @property
    def accepted(self) -> list[dict]:
        return [p for p in self.posts if p["status"] == 200]


@contextmanager
def webhook_server(fail_first: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                status = 500 if len(receiver.posts) < receiver.fail_first else 200
                receiver.posts.append({"path": self.path, "headers": dict(self.headers), "raw": body,
                                       "json": json.loads(body), "status": status})
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
