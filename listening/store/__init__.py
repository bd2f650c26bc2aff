"""The one place that talks to MongoDB.

``Store.connect()`` uses ``MONGO_URI`` when it is set (a real MongoDB), else the
embedded SecantusDB server of the data folder. Each concern has a small repository
object on the store (``store.mentions``, ``store.runs``, ...); callers never see
pymongo, only plain dicts, dataclasses and our own errors.
"""

from __future__ import annotations

import atexit
import sys
from functools import partial
from typing import Any, Callable

from listening.settings import settings


def _import_driver() -> None:
    """Import pymongo; for the embedded store without its pyOpenSSL backend.

    pymongo loads pyOpenSSL, cryptography, service_identity and requests on import when
    they are installed (Scrapy brings them), only to check TLS certificates' OCSP status:
    about 0.16 of the 0.23 s its import took here, in every command. The embedded store
    is reached over loopback without TLS, so with no ``MONGO_URI`` pymongo is imported
    with those two modules hidden and falls back to the standard ``ssl``; with
    ``MONGO_URI`` set it loads everything, OCSP checks included.
    """
    if "pymongo" in sys.modules or settings().mongo_uri:
        import pymongo  # noqa: F401
        return
    hidden = [name for name in ("service_identity", "OpenSSL") if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))  # type: ignore[arg-type]  # None: "not installed"
    try:
        import pymongo  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]


_import_driver()

from pymongo import MongoClient, WriteConcern
from pymongo.database import Database
from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

from listening.errors import StoreError
from listening.store.alerts import AlertRepo
from listening.store.brand_queries import BrandQueryRepo
from listening.store.daily import DailyRepo
from listening.store.edge import guarded_class, translated
from listening.store.embedded import data_dir, embedded_uri, revive
from listening.store.feed import FeedRepo
from listening.store.leases import LeaseRepo
from listening.store.mentions import MentionRepo
from listening.store.outbox import OutboxRepo
from listening.store.resilience import Healer
from listening.store.runs import RunRepo
from listening.store.series import SeriesCache, SeriesRepo
from listening.store.sources import SourceStateRepo
from listening.store.trained import ModelRepo
from listening.store.trends import TrendsRepo
from listening.store.upgrade import rekey_mentions, upgrade

DEFAULT_DB = "listening"

__all__ = ["Store"]


