"""Telegram's side of moderation (:class:`shared.platform.Platform`): posting, pinning,
unpinning, deleting and editing the bot's advice in a group. Which step comes when, and what
a failed step leaves behind, is the core's (:mod:`shared.moderation`, :mod:`shared.pins`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bots.telegram import limits, render
from bots.telegram.permissions import PIN_RIGHT, SEND_RIGHT, missing_rights
from bots.telegram.platform import PLATFORM
from bots.telegram.send import NO_PREVIEW, reply_keyboard, send_reply
from shared.models import PinnedPost, Reply
from shared.platform import Outcome, Refused

log = logging.getLogger(__name__)

# Telegram answers a failed edit with 400 and a description; these parts tell the cases apart.
_GONE = ("message to edit not found", "message_id_invalid", "chat not found")
_FORBIDDEN = ("message can't be edited", "not enough rights", "have no rights")
_UNCHANGED = "message is not modified"


class TelegramModeration:
    """Posts, pins and edits the bot's advice in Telegram groups; ``channel`` is a group's
    chat id."""

    platform = PLATFORM

    def __init__(self, bot: ExtBot[Any]) -> None:
        self.bot = bot

    async def working(self) -> None:
        """Telegram sets no deadline for an answer: nothing to say yet."""

    async def missing_rights(self, channel: str) -> list[str]:
        """The rights the bot lacks in the group, from its own membership there."""
        return missing_rights(await self.bot.get_chat_member(int(channel), self.bot.id))

    async def post(self, channel: str, reply: Reply) -> list[str]:
        """Send the advice to the group, silently."""
        try:
            sent = await send_reply(self.bot, int(channel), reply, silent=True)
        except (BadRequest, Forbidden) as error:
            raise Refused(SEND_RIGHT) from error
        return [str(message.message_id) for message in sent]

    async def pin(self, channel: str, message: str) -> None:
        """Pin it without notifying the group."""
        try:
            await self.bot.pin_chat_message(int(channel), int(message), disable_notification=True)
        except (BadRequest, Forbidden) as error:
            raise Refused(PIN_RIGHT) from error

    async def delete(self, channel: str, messages: Sequence[str]) -> None:
        """Delete the bot's messages; skipped where Telegram refuses."""
        for message in messages:
            try:
                await self.bot.delete_message(int(channel), int(message))
            except (BadRequest, Forbidden):
                log.debug("could not delete a post (no right to delete messages)")
            except TelegramError as error:
                log.warning("could not delete a post: %s", type(error).__name__)

    async def unpin(self, posts: Sequence[PinnedPost]) -> None:
        """Unpin each post; one deleted, or no longer the bot's to unpin, is skipped."""
        for post in posts:
            try:
                await self.bot.unpin_chat_message(int(post.channel_id), int(post.message_id))
            except (BadRequest, Forbidden):
                log.info("could not unpin a post (deleted, or the right was taken away)")

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
