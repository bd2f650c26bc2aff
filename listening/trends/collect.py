"""``listening trends``: fetch, stitch and store search volume for every category.

A category is a competitor set: the configured brands sharing a ``category``, plus
the search-only categories of ``trends.search_only``. Each category is stitched onto
one scale and written whole, so its shares never mix two scales. A run that meets an
open breaker stops asking, records where it stood, and the next run resumes: what
was already answered comes from the cache at no cost, nothing is written twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from listening.config import Config, Trends
from listening.tagging.issues import classify
from listening.trends.csv_backend import CsvBackend
from listening.trends.frames import MAX_ITEMS, Backend, TrendsRequest
from listening.trends.pytrends_backend import PytrendsBackend
from listening.trends.resilience import Breaker, BreakerOpen, Clock, Gate, Sleep, TrendsError, utcnow
from listening.trends.stitch import Stitched, Stitcher, planned_requests

Progress = Callable[[int, int, str], None]


@dataclass
class SearchTerm:
    """A term to collect, and the brand it stands for (the term itself when search-only)."""

    category: str
    term: str
    brand: str
    search_only: bool = False


def search_terms(config: Config) -> dict[str, list[SearchTerm]]:
    """Category -> its terms: brand categories (filtered by ``trends.categories``) + search-only."""
    wanted = config.trends.categories
    groups: dict[str, list[SearchTerm]] = {}
    for brand in config.brands:
        if wanted is None or brand.category in wanted:
            groups.setdefault(brand.category, []).append(
                SearchTerm(brand.category, brand.search_term or brand.name, brand.name))
    for category, terms in config.trends.search_only.items():
        groups.setdefault(category, []).extend(SearchTerm(category, t, t, True) for t in terms)
    return groups


def breaker_key(config: Config) -> str:
    t = config.trends
    return f"{t.backend}:{t.base_url or 'google'}" if t.backend == "pytrends" else f"csv:{t.csv_dir}"


def make_backend(config: Config, store, gate: Gate, source_label: str | None = None) -> Backend:
    """The configured backend, with the store as its response cache."""
    t = config.trends
    if t.backend == "csv":
        if not t.csv_dir:
            raise TrendsError("trends.csv_dir: required by the csv backend")
        return CsvBackend(t.csv_dir)
    return PytrendsBackend(base_url=t.base_url, gate=gate, cache=store.trends, hl=t.hl, tz=t.tz,
                           max_age=timedelta(hours=t.cache_hours), source_label=source_label)


def collect(store, config: Config, *, progress: Progress | None = None, backend: Backend | None = None,
            clock: Clock = utcnow, sleep: Sleep | None = None, run_id: str | None = None,
            source_label: str | None = None) -> dict:
    """Collect every category; return counts, per-category status and the breaker state.

    ``progress(done, total, message)`` is called after each request batch. With
    ``run_id`` (a run the caller started, e.g. the scheduler's), no new run is started;
    the result's ``status`` is ``ok``, ``partial`` (some categories failed or the
    breaker stopped the run) or ``failed``. ``source_label`` names the data's origin
    in every stored document (default: the URL asked).
    """
    t = config.trends
    key = breaker_key(config)
    breaker = Breaker.from_doc(store.trends.breaker(key), threshold=t.breaker_threshold,
                               cooldown=t.breaker_cooldown_seconds)
    gate = Gate(breaker, pacing=t.pacing_seconds, max_retries=t.max_retries, backoff=t.backoff_seconds,
                clock=clock, on_change=lambda b: store.trends.save_breaker(key, b.to_doc()))
    if sleep is not None:
        gate.sleep = sleep
    backend = backend or make_backend(config, store, gate, source_label)
    groups = search_terms(config)
    run_id = run_id or store.runs.start("trends", backend=getattr(backend, "name", "?"),
                                        source=_source(backend), categories=sorted(groups),
                                        breaker=breaker.to_doc())
    jobs = _jobs(config, groups)
    total = sum(planned_requests(len(items), len(t.anchor_candidates)) for _, _, items in jobs) + (
        sum(math.ceil(len(terms) / MAX_ITEMS) for terms in groups.values()) if t.related else 0) + (
        len(groups) if t.by_region else 0)
    done = 0

    def step(message: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(min(done, total), total, message)

    summary: dict = {"run_id": run_id, "categories": {}, "points_new": 0, "points_updated": 0,
                     "points_unchanged": 0, "related": 0, "regions": 0, "failed": [],
                     "stopped_by_breaker": False}
    try:
        for category, scope, items in jobs:
            if not _collect_job(store, backend, config, category, scope, items, groups[category],
                                run_id=run_id, clock=clock, step=step, summary=summary):
                break
        if t.related and not summary["stopped_by_breaker"]:
            summary["related"] = _related(store, backend, config, groups, clock, step, summary)
        if t.by_region and not summary["stopped_by_breaker"]:
            summary["regions"] = _by_region(store, backend, config, groups, clock, step, summary)
    except BaseException as exc:
        store.runs.finish(run_id, status="failed", counts=_counts(summary, gate, backend),
                          error=repr(exc), breaker=gate.breaker.to_doc())
        raise
    status = "ok"
    if summary["failed"]:
        status = "partial" if summary["categories"] else "failed"
    error = "; ".join(f"{f['category']}: {f['error']}" for f in summary["failed"]) or None
    store.runs.finish(run_id, status=status, counts=_counts(summary, gate, backend), error=error,
                      breaker=gate.breaker.to_doc())
    summary.update(status=status, breaker=gate.breaker.to_doc(), **_counts(summary, gate, backend))
    return summary


def _collect_job(store, backend: Backend, config: Config, category: str, scope: str, items: list,
                 terms: list[SearchTerm], *, run_id: str, clock: Clock, step, summary: dict) -> bool:
    """Stitch one category (one geo, or its regions) and write it whole; False: breaker open."""
    t = config.trends
    stitcher = Stitcher(backend, timeframe=t.timeframe, category=t.category_id, gprop=t.property,
                        repeats=t.repeats, anchor_candidates=t.anchor_candidates,
                        on_request=lambda b: step(f"{category} ({scope}): batch {b.index}"))
    try:
        stitched = stitcher.run(items)
    except TrendsError as exc:
        return not _failed(summary, category, scope, exc)
    counts = store.trends.upsert_points(point_docs(
        stitched, category=category, scope=scope, terms={s.term: s for s in terms}, config=config,
        run_id=run_id, source=_source(backend), fetched_at=clock()))
    for key in ("new", "updated", "unchanged"):
        summary[f"points_{key}"] += counts[key]
    summary["categories"].setdefault(category, {})[scope] = {
        "terms": len(items), "requests": stitched.requests, "buckets": len(stitched.dates),
        "anchor": stitched.anchor[0] if stitched.anchor else None,
        "chained_batches": sum(b.chained for b in stitched.batches),
        "weak_batches": sum(b.weak for b in stitched.batches), **counts}
    return True


def _jobs(config: Config, groups: dict[str, list[SearchTerm]]) -> list[tuple[str, str, list]]:
    """(category, scope, items): the main geo per category, then its regions on one scale."""
    t = config.trends
    jobs = []
    for category, terms in groups.items():
        names = list(dict.fromkeys(s.term for s in terms))
        jobs.append((category, "geo", [(n, t.geo) for n in names]))
        if t.regions:
            jobs.append((category, "regions", [(n, r) for n in names for r in t.regions]))
    return jobs


def point_docs(stitched: Stitched, *, category: str, scope: str, terms: dict[str, SearchTerm],
               config: Config, run_id: str, source: str, fetched_at: datetime) -> list[dict]:
    """One search_volume document per item and bucket."""
    t = config.trends
    docs = []
    for i, (term, geo) in enumerate(stitched.items):
        batch = stitched.batches[stitched.batch_of[i]]
        for b, date in enumerate(stitched.dates):
            value, lo, hi = (_num(a[i][b]) for a in (stitched.value, stitched.lo, stitched.hi))
            docs.append({
                "category": category, "scope": scope, "term": term, "brand": terms[term].brand,
                "search_only": terms[term].search_only, "geo": geo, "trends_category": t.category_id,
                "property": t.property, "resolution": stitched.resolution, "timeframe": t.timeframe,
                "date": date, "raw": _num(stitched.raw[i][b]), "stitched": value, "lo": lo, "hi": hi,
                "error": None if lo is None or hi is None else (hi - lo) / 2,
                "batch_id": f"{category}:{scope}:{batch.index}:{batch.key[:12]}",
                "anchor": batch.anchor[0] if batch.anchor and batch.index else None,
                "scale": _num(batch.scale), "scale_lo": _num(batch.scale_lo), "scale_hi": _num(batch.scale_hi),
                "is_partial": bool(stitched.partial[b]), "repeats": t.repeats,
                "fetched_at": batch.fetched_at or fetched_at, "run_id": run_id, "source": source})
    return docs


def _related(store, backend: Backend, config: Config, groups, clock, step, summary) -> int:
    t = config.trends
    stored = 0
    for category, terms in groups.items():
        names = list(dict.fromkeys(s.term for s in terms))
        for start in range(0, len(names), MAX_ITEMS):
            chunk = names[start:start + MAX_ITEMS]
            request = _snapshot(chunk, t)
            try:
                rows = backend.related_queries(request)
            except TrendsError as exc:
                if _failed(summary, category, "related", exc):
                    return stored
                continue
            finally:
                step(f"{category}: related queries")
            brand_of = {s.term: s.brand for s in terms}
            stored += store.trends.upsert_related(
                {"category": category, "term": r.term, "brand": brand_of.get(r.term, r.term), "geo": r.geo,
                 "timeframe": request.timeframe, "kind": r.kind, "query": r.query, "value": r.value,
                 "formatted": r.formatted, "breakout": r.breakout, "link": r.link,
                 "issues": classify(r.query, config), "fetched_at": clock(),
                 "source": _source(backend)} for r in rows)
    return stored


def _by_region(store, backend: Backend, config: Config, groups, clock, step, summary) -> int:
    """Each category's share of search per region, from one request (so at most 5 terms)."""
    t = config.trends
    stored = 0
    for category, terms in groups.items():
        names = list(dict.fromkeys(s.term for s in terms))
        brand_of = {s.term: s.brand for s in terms}
        try:
            if len(names) > MAX_ITEMS:
                raise TrendsError(f"by region: one comparison holds at most {MAX_ITEMS} terms")
            request = _snapshot(names, t)
            rows = backend.interest_by_region(request, t.region_resolution)
        except TrendsError as exc:
            if _failed(summary, category, "by_region", exc):
                return stored
            continue
        finally:
            step(f"{category}: by region")
        stored += store.trends.upsert_regions(
            {"category": category, "term": r.term, "brand": brand_of.get(r.term, r.term), "parent_geo": t.geo,
             "geo_code": r.geo_code, "geo_name": r.geo_name, "resolution": t.region_resolution,
             "timeframe": request.timeframe, "value": r.value, "has_data": r.has_data,
             "fetched_at": clock(), "source": _source(backend)} for r in rows)
    return stored


