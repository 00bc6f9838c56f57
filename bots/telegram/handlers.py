"""Telegram updates -> core requests -> Telegram calls.

A thin translator: every word a person reads comes from the core (``core.handle``,
``core.text``), and every rule (who may use a command, which region and language apply) is the
core's. What is Telegram's own lives here: command syntax, deep links, chat member statuses
and admin rights, and where a reply may go without exposing the person who asked.

Privacy: nothing here stores or logs message text or user ids. A user id is handed to the
core only as the cooldown key, which the core hashes at once.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bots.telegram import render
from bots.telegram.moderation import TelegramModeration
from bots.telegram.permissions import SEND_RIGHT, is_member, is_moderator, missing_rights
from bots.telegram.platform import PLATFORM
from bots.telegram.render import escape
from bots.telegram.send import (
    community_of,
    delete_quietly,
    edit_in_place,
    markup,
    send_html,
    send_reply,
    tell,
)
from shared.commands import BY_NAME, Audience, Option, canonical_name
from shared.core import Core
from shared.models import ReplyKind, Request

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
"""The updates the bot asks for; edited messages, reactions and the like never arrive."""
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)

Context = ContextTypes.DEFAULT_TYPE


class Handlers:
    """The bot's update handlers, bound to one core: each turns an update into one call to
    the core and sends what comes back."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add every handler and the error handler to ``application``."""
        messages = filters.UpdateType.MESSAGE
        application.add_handler(
            MessageHandler(messages & filters.StatusUpdate.MIGRATE, self.on_migrate)
        )
        application.add_handler(MessageHandler(messages & filters.COMMAND, self.on_command))
        application.add_handler(
            MessageHandler(messages & filters.ChatType.PRIVATE & filters.TEXT, self.on_text)
        )
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(
            ChatMemberHandler(self.on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        application.add_error_handler(self.on_error)

    # -- commands -----------------------------------------------------------------------

    async def on_command(self, update: Update, context: Context) -> None:
        """A message starting with ``/``: a command of ours, typed with ``_`` or ``-``, its
        options read by the core's grammar (``/report UK 15``, ``/report region:GB age:15``)."""
        self.core.metrics.received()
        message = update.message
        if message is None or not message.text:
            return
        words = message.text.split(maxsplit=1)
        typed, _, addressee = words[0].partition("@")
        if addressee and addressee.lower() != (context.bot.username or "").lower():
            return  # a command for another bot in the same group
        if typed.lower() == "/start":
            await self._start(message, context, words[1:])  # all words after it
            return
        read = self.core.read(message.text)
        if read is not None and read.name is not None:
            await self._command(message, context, read.name, read.options)
        elif message.chat.type == ChatType.PRIVATE:
            await self._answer_privately(message, request_for(message, typed, {}))
        # In a group, an unknown command is another bot's: stay silent.

    async def _command(
        self, message: Message, context: Context, name: str, options: Mapping[str, str]
    ) -> None:
        """One of our commands: a moderator's is carried out; anyone else's is answered in
        the private chat, or pointed to it from a group."""
        if BY_NAME[name].audience is Audience.MODERATORS:
            await self._moderate(message, context, name, options)
        elif message.chat.type == ChatType.PRIVATE:
            await self._answer_privately(message, request_for(message, name, options))
        elif message.chat.type in GROUPS:
            await self._point(message, context, name, options)

    async def on_text(self, update: Update, context: Context) -> None:
        """Plain words in the private chat: a command typed without its slash ("report UK")
        is that command; anything else gets a short pointer to where to start. The words are
        not kept or logged."""
        self.core.metrics.received()
        message = update.message
        if message is None or not message.text:
            return
        read = self.core.read(message.text)
        if read is None or read.name is None:
            request = request_for(message, "", {})  # free text: "" is no command
        else:
            request = request_for(message, read.name, read.options)
        await self._answer_privately(message, request)

    async def _answer_privately(self, message: Message, request: Request) -> None:
        reply = await self.core.handle(request)
        await send_reply(message.get_bot(), message.chat.id, reply)
        self.core.metrics.replied(PLATFORM, reply)

    async def _start(self, message: Message, context: Context, args: Sequence[str]) -> None:
        """``/start`` in the private chat; ``/start <payload>`` from a deep link opens a topic
        for the region and language of the group the person came from. In a group, the
        pointer to the private chat."""
        if message.chat.type in GROUPS:
            await self._point(message, context, "help", {})
            return
        if message.chat.type != ChatType.PRIVATE:
            return
        user = message.from_user
        if not args:
            await self._answer_privately(message, request_for(message, "help", {}))
            return
        request = self.start_request(
            args[0], user.language_code if user else None, str(user.id) if user else None
        )
        await self._answer_privately(message, request)

    def start_request(self, payload: str, user_locale: str | None, user_key: str | None) -> Request:
        """The request of what follows ``/start``: a deep link's ``topic-REGION-language`` or
        a command typed by hand (``/start report UK``), never a moderator command; the
        group's region, and its language unless the person's own is known."""
        options: Mapping[str, str] = {}
        name = None
        if len(payload.split()) == 1:
            start = render.parse_start(payload.strip())
            name = canonical_name(start.command)
            options = {Option.REGION.value: start.region} if start.region else {}
            if self.core.content.resolve_locale(user_locale) is None:
                user_locale = start.language
        if name is None:
            read = self.core.read(payload)
            if read is not None and read.name is not None:
                name, options = read.name, read.options
        if name is None or BY_NAME[name].audience is Audience.MODERATORS:
            name, options = "help", {}
        return Request(command=name, options=options, user_locale=user_locale, user_key=user_key)

    async def _point(
        self, message: Message, context: Context, name: str, options: Mapping[str, str]
    ) -> None:
        """In a group: delete the person's command (where the bot may) and post the core's
        neutral line with a button that opens the private chat on that topic."""
        await delete_quietly(message)
        pointer = await self.core.point(request_for(message, name, options))
        if pointer is None:
            return  # asked too often: the command is gone, and the group hears nothing
        payload = render.start_payload(pointer.command, pointer.region, pointer.language)
        link = render.deep_link(context.bot.username, payload)
        await send_html(
            context.bot,
            message.chat.id,
            escape(pointer.text),
            markup([[{"text": pointer.button, "url": link}]]),
            silent=True,
        )
        self.core.metrics.pointed(PLATFORM, pointer.command, pointer.region, pointer.locale)

    # -- moderators ---------------------------------------------------------------------

    async def _moderate(
        self, message: Message, context: Context, name: str, options: Mapping[str, str]
    ) -> None:
        """A moderator command, carried out by the core on this group; the answer goes to
        the moderator."""
        if message.chat.type not in GROUPS:
            # The core refuses moderator commands outside a group, saying why.
            await self._answer_privately(message, request_for(message, name, options))
            return
        moderator = await is_moderator(message, name)
        request = request_for(message, name, options, is_moderator=moderator)
        reply = await self.core.handle(request, TelegramModeration(context.bot))
        await tell(message, reply)
        self.core.metrics.replied(PLATFORM, reply)

    # -- buttons ------------------------------------------------------------------------

    async def on_button(self, update: Update, context: Context) -> None:
        """A narrowing button: edit the advice to the chosen region or age group."""
        self.core.metrics.received()
        query = update.callback_query
        if query is None:
            return
        narrow = render.parse_narrow(query.data or "")
        message = query.message
        if (
            narrow is None
            or not isinstance(message, Message)
            or message.chat.type != ChatType.PRIVATE
        ):
            await query.answer()
            return
        options = {Option.REGION.value: narrow.region, Option.LANGUAGE.value: narrow.locale}
        if narrow.age is not None:
            options[Option.AGE.value] = narrow.age
        request = Request(
            command=narrow.topic,
            options=options,
            user_locale=query.from_user.language_code,
            user_key=str(query.from_user.id),
        )
        reply = await self.core.narrow(request)
        if reply is None or reply.kind is not ReplyKind.ADVICE:
            # Unknown data, or a cooldown: said in the button's own little notice.
            await query.answer(text=reply.title if reply is not None else None)
            return
        await edit_in_place(message, reply)
        await query.answer()
        self.core.metrics.replied(PLATFORM, reply)

    # -- the bot's own membership ---------------------------------------------------------

    async def on_membership(self, update: Update, context: Context) -> None:
        """Added to a group: a short welcome where it may post. Removed: forget the group."""
        change = update.my_chat_member
        if change is None or change.chat.type not in GROUPS:
            return
        community = community_of(change.chat.id)
        was = is_member(change.old_chat_member)
        now = is_member(change.new_chat_member)
        if was and not now:
            await self.core.forget_community(community)
            log.info("removed from a group; its settings and pins are deleted")
            return
        if now and not was:
            log.info("added to a group")
            if SEND_RIGHT in missing_rights(change.new_chat_member):
                return
            welcome = await self.core.welcome(community)
            try:
                await send_html(context.bot, change.chat.id, escape(welcome), silent=True)
            except (BadRequest, Forbidden):
                log.info("could not post the welcome (no right to post)")

    async def on_migrate(self, update: Update, context: Context) -> None:
        """A group became a supergroup, with a new id: its settings move with it."""
        message = update.message
        if message is None or message.migrate_to_chat_id is None:
            return
        old = community_of(message.chat.id)
        await self.core.community_moved(old, community_of(message.migrate_to_chat_id))

    # -- errors -------------------------------------------------------------------------

    async def on_error(self, update: object, context: Context) -> None:
        """Log what failed (where in the code, never the update's text or ids) and, in a
        private chat, tell the person something broke on our side."""
        error = context.error
        if error is None:
            return
        self.core.metrics.failed(PLATFORM)
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("an update could not be handled: %s\n%s", type(error).__name__, frames)
        if not isinstance(update, Update):
            return
        chat = update.effective_chat
        user = update.effective_user
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            if chat is not None and chat.type == ChatType.PRIVATE:
                reply = self.core.error_reply(user.language_code if user else None)
                await send_reply(context.bot, chat.id, reply)
                self.core.metrics.replied(PLATFORM, reply)
        except TelegramError as failure:
            log.warning("could not send the apology: %s", type(failure).__name__)


def request_for(
    message: Message, name: str, options: Mapping[str, str], *, is_moderator: bool = False
) -> Request:
    """The core's request for a command in a message: the community and channel of a group,
    the sender's language, and their id only as the cooldown key."""
    user = message.from_user
    private = message.chat.type == ChatType.PRIVATE
    return Request(
        command=name,
        options=options,
        user_locale=user.language_code if user else None,
        community=None if private else community_of(message.chat.id),
        is_moderator=is_moderator,
        is_private_chat=private,
        user_key=str(user.id) if user else None,
        channel=None if private else str(message.chat.id),
    )
