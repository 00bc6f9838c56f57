"""The :class:`~shared.store.interface.Store` on PostgreSQL (asyncpg), for deployments that run
several processes on one database.

- **Same guarantees** as SQLite: a community deleted in one transaction; no user id, no message
  text. A write cut off mid-way is rolled back by the server: nothing is half-written.
  Connecting, migrating and failing fast while the server is away are
  :class:`~shared.store.postgres_pool.PostgresPool`'s; a pinned post's rows (and the claims
  that let one process edit it) :class:`~shared.store.postgres_pins.PostgresPins`'.
- **Change notification.** Saving a community's settings or deleting it sends ``NOTIFY`` on
  :data:`CHANNEL` in the same transaction, with the community's platform and id only;
  :meth:`PostgresStore.watch` listens on a connection of its own and reconnects after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

import asyncpg

from shared.models import Community, Settings
from shared.store.interface import Changed
from shared.store.postgres_pins import PostgresPins
from shared.store.postgres_pool import FIRST_BACKOFF, MAX_BACKOFF, Connection
from shared.store.schema import TABLES, Row, now

log = logging.getLogger(__name__)

CHANNEL = "safety_bot_communities"
"""The ``NOTIFY`` channel of community changes; payload ``[platform, id, origin]``."""
_KEEPALIVE = 5.0
"""Seconds between two checks that the listening connection still answers."""


class PostgresStore(PostgresPins):
    """:class:`~shared.store.interface.Store` on a
    :class:`~shared.store.postgres_pool.PostgresPool`."""

    def __init__(self, url: str, **options: Any) -> None:
        """Not connected yet: use :meth:`open` or :meth:`connecting` (options as
        :class:`~shared.store.postgres_pool.PostgresPool`'s)."""
        super().__init__(url, **options)
        # Tells this process's own notifications from other processes'.
        self._origin = secrets.token_hex(8)

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
                now(),
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
        """Every row of every table in :data:`~shared.store.schema.TABLES`, ordered by primary
        key."""

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
        """Insert or replace ``tables``' rows (columns as in :data:`~shared.store.schema.TABLES`),
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
