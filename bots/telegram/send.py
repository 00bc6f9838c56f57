"""What the bot sends on Telegram: a reply's HTML messages and inline keyboard, silently
where it posts in a group, to the moderator who asked, or in place of a button's advice;
and a person's command deleted from a group. The payloads are :mod:`bots.telegram.render`'s."""

from __future__ import annotations

import logging
from functools import lru_cache

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bots.telegram import render
from bots.telegram.platform import PLATFORM
from shared.models import Community, Reply

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def community_of(chat_id: int) -> Community:
    """A Telegram group as the core knows it."""
    return Community(PLATFORM, str(chat_id))


def markup(rows: list[list[dict[str, str]]]) -> InlineKeyboardMarkup | None:
    """python-telegram-bot's keyboard for the renderer's rows."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b["text"], url=b.get("url"), callback_data=b.get("callback_data")
                )
                for b in row
            ]
            for row in rows
        ]
    )


# Replies are immutable and reused, and so are python-telegram-bot's objects: a reply's
# keyboard is built once, not per message (building it was most of our cost per answer in a
# profile of make bench).
@lru_cache(maxsize=2048)
def reply_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as python-telegram-bot's keyboard."""
    return markup(render.keyboard(reply))


async def send_html(
    bot: Bot,
    chat_id: int,
    html_text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    silent: bool = False,
) -> Message:
    """Send one HTML message: the body :func:`render.message_payload` describes."""
    return await bot.send_message(
        chat_id=chat_id,
        text=html_text,
        parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
        reply_markup=keyboard,
        disable_notification=True if silent else None,
    )


async def send_reply(
    bot: Bot, chat_id: int, reply: Reply, *, silent: bool = False
) -> list[Message]:
    """Send a core reply (in several messages only if it is too long for one); the buttons
    go under the last."""
    pieces = render.messages(reply)
    sent = []
    for index, piece in enumerate(pieces):
        keyboard = reply_keyboard(reply) if index == len(pieces) - 1 else None
        sent.append(await send_html(bot, chat_id, piece, keyboard, silent=silent))
    return sent


async def tell(message: Message, reply: Reply) -> None:
    """Answer a moderator command's sender in the private chat; if the bot may not write to
    them there (they never opened it), answer in the group, silently."""
    user = message.from_user
    anonymous = message.sender_chat is not None
    if user is not None and not anonymous and not user.is_bot:
        try:
            await send_reply(message.get_bot(), user.id, reply)
            return
        except (Forbidden, BadRequest):
            log.debug("cannot write to the person privately; answering in the group")
    await send_reply(message.get_bot(), message.chat.id, reply, silent=True)


async def edit_in_place(message: Message, reply: Reply) -> None:
    """Show ``reply`` in place of the advice a button was under (more messages after it, if
    it no longer fits one)."""
    pieces = render.messages(reply)
    keyboard = reply_keyboard(reply)
    try:
        await message.edit_text(
            pieces[0],
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=keyboard if len(pieces) == 1 else None,
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise
    for index, piece in enumerate(pieces[1:], 2):
        await send_html(
            message.get_bot(),
            message.chat.id,
            piece,
            keyboard if index == len(pieces) else None,
        )


async def delete_quietly(message: Message) -> None:
    """Delete a person's message, so the group does not see who asked; needs the "delete
    messages" admin right, and is skipped without it, or when Telegram fails (what comes
    next, such as the pointer, matters more)."""
    try:
        await message.delete()
    except (BadRequest, Forbidden):
        log.debug("could not delete a command (no right to delete messages)")
    except TelegramError as error:
        log.warning("could not delete a command: %s", type(error).__name__)