@guarded_class
class Store:
    """A connection to one database, with a repository per concern."""

    def __init__(self, client: MongoClient, db_name: str = DEFAULT_DB,
                 heal: Callable[[], object] | None = None, healers: list[Healer] | None = None):
        self.client = client
        self.db: Database = client[db_name]
        self._healers = healers or []  # the client's heartbeat listeners, stopped by close()
        # Acknowledged only once in the journal: without it, killing the embedded server lost
        # up to 29 of 50 acknowledged single writes (bench/durability.py, README "Durability").
        # Alerts, e-mails, runs, leases and crawl cursors are few and must not vanish; a cursor's
        # journal flush also makes the mentions written before it durable.
        durable = client.get_database(db_name, write_concern=WriteConcern(w=1, j=True))
        self.mentions = MentionRepo(self.db, heal=heal)
        self.feed = FeedRepo(self.db, self.mentions)
        self.daily = DailyRepo(self.db, self.mentions)
        self.runs = RunRepo(durable)
        self.brand_queries = BrandQueryRepo(self.db)
        self.leases = LeaseRepo(durable)
        self.trends = TrendsRepo(self.db)
        self.alerts = AlertRepo(durable)
        self.series = SeriesRepo(self.db)
        self.series_cache = SeriesCache(self.db)
        self.outbox = OutboxRepo(durable)
        self.models = ModelRepo(self.db)
        self.sources = SourceStateRepo(durable)
        self._upgraded = False
        self._rekeyed = False

    @classmethod
    def connect(cls, uri: str | None = None, db_name: str | None = None) -> "Store":
        """Connect to ``uri``, else ``MONGO_URI``, else the embedded default store."""
        env = settings()
        uri = uri or env.mongo_uri
        heal = None
        if not uri:  # the embedded default: restart its server if it dies under us
            folder = data_dir()
            uri = embedded_uri(folder)
            heal = partial(revive, folder)
        listeners = [Healer(heal)] if heal else []
        where = f"{'the embedded store' if heal else 'MONGO_URI'} ({_redacted(uri)})"
        # A URI's own serverSelectionTimeoutMS wins (a keyword would override it).
        wait: dict[str, Any] = {} if "serverselectiontimeoutms=" in uri.lower() else {"serverSelectionTimeoutMS": 30_000}
        try:
            client: MongoClient = MongoClient(uri, tz_aware=True, event_listeners=listeners, **wait)
        except PyMongoError as exc:  # a URI that does not parse
            raise StoreError(f"cannot use {where}: {translated(exc)}") from exc
        store = cls(client, db_name or env.db or DEFAULT_DB, heal=heal, healers=listeners)
        try:
            store.ensure_indexes()
            store.upgrade()
        except StoreError as exc:  # no server, wrong credentials (the edge translated them)
            client.close()
            raise type(exc)(f"cannot use {where}: {exc}") from exc.__cause__
        return store

    def ensure_indexes(self) -> None:
        """Create every collection's indexes (idempotent)."""
        for repo in (self.mentions, self.runs, self.leases, self.alerts, self.trends, self.sources, self.feed, self.daily,
                     self.models, self.outbox, self.series_cache, self.brand_queries):
            repo.ensure_indexes()

    def upgrade(self) -> dict[str, int] | None:
        """Bring a store an older version wrote to today's ids, once (``store/upgrade.py``);
        after that, a no-op. ``connect`` and every ``Pipeline`` call it."""
        if not self._upgraded:
            done = upgrade(self)
            self._upgraded = True
            return done
        return None

    def rekey_mentions(self, moved: Callable[[dict], tuple[str, str] | None]) -> dict[str, int] | None:
        """Move mentions an older version stored under source-scoped ids to their global
        ones, once (``store/upgrade.py``); every ``Pipeline`` calls it with its rules."""
        if not self._rekeyed:
            done = rekey_mentions(self, moved)
            self._rekeyed = True
            return done
        return None

    def rebuild_rollups(self) -> tuple[int, int]:
        """Recount the hourly and daily rollups from ``mentions`` (the alert series follow
        on their next refresh); return the numbers of hourly and daily cells."""
        cells = self.mentions.rebuild_stats()
        days = self.daily.rebuild()
        self.series_cache.rebuild()
        return cells, days

    def drop(self) -> None:
        """Delete the whole database (tests and ``listening reset``)."""
        self.client.drop_database(self.db.name)

    def close(self) -> None:
        for healer in self._healers:
            healer.stop()
        self.client.close()

    def close_at_exit(self) -> None:
        """Close this store when a short command exits, in place of pymongo's own exit handler.

        That handler joins each of the driver's monitor threads, which poll every 0.5 s: about
        0.4 s added to every command (``bench/cli.py``: ``report --json`` 1.27 -> 0.90 s). ``close`` stops those
        daemon threads without waiting; handlers registered later (the runs closing at exit) still
        run first.
        """
        from pymongo.synchronous import monitor

        atexit.register(self.close)
        if hasattr(monitor, "_shutdown_resources"):  # a private name: a later pymongo may drop it
            atexit.unregister(monitor._shutdown_resources)


def _redacted(uri: str) -> str:
    """The URI's hosts and database, never its password."""
    try:
        parts = parse_uri(uri)
    except Exception:  # noqa: BLE001 - an unparseable URI is still worth naming, without secrets
        return uri.split("@")[-1]
    hosts = ",".join(f"{h}:{p}" for h, p in parts["nodelist"])
    return f"mongodb://{hosts}/{parts.get('database') or ''}"
