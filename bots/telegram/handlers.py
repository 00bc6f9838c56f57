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
from functools import lru_cache

from telegram import (
    Bot,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
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
from bots.telegram.render import escape
from shared.commands import BY_NAME, TOPICS, Audience, Option, canonical_name
from shared.core import Core
from shared.metrics import Refusal
from shared.models import Age, Community, Reply, ReplyKind, Request, Settings

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
"""The updates the bot asks for; edited messages, reactions and the like never arrive."""
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
MODERATOR_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
MODERATOR_RIGHTS: dict[str, str] = {
    "pin-advice": "can_pin_messages",
    "unpin-advice": "can_pin_messages",
}
"""The admin right a moderator command needs besides being an administrator (as on Discord,
and as Telegram asks of an admin who pins by hand); the group's creator has every right."""
# Admin rights named in ``pin_missing_right``: keys ``permission_<name>`` of the content.
SEND_RIGHT = "send_messages"
PIN_RIGHT = "pin_messages"

Context = ContextTypes.DEFAULT_TYPE


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


def is_member(member: ChatMember) -> bool:
    """Whether a chat member status means "in the chat"."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in (*MODERATOR_STATUSES, ChatMemberStatus.MEMBER)


def missing_rights(member: ChatMember) -> list[str]:
    """The rights the bot lacks to post and pin advice in a group, given its own membership.

    Pinning in a group needs an administrator with the "pin messages" right.
    """
    missing = []
    if not is_member(member) or (
        isinstance(member, ChatMemberRestricted) and not member.can_send_messages
    ):
        missing.append(SEND_RIGHT)
    can_pin = member.status == ChatMemberStatus.OWNER or (
        isinstance(member, ChatMemberAdministrator) and member.can_pin_messages is not False
    )
    if not can_pin:
        missing.append(PIN_RIGHT)
    return missing


class Handlers:
    """The bot's update handlers, bound to one core."""

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
        text = message.text
        typed, _, addressee = text.split(maxsplit=1)[0].partition("@")
        if addressee and addressee.lower() != (context.bot.username or "").lower():
            return  # a command for another bot in the same group
        private = message.chat.type == ChatType.PRIVATE
        if typed.lower() == "/start":
            if private:
                await self._start(message, text.split(maxsplit=1)[1:])  # all words after it
            elif message.chat.type in GROUPS:
                await self._point(message, context, "help", {})
            return
        read = self.core.read(text)
        if read is None or read.name is None:
            if private:
                await self._answer_privately(message, self._request(message, typed, {}))
            # In a group, an unknown command is another bot's: stay silent.
            return
        name = read.name
        if BY_NAME[name].audience is Audience.MODERATORS:
            await self._moderate(message, context, name, read.options)
        elif private:
            await self._answer_privately(message, self._request(message, name, read.options))
        elif message.chat.type in GROUPS:
            await self._point(message, context, name, read.options)

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
            request = self._request(message, "", {})  # free text: "" is no command
        else:
            request = self._request(message, read.name, read.options)
        await self._answer_privately(message, request)

    def _request(
        self,
        message: Message,
        name: str,
        options: Mapping[str, str],
        *,
        is_moderator: bool = False,
    ) -> Request:
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
        )

    async def _answer_privately(self, message: Message, request: Request) -> None:
        reply = await self.core.handle(request)
        await send_reply(message.get_bot(), message.chat.id, reply)
        self.core.metrics.replied(PLATFORM, reply)

    async def _start(self, message: Message, args: Sequence[str]) -> None:
        """``/start`` in the private chat; ``/start <payload>`` from a deep link opens a topic
        for the region and language of the group the person came from."""
        user = message.from_user
        if not args:
            await self._answer_privately(message, self._request(message, "help", {}))
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
        """In a group: delete the person's command (where the bot may) and post one neutral
        line with a button that opens the private chat on that topic (for the region the
        person typed, if any, else the group's)."""
        user = message.from_user
        community = community_of(message.chat.id)
        settings = await self.core.settings(community)
        locale = self.core.locale_for(user.language_code if user else None, settings)
        await self._delete(message)
        if self.core.cooldown_reply(str(user.id) if user else None, locale) is not None:
            return  # asked too often: the command is gone, and the group hears nothing
        region = (
            self.core.region_code(options.get(Option.REGION.value))
            or settings.region
            or self.core.config.default_region
        )
        link = render.deep_link(
            context.bot.username, render.start_payload(name, region, settings.language)
        )
        label = self.core.text(locale, "private_button")
        await send_html(
            context.bot,
            message.chat.id,
            escape(self.core.text(locale, "private_pointer")),
            markup([[{"text": label, "url": link}]]),
            silent=True,
        )
        self.core.metrics.pointed(PLATFORM, name, region, locale)

    async def _delete(self, message: Message) -> None:
        """Delete a person's message, so the group does not see who asked; needs the
        "delete messages" admin right, and is skipped without it, or when Telegram fails
        (what comes next, such as the pointer, matters more)."""
        try:
            await message.delete()
        except (BadRequest, Forbidden):
            log.debug("could not delete a command (no right to delete messages)")
        except TelegramError as error:
            log.warning("could not delete a command: %s", type(error).__name__)

    # -- moderators ---------------------------------------------------------------------

    async def _moderate(
        self, message: Message, context: Context, name: str, options: Mapping[str, str]
    ) -> None:
        if message.chat.type not in GROUPS:
            # The core refuses moderator commands outside a group, saying why.
            await self._answer_privately(message, self._request(message, name, options))
            return
        moderator = await self._is_moderator(message, name)
        request = self._request(message, name, options, is_moderator=moderator)
        if name == "pin-advice":
            await self._pin(message, context, request)
        elif name == "unpin-advice":
            await self._unpin(message, request)
        else:
            await self._tell(message, await self.core.handle(request))

    async def _is_moderator(self, message: Message, name: str) -> bool:
        """Creator, or administrator with the right the command needs, asked of Telegram every
        time."""
        if message.sender_chat is not None:
            # The group itself is an anonymous administrator; a channel (or any other chat)
            # posting in the group is nobody whose rights can be checked.
            return message.sender_chat.id == message.chat.id
        if message.from_user is None:
            return False
        member = await message.chat.get_member(message.from_user.id)
        if member.status == ChatMemberStatus.OWNER:
            return True
        right = MODERATOR_RIGHTS.get(name)
        return isinstance(member, ChatMemberAdministrator) and (
            right is None or getattr(member, right) is True
        )

    async def _tell(self, message: Message, reply: Reply) -> None:
        """Answer a moderator command's sender in the private chat; if the bot may not write
        to them there (they never opened it), answer in the group, silently."""
        user = message.from_user
        anonymous = message.sender_chat is not None
        if user is not None and not anonymous and not user.is_bot:
            try:
                await send_reply(message.get_bot(), user.id, reply)
                self.core.metrics.replied(PLATFORM, reply)
                return
            except (Forbidden, BadRequest):
                log.debug("cannot write to the person privately; answering in the group")
        await send_reply(message.get_bot(), message.chat.id, reply, silent=True)
        self.core.metrics.replied(PLATFORM, reply)

    async def _locale(self, message: Message) -> str:
        user = message.from_user
        settings = await self.core.settings(community_of(message.chat.id))
        return self.core.locale_for(user.language_code if user else None, settings)

    def _notice(
        self, locale: str, key: str, kind: ReplyKind = ReplyKind.NOTICE, **values: str
    ) -> Reply:
        return Reply(title=self.core.text(locale, key, **values), kind=kind, locale=locale)

    async def _missing_right_reply(self, message: Message, rights: Sequence[str]) -> Reply:
        self.core.metrics.refused(Refusal.BOT_MISSING_RIGHT)
        locale = await self._locale(message)
        names = ", ".join(self.core.text(locale, f"permission_{right}") for right in rights)
        return self._notice(locale, "pin_missing_right", ReplyKind.REFUSAL, right=names)

    async def _pin(self, message: Message, context: Context, request: Request) -> None:
        """Post a topic in the group, pin it silently and remember it."""
        post = await self.core.handle(request)
        if post.kind is not ReplyKind.ADVICE or post.topic is None or request.community is None:
            await self._tell(message, post)  # a refusal, a cooldown, an unknown topic
            return
        bot = context.bot
        lacking = missing_rights(await message.chat.get_member(bot.id))
        if lacking:
            await self._tell(message, await self._missing_right_reply(message, lacking))
            return
        try:
            sent = await send_reply(bot, message.chat.id, post, silent=True)
        except (BadRequest, Forbidden):
            await self._tell(message, await self._missing_right_reply(message, [SEND_RIGHT]))
            return
        try:
            await bot.pin_chat_message(
                message.chat.id, sent[0].message_id, disable_notification=True
            )
        except (BadRequest, Forbidden):
            for posted in sent:
                await self._delete(posted)
            await self._tell(message, await self._missing_right_reply(message, [PIN_RIGHT]))
            return
        recorded = await self.core.record_pin(
            request.community,
            str(message.chat.id),
            str(sent[0].message_id),
            post.topic,
            self.core.content_version(post),
        )
        locale = await self._locale(message)
        if not recorded:
            # A pin the bot cannot find again could never be unpinned or updated by it.
            for posted in sent:
                await self._delete(posted)
            await self._tell(message, self.core.save_failed_reply(locale))
            return
        await self._tell(
            message, self._notice(locale, "pin_done", topic=render.command(post.topic))
        )

    async def _unpin(self, message: Message, request: Request) -> None:
        """Unpin the bot's posts of a topic (of every topic when none is named)."""
        locale = await self._locale(message)
        refusal = self.core.refusal(
            BY_NAME["unpin-advice"], request, locale
        ) or self.core.cooldown_reply(request.user_key, locale)
        topic, invalid = self.core.chosen_topic(request.options, locale)
        problem = refusal or invalid
        if problem is not None:
            await self._tell(message, problem)
            return
        topics: Sequence[str] = [topic] if topic else TOPICS
        assert request.community is not None
        bot = message.get_bot()
        unpinned: list[str] = []
        for topic in topics:
            removed = await self.core.forget_pins(request.community, topic)
            if removed is None:
                await self._tell(message, self.core.save_failed_reply(locale))
                return
            for post in removed:
                if topic not in unpinned:
                    unpinned.append(topic)
                try:
                    await bot.unpin_chat_message(int(post.channel_id), int(post.message_id))
                except (BadRequest, Forbidden):
                    log.info("could not unpin a post (deleted, or the right was taken away)")
        key = "unpin_done" if unpinned else "unpin_none"
        names = ", ".join(render.command(topic) for topic in unpinned or topics)
        await self._tell(message, self._notice(locale, key, topic=names))

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
        locale = self.core.locale_for(
            query.from_user.language_code, Settings(language=narrow.locale)
        )
        # A tap edits the person's own private answer: it never counts against the cooldown
        # (only against the allowance that stops a script flooding the bot).
        waiting = self.core.cooldown_reply(str(query.from_user.id), locale, private=True)
        reply = self.narrowed(narrow, locale)
        if waiting is not None or reply is None:
            await query.answer(text=waiting.title if waiting is not None else None)
            return
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
                context.bot, message.chat.id, piece, keyboard if index == len(pieces) else None
            )
        await query.answer()
        self.core.metrics.replied(PLATFORM, reply)

    def narrowed(self, narrow: render.Narrow, locale: str) -> Reply | None:
        """The advice a narrowing button asks for; None when its topic or region is unknown
        (the data came from elsewhere, or from an older version of the content)."""
        topic = self.core.topic_option(narrow.topic)
        region = self.core.region_code(narrow.region)
        if topic is None or region is None:
            return None
        age = {a.value: a for a in (Age.UNDER18, Age.ADULT)}.get(narrow.age or "")
        return self.core.advice(topic, locale, region, age)

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
            settings = await self.core.settings(community)
            locale = self.core.locale_for(None, settings)
            try:
                await send_html(
                    context.bot,
                    change.chat.id,
                    escape(self.core.text(locale, "welcome")),
                    silent=True,
                )
            except (BadRequest, Forbidden):
                log.info("could not post the welcome (no right to post)")

    async def on_migrate(self, update: Update, context: Context) -> None:
        """A group became a supergroup, with a new id: its settings move with it."""
        message = update.message
        if message is None or message.migrate_to_chat_id is None:
            return
        old = community_of(message.chat.id)
        settings = await self.core.settings(old)
        new = community_of(message.migrate_to_chat_id)
        if settings != Settings() and not await self.core.save_settings(new, settings):
            return  # the store failed (logged): keep the old row rather than lose the settings
        await self.core.forget_community(old)

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
