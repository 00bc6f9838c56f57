"""Wiring: configuration + content + store -> a Core, shared by every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.config import Config, check_config_against_content
from shared.content import load_content
from shared.core import Core
from shared.problems import Problem, ProblemsError
from shared.store import SqliteStore


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
async def running_core(config: Config) -> AsyncIterator[Core]:
    """A Core with its database open for the duration of the block, closed after."""
    core = build_core(config)
    store = await SqliteStore.open(config.database)
    core.store = store
    try:
        yield core
    finally:
        await store.close()
