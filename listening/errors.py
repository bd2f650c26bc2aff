"""Every error Listening Centre raises on purpose, under one base.

    ListeningError                  catch this to catch all of ours (``cli.main`` does, once)
    ├── ConfigError                 listening.yaml or the environment is wrong (a ValueError)
    ├── QuerySyntaxError            a brand query does not parse (column, caret)
    ├── StoreError                  the database refused or failed; the driver's error is the cause
    │   ├── StoreUnavailable        unreachable for longer than we were willing to wait
    │   ├── EmbeddedStoreError      the embedded SecantusDB server could not start or be reached
    │   └── ModelTooLarge           a trained model does not fit in one document
    ├── CollectError                collection could not run
    │   ├── CrawlError              unknown sources, a crawler child that died or ran too long
    │   └── TrendsError             Google Trends answered with an error or garbage
    │       ├── RateLimited         429 (``retry_after`` seconds, when Google said)
    │       ├── ServerError         5xx
    │       ├── BreakerOpen         we stopped asking after repeated failures
    │       └── MissingExport       a CSV backend has no export for a request
    └── AlertStateError             an alert cannot move to the asked state

Each class keeps the built-in base it had before the tree existed (``ValueError``,
``RuntimeError``), so ``except ValueError`` in callers' code still works.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["AlertStateError", "BreakerOpen", "CollectError", "ConfigError", "CrawlError", "EmbeddedStoreError",
           "ListeningError", "MissingExport", "ModelTooLarge", "QuerySyntaxError", "RateLimited", "ServerError",
           "StoreError", "StoreUnavailable", "TrendsError"]


class ListeningError(Exception):
    """The base of every error we raise on purpose."""


class ConfigError(ListeningError, ValueError):
    """The config (or the environment) is invalid; the message names the bad field's path."""


class QuerySyntaxError(ListeningError, ValueError):
    """A query that cannot be used; ``column`` (1-based, in the whole query) points at the mistake."""

    def __init__(self, message: str, column: int, query: str = ""):
        super().__init__(f"column {column}: {message}")
        self.reason = message
        self.column = column
        self.query = query

    def pretty(self) -> str:
        """The query with a caret under the mistake, for the CLI and the dashboard."""
        start = self.query.rfind("\n", 0, self.column - 1) + 1
        end = self.query.find("\n", start)
        line = self.query[start:end if end != -1 else None]
        return f"{line}\n{' ' * (self.column - 1 - start)}^ {self.reason}"


class StoreError(ListeningError, RuntimeError):
    """The database refused or failed an operation; ``__cause__`` is the driver's error."""


class StoreUnavailable(StoreError):
    """The database stayed unreachable for longer than we were willing to wait."""


class EmbeddedStoreError(StoreError):
    """The embedded server could not be started or reached."""


class ModelTooLarge(StoreError, ValueError):
    """A trained model's bytes exceed what one document may hold."""


class CollectError(ListeningError, RuntimeError):
    """Collection could not run."""


class CrawlError(CollectError):
    """The crawl could not run at all (unknown source names, the child process died)."""


class TrendsError(CollectError):
    """A Google Trends request failed (or its answer could not be read)."""


class RateLimited(TrendsError):
    """Google said 429 (too many requests)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(TrendsError):
    """A 5xx answer: worth retrying."""


class BreakerOpen(TrendsError):
    """The breaker is open: we do not ask Google until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(f"circuit breaker open until {until.isoformat()}")
        self.until = until


class MissingExport(TrendsError):
    """The CSV backend has no export that answers this request."""


class AlertStateError(ListeningError, ValueError):
    """An alert cannot make the asked transition (unknown id, already resolved...)."""
