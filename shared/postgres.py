"""The :class:`~shared.store.Store` on PostgreSQL (asyncpg), for deployments that run several
processes on one database.

- **Same schema, same guarantees** as SQLite: the numbered migrations (with
  ``*.postgres.sql`` overrides), applied under an advisory lock so processes starting together
  migrate once; a community deleted in one transaction; no user id, no message text.
- **Never stops the bot.** :meth:`PostgresStore.connecting` returns at once and connects in
  the background, trying again with backoff until the server answers; meanwhile every call
  raises :class:`~shared.store.StoreUnavailable`, so the core answers with defaults. When the
  server goes away mid-run, calls fail fast for a backoff period (0.5 s doubling to 30 s)
  instead of each waiting for a connect timeout, and the pool reconnects once it is back.
  A write cut off mid-way is rolled back by the server: nothing is half-written.
- **Change notification.** Saving a community's settings or deleting it sends ``NOTIFY`` on
  :data:`CHANNEL` in the same transaction, with the community's platform and id only;
  :meth:`PostgresStore.watch` listens on a connection of its own and reconnects after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared.config import describe_store
from shared.models import Community
from shared.store import (
    _PIN_COLUMNS,
    TABLES,
    Changed,
    PinnedPost,
    Row,
    Settings,
    StoreUnavailable,
    _now,
    _pin,
    _pin_key,
    migrations,
)

log = logging.getLogger(__name__)

CHANNEL = "safety_bot_communities"
"""The ``NOTIFY`` channel of community changes; payload ``[platform, id, origin]``."""
_MIGRATION_LOCK = 0x5AFE_B07
"""Advisory lock key held while migrating, so that processes starting together take turns."""
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
_LOG_INTERVAL = 60.0
_KEEPALIVE = 5.0
"""Seconds between two checks that the listening connection still answers."""
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


class PostgresStore:
    """:class:`~shared.store.Store` on an asyncpg pool."""

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
        # Tells this process's own notifications from other processes'.
        self._origin = secrets.token_hex(8)

    @classmethod
    async def open(cls, url: str, **options: Any) -> PostgresStore:
        """Connect and migrate now; raises when the server cannot be reached."""
        store = cls(url, **options)
        await store._connect()
        return store

    @classmethod
    async def connecting(cls, url: str, **options: Any) -> PostgresStore:
        """A store that tries to connect once now and, if that fails (logged), again in the
        background with backoff until it can; calls made before then raise
        :class:`StoreUnavailable`."""
        store = cls(url, **options)
        store._connecting = asyncio.create_task(store._connect_until_done())
        await store._tried.wait()
        return store

    async def __aenter__(self) -> PostgresStore:
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

    async def get_settings(self, community: Community) -> Settings | None:
        """The community's settings, or None when it never set any."""
        row = await self._run(
            lambda c: c.fetchrow(
                "SELECT region, language FROM community_settings"
                " WHERE platform = $1 AND community_id = $2",
                community.platform,
                community.id,
            )
        )
        return None if row is None else Settings(row[0], row[1])

    async def save_settings(self, community: Community, settings: Settings) -> None:
        """Create or replace the community's settings, and notify other processes."""
        # One statement, so one transaction: the notification goes out only with the row.
        await self._run(
            lambda c: c.execute(
                "WITH saved AS (INSERT INTO community_settings"
                " (platform, community_id, region, language, updated_at)"
                " VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (platform, community_id) DO UPDATE SET"
                " region = excluded.region, language = excluded.language,"
                " updated_at = excluded.updated_at RETURNING 1)"
                " SELECT pg_notify($6, $7) FROM saved",
                community.platform,
                community.id,
                settings.region,
                settings.language,
                _now(),
                CHANNEL,
                self._payload(community),
            )
        )

    async def delete_community(self, community: Community) -> None:
        """Delete every row of the community in one transaction, and notify other processes."""

        async def delete(connection: Connection) -> None:
            async with connection.transaction():
                for table in ("community_settings", "pinned_posts"):
                    await connection.execute(
                        f"DELETE FROM {table} WHERE platform = $1 AND community_id = $2",
                        community.platform,
                        community.id,
                    )
                await connection.execute(
                    "SELECT pg_notify($1, $2)", CHANNEL, self._payload(community)
                )

        await self._run(delete)

    async def communities(self, platform: str) -> list[str]:
        """Ids of every community of ``platform`` that has any stored row."""
        rows = await self._run(
            lambda c: c.fetch(
                "SELECT community_id FROM community_settings WHERE platform = $1"
                " UNION SELECT community_id FROM pinned_posts WHERE platform = $1",
                platform,
            )
        )
        return [str(row[0]) for row in rows]

    async def add_pin(self, post: PinnedPost) -> None:
        """Record a pinned post (or replace the record of the same message)."""
        await self._run(
            lambda c: c.execute(
                "INSERT INTO pinned_posts (platform, community_id, channel_id, message_id,"
                " topic, content_version, updated_at, reported)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, 0)"
                " ON CONFLICT (platform, community_id, channel_id, message_id) DO UPDATE SET"
                " topic = excluded.topic, content_version = excluded.content_version,"
                " updated_at = excluded.updated_at, reported = 0",
                *_pin_key(post),
                post.topic,
                post.content_version,
                post.updated_at or _now(),
            )
        )

    async def remove_pins(self, community: Community, topic: str) -> list[PinnedPost]:
        """Forget the community's pinned posts of ``topic``; returns what was removed."""
        rows = await self._run(
            lambda c: c.fetch(
                "DELETE FROM pinned_posts WHERE platform = $1 AND community_id = $2"
                f" AND topic = $3 RETURNING {_PIN_COLUMNS}",
                community.platform,
                community.id,
                topic,
            )
        )
        return [_pin(row) for row in rows]

    async def pins(self, community: Community | None = None) -> list[PinnedPost]:
        """Pinned posts of one community, or of all when ``community`` is None."""
        query = f"SELECT {_PIN_COLUMNS} FROM pinned_posts"
        args: tuple[str, ...] = ()
        if community is not None:
            query += " WHERE platform = $1 AND community_id = $2"
            args = (community.platform, community.id)
        query += " ORDER BY updated_at, message_id"
        rows = await self._run(lambda c: c.fetch(query, *args))
        return [_pin(row) for row in rows]

    async def pin_edited(self, post: PinnedPost, content_version: str) -> None:
        """The post now shows ``content_version``: record it (and clear ``reported``)."""
        await self._run(
            lambda c: c.execute(
                "UPDATE pinned_posts SET content_version = $5, updated_at = $6, reported = 0"
                f" WHERE {_PIN_KEY}",
                *_pin_key(post),
                content_version,
                _now(),
            )
        )

    async def pin_reported(self, post: PinnedPost) -> None:
        """The moderators were told the post can no longer be edited."""
        await self._run(
            lambda c: c.execute(
                f"UPDATE pinned_posts SET reported = 1 WHERE {_PIN_KEY}", *_pin_key(post)
            )
        )

    async def forget_pin(self, post: PinnedPost) -> None:
        """Forget one post (it was deleted on the platform)."""
        await self._run(
            lambda c: c.execute(f"DELETE FROM pinned_posts WHERE {_PIN_KEY}", *_pin_key(post))
        )

    async def get_meta(self, key: str) -> str | None:
        """An operator value, such as the hash of the last synced command list."""
        value = await self._run(lambda c: c.fetchval("SELECT value FROM meta WHERE key = $1", key))
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        """Store an operator value."""
        await self._run(
            lambda c: c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                key,
                value,
            )
        )

    async def export(self) -> dict[str, list[Row]]:
        """Every row of every table in :data:`~shared.store.TABLES`, ordered by primary key."""

        async def read(connection: Connection) -> dict[str, list[Row]]:
            found = {}
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                for table, (columns, keys) in TABLES.items():
                    rows = await connection.fetch(
                        f"SELECT {', '.join(columns)} FROM {table}"
                        f" ORDER BY {', '.join(columns[:keys])}"
                    )
                    found[table] = [tuple(row) for row in rows]
            return found

        return await self._run(read)

    async def import_rows(self, tables: dict[str, list[Row]]) -> None:
        """Insert or replace ``tables``' rows (columns as in :data:`~shared.store.TABLES`),
        all in one transaction."""

        async def write(connection: Connection) -> None:
            async with connection.transaction():
                for table, rows in tables.items():
                    columns, keys = TABLES[table]
                    values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
                    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[keys:])
                    await connection.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
                        f" ON CONFLICT ({', '.join(columns[:keys])}) DO UPDATE SET {updates}",
                        rows,
                    )

        await self._run(write)

    def _payload(self, community: Community) -> str:
        return json.dumps([community.platform, community.id, self._origin])

    async def watch(self, changed: Changed) -> None:
        """Call ``changed`` with each community another process saved or deleted, until
        cancelled; and ``changed(None)`` each time listening (re)starts, since what was sent
        while nobody listened is lost. Listens on a connection of its own, which is checked
        every few seconds and opened again, with backoff, when the server went away."""
        await self._ready.wait()
        delay = FIRST_BACKOFF
        while True:
            try:
                await self._listen(changed)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "lost the change notifications of %s (%s); listening again in %.1f s",
                    self.name,
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            else:
                delay = FIRST_BACKOFF

    async def _listen(self, changed: Changed) -> None:
        """Listen until the connection is lost (then return or raise)."""
        connection = await asyncpg.connect(self.url, timeout=self._timeout)
        lost = asyncio.Event()

        def notified(_c: Connection, _pid: int, _channel: str, payload: object) -> None:
            try:
                platform, community_id, origin = json.loads(str(payload))
            except (ValueError, TypeError):
                changed(None)  # not ours to read: be safe
                return
            if origin != self._origin:
                changed(Community(str(platform), str(community_id)))

        try:
            connection.add_termination_listener(lambda _c: lost.set())
            await connection.add_listener(CHANNEL, notified)
            changed(None)
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), _KEEPALIVE)
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=self._timeout)
        finally:
            connection.terminate()

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


_PIN_KEY = "platform = $1 AND community_id = $2 AND channel_id = $3 AND message_id = $4"
