"""A local Google Trends stand-in that answers with real recorded responses.

It reads the VCR cassettes recorded from trends.google.com by the pytrends project
(gzip+base64 bodies) and serves them on 127.0.0.1, so the real pytrends code runs
end to end offline: the demo's search-only category and the tests use it. Nothing
is made up: a request with no recording gets a 404.

Requests match on the endpoint plus the request's meaning, not its bytes: the
``req`` JSON is compared after parsing (tokens and key order ignored), and, failing
that, on the comparison items (keyword, geo, time), category and property. It can
also answer 429 (with ``Retry-After``) for a number of requests, like Google does.

    server = ReplayServer.start(cassette_dir)   # server.url -> pass as base_url
    ...
    server.stop()
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster on 177 KB cassettes
VOLATILE = ("token",)


@dataclass
class Recording:
    """One recorded answer."""

    status: int
    content_type: str
    body: bytes
    cassette: str
    set_cookie: str | None = None


def _decode(body) -> bytes:
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        return gzip.decompress(body)
    except (OSError, EOFError):
        return body


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _items(req: dict) -> list:
    """(keyword, geo, time) of each comparison item, whatever the endpoint's shape."""
    out = []
    restriction = req.get("restriction")
    items = req.get("comparisonItem") or ([restriction] if restriction else [])
    for item in items:
        if "keyword" in item and isinstance(item["keyword"], str):
            out.append((item["keyword"], item.get("geo") or "", item.get("time")))
            continue
        words = [k.get("value") for k in item.get("complexKeywordsRestriction", {}).get("keyword", [])]
        geo = item.get("geo") or req.get("geo") or {}
        if isinstance(geo, dict):
            geo = geo.get("region") or geo.get("country") or ""
        out.append((" ".join(w for w in words if w), geo, item.get("time") or req.get("time")))
    return out


def _options(req: dict) -> tuple:
    opts = req.get("requestOptions") or {}
    return (req.get("category", opts.get("category", 0)), req.get("property", opts.get("property", "")))


def request_keys(method: str, path: str, query: dict[str, list[str]]) -> tuple[tuple, tuple]:
    """An exact key (the parsed ``req``) and a loose one (items, category, property)."""
    params = {k: v[0] for k, v in query.items() if k not in VOLATILE}
    raw = params.pop("req", None)
    try:
        req = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        req = raw
    exact = (method, path, _canonical(req), _canonical(params))
    try:
        loose = (method, path, _canonical(_items(req)) if isinstance(req, dict) else _canonical(req),
                 _canonical(_options(req)) if isinstance(req, dict) else "")
    except (AttributeError, TypeError):  # a req in a shape pytrends never sends: an exact match or a 404
        loose = exact
    return exact, loose


@lru_cache(maxsize=4)
def load_cassettes(folder: str | Path) -> tuple[dict, dict]:
    """Index every recorded interaction of the folder's cassettes (read once per folder)."""
    exact: dict[tuple, Recording] = {}
    loose: dict[tuple, Recording] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        for interaction in data.get("interactions", []):
            request, response = interaction["request"], interaction["response"]
            url = urlsplit(request["uri"])
            headers = response.get("headers", {})
            content_type = (headers.get("Content-Type") or ["application/json"])[0]
            cookie = next((c for c in headers.get("Set-Cookie", []) if c.startswith("NID=")), None)
            if cookie:  # the recorded value, minus its expired date and google.com domain
                cookie = cookie.split(";", 1)[0] + "; Path=/; HttpOnly"
            recording = Recording(response["status"]["code"], content_type,
                                  _decode(response["body"]["string"]), path.stem, cookie)
            e, l = request_keys(request["method"].upper(), url.path, parse_qs(url.query))
            exact.setdefault(e, recording)
            loose.setdefault(l, recording)
    return exact, loose


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._answer("POST")

    def _answer(self, method: str) -> None:
        replay = self.server.replay
        url = urlsplit(self.path)
        replay.log.append((method, url.path))
        if replay.take_failure():
            status, retry_after = replay.fail_status, replay.retry_after
            body = b"<html><body>429 Too Many Requests</body></html>"
            self._send(status, "text/html; charset=utf-8", body,
                       {"Retry-After": str(retry_after)} if retry_after is not None else {})
            return
        recording = replay.find(method, url.path, parse_qs(url.query))
        if recording is None:
            replay.misses.append(self.path)
            self._send(404, "text/html; charset=utf-8", b"<html>no recording for this request</html>")
            return
        extra = {"Set-Cookie": recording.set_cookie} if recording.set_cookie else {}
        self._send(recording.status, recording.content_type, recording.body, extra)

    def _send(self, status: int, content_type: str, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    replay: "ReplayServer"


class ReplayServer:
    """The recorded Google Trends, on 127.0.0.1 in a background thread."""

    def __init__(self, cassette_dir: str | Path, host: str = "127.0.0.1", port: int = 0):
        self.exact, self.loose = load_cassettes(cassette_dir)
        self.log: list[tuple[str, str]] = []
        self.misses: list[str] = []
        self.fail_remaining = 0
        self.fail_status = 429
        self.retry_after: int | None = None
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.replay = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="trends-replay", daemon=True)

    @classmethod
    def start(cls, cassette_dir: str | Path, host: str = "127.0.0.1", port: int = 0) -> "ReplayServer":
        server = cls(cassette_dir, host, port)
        server._thread.start()
        return server

    @property
    def url(self) -> str:
        """The base URL to use instead of ``https://trends.google.com``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, count: int, *, status: int = 429, retry_after: int | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (429: rate limited)."""
        with self._lock:
            self.fail_remaining, self.fail_status, self.retry_after = count, status, retry_after

    def take_failure(self) -> bool:
        with self._lock:
            if self.fail_remaining > 0:
                self.fail_remaining -= 1
                return True
            return False

    def find(self, method: str, path: str, query: dict) -> Recording | None:
        exact, loose = request_keys(method, path, query)
        return self.exact.get(exact) or self.loose.get(loose)

    def requests(self, path_part: str = "") -> int:
        """How many requests arrived (whose path contains ``path_part``)."""
        return sum(1 for _, path in self.log if path_part in path)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "ReplayServer":
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_replay_server(cassette_dir: str | Path) -> ReplayServer:
    """Start the replay server on 127.0.0.1, a free port, in a thread; ``.url`` is its base."""
    return ReplayServer.start(cassette_dir)
