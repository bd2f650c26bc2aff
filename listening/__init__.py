"""Listening Centre: social listening and share of search, on MongoDB.

The Python contract (stable; the rest of the package may move)::

    from listening import score, classify, BrandMatcher, load_config, Store

    score("@united lost my bag again").label          # 'negative'
    classify("two hours on hold, still no refund")    # ['Customer service', 'Billing and refunds']
    BrandMatcher(load_config().brands).match("flew @JetBlue")   # ['JetBlue']
    store = Store.connect()                           # MONGO_URI, else the embedded store

The flow, one package per stage (imports only run down this list, checked by
``lint-imports``): ``app`` / ``jobs`` / ``demo`` -> ``report`` -> ``alerts`` ->
``notify`` -> ``metrics`` -> ``trends`` / ``ingest`` -> ``matching`` -> ``tagging`` ->
``store`` -> ``config`` -> ``query`` -> ``models``, ``ids``, ``timeparse``,
``settings``, ``errors``. Names load on first use, so ``import listening`` is cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["BrandMatcher", "Config", "ListeningError", "Settings", "Store", "classify", "load_config", "score"]

_HOME = {"BrandMatcher": "listening.matching", "Config": "listening.config", "ListeningError": "listening.errors",
         "Settings": "listening.settings", "Store": "listening.store", "classify": "listening.tagging.issues",
         "load_config": "listening.config", "score": "listening.tagging.sentiment"}

if TYPE_CHECKING:
    from listening.config import Config, load_config
    from listening.errors import ListeningError
    from listening.matching import BrandMatcher
    from listening.settings import Settings
    from listening.store import Store
    from listening.tagging.issues import classify
    from listening.tagging.sentiment import score


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'listening' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
