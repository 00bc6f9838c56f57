"""What the bot sends on Discord: a reply's embed and link buttons, never a mention."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import discord

from bots.discord import render
from shared.models import Reply

PLATFORM = "discord"
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
