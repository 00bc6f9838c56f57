"""A fake Telegram Bot API on 127.0.0.1: enough for python-telegram-bot to run against.

Every call arrives as ``POST /bot<token>/<method>`` and is recorded (method, decoded body,
HTTP status). ``getUpdates`` long-polls a queue the test fills with :meth:`inject` (at most
``limit`` updates an answer, 100 by default, as Telegram does). Chat
members and their rights decide what the bot may do, the way Telegram does: writing first to a
person who never opened the private chat is forbidden, deleting others' messages needs the
"delete messages" right, pinning needs the "pin messages" right. Text in HTML parse mode is
parsed: unknown or unbalanced tags and texts longer than 4,096 characters are refused.

Faults: a test can make the next calls of a method fail (:meth:`FakeTelegram.fail`: 429 with
``retry_after``, 5xx; :meth:`FakeTelegram.drop`: the connection reset, or no answer until the
client gave up waiting), or give the fake a :attr:`FakeTelegram.plan` deciding for each call.
A faulted call is never carried out, so a retry cannot deliver a message twice (real Telegram
may have sent the message when the connection breaks or the answer comes late: see
``RetryingRateLimiter``). ``getUpdates`` is the exception: its batch is collected (and what
the offset confirms is forgotten) before the answer is lost, the worst case for the bot's
offset logic.
A test can also hold the answers to a method (:meth:`FakeTelegram.hold`).

Several bots with one token, as Telegram treats them: a ``getUpdates`` long poll still waiting
when another ``getUpdates`` arrives is answered 409 Conflict ("terminated by other getUpdates
request"), and so is every ``getUpdates`` while a webhook is set. After ``setWebhook`` (its URL
and ``secret_token`` kept in :attr:`FakeTelegram.webhook`), :meth:`FakeTelegram.deliver_to`
makes the fake the sender and the reverse proxy in one: it POSTs each injected update, with
the header ``X-Telegram-Bot-Api-Secret-Token``, to local ports in turn (the webhook URL's path
on 127.0.0.1; the https URL itself is never contacted), and on a port refused, dead or
failing it moves on to the next, as a proxy with several upstreams does.

Flood limits, when ``limits`` is on (the pin tests and the benchmark; other tests send bursts
no real bot would and leave it off): more than :data:`MESSAGES_PER_SECOND` messages in any
second, or :data:`GROUP_MESSAGES_PER_MINUTE` to one group in any minute, and the call is
answered 429 with ``retry_after``, as Telegram does, and kept in :attr:`FakeTelegram.limited`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import socket
import struct
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bots.telegram import limits
from bots.telegram.app import CountingUpdateProcessor

TOKEN = "123:FAKE-TOKEN-FOR-TESTS"
"""Never a real token (real ones are 8-10 digits, a colon and 35 characters)."""
BOT_ID = 100000001
BOT_USERNAME = "safety_test_bot"
USER_ID = 200000001
"""The person using the bot in tests (never a real id)."""
ADMIN_ID = 200000002
"""A group administrator."""
STRANGER_ID = 200000003
"""Someone who never opened the private chat with the bot."""
GROUP_ID = -1003000000001
BASIC_GROUP_ID = -3000000002

BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Safety",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Fields sent as plain strings; every other field arrives JSON-encoded in a form body.
STRING_FIELDS = frozenset(
    {
        "text",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "description",
        "short_description",
        "name",
        "ip_address",
    }
)
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")
MESSAGES_PER_SECOND = 30
"""Telegram's flood limit for a whole bot (its FAQ: "no more than 30 messages per second")."""
GROUP_MESSAGES_PER_MINUTE = 20
"""And to one group ("no more than 20 messages per minute to the same group")."""
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance"
    " is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to"
    " delete the webhook first"
)
SENDERS = 8
"""Updates the fake delivers to webhooks at once (Telegram's ``max_connections``, 40 by
default, is more than a test needs)."""


def user(user_id: int = USER_ID, language: str | None = "en") -> dict[str, Any]:
    """A person; ``language`` is their app's ``language_code`` (None: not shared)."""
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Person"}
    if language is not None:
        person["language_code"] = language
    return person


