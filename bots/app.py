"""Wiring: configuration + content + store -> a Core, shared by every adapter."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.config import Config, check_config_against_content
from shared.content import load_content
from shared.core import Core
from shared.problems import Problem, ProblemsError
from shared.store import SqliteStore, Store, UnavailableStore

log = logging.getLogger(__name__)


class TokenRejected(RuntimeError):
    """A platform refused the bot's token: retrying cannot help, the operator must act."""

    def __init__(self, platform: str, variable: str) -> None:
        super().__init__(
            f"{platform} refused the bot token: check {variable} (it may have been revoked"
            " or mistyped); the other platforms keep running"
        )


def build_core(config: Config) -> Core:
    """A Core on validated content (raises ProblemsError), without a store."""
    content = load_content(config.content_path)
    mismatches = check_config_against_content(config, set(content.regions), set(content.locales))
    if mismatches:
        raise ProblemsError(
            [Problem(config.source, 1, key, message) for key, message in mismatches]
        )
    return Core(content, None, config)


async def open_store(config: Config) -> Store:
    """The store the configuration names: PostgreSQL when ``[storage] url`` is set, else the
    SQLite file ``[storage] database``.

    Neither stops the bot when it cannot be used: a PostgreSQL server that cannot be reached
    at start is tried again in the background with backoff until it answers; an SQLite file that
    cannot be opened (unwritable folder, not a database, full disk, locked too long) gives an
    :class:`UnavailableStore`. Meanwhile the bot answers with default settings and tells
    moderators that their changes could not be saved.
    """
    if config.database_url:
        from shared.postgres import PostgresStore  # asyncpg only where PostgreSQL is used

        return await PostgresStore.connecting(config.database_url)
    try:
        return await SqliteStore.open(config.database)
    except (sqlite3.Error, OSError) as error:
        log.error(
            "cannot open the database %s (%s: %s); running without it: advice uses the default"
            " region and language, and moderators' changes are not saved",
            config.database,
            type(error).__name__,
            error,
        )
        return UnavailableStore(f"the database {config.database} could not be opened")


@asynccontextmanager
async def running_core(config: Config) -> AsyncIterator[Core]:
    """A Core with its store open for the duration of the block (see :func:`open_store`),
    closed after. Other processes' changes to a community reach its settings cache through
    :meth:`Store.watch`."""
    core = build_core(config)
    store = await open_store(config)
    core.store = store
    watching = asyncio.create_task(store.watch(core.settings_changed))
    try:
        yield core
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await store.close()
