"""Google Trends: collect search volume for any number of brands on one scale.

    from listening.trends import collect
    summary = collect(store, config, progress=lambda done, total, msg: ...)

Modules, in the order data flows: ``frames`` (requests, answers, parsers),
``resilience`` (pacing, backoff, breaker), ``pytrends_backend`` / ``csv_backend``
(sources), ``stitch`` (one scale, error bands), ``collect`` (the job), ``replay``
(recorded Google on 127.0.0.1). Shares are in ``listening.metrics.search``; the demo's
recorded category in ``listening.demo.trends``.
"""

from listening.trends.collect import collect, search_terms, trends_status
from listening.trends.csv_backend import CsvBackend
from listening.trends.frames import Backend, RelatedQuery, TrendsFrame, TrendsRequest
from listening.trends.pytrends_backend import PytrendsBackend
from listening.trends.replay import ReplayServer, start_replay_server
from listening.trends.resilience import Breaker, BreakerOpen, Gate, RateLimited, TrendsError
from listening.trends.stitch import Stitched, Stitcher

__all__ = [
    "Backend", "Breaker", "BreakerOpen", "CsvBackend", "TrendsFrame", "Gate", "PytrendsBackend",
    "RateLimited", "RelatedQuery", "ReplayServer", "Stitched", "Stitcher", "TrendsError",
    "TrendsRequest", "collect", "search_terms", "start_replay_server",
    "trends_status",
]
