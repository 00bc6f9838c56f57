"""The client itself: minimal footprint, sharding when configured or when Discord says so."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import discord
import pytest

from bots.discord import render
from bots.discord.app import DiscordBot
from bots.discord.platform import DiscordConfig
from bots.discord.sharding import serve
from shared.core import Core
from tests.discord.conftest import TOKEN
from tests.discord.fake import GUILD_ID, FakeDiscord

pytestmark = pytest.mark.usefixtures("quick_identify")


def with_discord(
    core: Core, shard_count: int | None = None, shard_ids: tuple[int, ...] | None = None
) -> Core:
    discord_config = DiscordConfig(token=TOKEN, shard_count=shard_count, shard_ids=shard_ids)
    config = dataclasses.replace(
        core.config, platforms={**core.config.platforms, "discord": discord_config}
    )
    return Core(core.content, core.store, config)


@contextlib.asynccontextmanager
async def serving(core: Core) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(serve(core))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_minimal_footprint(bot: DiscordBot, fake: FakeDiscord) -> None:
    client = bot.client
    assert client.intents.value == discord.Intents(guilds=True).value
    assert fake.sessions[0].identify["intents"] == 1, "guilds only: no privileged intents"
    assert not client.intents.message_content
    assert not client.intents.members
    assert client._connection.member_cache_flags.value == 0
    assert client.allowed_mentions is not None
    assert client.allowed_mentions.to_dict() == {"parse": []}


async def test_one_connection_when_discord_does_not_ask_for_shards(
    fake: FakeDiscord, core: Core
) -> None:
    async with serving(with_discord(core)):
        await fake.wait_for(lambda: fake.sessions)
        assert fake.find("GET", "/gateway/bot"), "asked Discord how many shards it wants"
        assert fake.sessions[0].identify.get("shard") in (None, [0, 1])
        body = await fake.interact("about")
        assert body["data"]["flags"] == 64
    assert len(fake.sessions) == 1


async def test_configured_shards_use_the_auto_sharded_client(fake: FakeDiscord, core: Core) -> None:
    async with serving(with_discord(core, shard_count=2)):
        await fake.wait_for(lambda: len(fake.sessions) == 2)
        assert sorted(s.identify["shard"] for s in fake.sessions) == [[0, 2], [1, 2]]
        assert not fake.find("GET", "/gateway/bot"), "the configured count is used as is"
        body = await fake.interact("report", guild_id=GUILD_ID)
        assert body == render.payload(core.advice("report", "en", core.config.default_region, None))


async def test_sharding_starts_when_discord_requires_it(fake: FakeDiscord, core: Core) -> None:
    fake.recommended_shards = 3
    async with serving(with_discord(core)):
        await fake.wait_for(lambda: len(fake.sessions) == 3, within=10)
        assert sorted(s.identify["shard"] for s in fake.sessions) == [[0, 3], [1, 3], [2, 3]]
        body = await fake.interact("about", guild_id=None)
        assert body["data"]["flags"] == 64