def private_chat(user_id: int = USER_ID) -> dict[str, Any]:
    """The private chat with a person (its id is the person's id)."""
    return {"id": user_id, "type": "private", "first_name": "Person"}


def group_chat(chat_id: int = GROUP_ID) -> dict[str, Any]:
    """A supergroup (ids starting -100) or a basic group (other negative ids)."""
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "A community"}


def member(user_id: int, status: str = "member", **rights: bool) -> dict[str, Any]:
    """A ChatMember: ``member``, ``administrator`` (every right unless given False),
    ``creator``, ``restricted`` (``can_send_messages`` etc. given), ``left`` or ``kicked``."""
    person = BOT_USER if user_id == BOT_ID else user(user_id)
    base: dict[str, Any] = {"status": status, "user": person}
    if status == "administrator":
        names = (
            "can_be_edited",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        )
        base |= {name: rights.get(name, True) for name in names}
        base["can_be_edited"] = False
        base["is_anonymous"] = False
    elif status == "creator":
        base["is_anonymous"] = False
    elif status == "restricted":
        restricted_rights = (
            "can_send_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_react_to_messages",
            "can_edit_tag",
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_manage_topics",
        )
        base |= {name: rights.get(name, False) for name in restricted_rights}
        base["is_member"] = rights.get("is_member", True)
        base["until_date"] = 0
    elif status == "kicked":
        base["until_date"] = 0
    return base


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    body: dict[str, Any]
    status: int = 200
    result: Any = None
    fault: str | None = None
    """The injected fault's kind (:attr:`Failure.kind`), if the call was faulted; the
    ``result`` of a faulted ``getUpdates`` is the batch that was lost."""


RESET = "reset"
"""A fault: the connection is closed (TCP reset) without an answer."""
SLOW = "slow"
"""A fault: no answer until the client gave up waiting (its read timeout), then a reset."""


