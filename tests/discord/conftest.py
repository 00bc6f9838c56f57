"""Fixtures: a fake Discord on 127.0.0.1 and the bot connected to it through discord.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
import yarl

from bots.discord.app import DiscordBot
from shared.core import Core
from tests.discord.fake import FakeDiscord, guild

TOKEN = "FAKE.DISCORD.TOKEN-for-tests"


def point_discord_py_at(server: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send discord.py's REST requests and gateway connection to ``server`` (for one test)."""
    monkeypatch.setattr(discord.http.Route, "BASE", server.api)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway)
    )


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake Discord with one server, with discord.py's REST base and gateway pointed at it."""
    async with fake_discord(monkeypatch) as server:
        yield server


@contextlib.asynccontextmanager
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake Discord with one server, running for the block, discord.py pointed at it."""
    server = FakeDiscord([guild()])
    await server.start()
    point_discord_py_at(server, monkeypatch)
    try:
        yield server
    finally:
        await server.stop()
    assert not server.protocol_errors, "Discord would refuse this"


@pytest.fixture
def quick_identify(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py waits 5 s before each IDENTIFY but the first, between shards and after a
    session ends (Discord's limit); the fake has none."""

    async def no_wait(self: discord.Client, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    monkeypatch.setattr(discord.Client, "before_identify_hook", no_wait)


@contextlib.asynccontextmanager
async def running(bot: DiscordBot, token: str = TOKEN) -> AsyncIterator[DiscordBot]:
    """The bot connected until the block ends, then cancelled as ``safety-bot run`` would."""
    task = asyncio.create_task(bot.run(token))
    ready = asyncio.create_task(bot.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()  # raises what stopped the bot
    assert ready in done, "the bot did not become ready"
    try:
        yield bot
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def bot(core: Core, fake: FakeDiscord) -> AsyncIterator[DiscordBot]:
    """The bot, connected to the fake and ready."""
    async with running(DiscordBot(core, guild_ready_timeout=0.05)) as connected:
        yield connected
