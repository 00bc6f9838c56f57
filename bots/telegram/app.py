"""Running the Telegram bot: the Application, its rate limits and retries, the command menu,
polling or webhook, and library logs kept free of what people write.

``safety-bot run`` calls :func:`serve` when ``TELEGRAM_TOKEN`` (or ``[telegram] token``) is
set; it runs until cancelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
    ChatAdministratorRights,
    Update,
)
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ExtBot, SimpleUpdateProcessor
from telegram.request import HTTPXRequest

from bots.app import Backoff, TokenRejected, Unreachable, describe
from bots.telegram import limits
from bots.telegram.handlers import ALLOWED_UPDATES, PLATFORM, Handlers
from bots.telegram.pins import TelegramEditor
from shared.commands import COMMANDS, Audience, telegram_name
from shared.config import TOKEN_VARIABLES
from shared.core import Core
from shared.pins import EDITS_IN_FLIGHT, Counts

log = logging.getLogger(__name__)

COMMANDS_META_KEY = "telegram.commands"
"""Store meta key holding ``<bot id>:<hash>`` of the last command menu sent to Telegram."""
NETWORK_RETRIES = 3
RETRY_DELAY = 0.5
"""Seconds before the first retry after a network error or a 5xx; doubles each time."""
RATE_LIMIT_RETRIES = 3
"""Times a call is retried after a 429, each after the ``retry_after`` Telegram asks for."""
CONCURRENT_UPDATES = 32
READ_TIMEOUT = 5.0
"""Seconds to wait for Telegram's answer to a call (python-telegram-bot's default); a
``getUpdates`` long poll gets its ``timeout`` on top."""
POLL_TIMEOUT = 10
"""Seconds Telegram may hold a ``getUpdates`` long poll open while no update comes."""
ADMIN_RIGHTS = ChatAdministratorRights(
    is_anonymous=False,
    can_manage_chat=False,
    can_delete_messages=True,
    can_manage_video_chats=False,
    can_restrict_members=False,
    can_promote_members=False,
    can_change_info=False,
    can_invite_users=False,
    can_post_stories=False,
    can_edit_stories=False,
    can_delete_stories=False,
    can_pin_messages=True,
)
"""The admin rights Telegram suggests when a group makes the bot an administrator: only the
two it uses, deleting commands (so the group does not see who asked) and pinning advice."""
LIBRARY_LOGGERS = (
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
    "telegram.request.BaseRequest",
)
"""python-telegram-bot loggers that can print raw updates (message text, user ids)."""


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's rate limits (30 messages/s overall, 20/min per group) and 429
    ``retry_after`` from :class:`AIORateLimiter`, plus retries with backoff after network
    errors and 5xx answers, and answers before background work.

    A call marked :data:`~bots.telegram.limits.BACKGROUND` (a pinned-post edit) also waits
    while the messages of the last second leave less than
    :data:`~bots.telegram.limits.ROOM_FOR_ANSWERS` of Telegram's limit: when many people ask
    at once, edits give way instead of crowding answers into a 429.

    A timeout is not retried: Telegram may have sent the message already, and a person must
    never get the same answer twice (in a private chat, an apology comes instead). A
    connection broken before the answer is retried: nearly always a stale keep-alive
    connection Telegram never read, though if Telegram did read it, the answer comes twice.
    """

    def __init__(
        self,
        *,
        network_retries: int = NETWORK_RETRIES,
        retry_delay: float = RETRY_DELAY,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_retries", RATE_LIMIT_RETRIES)
        super().__init__(**kwargs)
        self._network_retries = network_retries
        self._retry_delay = retry_delay
        overall = kwargs.get("overall_max_rate", limits.MESSAGES_PER_SECOND)
        # Background calls may fill the last second up to this many messages (0: no limit).
        self._background_max = int(max(1, overall - limits.ROOM_FOR_ANSWERS)) if overall else 0
        self._recent: deque[float] = deque()
        """When each message of the last second went (or, for background, was let go)."""

    async def process_request(self, *args: Any, **kwargs: Any) -> Any:
        """Send one Bot API call through the rate limits, retrying network failures."""
        endpoint = kwargs.get("endpoint", "")
        if kwargs.get("rate_limit_args") == limits.BACKGROUND:
            kwargs["rate_limit_args"] = None
            await self._room_for_background()
        elif self._background_max and (kwargs.get("data") or {}).get("chat_id") is not None:
            kwargs["callback"] = self._counted(kwargs["callback"])
        attempt = 0
        while True:
            try:
                return await super().process_request(*args, **kwargs)
            except (BadRequest, TimedOut):
                raise
            except NetworkError as error:
                if attempt >= self._network_retries:
                    raise
                delay = self._retry_delay * 2**attempt
                attempt += 1
                log.warning(
                    "Telegram call %s failed (%s); retry %d in %.2f s",
                    endpoint,
                    type(error).__name__,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)

    def _counted(self, callback: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """``callback``, noting when each of its tries goes out."""

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self._recent.append(self._last_second())
            return await callback(*args, **kwargs)

        return counted

    def _last_second(self) -> float:
        """Now, with the messages older than a second forgotten."""
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 1:
            self._recent.popleft()
        return now

    async def _room_for_background(self) -> None:
        """Wait until the last second's messages leave room for answers; then take a place."""
        if not self._background_max:
            return
        while True:
            now = self._last_second()
            if len(self._recent) < self._background_max:
                # Taken at once, before any other wait: background calls let go together
                # cannot overfill the second.
                self._recent.append(now)
                return
            await asyncio.sleep(self._recent[len(self._recent) - self._background_max] + 1 - now)


class SafeBot(ExtBot[Any]):
    """An ExtBot that survives an update it cannot read.

    python-telegram-bot parses a ``getUpdates`` batch in one go: one malformed update makes
    the whole batch fail, fetched again forever, and logged with its raw text. When a batch
    fails to parse, it is fetched once more with each update checked alone; one that cannot
    be read is replaced by an empty update with the same id, which no handler answers, so
    polling moves past it. Readable batches are parsed once, as usual.
    """

    _check_each = False
    _rejected: asyncio.Event | None = None

    @property
    def rejected(self) -> asyncio.Event:
        """Set when Telegram refuses the token while polling."""
        if self._rejected is None:
            self._rejected = asyncio.Event()
        return self._rejected

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Updates as usual; a batch that cannot be parsed is fetched again, update by update."""
        try:
            return await super().get_updates(*args, **kwargs)
        except InvalidToken:
            # Not raised into python-telegram-bot's polling task, which would end without a
            # word (and leave its error unretrieved): ``serve`` sees the event and stops.
            self.rejected.set()
            return ()
        except TelegramError:
            raise
        except Exception:
            # Unconfirmed updates come back on the same offset, so nothing is lost.
            self._check_each = True
            try:
                return await super().get_updates(*args, **kwargs)
            finally:
                self._check_each = False

    async def _do_post(self, *args: Any, **kwargs: Any) -> Any:
        result = await super()._do_post(*args, **kwargs)
        endpoint = kwargs.get("endpoint", args[0] if args else "")
        if self._check_each and endpoint == "getUpdates" and isinstance(result, list):
            return [_readable(item) for item in result]
        return result


def _readable(item: Any) -> Any:
    try:
        Update.de_json(item, None)
    except Exception:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int):
            raise
        log.warning("skipped an update that could not be read (update %d)", update_id)
        return {"update_id": update_id}
    return item


class CountingUpdateProcessor(SimpleUpdateProcessor):
    """Handles up to ``max_concurrent_updates`` updates at once, as python-telegram-bot's
    :class:`SimpleUpdateProcessor` does, and counts the updates it has finished: every
    handler and the error handler done. :meth:`wait_finished` lets a caller wait for that
    instead of guessing how long handling takes."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self.finished = 0
        """Updates handled to the end since the application was built."""
        self._progress = asyncio.Event()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle one update (all its handlers, and the error handler if one failed)."""
        try:
            await coroutine
        finally:
            self.finished += 1
            # Wake every waiter, then give later ones a fresh event to wait on.
            self._progress.set()
            self._progress = asyncio.Event()

    async def wait_finished(self, count: int) -> None:
        """Wait until ``count`` updates are finished."""
        while self.finished < count:
            await self._progress.wait()


class _WithholdData(logging.Filter):
    """Keeps update contents out of python-telegram-bot's logs.

    Debug records there carry whole requests and updates; they are dropped. Other records keep
    their message, with any structured argument (an update, a request body) withheld.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return False
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg if isinstance(arg, int | float | BaseException) else "[withheld]"
                for arg in record.args
            )
        elif isinstance(record.args, Mapping):
            record.args = ()
        return True


_FILTER = _WithholdData()


def quiet_library_logs() -> None:
    """Attach the filter that keeps message text and user ids out of the library's logs."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def file_base_url(base_url: str) -> str:
    """The file download URL of a Bot API server (``.../bot`` -> ``.../file/bot``)."""
    stem = base_url.removesuffix("/bot")
    return f"{stem}/file/bot"


def build_application(
    core: Core,
    *,
    rate_limiter: RetryingRateLimiter | None = None,
    read_timeout: float = READ_TIMEOUT,
) -> Application:  # type: ignore[type-arg]
    """The Application for ``core.config.telegram``, with every handler registered."""
    config = core.config.telegram
    if not config.token:
        raise ValueError("no Telegram token: set TELEGRAM_TOKEN")
    # Time periods (a 429's retry_after) as timedelta: python-telegram-bot's documented opt-in
    # to its next major version, which otherwise warns on every rate-limit answer.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    bot = SafeBot(
        config.token,
        base_url=config.base_url,
        base_file_url=file_base_url(config.base_url),
        # A connection for each update handled at once and each pinned-post edit under way,
        # so a refresh never leaves an answer waiting for a connection.
        request=HTTPXRequest(
            connection_pool_size=CONCURRENT_UPDATES + EDITS_IN_FLIGHT + 8,
            read_timeout=read_timeout,
        ),
        get_updates_request=HTTPXRequest(read_timeout=read_timeout),
        rate_limiter=rate_limiter or RetryingRateLimiter(),
    )
    updates = CountingUpdateProcessor(CONCURRENT_UPDATES)
    application = Application.builder().bot(bot).concurrent_updates(updates).build()
    Handlers(core).register(application)
    return application


# -- the command menu -----------------------------------------------------------------------


def command_lists(core: Core) -> list[dict[str, Any]]:
    """Every ``setMyCommands`` call, as data: people's commands for everyone, plus the
    moderators' for group administrators, in the default language (no ``language_code``)
    and in each language of the content."""
    lists = []
    scopes = (
        (BotCommandScope.DEFAULT, (Audience.EVERYONE,)),
        (BotCommandScope.ALL_CHAT_ADMINISTRATORS, (Audience.EVERYONE, Audience.MODERATORS)),
    )
    languages: list[tuple[str, str]] = [("", core.default_locale)]
    languages += [(code, code) for code in core.content.locales]
    for scope, audiences in scopes:
        for language_code, locale in languages:
            commands = [
                {
                    "command": telegram_name(c.name),
                    "description": core.command_description(locale, c.name)[
                        : limits.COMMAND_DESCRIPTION
                    ],
                }
                for c in COMMANDS
                if c.audience in audiences
            ]
            lists.append({"scope": scope, "language_code": language_code, "commands": commands})
    return lists


def commands_hash(lists: list[dict[str, Any]]) -> str:
    """A short hash of the command menu and the suggested admin rights, to send them only
    when they changed."""
    menu = {"commands": lists, "rights": ADMIN_RIGHTS.to_dict()}
    text = json.dumps(menu, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def sync_commands(core: Core, bot: ExtBot[Any], *, force: bool = False) -> bool:
    """Send the command menu and the suggested admin rights when they changed since the last
    time (or ``force``).

    Returns whether they were sent. Failures are logged, never raised: the bot works without.
    """
    lists = command_lists(core)
    stamp = f"{bot.id}:{commands_hash(lists)}"
    if not force and await core.meta(COMMANDS_META_KEY) == stamp:
        return False
    try:
        for entry in lists:
            scope = (
                BotCommandScopeAllChatAdministrators()
                if entry["scope"] == BotCommandScope.ALL_CHAT_ADMINISTRATORS
                else BotCommandScopeDefault()
            )
            await bot.set_my_commands(
                [BotCommand(c["command"], c["description"]) for c in entry["commands"]],
                scope=scope,
                language_code=entry["language_code"] or None,
            )
        await bot.set_my_default_administrator_rights(rights=ADMIN_RIGHTS, for_channels=False)
    except (TelegramError, OSError) as error:
        log.warning("could not send the command menu: %s", type(error).__name__)
        return False
    await core.set_meta(COMMANDS_META_KEY, stamp)
    log.info("sent the command menu to Telegram")
    return True


# -- running --------------------------------------------------------------------------------


def webhook_path(webhook_url: str) -> str:
    """The path the webhook server listens on: the public URL's, so a reverse proxy can pass
    requests through unchanged."""
    return urlsplit(webhook_url).path.lstrip("/")


async def serve(
    core: Core,
    *,
    application: Application | None = None,  # type: ignore[type-arg]
    poll_timeout: int = POLL_TIMEOUT,
    poll_interval: float = 0.0,
) -> None:
    """Run the bot until cancelled: long polling, or a webhook when ``[telegram] webhook_url``
    is set (listening on ``listen``:``port`` behind a TLS-terminating reverse proxy).

    Polling never gives up: after a failed ``getUpdates`` python-telegram-bot waits 1 s (or
    1.5 x ``poll_interval`` when set), 1.5 times longer after each further failure (at most
    30 s), after a 429 what Telegram asks, and after a timeout not at all.
    """
    quiet_library_logs()
    app = application or build_application(core)
    config = core.config.telegram
    await _initialize(app)
    async with app:
        await sync_commands(core, app.bot)
        await app.start()
        updater = app.updater
        assert updater is not None
        core.pins.attach(TelegramEditor(app.bot))
        core.pins.start(PLATFORM)
        core.metrics.watch(PLATFORM, lambda: app.running and updater.running)
        try:
            if config.webhook_url:
                await updater.start_webhook(
                    listen=config.listen,
                    port=config.port,
                    url_path=webhook_path(config.webhook_url),
                    webhook_url=config.webhook_url,
                    allowed_updates=list(ALLOWED_UPDATES),
                    # Telegram sends this header with every update; others are refused.
                    secret_token=secrets.token_urlsafe(32),
                    bootstrap_retries=-1,
                )
                log.info("Telegram bot running (webhook)")
            else:
                await updater.start_polling(
                    poll_interval=poll_interval,
                    timeout=poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                    # Removing an old webhook first is retried until Telegram answers.
                    bootstrap_retries=-1,
                )
                log.info("Telegram bot running (long polling)")
            await _rejection(app.bot)
        finally:
            core.metrics.unwatch(PLATFORM)
            await core.pins.stop()
            if updater.running:
                await updater.stop()
            if app.running:
                await app.stop()


async def _initialize(app: Application) -> None:  # type: ignore[type-arg]
    """Connect (``getMe``), trying again with backoff while Telegram cannot be reached, as
    the bot must come up by itself after an outage; a refused token ends the run."""
    backoff = Backoff()
    while True:
        try:
            await app.initialize()
            return
        except InvalidToken as error:
            await app.bot.shutdown()  # its connections were opened before getMe failed
            raise _token_rejected() from error
        except BadRequest:
            await app.bot.shutdown()
            raise  # a NetworkError in python-telegram-bot, but trying again cannot help
        except NetworkError as error:  # timeouts included
            delay = backoff.delay()
            log.warning(
                "could not reach Telegram (%s); trying again in %.1f s", describe(error), delay
            )
        await asyncio.sleep(delay)


def _token_rejected() -> TokenRejected:
    return TokenRejected("Telegram", TOKEN_VARIABLES["telegram"])


async def _rejection(bot: Bot) -> None:
    """Wait until Telegram refuses the token (then stop the run), or forever."""
    if isinstance(bot, SafeBot):
        await bot.rejected.wait()
        raise _token_rejected()
    await asyncio.Event().wait()


async def refresh_pins(core: Core) -> Counts:
    """``safety-bot refresh-pins``: edit every stale pinned post now, without polling.

    Raises TokenRejected or Unreachable (after the rate limiter's retries) when Telegram
    refuses the token or cannot be reached.
    """
    quiet_library_logs()
    app = build_application(core)
    try:
        async with app:
            core.pins.attach(TelegramEditor(app.bot))
            return await core.pins.refresh(PLATFORM)
    except InvalidToken as error:
        raise _token_rejected() from error
    except BadRequest:
        raise
    except NetworkError as error:
        raise Unreachable("Telegram", error) from error
