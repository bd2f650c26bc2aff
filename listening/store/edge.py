"""The store's edge: no driver error leaves the store package.

Every public method of a repository (``@guarded_class``) and every public function callers use
(``@guarded``) runs at the edge. A pymongo error that reaches the outermost store call
becomes ours, its cause kept: ``StoreUnavailable`` when the database cannot be reached (the
server stopped, a wrong host or port), ``StoreError`` when it refused (wrong credentials, a bad
write). ``cli.main`` prints either as one line, a job records it as its run's error. Calls nested
inside the store see the driver's own errors, so ``with_retry`` still tells a transient failure
from a refusal.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, Iterator, TypeVar

from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from listening.errors import StoreError, StoreUnavailable

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)
AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed
_local = threading.local()


def translated(exc: PyMongoError) -> StoreError:
    """Our error for a driver's error, in words a person can act on."""
    reason = str(exc).split(" (configured timeouts")[0].split(", Timeout:")[0]
    if isinstance(exc, ConnectionFailure):  # the server selection timeout is one of these
        return StoreUnavailable(f"the database is unreachable: {reason}")
    if isinstance(exc, OperationFailure) and exc.code in AUTH_CODES:
        return StoreError(f"the database refused our credentials: {reason}")
    return StoreError(f"the database refused the operation: {reason}")


def _outermost(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; a driver error leaving the outermost store call of this thread
    becomes ours."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        return fn(*args, **kwargs)
    except PyMongoError as exc:
        if depth:
            raise
        raise translated(exc) from exc
    finally:
        _local.depth = depth


def guarded(fn: F) -> F:
    """``fn`` at the store's edge. A generator's steps are translated too (callers consume it
    outside the store), without the depth count: a plain try costs its items nothing."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def steps(*args: Any, **kwargs: Any) -> Iterator[Any]:
            inner = fn(*args, **kwargs)
            try:
                while True:
                    try:
                        item = next(inner)
                    except StopIteration:
                        return
                    except PyMongoError as exc:
                        if getattr(_local, "depth", 0):
                            raise
                        raise translated(exc) from exc
                    yield item
            finally:
                inner.close()
        return steps  # type: ignore[return-value]

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        return _outermost(fn, *args, **kwargs)
    return call  # type: ignore[return-value]


def guarded_class(cls: C) -> C:
    """Every public method of a repository ``guarded``."""
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(cls, name, guarded(value))
    return cls
