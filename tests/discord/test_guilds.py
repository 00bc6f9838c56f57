"""Joining and leaving servers: the welcome, deleting a server's data, and reconciling at start."""

from __future__ import annotations

import asyncio

from bots.discord.app import DiscordBot
from shared.core import Core
from shared.models import Community, PinnedPost, Settings
from tests.discord import spec
from tests.discord.conftest import running
from tests.discord.fake import (
    GUILD_ID,
    SEND_MESSAGES,
    SYSTEM_CHANNEL_ID,
    FakeDiscord,
    guild,
    text_channel,
)

NEW_GUILD = 600000000000000777
GONE_GUILD = 600000000000000999
DOWN_GUILD = 600000000000000555


async def settle(fake: FakeDiscord, bot: DiscordBot) -> None:
    """Let the bot handle what was dispatched (a round trip through the gateway and REST)."""
    await fake.interact("about")


async def test_joining_a_server_posts_the_welcome_in_its_system_channel(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    await fake.dispatch("GUILD_CREATE", guild(NEW_GUILD), NEW_GUILD)
    posted = await fake.wait_for(
        lambda: fake.find("POST", f"/channels/{SYSTEM_CHANNEL_ID}/messages")
    )
    assert posted[0].body["content"] == core.text(core.default_locale, "welcome")
    assert posted[0].body["allowed_mentions"] == {"parse": []}
    assert "embeds" not in posted[0].body or not posted[0].body["embeds"]
    spec.require_spec()
    spec.assert_message(posted[0].body)


async def test_the_welcome_uses_the_servers_language(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    await core.save_settings(Community("discord", str(NEW_GUILD)), Settings(language="fr"))
    await fake.dispatch("GUILD_CREATE", guild(NEW_GUILD), NEW_GUILD)
    posted = await fake.wait_for(lambda: fake.find("POST", "/messages"))
    assert posted[0].body["content"] == core.text("fr", "welcome")


async def test_no_welcome_where_the_bot_may_not_post_or_there_is_no_system_channel(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    closed = text_channel(SYSTEM_CHANNEL_ID, NEW_GUILD, "welcome", deny=SEND_MESSAGES)
    await fake.dispatch("GUILD_CREATE", guild(NEW_GUILD, channels=[closed]), NEW_GUILD)
    other = NEW_GUILD + (1 << 22)
    await fake.dispatch("GUILD_CREATE", guild(other, system_channel=False), other)
    await asyncio.wait_for(bot.wait_finished("guild_join", 2), 5)
    assert not fake.find("POST", "/messages")
    assert {g.id for g in bot.client.guilds} >= {NEW_GUILD, other}


async def test_removal_deletes_every_row_of_the_server(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    server = Community("discord", str(GUILD_ID))
    other = Community("discord", str(NEW_GUILD))
    store = core.store
    assert store is not None
    await core.save_settings(server, Settings("GB", "fr"))
    await core.save_settings(other, Settings("US"))
    await store.add_pin(PinnedPost(server, "1", "2", "report", "v1"))

    await fake.dispatch("GUILD_DELETE", {"id": str(GUILD_ID)}, GUILD_ID)
    # Store changes leave no trace on the wire: wait for the bot to finish the removal.
    await asyncio.wait_for(bot.wait_finished("guild_remove", 1), 5)
    assert str(GUILD_ID) not in await store.communities("discord")
    assert await store.get_settings(server) is None
    assert await store.pins(server) == []
    assert await core.settings(server) == Settings(), "no cached copy survives"
    assert await store.get_settings(other) == Settings("US"), "other servers are untouched"


async def test_a_server_going_unavailable_is_not_a_removal(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    server = Community("discord", str(GUILD_ID))
    await core.save_settings(server, Settings("GB"))
    await fake.dispatch("GUILD_DELETE", {"id": str(GUILD_ID), "unavailable": True}, GUILD_ID)
    await settle(fake, bot)
    assert await core.store.get_settings(server) == Settings("GB")  # type: ignore[union-attr]


async def test_start_forgets_servers_removed_while_offline_and_keeps_unavailable_ones(
    fake: FakeDiscord, core: Core
) -> None:
    store = core.store
    assert store is not None
    for guild_id in (GUILD_ID, GONE_GUILD, DOWN_GUILD):
        await core.save_settings(Community("discord", str(guild_id)), Settings("GB"))
    await store.add_pin(PinnedPost(Community("discord", str(GONE_GUILD)), "1", "2", "report", "v"))
    await store.save_settings(Community("telegram", str(GONE_GUILD)), Settings("GB"))
    fake.outage.add(DOWN_GUILD)

    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        assert sorted(await store.communities("discord")) == sorted(
            [str(GUILD_ID), str(DOWN_GUILD)]
        )
        assert await store.pins(Community("discord", str(GONE_GUILD))) == []
        assert await store.communities("telegram") == [str(GONE_GUILD)], "other platforms kept"