def _snapshot(names: list[str], t: Trends) -> TrendsRequest:
    """The request for a snapshot of these terms (related queries, regions)."""
    return TrendsRequest.of(names, t.geo, timeframe=t.snapshot_timeframe or t.timeframe,
                            category=t.category_id, gprop=t.property)


def _failed(summary: dict, category: str, scope: str, exc: TrendsError) -> bool:
    """Record a failed request; True when the breaker is open, so the run stops."""
    summary["failed"].append({"category": category, "scope": scope, "error": str(exc)})
    if isinstance(exc, BreakerOpen):
        summary["stopped_by_breaker"] = True
        return True
    return False


def _counts(summary: dict, gate: Gate, backend: Backend) -> dict:
    return {"requests": gate.requests, "rate_limited": gate.rate_limited, "retries": gate.retries,
            "cache_hits": getattr(backend, "cache_hits", 0), "points_new": summary["points_new"],
            "points_updated": summary["points_updated"], "points_unchanged": summary["points_unchanged"],
            "related": summary["related"], "regions": summary["regions"],
            "failures": len(summary["failed"])}


def _source(backend: Backend) -> str:
    return getattr(backend, "source", None) or getattr(backend, "name", "?")


def _num(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def trends_status(store, config: Config) -> dict:
    """For the dashboard: the breaker, the last trends run and what data exists."""
    breaker = store.trends.breaker(breaker_key(config)) or Breaker(
        threshold=config.trends.breaker_threshold, cooldown=config.trends.breaker_cooldown_seconds).to_doc()
    runs = store.runs.recent("trends", limit=1)
    return {"breaker": breaker, "last_run": runs[0] if runs else None,
            "categories": store.trends.categories(), "cached_requests": store.trends.cached_requests()}

