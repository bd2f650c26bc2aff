"""Run configured sources now: Scrapy in a child process, the shared pipeline here.

Twisted's reactor cannot start twice in one process, so each crawl runs Scrapy in a
fresh ``python -m crawlers.runner`` (about a second of start-up), and the CLI, the
scheduler and tests can call ``run`` as often as they like. The child only fetches and
parses; its items come back over a pipe (``crawlers.handoff``) into one
``listening.ingest.pipeline.Pipeline`` per source in this process, so the tagger loads once
per process and tagging overlaps the crawl. This side owns every write: mentions, the
``runs`` record and the per-source state, which moves forward only after a crawl.

    rows = run(store, config, ["hn_search"], progress=print)
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from listening.config import Config, Source, query_terms
from listening.errors import CrawlError, StoreError
from listening.store import Store
from listening.timeparse import parse_time

COUNT_KEYS = ("read", "matched", "unmatched", "rejected", "new", "updated", "unchanged", "duplicates")
HANDOFF_FD_ENV = "LISTENING_HANDOFF_FD"  # crawlers.handoff.FD_ENV
Progress = Callable[[dict[str, Any]], None]
CONTACT = re.compile(r"https?://|@")  # a polite User-Agent says how to reach us
# Smaller than the import's batches, so tagging and writing overlap the crawl of small sources too.
BATCH_SIZE = 250

# For crawling our own 127.0.0.1 servers (tests, the demo, benchmarks): no politeness delays.
LOCAL_SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY_JITTER": 0,
                  "RETRY_BACKOFF_BASE": 0.1, "LOG_LEVEL": "WARNING"}


def select_sources(config: Config, names: Iterable[str] | None = None) -> list[Source]:
    """The named sources (every enabled one when no names); unknown names raise CrawlError."""
    names = list(names or ())
    if not names:
        return [s for s in config.sources if s.enabled]
    known = {s.name: s for s in config.sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CrawlError(f"unknown source(s) {', '.join(unknown)}; configured: {', '.join(known) or 'none'}")
    return [known[n] for n in names]


def run(store: Store, config: Config, sources: list[str] | None = None, *,
        progress: Progress | None = None, variables: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None, timeout: float | None = None,
        log_path: Path | None = None) -> list[dict[str, Any]]:
    """Crawl the sources now; return one summary row per source (also in the ``runs`` record).

    ``sources``: names (default: every enabled source). ``variables`` fill ``{name}``
    placeholders in URLs (else ``$NAME``); ``settings`` override Scrapy settings
    (``LOCAL_SETTINGS`` for 127.0.0.1); ``progress`` gets ``{"source", "pages", "items",
    "done"}`` while the crawl runs; ``log_path`` keeps Scrapy's log.
    """
    from listening.ingest.pipeline import Pipeline  # the tagger is heavy: load it only to crawl
    from listening.matching import BrandMatcher, effective_brands
    from listening.tagging import Tagger

    chosen = select_sources(config, sources)
    if chosen and not CONTACT.search(config.user_agent):
        raise CrawlError(f"user_agent {config.user_agent!r} names no contact: add a URL or e-mail address")
    run_id = store.runs.start("crawl", sources=[s.name for s in chosen])
    if not chosen:
        store.runs.finish(run_id, status="ok", counts={})
        return []
    pipelines: dict[str, Pipeline] = {}

    def build_pipelines() -> None:  # while the child starts: loading the tagger takes seconds
        tagger = Tagger.from_store(store, config)
        matcher = BrandMatcher(effective_brands(store, config))
        pipelines.update({s.name: Pipeline(store, config, run_id=run_id, tagger=tagger, matcher=matcher,
                                           batch_size=BATCH_SIZE) for s in chosen})

    sink = _Sink(pipelines, progress)
    states = {s.name: store.sources.get(s.name) for s in chosen}
    started = time.monotonic()
    try:
        reports = collect(config, chosen, sink, states=states, variables=variables, settings=settings,
                          progress=progress is not None, timeout=timeout, log_path=log_path,
                          while_starting=build_pipelines)
        sink.flush()
    except BaseException as exc:  # the child died, the store failed, Ctrl-C: keep what came, say so
        sink.flush()
        sink.close()
        store.runs.finish(run_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:2000],
                          counts={k: sum(p.counts.as_dict()[k] for p in pipelines.values()) for k in COUNT_KEYS})
        raise
    sink.close()
    rows = []
    for source, report in zip(chosen, reports):
        report["counts"] = pipelines[source.name].counts.as_dict()
        for kind, n in sink.errors.get(source.name, {}).items():
            report.setdefault("problem_counts", {})[kind] = n
        rows.append(summary(report, run_id))
        store.sources.record_crawl(source.name, {k: v for k, v in rows[-1].items() if k != "source"})
        if not report.get("failed") and source.name not in sink.errors:
            store.sources.save(source.name, merge_state(store.sources.get(source.name), report), run_id=run_id)
    totals = {k: sum(row[k] for row in rows)
              for k in (*COUNT_KEYS, "fetched", "pages", "items", "http_errors", "problems")}
    status = "ok" if all(r["status"] == "ok" for r in rows) else \
        "failed" if all(r["status"] == "failed" for r in rows) else "partial"
    store.runs.finish(run_id, status=status, counts=totals, duration_s=round(time.monotonic() - started, 3),
                      error="; ".join(f"{r['source']}: {r['error']}" for r in rows if r["error"]) or None,
                      sources={r["source"]: _detail(r, rep) for r, rep in zip(rows, reports)})
    return rows


def collect(config: Config, sources: list[Source], on_message: Callable[[dict[str, Any]], None], *,
            states: dict[str, dict] | None = None, variables: dict[str, str] | None = None,
            settings: dict[str, Any] | None = None, progress: bool = True, timeout: float | None = None,
            log_path: Path | None = None, while_starting: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Crawl ``sources`` in a child process without a store: every item, reject and progress
    message goes to ``on_message``; return the child's report per source (``run`` builds on it).

    ``while_starting`` runs once the child is started, before its first message is read.
    """
    job = {
        "user_agent": config.user_agent, "terms": query_terms(config), "variables": variables or {},
        "settings": settings or {}, "progress": progress,
        "sources": [{"source": s.model_dump(mode="json"), "state": _jsonable((states or {}).get(s.name) or {})}
                    for s in sources],
    }
    return _run_child(job, on_message, timeout, log_path, while_starting)


