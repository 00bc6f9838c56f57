"""The :class:`~shared.store.interface.Store` on SQLite (aiosqlite), the embedded default: one
connection in WAL mode, migrated on open, on which writes take turns."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from shared.models import Community, PinnedPost, Settings
from shared.store.interface import Changed, StoreUnavailable
from shared.store.schema import (
    PIN_COLUMNS,
    TABLES,
    Row,
    migrations,
    now,
    now_ms,
    pin_from_row,
    pin_key,
)

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.25
"""Seconds between two looks at an SQLite file for another process's writes."""
_PIN_KEY = "platform = ? AND community_id = ? AND channel_id = ? AND message_id = ?"


class SqliteConnection:
    """One aiosqlite connection, in WAL mode, migrated on open; writes take turns and refuse a
    file that is no longer at its path."""

    def __init__(self, connection: aiosqlite.Connection, path: Path | None = None) -> None:
        self._db = connection
        # One connection serves every coroutine: a transaction must not interleave with
        # another coroutine's statements, so writes take turns.
        self._write = asyncio.Lock()
        self._path = path
        self._file = _identity(path) if path is not None else None

    @classmethod
    async def open(
        cls, path: Path | str, *, upto: int | None = None, busy_timeout: float = 5.0
    ) -> Self:
        """Open (creating if needed) and migrate the database; ``upto`` stops early, for tests.

        ``busy_timeout`` is how many seconds a write waits for another connection's lock.
        """
        file = None if str(path) == ":memory:" else Path(path)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(str(path), isolation_level=None, timeout=busy_timeout)
        store = cls(connection, file)
        deadline = time.monotonic() + busy_timeout
        try:
            while True:
                try:
                    await store._prepare(upto, busy_timeout)
                    return store
                except sqlite3.OperationalError as error:
                    # Processes opening a new file together: SQLite refuses some steps (the
                    # switch to WAL) at once instead of waiting for the other's lock.
                    if "locked" not in str(error) or time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.05)
        except BaseException:
            await connection.close()
            raise

    async def _prepare(self, upto: int | None, busy_timeout: float) -> None:
        """WAL mode, the connection's settings, and the schema migrated."""
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._migrate(upto)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def schema_version(self) -> int:
        """The ``PRAGMA user_version`` the database is at."""
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self, upto: int | None) -> None:
        current = await self.schema_version()
        for version, script in migrations():
            if version <= current or (upto is not None and version > upto):
                continue
            # One transaction per migration: a crash leaves the previous version intact.
            try:
                await self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
                )
            except sqlite3.OperationalError:
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                # Processes starting together on one file: another one, first to the write
                # lock, applied it ("table ... already exists"); else the failure is real.
                if await self.schema_version() < version:
                    raise

    async def close(self) -> None:
        """Release the connection."""
        await self._db.close()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """Take the write turn, refusing to write to a file that is no longer at its path.

        In WAL mode SQLite keeps writing to a deleted or replaced file without an error; what
        it wrote would be gone at the next start, so such a write must fail loudly instead.
        """
        async with self._write:
            if self._path is not None and _identity(self._path) != self._file:
                raise StoreUnavailable(f"{self._path} was moved or deleted while open")
            yield

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """Statements of the block in one transaction, rolled back if any of them or the
        commit fails (a full disk can fail the commit), so the connection stays usable."""
        async with self._writing():
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                await self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise


