"""Discord interactions -> core requests -> ephemeral answers.

Every slash command becomes one :class:`Request` and one call to the core; what comes back is
sent to the person only. A moderator's command is carried out by the core on this server
through :class:`bots.discord.moderation.DiscordModeration`. Who may use a command is the
core's rule, fed with Discord's permission check. Nothing about a person is kept or logged:
no user id, no message text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import discord

from bots.discord.commands import CHANNEL, option_values
from bots.discord.moderation import DiscordModeration
from bots.discord.permissions import MODERATOR_PERMISSION, has
from bots.discord.platform import PLATFORM
from bots.discord.send import Responder
from shared.commands import Command
from shared.core import Core
from shared.models import Community, Reply, Request

DEFER_AFTER = 1.5
"""Seconds the core may take before the bot defers: Discord drops an interaction not
acknowledged within 3 s, and a callback that meets a 5xx is retried only after 1 s."""


class Interactions:
    """Answers slash commands with one core, on one client."""

    def __init__(
        self, core: Core, client: discord.Client, *, defer_after: float = DEFER_AFTER
    ) -> None:
        self.core = core
        self.client = client
        self.defer_after = defer_after

    async def answer(
        self, interaction: discord.Interaction[Any], command: Command, options: dict[str, Any]
    ) -> None:
        """One slash command: its request to the core, the reply to the person."""
        responder = Responder(interaction)
        request = self.request(interaction, command, options)
        platform = DiscordModeration(self.client, responder)
        reply = await self._in_time(responder, self.core.handle(request, platform))
        await self.send(responder, reply)

    async def apologise(self, interaction: discord.Interaction[Any]) -> None:
        """Tell the person something broke on our side."""
        await self.send(Responder(interaction), self.core.error_reply(interaction.locale.value))

    async def send(self, responder: Responder, reply: Reply) -> None:
        """Send a reply to the person only, and count it."""
        await responder.answer(reply)
        self.core.metrics.replied(PLATFORM, reply)

    async def _in_time(self, responder: Responder, work: Awaitable[Reply]) -> Reply:
        """The reply ``work`` gives; when it takes longer than ``defer_after`` (a busy or
        locked store), defer first so Discord keeps the interaction, and it becomes a
        follow-up."""
        # A timer rather than a task per command: the core almost always answers at once, and
        # this costs next to nothing when it does.
        timer = asyncio.get_running_loop().call_later(self.defer_after, responder.start_deferring)
        try:
            return await work
        finally:
            timer.cancel()
            await responder.deferred()

    @staticmethod
    def request(
        interaction: discord.Interaction[Any], command: Command, options: dict[str, Any]
    ) -> Request:
        """The core's request for a slash command. A moderator is checked where the post
        would go: in the channel the person chose (Discord resolves their permissions
        there), else where they typed."""
        community = _community(interaction)
        target = options.get(CHANNEL)
        if target is not None:
            granted, channel = target.permissions, target.id
        else:
            granted, channel = interaction.permissions, interaction.channel_id
        permission = MODERATOR_PERMISSION.get(command.name)
        return Request(
            command=command.name,
            options=option_values(options),
            user_locale=interaction.locale.value,
            community=community,
            is_moderator=bool(community and permission and has(granted, permission)),
            is_private_chat=interaction.guild_id is None,
            user_key=str(interaction.user.id),
            channel=None if channel is None else str(channel),
        )


def _community(interaction: discord.Interaction[Any]) -> Community | None:
    """The server, when the bot was added to it; None in DMs and where only a user installed it."""
    if interaction.guild_id is None or not interaction.is_guild_integration():
        return None
    return Community(PLATFORM, str(interaction.guild_id))
