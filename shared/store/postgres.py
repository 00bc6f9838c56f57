"""The :class:`~shared.store.interface.Store` on PostgreSQL (asyncpg), for deployments that run
several processes on one database.

- **Same guarantees** as SQLite: a community deleted in one transaction; no user id, no message
  text. A write cut off mid-way is rolled back by the server: nothing is half-written.
  Connecting, migrating and failing fast while the server is away are
  :class:`~shared.store.postgres_pool.PostgresPool`'s.
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

from shared.models import Community, PinnedPost, Settings
from shared.store.interface import Changed
from shared.store.postgres_pool import FIRST_BACKOFF, MAX_BACKOFF, Connection, PostgresPool
from shared.store.schema import PIN_COLUMNS, TABLES, Row, now, pin_from_row, pin_key

log = logging.getLogger(__name__)

CHANNEL = "safety_bot_communities"
"""The ``NOTIFY`` channel of community changes; payload ``[platform, id, origin]``."""
_KEEPALIVE = 5.0
"""Seconds between two checks that the listening connection still answers."""
_PIN_KEY = "platform = $1 AND community_id = $2 AND channel_id = $3 AND message_id = $4"
_NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
"""The server's time in milliseconds since 1970, as a claim counts it."""


class PostgresStore(PostgresPool):
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
                *pin_key(post),
                post.topic,
                post.content_version,
                post.updated_at or now(),
            )
        )

    async def remove_pins(self, community: Community, topic: str) -> list[PinnedPost]:
        """Forget the community's pinned posts of ``topic``; returns what was removed."""
        rows = await self._run(
            lambda c: c.fetch(
                "DELETE FROM pinned_posts WHERE platform = $1 AND community_id = $2"
                f" AND topic = $3 RETURNING {PIN_COLUMNS}",
                community.platform,
                community.id,
                topic,
            )
        )
        return [pin_from_row(row) for row in rows]

    async def pins(self, community: Community | None = None) -> list[PinnedPost]:
        """Pinned posts of one community, or of all when ``community`` is None."""
        query = f"SELECT {PIN_COLUMNS} FROM pinned_posts"
        args: tuple[str, ...] = ()
        if community is not None:
            query += " WHERE platform = $1 AND community_id = $2"
            args = (community.platform, community.id)
        query += " ORDER BY updated_at, message_id"
        rows = await self._run(lambda c: c.fetch(query, *args))
        return [pin_from_row(row) for row in rows]

    async def claim_pin(
        self, post: PinnedPost, content_version: str, claimant: str, seconds: float
    ) -> bool:
        """Claim the post for ``seconds`` if it is stale and nobody else's claim runs (see
        :meth:`~shared.store.interface.Store.claim_pin`)."""
        # The server's clock, the one clock processes on several machines share. Two claims at
        # once: the second waits for the first's row lock, then sees its claim and fails.
        status = await self._run(
            lambda c: c.execute(
                f"UPDATE pinned_posts SET claimed_by = $5, claimed_until = {_NOW_MS} + $7"
                f" WHERE {_PIN_KEY} AND content_version <> $6"
                f" AND (claimed_by IS NULL OR claimed_until < {_NOW_MS})",
                *pin_key(post),
                claimant,
                content_version,
                round(seconds * 1000),
            )
        )
        return str(status) == "UPDATE 1"

    async def release_pin(self, post: PinnedPost, claimant: str) -> None:
        """End ``claimant``'s claim on the post."""
        await self._run(
            lambda c: c.execute(
                "UPDATE pinned_posts SET claimed_by = NULL, claimed_until = 0"
                f" WHERE {_PIN_KEY} AND claimed_by = $5",
                *pin_key(post),
                claimant,
            )
        )

    async def pin_edited(self, post: PinnedPost, content_version: str) -> None:
        """The post now shows ``content_version``: record it (and clear ``reported`` and any
        claim)."""
        await self._run(
            lambda c: c.execute(
                "UPDATE pinned_posts SET content_version = $5, updated_at = $6, reported = 0,"
                f" claimed_by = NULL, claimed_until = 0 WHERE {_PIN_KEY}",
                *pin_key(post),
                content_version,
                now(),
            )
        )

    async def pin_reported(self, post: PinnedPost) -> None:
        """The moderators were told the post can no longer be edited."""
        await self._run(
            lambda c: c.execute(
                f"UPDATE pinned_posts SET reported = 1 WHERE {_PIN_KEY}", *pin_key(post)
            )
        )

    async def forget_pin(self, post: PinnedPost) -> None:
        """Forget one post (it was deleted on the platform)."""
        await self._run(
            lambda c: c.execute(f"DELETE FROM pinned_posts WHERE {_PIN_KEY}", *pin_key(post))
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
