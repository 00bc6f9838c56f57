"""Keeping pinned advice current on Telegram: ``editMessageText`` on the bot's own posts.

The core decides which posts are stale (:mod:`shared.pins`); this maps Telegram's answers to
an edit onto the core's outcomes.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bots.telegram import limits, render
from bots.telegram.handlers import NO_PREVIEW, PLATFORM, reply_keyboard, send_reply
from shared.models import PinnedPost, Reply
from shared.pins import Outcome

log = logging.getLogger(__name__)

# Telegram answers a failed edit with 400 and a description; these parts tell the cases apart.
_GONE = ("message to edit not found", "message_id_invalid", "chat not found")
_FORBIDDEN = ("message can't be edited", "not enough rights", "have no rights")
_UNCHANGED = "message is not modified"


class TelegramEditor:
    """Edits the bot's pinned posts in Telegram groups."""

    platform = PLATFORM

    def __init__(self, bot: ExtBot[Any]) -> None:
        self.bot = bot

    async def edit(self, post: PinnedPost, reply: Reply) -> Outcome:
        """Replace the post's text and buttons with ``reply``; it stays pinned."""
        pieces = render.messages(reply)
        if len(pieces) > 1:
            # A pinned post is one message; advice too long for one cannot replace it.
            log.error("advice for a pinned post no longer fits one Telegram message")
            return Outcome.FAILED
        try:
            await self.bot.edit_message_text(
                pieces[0],
                chat_id=int(post.channel_id),
                message_id=int(post.message_id),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=reply_keyboard(reply),
                # Answers to people go first (see RetryingRateLimiter).
                rate_limit_args=limits.BACKGROUND,
            )
        except BadRequest as error:
            return _outcome(error.message.lower())
        except Forbidden:
            return Outcome.FORBIDDEN
        except TelegramError as error:
            log.warning("could not edit a pinned post: %s", type(error).__name__)
            return Outcome.FAILED
        return Outcome.EDITED

    async def report(self, post: PinnedPost, reply: Reply) -> bool:
        """Tell the group's members (silently) that the post cannot be edited, if allowed."""
        try:
            await send_reply(self.bot, int(post.channel_id), reply, silent=True)
        except (BadRequest, Forbidden):
            return False
        return True

    def place(self, post: PinnedPost) -> str | None:
        """Posts are in the group itself."""
        return None


def _outcome(description: str) -> Outcome:
    if _UNCHANGED in description:
        return Outcome.EDITED
    if any(part in description for part in _GONE):
        return Outcome.GONE
    if any(part in description for part in _FORBIDDEN):
        return Outcome.FORBIDDEN
    log.warning("could not edit a pinned post: %s", description)
    return Outcome.FAILED
