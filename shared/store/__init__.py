"""Per-community settings storage.

:class:`Store` (:mod:`~shared.store.interface`) is the interface the core uses;
:class:`SqliteStore` (:mod:`~shared.store.sqlite`) implements it on aiosqlite (the embedded
default), :class:`~shared.store.postgres.PostgresStore` on asyncpg (for deployments of several
processes; imported from its module, so that asyncpg loads only where it is used). Both create
the tables of :mod:`~shared.store.schema` with the same numbered migrations (``sql/``);
:mod:`~shared.store.copy` copies a deployment's data from one to the other. Nothing here takes
a user id or message text: only communities, settings and pinned posts.
"""

from shared.store.interface import Changed, Store, StoreUnavailable, UnavailableStore
from shared.store.schema import DIALECTS, TABLES, Row, migrations
from shared.store.sqlite import WATCH_INTERVAL, SqliteStore

__all__ = [
    "DIALECTS",
    "TABLES",
    "WATCH_INTERVAL",
    "Changed",
    "Row",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "UnavailableStore",
    "migrations",
]
