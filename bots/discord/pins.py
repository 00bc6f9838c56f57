"""Keeping pinned advice current on Discord: the bot edits its own posts in place.

The core decides which posts are stale (:mod:`shared.pins`); this maps Discord's answers to
an edit onto the core's outcomes. Editing its own message needs no permission beyond seeing
the channel, and keeps the message pinned.
"""

from __future__ import annotations

import logging

import discord

from bots.discord.send import PLATFORM, message_kwargs
from shared.models import PinnedPost, Reply
from shared.pins import Outcome

log = logging.getLogger(__name__)


class DiscordEditor:
    """Edits the bot's pinned posts in Discord channels (over HTTP; no gateway needed)."""

    platform = PLATFORM

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _channel(self, post: PinnedPost) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(
            int(post.channel_id), guild_id=int(post.community.id)
        )

    async def edit(self, post: PinnedPost, reply: Reply) -> Outcome:
        """Replace the post's embed and buttons with ``reply``."""
        message = self._channel(post).get_partial_message(int(post.message_id))
        try:
            await message.edit(**message_kwargs(reply))
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
        try:
            await self._channel(post).send(**message_kwargs(reply))
        except discord.HTTPException:
            return False
        return True

    def place(self, post: PinnedPost) -> str | None:
        """The channel as a mention: Discord shows its name, and a channel mention pings nobody."""
        return f"<#{post.channel_id}>"
