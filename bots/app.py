"""Wiring: configuration + content + store -> a Core, shared by every adapter."""

from __future__ import annotations

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


@asynccontextmanager
async def running_core(config: Config, *, in_memory: bool = False) -> AsyncIterator[Core]:
    """A Core with its database open for the duration of the block, closed after; with
    ``in_memory``, no database: settings live in memory until the block ends.

    A database that cannot be opened (unwritable folder, not a database, full disk, locked
    too long) does not stop the bot: it answers with default settings and tells moderators
    that their changes could not be saved.
    """
    core = build_core(config)
    if in_memory:
        yield core
        return
    store: Store
    try:
        store = await SqliteStore.open(config.database)
    except (sqlite3.Error, OSError) as error:
        log.error(
            "cannot open the database %s (%s: %s); running without it: advice uses the default"
            " region and language, and moderators' changes are not saved",
            config.database,
            type(error).__name__,
            error,
        )
        store = UnavailableStore(f"the database {config.database} could not be opened")
    core.store = store
    try:
        yield core
    finally:
        await store.close()