class SqliteStore(SqliteConnection):
    """:class:`~shared.store.interface.Store` on one :class:`SqliteConnection`."""

    async def get_settings(self, community: Community) -> Settings | None:
        """The community's settings, or None when it never set any."""
        # One trip to aiosqlite's thread instead of three (execute, fetch, close): this read
        # is on the path of a community's first command.
        rows = await self._db.execute_fetchall(
            "SELECT region, language FROM community_settings"
            " WHERE platform = ? AND community_id = ?",
            (community.platform, community.id),
        )
        for region, language in rows:
            return Settings(region, language)
        return None

    async def save_settings(self, community: Community, settings: Settings) -> None:
        """Create or replace the community's settings."""
        async with self._writing():
            await self._db.execute(
                "INSERT INTO community_settings"
                " (platform, community_id, region, language, updated_at)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (platform, community_id) DO UPDATE SET"
                " region = excluded.region, language = excluded.language,"
                " updated_at = excluded.updated_at",
                (community.platform, community.id, settings.region, settings.language, now()),
            )

    async def delete_community(self, community: Community) -> None:
        """Delete every row of the community, in one transaction."""
        key = (community.platform, community.id)
        async with self._transaction():
            for table in ("community_settings", "pinned_posts"):
                await self._db.execute(
                    f"DELETE FROM {table} WHERE platform = ? AND community_id = ?", key
                )

    async def communities(self, platform: str) -> list[str]:
        """Ids of every community of ``platform`` that has any stored row."""
        rows = await self._db.execute_fetchall(
            "SELECT community_id FROM community_settings WHERE platform = ?"
            " UNION SELECT community_id FROM pinned_posts WHERE platform = ?",
            (platform, platform),
        )
        return [str(row[0]) for row in rows]

    async def add_pin(self, post: PinnedPost) -> None:
        """Record a pinned post (or replace the record of the same message)."""
        async with self._writing():
            await self._db.execute(
                "INSERT OR REPLACE INTO pinned_posts (platform, community_id, channel_id,"
                " message_id, topic, content_version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    post.community.platform,
                    post.community.id,
                    post.channel_id,
                    post.message_id,
                    post.topic,
                    post.content_version,
                    post.updated_at or now(),
                ),
            )

    async def remove_pins(self, community: Community, topic: str) -> list[PinnedPost]:
        """Forget the community's pinned posts of ``topic``; returns what was removed."""
        async with (
            self._writing(),
            self._db.execute(
                f"DELETE FROM pinned_posts WHERE platform = ? AND community_id = ? AND topic = ?"
                f" RETURNING {PIN_COLUMNS}",
                (community.platform, community.id, topic),
            ) as cursor,
        ):
            return [pin_from_row(row) for row in await cursor.fetchall()]

    async def pins(self, community: Community | None = None) -> list[PinnedPost]:
        """Pinned posts of one community, or of all when ``community`` is None."""
        query = f"SELECT {PIN_COLUMNS} FROM pinned_posts"
        args: tuple[str, ...] = ()
        if community is not None:
            query += " WHERE platform = ? AND community_id = ?"
            args = (community.platform, community.id)
        rows = await self._db.execute_fetchall(query + " ORDER BY updated_at, message_id", args)
        return [pin_from_row(row) for row in rows]

    async def claim_pin(
        self, post: PinnedPost, content_version: str, claimant: str, seconds: float
    ) -> bool:
        """Claim the post for ``seconds`` if it is stale and nobody else's claim runs (see
        :meth:`~shared.store.interface.Store.claim_pin`)."""
        # This machine's clock: every process on one SQLite file runs on the same machine.
        at = now_ms()
        async with self._writing():
            cursor = await self._db.execute(
                "UPDATE pinned_posts SET claimed_by = ?, claimed_until = ?"
                f" WHERE {_PIN_KEY} AND content_version != ?"
                " AND (claimed_by IS NULL OR claimed_until < ?)",
                (claimant, at + round(seconds * 1000), *pin_key(post), content_version, at),
            )
            return cursor.rowcount == 1

    async def release_pin(self, post: PinnedPost, claimant: str) -> None:
        """End ``claimant``'s claim on the post."""
        async with self._writing():
            await self._db.execute(
                "UPDATE pinned_posts SET claimed_by = NULL, claimed_until = 0"
                f" WHERE {_PIN_KEY} AND claimed_by = ?",
                (*pin_key(post), claimant),
            )

    async def pin_edited(self, post: PinnedPost, content_version: str) -> None:
        """The post now shows ``content_version``: record it (and clear ``reported`` and any
        claim)."""
        await self._update_pin(
            post,
            "content_version = ?, updated_at = ?, reported = 0, claimed_by = NULL,"
            " claimed_until = 0",
            (content_version, now()),
        )

    async def pin_reported(self, post: PinnedPost) -> None:
        """The moderators were told the post can no longer be edited."""
        await self._update_pin(post, "reported = 1", ())

    async def forget_pin(self, post: PinnedPost) -> None:
        """Forget one post (it was deleted on the platform)."""
        async with self._writing():
            await self._db.execute(f"DELETE FROM pinned_posts WHERE {_PIN_KEY}", pin_key(post))

    async def _update_pin(
        self, post: PinnedPost, assignments: str, values: tuple[Any, ...]
    ) -> None:
        async with self._writing():
            await self._db.execute(
                f"UPDATE pinned_posts SET {assignments} WHERE {_PIN_KEY}", values + pin_key(post)
            )

    async def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold the lease ``name`` for ``seconds`` if it is free, expired or ``holder``'s (see
        :meth:`~shared.store.interface.Store.take_lease`)."""
        at = now_ms()  # this machine's clock, as for claims
        async with self._writing():
            rows = await self._db.execute_fetchall(
                "INSERT INTO leases (lease, holder, until) VALUES (?, ?, ?)"
                " ON CONFLICT (lease) DO UPDATE SET holder = excluded.holder,"
                " until = excluded.until"
                " WHERE leases.until < ? OR leases.holder = excluded.holder RETURNING 1",
                (name, holder, at + round(seconds * 1000), at),
            )
        return len(list(rows)) == 1

    async def drop_lease(self, name: str, holder: str) -> None:
        """End ``holder``'s lease ``name``."""
        async with self._writing():
            await self._db.execute(
                "DELETE FROM leases WHERE lease = ? AND holder = ?", (name, holder)
            )

    async def get_meta(self, key: str) -> str | None:
        """An operator value, such as the hash of the last synced command list."""
        rows = await self._db.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,))
        for (value,) in rows:
            return str(value)
        return None

    async def set_meta(self, key: str, value: str) -> None:
        """Store an operator value."""
        async with self._writing():
            await self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def watch(self, changed: Changed) -> None:
        """Call ``changed(None)`` whenever another connection (another process) committed a
        write, until cancelled.

        SQLite cannot say which community changed, only that the file did (``PRAGMA
        data_version``, which ignores this connection's own writes): the caller drops its
        whole cache, and refills it at one read per community. A look every
        :data:`WATCH_INTERVAL` seconds costs one cheap statement.
        """
        seen: int | None = None
        failing = False
        while True:
            try:
                version = await self._data_version()
            except Exception as error:
                if not failing:
                    log.warning("cannot look for other processes' writes: %s", error)
                failing = True
            else:
                if seen is not None and (failing or version != seen):
                    changed(None)
                seen, failing = version, False
            await asyncio.sleep(WATCH_INTERVAL)

    async def _data_version(self) -> int:
        rows = await self._db.execute_fetchall("PRAGMA data_version")
        return int(next(iter(rows))[0])

    async def export(self) -> dict[str, list[Row]]:
        """Every row of every table in :data:`TABLES`, ordered by primary key."""
        found = {}
        for table, (columns, keys) in TABLES.items():
            rows = await self._db.execute_fetchall(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns[:keys])}"
            )
            found[table] = [tuple(row) for row in rows]
        return found

    async def import_rows(self, tables: dict[str, list[Row]]) -> None:
        """Insert or replace ``tables``' rows (columns as in :data:`TABLES`), all in one
        transaction."""
        async with self._transaction():
            for table, rows in tables.items():
                columns, _ = TABLES[table]
                await self._db.executemany(
                    f"INSERT OR REPLACE INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join('?' * len(columns))})",
                    rows,
                )


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` (device and inode); None when there is none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino)
