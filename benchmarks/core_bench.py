"""Core figures (handle + render per topic and platform) and store figures on each backend
(hot-path queries, a community's first command, writes and reads per second), measured in this
process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bots.console import render as console_render
from bots.discord import render as discord_render
from bots.telegram import render as telegram_render
from shared.commands import TOPICS
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community, Reply, Request, Settings
from shared.store import SqliteStore
from shared.store.postgres import PostgresStore

RENDERERS: dict[str, Callable[[Reply], Any]] = {
    "console": console_render.text,
    "telegram": telegram_render.payload,
    "discord": discord_render.payload,
}
COMMUNITY = Community("bench", "community-1")
COLD_SAMPLES = 100
WARM_SAMPLES = 1000
FIRST_COMMANDS = 1000
IN_FLIGHT = 16


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


@asynccontextmanager
async def counting(store: SqliteStore | PostgresStore) -> AsyncIterator[list[str]]:
    """Statements that reach the database while the block runs: SQLite's trace callback; for
    PostgreSQL, each trip to the pool (one statement, or one transaction for a delete)."""
    found: list[str] = []
    if isinstance(store, SqliteStore):
        await store._db.set_trace_callback(found.append)
        try:
            yield found
        finally:
            await store._db.set_trace_callback(None)
        return
    run = store._run

    async def counted(work: Any) -> Any:
        found.append("trip")
        return await run(work)

    store._run = counted  # type: ignore[method-assign]
    try:
        yield found
    finally:
        del store._run


async def store_run(
    content: Content, store: SqliteStore | PostgresStore, writes: int = 2000
) -> dict[str, Any]:
    """On a fresh ``store``: statements a command costs once its community is cached (target
    0); a community's first command (settings stored, advice already built: the read is the
    difference), in us; settings writes per second, one at a time and 16 in flight; uncached
    reads per second."""
    config = _config(Path("unused.sqlite3"))
    core = Core(content, store, config)
    request = _request("help-threatened")
    await store.save_settings(COMMUNITY, Settings("CA", "en"))
    async with counting(store) as queries:
        await core.handle(request)
        first = len(queries)
        commands = 1000
        for _ in range(commands):
            await core.handle(request)
        after = len(queries) - first
    firsts = [Community("bench", f"first{n}") for n in range(FIRST_COMMANDS)]
    for community in firsts:
        await store.save_settings(community, Settings("GB", "fr"))
    first_us = []
    for community in firsts:
        asked = Request("/help-threatened", user_locale="en", community=community)
        start = time.perf_counter()
        await core.handle(asked)
        first_us.append((time.perf_counter() - start) * 1e6)
    start = time.perf_counter()
    for index in range(writes):
        await store.save_settings(Community("bench", f"w{index}"), Settings("CA", "en"))
    write_seconds = time.perf_counter() - start

    async def writer(lane: int) -> None:
        for index in range(lane, writes, IN_FLIGHT):
            await store.save_settings(Community("bench", f"c{index}"), Settings("US", "fr"))

    start = time.perf_counter()
    await asyncio.gather(*(writer(lane) for lane in range(IN_FLIGHT)))
    concurrent_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for index in range(writes):
        await store.get_settings(Community("bench", f"w{index}"))
    read_seconds = time.perf_counter() - start
    return {
        "first_command_queries": first,
        "queries_per_cached_command": after / commands,
        "first_command_us": first_us,
        "writes_per_second": writes / write_seconds,
        "concurrent_writes_per_second": writes / concurrent_seconds,
        "uncached_reads_per_second": writes / read_seconds,
    }


async def store_runs(
    content: Content, folder: Path, runs: int, postgres: Callable[[], str] | None
) -> dict[str, list[dict[str, Any]]]:
    """``runs`` runs of :func:`store_run` on SQLite and, when ``postgres`` gives database
    URLs, on PostgreSQL, alternating so that both see the same machine."""
    found: dict[str, list[dict[str, Any]]] = {"sqlite": [], "postgres": []}
    for index in range(runs):
        async with await SqliteStore.open(folder / f"store{index}.sqlite3") as sqlite:
            found["sqlite"].append(await store_run(content, sqlite))
        if postgres is not None:
            async with await PostgresStore.open(postgres()) as store:
                found["postgres"].append(await store_run(content, store))
    return {backend: runs_ for backend, runs_ in found.items() if runs_}