@dataclass
class Failure:
    """An error to answer instead of the next call of a method; ``status`` 0 is no answer at
    all (``description`` :data:`RESET` or :data:`SLOW`)."""

    method: str
    status: int
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``"429"``, ``"500"``, ...; or :data:`RESET` / :data:`SLOW`."""
        return str(self.status) if self.status else self.description


FAULTS = ("429", "500", "502", RESET, SLOW)
"""The kinds of :func:`fault`."""


def fault(method: str, kind: str, *, retry_after: float = 1) -> Failure:
    """A fault of ``kind`` (one of :data:`FAULTS`) for a call of ``method``. Telegram's
    ``retry_after`` is whole seconds; python-telegram-bot takes a fraction too (fast tests)."""
    if kind == "429":
        return Failure(method, 429, "Too Many Requests: retry later", {"retry_after": retry_after})
    if kind in ("500", "502"):
        description = "Internal Server Error" if kind == "500" else "Bad Gateway"
        return Failure(method, int(kind), description)
    if kind in (RESET, SLOW):
        return Failure(method, 0, kind)
    raise ValueError(f"unknown fault {kind!r}")


_ATTRIBUTES = {
    "a": {"href"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "blockquote": {"expandable"},
}
"""The attributes each tag may have in HTML parse mode (none for the others)."""


class _Html(HTMLParser):
    """Telegram's HTML parse mode, strictly enough to catch what it would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in limits.HTML_TAGS:
            self.errors.append(f"unsupported start tag {tag!r}")
        for name, value in attrs:
            if name not in _ATTRIBUTES.get(tag, set()):
                self.errors.append(f"unsupported attribute {name!r} of {tag!r}")
            elif (tag, name) == ("span", "class") and value != "tg-spoiler":
                self.errors.append('a span must be class="tg-spoiler"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unexpected end tag {tag!r}")


def check_html(text: str) -> str | None:
    """Why Telegram would refuse ``text`` in HTML parse mode, or None."""
    parser = _Html()
    parser.feed(text)
    parser.close()
    if parser.open:
        parser.errors.append(f"unclosed tags {parser.open}")
    # A bare "<" or "&" that is not markup is an error in Telegram's parser, which knows
    # numeric entities and only four named ones.
    if re.search(r"<(?![a-zA-Z/])|&(?!lt;|gt;|amp;|quot;|#\d+;|#x[0-9a-fA-F]+;)", text):
        parser.errors.append("unescaped < or &")
    if parser.errors:
        return "Bad Request: can't parse entities: " + "; ".join(parser.errors)
    length = limits.visible_length(text)
    if length == 0:
        return "Bad Request: message text is empty"
    if length > limits.MESSAGE_TEXT:
        return "Bad Request: message is too long"
    return None


class FakeTelegram:
    """The fake Bot API server; see the module docstring."""

    def __init__(self, token: str = TOKEN, *, limits: bool = False) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.limits = limits
        """Answer 429 above Telegram's flood limits (see the module docstring)."""
        self.limited: list[Call] = []
        """Calls answered 429 because they broke a flood limit."""
        self._flood = _FloodWindows()
        self.members: dict[tuple[int, int], dict[str, Any]] = {
            (GROUP_ID, BOT_ID): member(BOT_ID, "administrator"),
            (GROUP_ID, ADMIN_ID): member(ADMIN_ID, "administrator"),
            (BASIC_GROUP_ID, BOT_ID): member(BOT_ID, "member"),
        }
        self.opened_private_chat: set[int] = {USER_ID, ADMIN_ID}
        self.failures: list[Failure] = []
        self.plan: Callable[[Call], Failure | None] | None = None
        """Consulted for every call no :meth:`fail` or :meth:`drop` applies to."""
        self.held: dict[str, asyncio.Event] = {}
        self.pinned: dict[int, set[int]] = {}
        self.deleted: list[tuple[int, int]] = []
        self.shown: dict[tuple[int, int], tuple[str, Any]] = {}
        """What each message the bot sent shows now: (text, reply_markup)."""
        self.uneditable: set[tuple[int, int]] = set()
        """Messages Telegram answers "message can't be edited" for."""
        self._pending: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._closing = False
        self._polls = 0
        """``getUpdates`` calls so far: a waiting one sees a later one arrive."""
        self.webhook: dict[str, str] | None = None
        """The webhook set (``url``, ``secret_token``), None when there is none."""
        self.delivered: list[tuple[int, int]] = []
        """(update_id, port) of each update a webhook took (answered 200)."""
        self.missed: Counter[tuple[int, str]] = Counter()
        """Deliveries that failed, by (port, why): ``refused`` (nobody listening, or the
        process died mid-request) or the HTTP status it answered."""
        self._senders: list[asyncio.Task[None]] = []
        self.ports: list[int] = []
        """Where :meth:`deliver_to` sends updates, in turn; a test may change it (route every
        update to one process, as a proxy's sticky routing would)."""
        self._turns = itertools.count()
        self._update_ids = itertools.count(1)
        self.last_update_id = 0
        self.handed_out = 0
        """The last ``update_id`` a ``getUpdates`` answer delivered."""
        self._delivered: set[int] = set()
        """The ``update_id`` of every update delivered to the watched bot."""
        self._watched: tuple[CountingUpdateProcessor, Callable[[], Awaitable[None]]] | None = None
        self._message_ids = itertools.count(5000)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        # No access log: request paths hold the token, and the log is the bot's, not the fake's.
        self._runner = web.AppRunner(app, shutdown_timeout=1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Wake every long poll and close the server."""
        self._closing = True
        for gate in self.held.values():
            gate.set()
        async with self._arrived:
            self._arrived.notify_all()
        await asyncio.gather(*self._senders, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What the bot's ``base_url`` must be."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what tests do ---------------------------------------------------------------------

    async def inject(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates``; returns its ``update_id``."""
        update_id = self.last_update_id = next(self._update_ids)
        async with self._arrived:
            self._pending.append({"update_id": update_id, **update})
            self._arrived.notify_all()
        return update_id

    async def command(
        self,
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        sender: dict[str, Any] | None = None,
        **extra: Any,
    ) -> int:
        """A person types ``text`` (a command) in ``chat`` (default: their private chat).

        The ``bot_command`` entity is what Telegram marks: ``/help-threatened`` gives
        ``/help`` only. Returns the message id.
        """
        message_id = next(self._message_ids)
        sender = sender or user()
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat or private_chat(sender["id"]),
            "from": sender,
            "text": text,
            **extra,
        }
        found = _COMMAND.match(text)
        if found:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": found.end()}]
        await self.inject({"message": message})
        return message_id

    async def press(self, data: str, message: dict[str, Any], sender: dict[str, Any]) -> int:
        """A person presses an inline button with ``data`` on ``message`` (a sent message)."""
        query = {
            "id": str(next(self._message_ids)),
            "from": sender,
            "chat_instance": "1",
            "message": message,
            "data": data,
        }
        return await self.inject({"callback_query": query})

    async def membership(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        *,
        chat: dict[str, Any] | None = None,
        by: dict[str, Any] | None = None,
    ) -> int:
        """The bot's own membership of a group changed (``my_chat_member``)."""
        chat = chat or group_chat()
        self.members[(chat["id"], BOT_ID)] = new
        return await self.inject(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": by or user(ADMIN_ID),
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    def fail(
        self, method: str, status: int, description: str, times: int = 1, **parameters: Any
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        for _ in range(times):
            self.failures.append(Failure(method, status, description, dict(parameters)))

    def delete_by_hand(self, chat_id: int, message_id: int) -> None:
        """A moderator deletes one of the bot's messages."""
        self.shown.pop((chat_id, message_id), None)
        self.pinned.get(chat_id, set()).discard(message_id)

    def drop(self, method: str, *, slow: bool = False, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` by resetting the connection (at once,
        or when ``slow``, only once the client gave up waiting)."""
        for _ in range(times):
            self.failures.append(fault(method, SLOW if slow else RESET))

    def faults(self, method: str | None = None) -> list[Call]:
        """The faulted calls (of ``method`` if given)."""
        return [c for c in self.calls if c.fault and (method is None or c.method == method)]

    def hold(self, method: str) -> asyncio.Event:
        """Keep every answer to ``method`` waiting until the returned event is set, as a slow
        Telegram would (the call is recorded as soon as it arrives)."""
        gate = self.held[method] = asyncio.Event()
        return gate

    def sent(self, method: str, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Bodies of the successful calls of ``method`` (to ``chat_id`` if given)."""
        return [
            call.body
            for call in self.calls
            if call.method == method
            and call.status == 200
            and (chat_id is None or call.body.get("chat_id") == chat_id)
        ]

    def message_ids(self, chat_id: int) -> list[int]:
        """Ids of the messages the bot sent to ``chat_id``."""
        return [
            call.result["message_id"]
            for call in self.calls
            if call.method == "sendMessage"
            and call.status == 200
            and call.body.get("chat_id") == chat_id
        ]

    def answered(self) -> list[Call]:
        """Every call except the library's own housekeeping (polling, getMe, webhooks)."""
        quiet = {
            "getUpdates",
            "getMe",
            "deleteWebhook",
            "setWebhook",
            "getWebhookInfo",
            "setMyCommands",
            "setMyDefaultAdministratorRights",
        }
        return [call for call in self.calls if call.method not in quiet]

    async def wait_for(
        self, predicate: Callable[[], bool], within: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds (at most ``within`` seconds)."""
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; calls: {self.summary()}")
            await asyncio.sleep(0.005)

    async def wait_sent(self, method: str, count: int = 1, chat_id: int | None = None) -> None:
        """Wait until ``method`` succeeded ``count`` times (to ``chat_id`` if given)."""
        await self.wait_for(
            lambda: len(self.sent(method, chat_id)) >= count, what=f"{count} x {method}"
        )

    def watch(
        self, updates: CountingUpdateProcessor, background: Callable[[], Awaitable[None]]
    ) -> None:
        """Let :meth:`settle` wait on a bot about to poll: ``updates`` counts the updates it
        finished, ``background()`` waits for its background work (pin refreshes)."""
        self._watched = (updates, background)
        self._delivered = set()

    async def settle(self, *, background: bool = True, within: float = 5.0) -> None:
        """Wait until the watched bot fetched every update injected so far, finished handling
        each one (all handlers and the error handler done) and, unless ``background`` is
        False, finished its background work (pin refreshes, the start-up one included): after
        this, whatever the bot was going to do is done."""
        if self._watched is None:
            raise AssertionError("settle needs a bot started by tests.telegram.conftest.running")
        updates, wait_background = self._watched
        last = self.last_update_id
        await self.wait_for(lambda: self._confirmed(last), within, what=f"update {last}")
        # Every update up to the last one was delivered once confirmed; one delivered twice
        # (a batch the bot could not parse is fetched again) is handled once.
        try:
            await asyncio.wait_for(updates.wait_finished(len(self._delivered)), within)
            if background:
                await asyncio.wait_for(wait_background(), within)
        except TimeoutError:
            raise AssertionError(
                f"timed out: {updates.finished} of {len(self._delivered)} updates finished;"
                f" calls: {self.summary()}"
            ) from None

    def summary(self) -> list[str]:
        """Calls as ``method:status`` (for failure messages)."""
        return [f"{c.method}:{c.status}" for c in self.calls if c.method != "getUpdates"]

    def _confirmed(self, update_id: int) -> bool:
        return any(
            c.method == "getUpdates" and int(c.body.get("offset") or 0) > update_id
            for c in self.calls
        )

    # -- the server ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        body = await _decode(request)
        call = Call(method, body)
        self.calls.append(call)
        if method in self.held:
            await self.held[method].wait()
        if self.limits and (retry_after := self._flood.refuse(method, body)):
            call.status = 429
            self.limited.append(call)
            description = f"Too Many Requests: retry after {retry_after}"
            return _error(429, description, {"retry_after": retry_after})
        if method == "getUpdates":
            # Collected before a fault applies: the batch was ready when the answer got lost.
            try:
                call.result = await self._getUpdates(body)
            except _ApiError as error:
                call.status = error.status
                return _error(error.status, error.description)
        failure = next((f for f in self.failures if f.method == method), None)
        if failure is not None:
            self.failures.remove(failure)
        elif self.plan is not None:
            failure = self.plan(call)
        if failure is not None:
            return await self._fail(request, call, failure)
        if method == "getUpdates":
            if call.result:
                self.handed_out = call.result[-1]["update_id"]
                self._delivered.update(update["update_id"] for update in call.result)
            return web.json_response({"ok": True, "result": call.result})
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(body)
        except _ApiError as error:
            call.status = error.status
            return _error(error.status, error.description)
        call.result = result
        return web.json_response({"ok": True, "result": result})

    async def _fail(self, request: web.Request, call: Call, failure: Failure) -> web.Response:
        call.status = failure.status
        call.fault = failure.kind
        if failure.status:
            return _error(failure.status, failure.description, failure.parameters)
        if failure.description == SLOW:
            for _ in range(6000):  # until the client gives up waiting (a minute at most)
                if self._closing or _gone(request):
                    break
                await asyncio.sleep(0.01)
        _reset(request)
        return web.Response()  # never sent: the connection is gone

    async def _getMe(self, body: dict[str, Any]) -> Any:
        return BOT_USER

    async def _deleteWebhook(self, body: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _getWebhookInfo(self, body: dict[str, Any]) -> Any:
        url = self.webhook["url"] if self.webhook is not None else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _setWebhook(self, body: dict[str, Any]) -> Any:
        self.webhook = {"url": body["url"], "secret_token": body.get("secret_token", "")}
        async with self._arrived:
            self._arrived.notify_all()  # a webhook set: waiting polls end in a conflict
        return True

    async def _setMyCommands(self, body: dict[str, Any]) -> Any:
        return True

    async def _setMyDefaultAdministratorRights(self, body: dict[str, Any]) -> Any:
        return True

    async def _answerCallbackQuery(self, body: dict[str, Any]) -> Any:
        return True

    async def _getUpdates(self, body: dict[str, Any]) -> Any:
        offset = int(body.get("offset") or 0)
        timeout = float(body.get("timeout") or 0)
        limit = int(body.get("limit") or 100)
        self._polls += 1
        poll = self._polls
        async with self._arrived:
            self._arrived.notify_all()  # a poll still waiting is terminated by this one
            if self.webhook is not None:
                raise _ApiError(409, WEBHOOK_ACTIVE)
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            if not self._pending and timeout > 0 and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._arrived.wait_for(
                            lambda: (
                                bool(self._pending)
                                or self._closing
                                or self._polls != poll
                                or self.webhook is not None
                            )
                        ),
                        timeout,
                    )
            if self._polls != poll:
                raise _ApiError(409, TERMINATED)
            if self.webhook is not None:
                raise _ApiError(409, WEBHOOK_ACTIVE)
            return self._pending[:limit]

    # -- webhook delivery ------------------------------------------------------------------

    def deliver_to(self, ports: list[int], senders: int = SENDERS) -> None:
        """From now on, POST each injected update to the webhook's path on these ports of
        127.0.0.1, in turn (``senders`` updates at once), each one until a port takes it."""
        self.ports = list(ports)
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

        async def sender() -> None:
            while (update := await self._next_to_deliver()) is not None:
                await self._deliver(session, update)

        async def senders_then_close() -> None:
            try:
                await asyncio.gather(*(sender() for _ in range(senders)))
            finally:
                await session.close()

        self._senders.append(asyncio.create_task(senders_then_close()))

    def delivered_to(self, port: int) -> list[int]:
        """The ``update_id`` of each update the webhook on ``port`` took."""
        return [update_id for update_id, taken in self.delivered if taken == port]

    async def _next_to_deliver(self) -> dict[str, Any] | None:
        async with self._arrived:
            await self._arrived.wait_for(lambda: bool(self._pending) or self._closing)
            return None if self._closing else self._pending.pop(0)

    async def _deliver(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        """POST ``update`` to the next port, then the next, until one answers 200."""
        for attempt in itertools.count(1):
            if self._closing:
                return
            hook = self.webhook
            if hook is None:
                raise AssertionError("deliver_to needs a webhook: no setWebhook yet")
            port = self.ports[next(self._turns) % len(self.ports)]
            url = f"http://127.0.0.1:{port}{urlsplit(hook['url']).path}"
            headers = {SECRET_HEADER: hook["secret_token"]}
            try:
                async with session.post(url, json=update, headers=headers) as answer:
                    if answer.status == 200:
                        self.delivered.append((update["update_id"], port))
                        return
                    self.missed[(port, str(answer.status))] += 1
            except (aiohttp.ClientError, OSError, TimeoutError):
                self.missed[(port, "refused")] += 1
            if attempt % len(self.ports) == 0:
                await asyncio.sleep(0.05)  # every port failed once: wait a little, as a proxy

    async def _getChatMember(self, body: dict[str, Any]) -> Any:
        chat_id, user_id = int(body["chat_id"]), int(body["user_id"])
        return self.members.get((chat_id, user_id), member(user_id))

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return private_chat(chat_id) if chat_id > 0 else group_chat(chat_id)

    def _bot_member(self, chat_id: int) -> dict[str, Any]:
        return self.members.get((chat_id, BOT_ID), member(BOT_ID))

    def _may_post(self, chat_id: int) -> None:
        if chat_id > 0:
            if chat_id not in self.opened_private_chat:
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return
        me = self._bot_member(chat_id)
        if me["status"] in ("left", "kicked"):
            raise _ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        if me["status"] == "restricted" and not me["can_send_messages"]:
            raise _ApiError(400, "Bad Request: not enough rights to send text messages to the chat")

    def _message(self, chat_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
        return {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": BOT_USER,
            "text": html.unescape(limits.strip_tags(text)),
        }

    async def _sendMessage(self, body: dict[str, Any]) -> Any:
        chat_id = int(body["chat_id"])
        self._may_post(chat_id)
        problem = check_html(body["text"]) if body.get("parse_mode") == "HTML" else None
        if problem:
            raise _ApiError(400, problem)
        sent = self._message(chat_id, body["text"])
        self.shown[(chat_id, sent["message_id"])] = (body["text"], body.get("reply_markup"))
        return sent

    async def _editMessageText(self, body: dict[str, Any]) -> Any:
        chat_id = int(body["chat_id"])
        key = (chat_id, int(body["message_id"]))
        if chat_id < 0 and self._bot_member(chat_id)["status"] in ("left", "kicked"):
            raise _ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        if key not in self.shown:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if key in self.uneditable:
            raise _ApiError(400, "Bad Request: message can't be edited")
        problem = check_html(body["text"]) if body.get("parse_mode") == "HTML" else None
        if problem:
            raise _ApiError(400, problem)
        shown = (body["text"], body.get("reply_markup"))
        if self.shown[key] == shown:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply"
                " markup are exactly the same as a current content and reply markup of the message",
            )
        self.shown[key] = shown
        return self._message(chat_id, body["text"], key[1])

    async def _deleteMessage(self, body: dict[str, Any]) -> Any:
        chat_id = int(body["chat_id"])
        if chat_id < 0:
            me = self._bot_member(chat_id)
            if me["status"] != "administrator" or not me.get("can_delete_messages"):
                raise _ApiError(400, "Bad Request: message can't be deleted")
        self.deleted.append((chat_id, int(body["message_id"])))
        # A deleted message is no longer pinned either.
        self.pinned.get(chat_id, set()).discard(int(body["message_id"]))
        return True

    async def _pinChatMessage(self, body: dict[str, Any]) -> Any:
        chat_id = int(body["chat_id"])
        self._may_pin(chat_id)
        self.pinned.setdefault(chat_id, set()).add(int(body["message_id"]))
        return True

    async def _unpinChatMessage(self, body: dict[str, Any]) -> Any:
        chat_id = int(body["chat_id"])
        self._may_pin(chat_id)
        self.pinned.get(chat_id, set()).discard(int(body.get("message_id") or 0))
        return True

    def _may_pin(self, chat_id: int) -> None:
        me = self._bot_member(chat_id)
        if chat_id < 0 and (me["status"] != "administrator" or not me.get("can_pin_messages")):
            raise _ApiError(
                400, "Bad Request: not enough rights to manage pinned messages in the chat"
            )


class _FloodWindows:
    """The messages of the last second, and to each group of the last minute."""

    def __init__(self) -> None:
        self.overall: deque[float] = deque()
        self.groups: dict[int, deque[float]] = {}

    def refuse(self, method: str, body: dict[str, Any]) -> int:
        """Seconds the bot must wait (Telegram's whole ``retry_after``) if this call would
        break a limit, else 0 (and it is counted). Messages are the calls that send or change
        something in a chat; reading (``get...``) is free."""
        chat = body.get("chat_id")
        if chat is None or method.startswith("get"):
            return 0
        now = time.monotonic()
        windows = [(self.overall, 1.0, MESSAGES_PER_SECOND)]
        if isinstance(chat, int) and chat < 0:
            group = self.groups.setdefault(chat, deque())
            windows.append((group, 60.0, GROUP_MESSAGES_PER_MINUTE))
        for sent, period, limit in windows:
            while sent and sent[0] <= now - period:
                sent.popleft()
            if len(sent) >= limit:
                return max(1, math.ceil(sent[0] + period - now))
        for sent, _period, _limit in windows:
            sent.append(now)
        return 0


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _gone(request: web.Request) -> bool:
    """Whether the client closed the connection (it stopped waiting)."""
    return request.transport is None or request.transport.is_closing()


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP reset (SO_LINGER 0), as a broken network would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _decode(request: web.Request) -> dict[str, Any]:
    """A call's parameters, from a form (as python-telegram-bot sends them) or JSON."""
    if request.content_type == "application/json":
        data: dict[str, Any] = await request.json()
        return data
    form = await request.post()
    body: dict[str, Any] = {}
    for key, value in form.items():
        text = value if isinstance(value, str) else str(value)
        if key in STRING_FIELDS:
            body[key] = text
            continue
        try:
            body[key] = json.loads(text)
        except ValueError:
            body[key] = text
    return body
