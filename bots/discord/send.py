"""What the bot sends on Discord: a reply's embed and link buttons, never a mention; and an
interaction's answer, deferred when it takes time."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

import discord

from bots.discord import render
from shared.models import Reply

NO_MENTIONS = discord.AllowedMentions.none()


# Built once per reply (replies are immutable and reused): making the embed and the buttons
# was most of our own cost per answer in a profile of make bench. Sharing is safe: nothing
# changes them after this, and a stopped view is never stored or listened to by discord.py.
@lru_cache(maxsize=2048)
def message_kwargs(reply: Reply) -> dict[str, Any]:
    """discord.py arguments for a reply: its embed, its buttons, and no mentions (callers
    unpack it and must not change it)."""
    kwargs: dict[str, Any] = {"embed": render.embed(reply), "allowed_mentions": NO_MENTIONS}
    buttons = render.buttons(reply)
    if buttons:
        view = discord.ui.View(timeout=None)
        for button in buttons:
            view.add_item(button)
        # Link buttons need no listener; a stopped view is not kept in discord.py's view
        # store, which otherwise holds every reply's view in memory (found by make bench).
        view.stop()
        kwargs["view"] = view
    return kwargs


class Responder:
    """Answers one interaction, privately: as its response, or as a follow-up once it was
    deferred. It defers at most once, whoever asks first (a slow core, a post to make)."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self._deferring: asyncio.Future[Any] | None = None

    def start_deferring(self) -> None:
        """Tell Discord the bot is thinking (privately), without waiting for it to hear."""
        if self._deferring is None and not self.interaction.response.is_done():
            self._deferring = asyncio.ensure_future(
                self.interaction.response.defer(ephemeral=True, thinking=True)
            )

    async def defer(self) -> None:
        """Defer, if not done yet, and wait until Discord has the deferral."""
        self.start_deferring()
        await self.deferred()

    async def deferred(self) -> None:
        """Wait for a deferral under way, if any."""
        if self._deferring is not None:
            await self._deferring

    async def answer(self, reply: Reply) -> None:
        """Send ``reply`` to the person only (ephemeral), as the response or a follow-up."""
        await self.deferred()  # the answer goes out only once Discord has the deferral
        kwargs = message_kwargs(reply)
        if self.interaction.response.is_done():
            await self.interaction.followup.send(ephemeral=True, **kwargs)
        else:
            await self.interaction.response.send_message(ephemeral=True, **kwargs)
