"""Discord's side of moderation (:class:`shared.platform.Platform`): posting, pinning,
unpinning, deleting and editing the bot's advice in a channel. Which step comes when, and
what a failed step leaves behind, is the core's (:mod:`shared.moderation`,
:mod:`shared.pins`). Editing its own message needs no permission beyond seeing the channel,
and keeps the message pinned.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord

from bots.discord.permissions import bot_permissions, missing
from bots.discord.platform import PLATFORM
from bots.discord.send import Responder, message_kwargs
from shared.models import PinnedPost, Reply
from shared.platform import Outcome, Refused

log = logging.getLogger(__name__)


class DiscordModeration:
    """Posts, pins and edits the bot's advice in Discord channels (over HTTP; no gateway
    needed). Built for one moderator's interaction, it answers Discord in time before its
    slower steps; built without one, it keeps pinned posts current."""

    platform = PLATFORM

    def __init__(self, client: discord.Client, responder: Responder | None = None) -> None:
        self.client = client
        self.responder = responder
        interaction = responder.interaction if responder is not None else None
        self._interaction: discord.Interaction[Any] | None = interaction

    async def working(self) -> None:
        """Posting, pinning and unpinning are requests that rate limits may slow, after a
        store that may be busy: answer Discord now (privately: "thinking")."""
        if self.responder is not None:
            await self.responder.defer()

    async def missing_rights(self, channel: str) -> list[str]:
        """What the bot lacks in the channel: as Discord gives it for the channel the command
        was typed in, else from the server's cache."""
        interaction = self._interaction
        if interaction is None or interaction.guild_id is None:
            return missing(discord.Permissions.none())
        if channel == str(interaction.channel_id):
            return missing(interaction.app_permissions)
        return missing(bot_permissions(self.client, interaction.guild_id, int(channel)))

    async def post(self, channel: str, reply: Reply) -> list[str]:
        """Post the advice as a normal message (no mentions)."""
        guild_id = self._interaction.guild_id if self._interaction is not None else None
        target = self.client.get_partial_messageable(int(channel), guild_id=guild_id)
        try:
            message = await target.send(**message_kwargs(reply))
        except discord.Forbidden as error:
            raise Refused("send_messages") from error
        return [str(message.id)]

    async def pin(self, channel: str, message: str) -> None:
        """Pin the message (Discord posts no notice for a bot's pin in the channel)."""
        try:
            await self._message(channel, message).pin()
        except discord.Forbidden as error:
            raise Refused("pin_messages") from error

    async def delete(self, channel: str, messages: Sequence[str]) -> None:
        """Delete the bot's messages; skipped where Discord refuses."""
        for message in messages:
            try:
                await self._message(channel, message).delete()
            except discord.HTTPException as error:
                log.warning("could not remove a post (HTTP %s)", error.status)

    async def unpin(self, posts: Sequence[PinnedPost]) -> None:
        """Unpin each post; one deleted by hand, or no longer the bot's to unpin, is skipped."""
        for post in posts:
            try:
                await self._message(post.channel_id, post.message_id).unpin()
            except (discord.NotFound, discord.Forbidden) as error:
                # Deleted by hand, or the right was taken away: nothing left to undo here.
                log.info("could not unpin a post (HTTP %s)", error.status)

    async def edit(self, post: PinnedPost, reply: Reply) -> Outcome:
        """Replace the post's embed and buttons with ``reply``."""
        channel = self.client.get_partial_messageable(
            int(post.channel_id), guild_id=int(post.community.id)
        )
        try:
            await channel.get_partial_message(int(post.message_id)).edit(**message_kwargs(reply))
        except discord.NotFound:
            return Outcome.GONE  # the message or its channel was deleted
        except discord.Forbidden:
            return Outcome.FORBIDDEN  # the bot can no longer see the channel
        except discord.HTTPException as error:
            log.warning("could not edit a pinned post (HTTP %s)", error.status)
            return Outcome.FAILED
        return Outcome.EDITED

    async def report(self, post: PinnedPost, reply: Reply) -> bool:
        """Tell the channel's readers that the post cannot be edited, if the bot may post."""
        channel = self.client.get_partial_messageable(
            int(post.channel_id), guild_id=int(post.community.id)
        )
        try:
            await channel.send(**message_kwargs(reply))
        except discord.HTTPException:
            return False
        return True

    def place(self, post: PinnedPost) -> str | None:
        """The channel as a mention: Discord shows its name, and a channel mention pings nobody."""
        return f"<#{post.channel_id}>"

    def _message(self, channel: str, message: str) -> discord.PartialMessage:
        return self.client.get_partial_messageable(int(channel)).get_partial_message(int(message))
