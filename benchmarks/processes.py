"""Figures that need a process of their own: start-up to ready and resident set size.

The fakes run in this process; the bot runs in a child (:mod:`benchmarks.child`, or
``python -m bots.cli console`` for the console), so its RSS holds nothing of the fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks.e2e import FIRST_USER, TimedDiscord, TimedTelegram
from shared.models import Community, Settings
from shared.store import SqliteStore
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.discord.fake import GUILD_ID, guild
from tests.telegram.fake import TOKEN as TELEGRAM_TOKEN

PROJECT = Path(__file__).resolve().parent.parent
ADAPTERS = {
    "telegram": ["--telegram"],
    "discord": ["--discord"],
    "both": ["--telegram", "--discord"],
}
READY_WITHIN = 30.0
CONCURRENCY = 16


def rss_mb(pid: int) -> float:
    """A process's resident set size in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.asynccontextmanager
async def fakes() -> AsyncIterator[tuple[TimedTelegram, TimedDiscord]]:
    telegram = TimedTelegram()
    discord_fake = TimedDiscord([guild()])
    await telegram.start()
    await discord_fake.start()
    try:
        yield telegram, discord_fake
    finally:
        await telegram.stop()
        await discord_fake.stop()


def _env(folder: Path, telegram: TimedTelegram, discord_fake: TimedDiscord) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "BENCH_DATABASE": str(folder / "child.sqlite3"),
        "BENCH_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "BENCH_TELEGRAM_URL": telegram.base_url,
        "BENCH_DISCORD_TOKEN": DISCORD_TOKEN,
        "BENCH_DISCORD_API": discord_fake.api,
        "BENCH_DISCORD_GATEWAY": discord_fake.gateway,
    }


@contextlib.asynccontextmanager
async def child(
    command: list[str], env: dict[str, str], folder: Path, ready_line: Callable[[bytes], bool]
) -> AsyncIterator[tuple[asyncio.subprocess.Process, float]]:
    """Start a process; yield it and the seconds until it printed its ready line."""
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=folder,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        elapsed = None
        deadline = start + READY_WITHIN
        while elapsed is None and time.perf_counter() < deadline:
            line = await asyncio.wait_for(process.stdout.readline(), READY_WITHIN)
            if not line:
                raise RuntimeError(f"{command} exited before it was ready")
            if ready_line(line):
                elapsed = time.perf_counter() - start
        if elapsed is None:
            raise RuntimeError(f"{command} was not ready within {READY_WITHIN} s")
        yield process, elapsed
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def startup_runs(folder: Path, runs: int) -> dict[str, list[dict[str, float]]]:
    """Process start to ready, and RSS when ready, for each adapter and both together."""
    found: dict[str, list[dict[str, float]]] = {name: [] for name in ("console", *ADAPTERS)}
    async with fakes() as (telegram, discord_fake):
        env = _env(folder, telegram, discord_fake)
        for _ in range(runs):
            console = [sys.executable, "-m", "bots.cli", "console"]
            async with child(console, env, folder, lambda line: bool(line.strip())) as (
                process,
                elapsed,
            ):
                found["console"].append({"seconds": elapsed, "rss_mb": rss_mb(process.pid)})
            for name, flags in ADAPTERS.items():
                command = [sys.executable, "-m", "benchmarks.child", *flags]
                async with child(command, env, folder, lambda line: line.strip() == b"READY") as (
                    process,
                    elapsed,
                ):
                    found[name].append({"seconds": elapsed, "rss_mb": rss_mb(process.pid)})
    return found


async def _bounded(jobs: list[Callable[[], Awaitable[Any]]], concurrency: int) -> None:
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:
            await job()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def memory_run(folder: Path, commands: int, communities: int) -> dict[str, float]:
    """Both adapters in one process: RSS at ready, after a warm-up, after ``commands``
    commands (alternating platforms, each from a new person), and after one command from each
    of ``communities`` servers with as many communities already stored."""
    database = folder / "child.sqlite3"
    async with await SqliteStore.open(database) as store:
        for index in range(communities):
            community = Community("telegram", str(-1_005_000_000_000 - index))
            await store.save_settings(community, Settings("CA", "en"))
    users = itertools.count(FIRST_USER)
    found: dict[str, float] = {}
    async with fakes() as (telegram, discord_fake):
        env = _env(folder, telegram, discord_fake)
        command = [sys.executable, "-m", "benchmarks.child", *ADAPTERS["both"]]
        async with child(command, env, folder, lambda line: line.strip() == b"READY") as (
            process,
            _elapsed,
        ):
            found["rss_ready_mb"] = rss_mb(process.pid)

            def mixed(count: int) -> list[Callable[[], Awaitable[Any]]]:
                jobs: list[Callable[[], Awaitable[Any]]] = []
                for index in range(count):
                    person = next(users)
                    if index % 2:
                        jobs.append(lambda p=person: discord_fake.ask(p, "help-threatened"))
                    else:
                        jobs.append(lambda p=person: telegram.ask(p, "/help_threatened"))
                return jobs

            await _bounded(mixed(500), CONCURRENCY)
            await asyncio.sleep(0.2)
            found["rss_warm_mb"] = rss_mb(process.pid)
            start = time.perf_counter()
            await _bounded(mixed(commands), CONCURRENCY)
            found["mixed_commands_per_second"] = commands / (time.perf_counter() - start)
            await asyncio.sleep(0.2)
            found["rss_after_commands_mb"] = rss_mb(process.pid)
            found["growth_mb"] = found["rss_after_commands_mb"] - found["rss_warm_mb"]
            servers: list[Callable[[], Awaitable[Any]]] = []
            for index in range(1, communities + 1):
                person, server = next(users), GUILD_ID + (index << 22)
                servers.append(lambda p=person, g=server: discord_fake.ask(p, "help-threatened", g))
            await _bounded(servers, CONCURRENCY)
            await asyncio.sleep(0.2)
            found["rss_communities_mb"] = rss_mb(process.pid)
    found["commands"] = commands
    found["communities"] = communities
    return found