def summary(report: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The row ``listening crawl`` prints for one source."""
    counts = report.get("counts") or {}
    problems = report.get("problem_counts") or {}
    n_problems = sum(problems.values())
    fetched = report.get("pages", 0) + report.get("not_modified", 0)
    if report.get("failed") or (n_problems and not fetched):
        status = "failed"
    else:
        status = "partial" if n_problems else "ok"
    error = ", ".join(f"{kind} x{n}" for kind, n in sorted(problems.items())) or \
        ("the spider could not start" if report.get("failed") else None)
    return {
        "source": report["source"], "kind": report["kind"], "status": status, "run_id": run_id,
        "fetched": fetched, "pages": report.get("pages", 0), "not_modified": report.get("not_modified", 0),
        "items": report.get("items", 0), **{k: counts.get(k, 0) for k in COUNT_KEYS},
        "undated": report.get("undated", 0), "known": report.get("known", 0), "refused": problems.get("refused", 0), "http_errors": sum((report.get("http_errors") or {}).values()),
        "problems": n_problems, "problem_counts": dict(problems), "duration_s": report.get("duration_s", 0.0),
        "error": error,
    }


# Why a figure is what it is, for people reading `listening crawl` (docs/crawling.md lists the kinds).
REASONS = {
    "not_modified": "answered 304: unchanged since the last crawl",
    "known": "seen unchanged within the re-check window, skipped",
    "unmatched": "named no brand, not stored",
    "rejected": "no usable text",
    "unchanged": "read again, the same as stored",
    "duplicates": "a post stored already: twice in this crawl, or read by another source",
    "undated": "no usable date: stored with the crawl's time",
    "refused": "not http(s), or a private address",
    "timeout": "no answer in time", "too_large": "over the size limit", "redirect_loop": "too many redirects",
    "robots_disallowed": "robots.txt disallows it", "unreachable": "connection refused or no such host",
    "download_failed": "the download failed", "malformed_xml": "not a feed", "feed_warning": "a feed with errors",
    "bad_charset": "bytes that do not fit the charset", "bad_json": "not JSON", "wrong_shape": "no items list",
    "bad_item": "an item without text", "truncated_html": "the page was cut short", "not_html": "not a page",
    "no_article": "no main text found", "no_items": "the item selector matched nothing",
    "parse_error": "the page could not be parsed", "store_error": "the store refused a write",
    "config": "the source's config", "stopped": "the crawl ran out of time",
}


def explain(row: dict[str, Any]) -> list[str]:
    """``row`` as a few short lines of words: every non-zero figure with the reason for it,
    readable at any width (``listening crawl`` prints these)."""

    def figures(*keys: str) -> str:
        return ", ".join(f"{row[k]:,} {'read' if k == 'pages' else k.replace('_', ' ')}"
                         + (f" ({REASONS[k]})" if k in REASONS else "")
                         for k in keys if row.get(k))

    lines = [f"{row['source']} ({row['kind']}): {row['status']} in {row['duration_s']:.1f} s",
             f"  fetched {row['fetched']:,} pages: " + (figures("pages", "not_modified") or "none")]
    if row.get("items") or row.get("known"):
        lines.append(f"  {row['items']:,} items parsed" + (f", {figures('known')}" if row.get("known") else ""))
    if row.get("read"):
        lines.append(f"  {row['read']:,} read: " + figures("matched", "unmatched", "rejected"))
    if row.get("matched"):
        lines.append("  stored: " + figures("new", "updated", "unchanged", "duplicates"))
    if row.get("undated"):
        lines.append(f"  {figures('undated')}")
    for kind, n in sorted((row.get("problem_counts") or {}).items()):
        reason = REASONS.get(kind) or (f"the server answered {kind[5:]}" if kind.startswith("http_") else "")
        lines.append(f"  {n:,} {kind.replace('_', ' ')}" + (f" ({reason})" if reason else ""))
    return lines


def merge_state(old: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """The source's state after a crawl: newer cursors win; fresh validators replace old ones;
    the items seen this crawl move to the end of the seen-set (the store keeps its newest end)."""
    cursors = dict(old.get("cursors") or {})
    for key, new in (report.get("cursors") or {}).items():
        new_time = parse_time(new.get("last_time"))
        old_time = parse_time((cursors.get(key) or {}).get("last_time"))
        if new_time and (old_time is None or new_time > old_time):
            cursors[key] = {"last_time": new_time, "last_id": new.get("last_id")}
    validators = dict(old.get("validators") or {})
    validators.update(report.get("validators") or {})
    new_seen = report.get("seen") or {}
    seen = {k: v for k, v in (old.get("seen") or {}).items() if k not in new_seen}
    seen.update(new_seen)
    return {"cursors": cursors, "validators": validators, "seen": seen}


class _Sink:
    """Feeds the child's messages to the per-source pipelines; a store error is recorded, not raised."""

    def __init__(self, pipelines: dict, progress: Progress | None):
        self.pipelines = pipelines
        self.progress = progress
        self.errors: dict[str, dict[str, int]] = {}

    def __call__(self, message: dict[str, Any]) -> None:
        from listening.models import RawMention

        kind, source = message.get("t"), message.get("s")
        try:
            if kind == "item":
                self.pipelines[source].add(RawMention.model_validate(message["m"]))
            elif kind == "reject":
                self.pipelines[source].reject()
            elif kind == "progress" and self.progress:
                self.progress({k: v for k, v in message.items() if k != "t"})
        except Exception as exc:  # noqa: BLE001 - a bad item or a store hiccup costs that item
            name = "store_error" if isinstance(exc, StoreError) else "bad_item"
            counts = self.errors.setdefault(source or "?", {})
            counts[name] = counts.get(name, 0) + 1

    def flush(self) -> None:
        for source, pipeline in self.pipelines.items():
            try:
                pipeline.flush()
            except Exception:  # noqa: BLE001
                counts = self.errors.setdefault(source, {})
                counts["store_error"] = counts.get("store_error", 0) + 1

    def close(self) -> None:
        """Stop the pipelines' writer threads (a scheduler process lives on)."""
        for pipeline in self.pipelines.values():
            try:
                pipeline.close()
            except Exception:  # noqa: BLE001 - its error was counted by flush
                pass


def _detail(row: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """What the run record keeps per source: the row plus error kinds and examples."""
    return {**{k: v for k, v in row.items() if k not in ("source", "run_id")},
            "http_status": report.get("http_errors") or {}, "problem_counts": report.get("problem_counts") or {},
            "problem_examples": (report.get("problems") or [])[:10]}


def _jsonable(state: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(state, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def _run_child(job: dict[str, Any], sink: Callable[[dict], None], timeout: float | None,
               log_path: Path | None, while_starting: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Run ``python -m crawlers.runner`` on the job, feeding its messages to ``sink``; return its reports."""
    with tempfile.TemporaryDirectory(prefix="listening-crawl-") as tmp:
        job_path, result_path = Path(tmp, "job.json"), Path(tmp, "result.json")
        log_path = log_path or Path(tmp, "crawl.log")
        job_path.write_text(json.dumps(job), encoding="utf-8")
        read_end, write_end = os.pipe()
        env = {**os.environ, HANDOFF_FD_ENV: str(write_end)}
        with open(log_path, "wb") as log:
            try:
                child = subprocess.Popen([sys.executable, "-m", "crawlers.runner", str(job_path), str(result_path)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                         pass_fds=(write_end,), preexec_fn=_die_with_parent)
            finally:
                os.close(write_end)
            try:
                if while_starting:
                    while_starting()
            except BaseException:
                child.kill()
                child.wait()
                raise
            reader = threading.Thread(target=_read, args=(read_end, sink), name="crawl-handoff", daemon=True)
            reader.start()
            try:
                child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                raise CrawlError(f"crawl took longer than {timeout:.0f} s and was stopped") from None
            finally:
                reader.join()
        if child.returncode != 0 or not result_path.exists():
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise CrawlError(f"crawler exited with code {child.returncode}:\n{tail}")
        return json.loads(result_path.read_text(encoding="utf-8"))


def _die_with_parent() -> None:
    """In the child: SIGTERM (Scrapy's clean stop) if this process dies, even by kill -9."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _read(fd: int, sink: Callable[[dict], None]) -> None:
    """Until the child closes its end: one JSON message per line to ``sink``."""
    with os.fdopen(fd, "r", encoding="utf-8") as stream:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                sink(message)
