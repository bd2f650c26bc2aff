"""Local stand-ins for the outside world, shared by tests and benchmarks (never shipped).

``sites`` serves real recorded pages, feeds and API answers on 127.0.0.1; ``board`` a
slow forum for shared crawls; ``redis_server`` Debian's redis-server on a free port;
``simulated_trends`` a Google Trends with known truth, to measure stitching against;
``browser`` opens (and screenshots) every dashboard page in headless chromium.
Test-only doubles and helpers live in ``tests/support``; benchmarks import only this.
"""
