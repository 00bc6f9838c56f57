"""Every moderator command (read from the command table, so later ones are covered too) is
refused on Discord to anyone without its permission, every time, and changes nothing: no
post, no pin or unpin, no saved setting.

``default_member_permissions`` only hides a command, and a server owner can show it to anyone
(Server Settings > Integrations). So the interactions here arrive as if they had: from a member
whose permissions lack exactly the one the command needs, or everything but it. The bot
checks ``interaction.permissions`` itself. A member with the permission gets a real answer, so
the refusals are not an accident of the test's options.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bots.discord import render
from bots.discord.app import DiscordBot
from bots.discord.permissions import MODERATOR_PERMISSION
from shared.commands import Command
from shared.core import Core
from shared.models import Community, Settings
from tests.discord.fake import CHANNEL_ID, GUILD_ID, SEND_MESSAGES, VIEW_CHANNEL, FakeDiscord
from tests.moderation import MODERATOR_COMMANDS, example_options

pytestmark = pytest.mark.usefixtures("bot")

SERVER = Community("discord", str(GUILD_ID))
SEEDED = Settings("CA", "en")
PINNED_MESSAGE = "4242"
TIMES = 3
EVERYTHING = discord.Permissions.all().value
ADMINISTRATOR = discord.Permissions(administrator=True).value


def needed(command: Command) -> int:
    """The permission bit ``command`` needs (KeyError, failing loudly, for one without)."""
    return discord.Permissions(**{MODERATOR_PERMISSION[command.name]: True}).value


def lacking(command: Command) -> dict[str, int]:
    """Member permissions without the one ``command`` needs, by description."""
    return {
        "a member": VIEW_CHANNEL | SEND_MESSAGES,
        "every other permission": EVERYTHING & ~needed(command) & ~ADMINISTRATOR,
    }


async def seed(core: Core) -> None:
    """Settings and a pinned post that a refused command must leave as they are."""
    await core.save_settings(SERVER, SEEDED)
    await core.moderation.record_pin(SERVER, str(CHANNEL_ID), PINNED_MESSAGE, "report", "v1")


async def assert_unchanged(core: Core, fake: FakeDiscord) -> None:
    assert core.store is not None
    assert await core.store.get_settings(SERVER) == SEEDED
    assert [p.message_id for p in await core.store.pins(SERVER)] == [PINNED_MESSAGE]
    assert not fake.find("POST", contains="/channels/")
    assert not fake.find("PUT", contains="/pins/")
    assert not fake.find("DELETE")


async def refused_every_time(
    core: Core, fake: FakeDiscord, command: Command, key: str, **kw: Any
) -> None:
    """Send ``command`` TIMES times; each time an ephemeral refusal (``key``) at once."""
    expected = render.escape(core.text("en", key, command=command.name))
    for _ in range(TIMES):
        callback, followup = await fake.interact_deferred(
            command.name, example_options(command), **kw
        )
        assert followup is None
        assert callback["type"] == render.CHANNEL_MESSAGE
        assert callback["data"]["flags"] == render.EPHEMERAL
        assert callback["data"]["embeds"][0]["description"] == expected


def test_every_moderator_command_is_hidden_by_default(fake: FakeDiscord) -> None:
    """What a server owner can override: the command's default member permissions."""
    [synced] = fake.find("PUT", "/commands")
    defaults = {c["name"]: c.get("default_member_permissions") for c in synced.body}
    for command in MODERATOR_COMMANDS:
        assert int(defaults[command.name]) == needed(command), command.name


@pytest.mark.parametrize(
    ("command", "who"),
    [(c, who) for c in MODERATOR_COMMANDS for who in lacking(c)],
    ids=lambda value: getattr(value, "name", value),
)
async def test_refused_without_the_permission_even_when_shown(
    fake: FakeDiscord, core: Core, command: Command, who: str
) -> None:
    await seed(core)
    await refused_every_time(
        core, fake, command, "refused_moderator", permissions=lacking(command)[who]
    )
    await assert_unchanged(core, fake)


@pytest.mark.parametrize("command", MODERATOR_COMMANDS, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "where", [{"guild_id": None}, {"installed_in_guild": False}], ids=["dm", "user-install"]
)
async def test_refused_outside_a_server_that_added_the_bot(
    fake: FakeDiscord, core: Core, command: Command, where: dict[str, Any]
) -> None:
    """In a DM, or in a server where only the person installed the app, every permission
    is theirs: there is no community to change."""
    await seed(core)
    await refused_every_time(
        core, fake, command, "refused_private", permissions=EVERYTHING, **where
    )
    await assert_unchanged(core, fake)


@pytest.mark.parametrize("command", MODERATOR_COMMANDS, ids=lambda c: c.name)
async def test_a_member_with_the_permission_is_answered(
    bot: DiscordBot, fake: FakeDiscord, core: Core, command: Command
) -> None:
    """The control: the same command, with exactly the permission it needs."""
    callback, followup = await fake.interact_deferred(
        command.name, example_options(command), permissions=VIEW_CHANNEL | needed(command)
    )
    answer = followup or callback["data"]
    refusal = render.escape(core.text("en", "refused_moderator", command=command.name))
    assert answer["embeds"][0].get("description") != refusal
