"""Core figures (handle + render per topic and platform) and store figures (hot-path queries,
writes per second), measured in this process."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bots.console import render as console_render
from bots.discord import render as discord_render
from bots.telegram import render as telegram_render
from shared.commands import TOPICS
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community, Reply, Request
from shared.store import Settings, SqliteStore

RENDERERS: dict[str, Callable[[Reply], Any]] = {
    "console": console_render.text,
    "telegram": telegram_render.payload,
    "discord": discord_render.payload,
}
COMMUNITY = Community("bench", "community-1")
COLD_SAMPLES = 100
WARM_SAMPLES = 1000


def _config(database: Path) -> Config:
    # No cooldown in the way: the figures are for answering, not for refusing.
    return Config(database=database, cooldown_commands=1_000_000, cooldown_seconds=1)


def _request(topic: str) -> Request:
    return Request(
        command=f"/{topic}",
        user_locale="en",
        community=COMMUNITY,
        is_private_chat=False,
        user_key="bench-user",
    )


async def core_run(content: Content, folder: Path) -> dict[str, Any]:
    """One run: per platform and topic, cold (fresh Core: settings read from the database,
    advice built) and warm (cached) latency of ``Core.handle`` + the platform's render, in us.
    """
    config = _config(folder / "core.sqlite3")
    results: dict[str, Any] = {}
    async with await SqliteStore.open(config.database) as store:
        await store.save_settings(COMMUNITY, Settings("CA", "en"))
        for platform, render in RENDERERS.items():
            for topic in TOPICS:
                request = _request(topic)
                cold = []
                for _ in range(COLD_SAMPLES):
                    core = Core(content, store, config)
                    start = time.perf_counter()
                    render(await core.handle(request))
                    cold.append((time.perf_counter() - start) * 1e6)
                core = Core(content, store, config)
                render(await core.handle(request))
                warm = []
                for _ in range(WARM_SAMPLES):
                    start = time.perf_counter()
                    render(await core.handle(request))
                    warm.append((time.perf_counter() - start) * 1e6)
                results[f"{platform}/{topic}"] = {"cold": cold, "warm": warm}
    return results


async def store_run(content: Content, folder: Path, writes: int = 2000) -> dict[str, Any]:
    """Queries a command costs once its community is cached (target 0), and writes per second."""
    config = _config(folder / "store.sqlite3")
    async with await SqliteStore.open(config.database) as store:
        queries: list[str] = []
        await store._db.set_trace_callback(queries.append)
        core = Core(content, store, config)
        request = _request("help-threatened")
        await core.handle(request)
        first = len(queries)
        commands = 1000
        for _ in range(commands):
            await core.handle(request)
        after = len(queries) - first
        await store._db.set_trace_callback(None)
        start = time.perf_counter()
        for index in range(writes):
            await store.save_settings(Community("bench", f"w{index}"), Settings("CA", "en"))
        write_seconds = time.perf_counter() - start
        start = time.perf_counter()
        for index in range(writes):
            await store.get_settings(Community("bench", f"w{index}"))
        read_seconds = time.perf_counter() - start
    return {
        "first_command_queries": first,
        "queries_per_cached_command": after / commands,
        "writes_per_second": writes / write_seconds,
        "uncached_reads_per_second": writes / read_seconds,
    }
