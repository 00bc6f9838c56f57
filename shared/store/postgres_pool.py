"""The PostgreSQL connection pool under :class:`~shared.store.postgres.PostgresStore`.

- **Same schema, same guarantees** as SQLite: the numbered migrations (with
  ``*.postgres.sql`` overrides), applied under an advisory lock so processes starting together
  migrate once.
- **Never stops the bot.** :meth:`PostgresPool.connecting` returns at once and connects in
  the background, trying again with backoff until the server answers; meanwhile every call
  raises :class:`~shared.store.interface.StoreUnavailable`, so the core answers with defaults.
  When the server goes away mid-run, calls fail fast for a backoff period (0.5 s doubling to
  30 s) instead of each waiting for a connect timeout, and the pool reconnects once it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self, TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared.config import describe_store
from shared.store.interface import StoreUnavailable
from shared.store.schema import migrations

log = logging.getLogger(__name__)

_MIGRATION_LOCK = 0x5AFE_B07
"""Advisory lock key held while migrating, so that processes starting together take turns."""
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
_LOG_INTERVAL = 60.0
Result = TypeVar("Result")
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,  # includes "connection was closed in the middle of operation"
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.exceptions.OperatorInterventionError,  # terminated by an administrator
)
"""Errors that mean the server cannot be reached (as opposed to a refused statement)."""


class PostgresPool:
    """An asyncpg pool, migrated when it opens, that fails fast while the server is away."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_connections: int = 10,
        upto: int | None = None,
    ) -> None:
        """Not connected yet: use :meth:`open` or :meth:`connecting`.

        ``timeout`` bounds a connection attempt, a wait for a lock and (doubled) every
        statement, so a server that stopped answering costs a command seconds, not minutes.
        ``upto`` stops migrating early (tests).
        """
        self.url = url
        self.name = describe_store(url)
        self._timeout = timeout
        self._max = max_connections
        self._upto = upto
        self._pool: asyncpg.Pool | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._tried = asyncio.Event()
        self._backoff = FIRST_BACKOFF
        self._retry_at = 0.0

    @classmethod
    async def open(cls, url: str, **options: Any) -> Self:
        """Connect and migrate now; raises when the server cannot be reached."""
        store = cls(url, **options)
        await store._connect()
        return store

    @classmethod
    async def connecting(cls, url: str, **options: Any) -> Self:
        """A store that tries to connect once now and, if that fails (logged), again in the
        background with backoff until it can; calls made before then raise
        :class:`StoreUnavailable`."""
        store = cls(url, **options)
        store._connecting = asyncio.create_task(store._connect_until_done())
        await store._tried.wait()
        return store

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait_connected(self) -> None:
        """Return once the pool is open and migrated."""
        await self._ready.wait()

    async def _connect(self) -> None:
        pool = await asyncpg.create_pool(
            self.url,
            # One connection at start shows the server answers; no floor after that, so the
            # pool does not reconnect on its own (logging a traceback each time) while the
            # server is away: the next call after the backoff does.
            init_size=1,
            min_size=0,
            max_size=self._max,
            timeout=self._timeout,
            # A row locked too long fails on the server (a refused statement); only a server
            # that stopped answering reaches the client's timeout, a little later.
            command_timeout=self._timeout * 2,
            server_settings={"lock_timeout": f"{int(self._timeout * 1000)}ms"},
        )
        try:
            async with pool.acquire() as connection:
                await _migrate(connection, self._upto)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        self._ready.set()

    async def _connect_until_done(self) -> None:
        delay = FIRST_BACKOFF
        last_logged = -_LOG_INTERVAL
        failures = 0
        while True:
            try:
                await self._connect()
            except Exception as error:
                self._tried.set()
                failures += 1
                now = time.monotonic()
                if now - last_logged >= _LOG_INTERVAL:
                    log.error(
                        "cannot reach the database %s (%s: %s; %d attempts so far); trying"
                        " again every %.0f s at most: meanwhile advice uses the default region"
                        " and language, and moderators' changes are not saved",
                        self.name,
                        type(error).__name__,
                        error,
                        failures,
                        MAX_BACKOFF,
                    )
                    last_logged = now
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            self._tried.set()
            if failures:
                log.warning("connected to the database %s after %d attempts", self.name, failures)
            return

    async def _run(self, work: Callable[[Connection], Awaitable[Result]]) -> Result:
        """``work`` on a pooled connection; fails fast while the server is known to be away."""
        pool = self._pool
        if pool is None:
            raise StoreUnavailable(f"the database {self.name} is not connected yet")
        if time.monotonic() < self._retry_at:
            raise StoreUnavailable(
                f"the database {self.name} could not be reached; trying again in"
                f" {self._retry_at - time.monotonic():.1f} s"
            )
        try:
            async with pool.acquire(timeout=self._timeout) as connection:
                result = await work(connection)
        except _CONNECTION_ERRORS:
            # Every pooled connection is likely dead too (a restart ends them all): open new
            # ones at the next try, which waits for the backoff.
            await pool.expire_connections()
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            raise
        self._backoff = FIRST_BACKOFF
        return result

    async def schema_version(self) -> int:
        """The newest migration applied."""
        return int(await self._run(lambda c: c.fetchval(_VERSION)))

    async def close(self) -> None:
        """Stop connecting, and close the pool."""
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()


_VERSION = "SELECT coalesce(max(version), 0) FROM schema_version"


async def _migrate(connection: Connection, upto: int | None) -> None:
    """Apply the pending migrations in one transaction, holding an advisory lock so that
    processes starting together do not migrate twice. A database already up to date is only
    read, so a read-only one (a replica, a read-only role) opens too."""
    if not await _pending(connection, upto):
        return
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)"
        )
        for version, script in await _pending(connection, upto):
            await connection.execute(script)
            await connection.execute("INSERT INTO schema_version (version) VALUES ($1)", version)


async def _pending(connection: Connection, upto: int | None) -> list[tuple[int, str]]:
    current = 0
    if await connection.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
        current = int(await connection.fetchval(_VERSION))
    return [
        (version, script)
        for version, script in migrations("postgres")
        if version > current and (upto is None or version <= upto)
    ]
