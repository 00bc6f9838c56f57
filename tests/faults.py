"""Broken databases for tests, each made the way it happens for real, with SQLite's own errors,
and checks that a database was left sound.

- locked: another connection holds the write lock (``BEGIN EXCLUSIVE``); the store gives up
  after a short busy timeout.
- read-only: SQLite opens a file it may not write read-only; ``mode=ro`` opens it the same
  way, which ``chmod`` cannot show when tests run as root (root may write anything).
- full: ``PRAGMA max_page_count`` caps the file at its current size, so writes that need a
  new page fail with SQLITE_FULL, as on a full disk.
- moved: the database's folder is deleted while the store has it open.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosqlite

from shared.models import Community, PinnedPost, Settings
from shared.store import SqliteStore

SEEDED = Community("telegram", "-1001")
"""A community whose settings (GB, fr) were saved before the database broke."""
SEEDED_SETTINGS = Settings("GB", "fr")
BUSY_TIMEOUT = 0.05
"""Seconds a write waits for a lock in these tests (the product waits 5 s)."""


async def seeded(path: Path) -> None:
    """Create and migrate the database at ``path``, with :data:`SEEDED`'s settings."""
    async with await SqliteStore.open(path) as store:
        await store.save_settings(SEEDED, SEEDED_SETTINGS)


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another connection holds the database's write lock during the block."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        other.close()


async def locked_store(path: Path) -> SqliteStore:
    """The store, opened with a short busy timeout (lock it with :func:`write_lock`)."""
    await seeded(path)
    return await SqliteStore.open(path, busy_timeout=BUSY_TIMEOUT)


async def read_only_store(path: Path) -> SqliteStore:
    """The store on a file SQLite opened read-only."""
    await seeded(path)
    connection = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    return SqliteStore(connection, path)


async def full_store(path: Path) -> SqliteStore:
    """The store on a database that may not grow, filled until both tables are full."""
    await seeded(path)
    connection = await aiosqlite.connect(path, isolation_level=None)
    async with connection.execute("PRAGMA page_count") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    await connection.execute(f"PRAGMA max_page_count = {int(row[0])}")
    store = SqliteStore(connection, path)
    for table in ("settings", "pins"):
        for number in range(10_000):
            filler = Community("telegram", f"filler-{number}")
            try:
                if table == "settings":
                    await store.save_settings(filler, Settings("US"))
                else:
                    await store.add_pin(PinnedPost(filler, "1", str(number), "report", "v1"))
            except sqlite3.OperationalError as error:
                if error.sqlite_errorname != "SQLITE_FULL":
                    raise
                break
        else:
            raise AssertionError(f"the {table} table never filled up")
    return store


async def moved_store(path: Path) -> SqliteStore:
    """The store, whose folder is deleted after it opened the database."""
    await seeded(path)
    store = await SqliteStore.open(path)
    shutil.rmtree(path.parent)
    return store


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the database, from a connection of its own."""
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def leftovers(folder: Path) -> list[str]:
    """SQLite's side files in ``folder``: a database closed cleanly leaves none."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(("-wal", "-shm")))
