"""Running the Telegram bot: the Application (with the rate limits of
:mod:`bots.telegram.limiter`, the handlers of :mod:`bots.telegram.handlers` and a bot that
survives an update it cannot read), the command menu at start (:mod:`bots.telegram.menu`),
polling or webhook, and the operator's ``refresh-pins``.

``safety-bot run`` calls :func:`serve` when ``TELEGRAM_TOKEN`` (or ``[telegram] token``) is
set; it runs until cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ExtBot, SimpleUpdateProcessor
from telegram.request import HTTPXRequest

from bots.app import Backoff, ReceivedElsewhere, Stop, TokenRejected, Unreachable, describe
from bots.telegram.handlers import ALLOWED_UPDATES, Handlers
from bots.telegram.limiter import RetryingRateLimiter
from bots.telegram.logs import quiet_library_logs
from bots.telegram.menu import sync_commands
from bots.telegram.moderation import TelegramModeration
from bots.telegram.platform import PLATFORM, TOKEN_VARIABLE, TelegramConfig
from shared.core import Core
from shared.pace import EDITS_IN_FLIGHT
from shared.pins import Counts

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 32
READ_TIMEOUT = 5.0
"""Seconds to wait for Telegram's answer to a call (python-telegram-bot's default); a
``getUpdates`` long poll gets its ``timeout`` on top."""
POLL_TIMEOUT = 10
"""Seconds Telegram may hold a ``getUpdates`` long poll open while no update comes."""
WEBHOOK_CONNECTIONS = 40
"""Updates Telegram may send to the webhook at once (its default, and python-telegram-bot's)."""
WEBHOOK_CHECK = 60.0
"""Seconds between two looks at the webhook in webhook mode. A long-polling process started
with the same token removes it (python-telegram-bot deletes a webhook before it polls), and
the workers would wait for updates that never come; set again, it stops that poller (409)."""


class SafeBot(ExtBot[Any]):
    """An ExtBot that survives an update it cannot read.

    python-telegram-bot parses a ``getUpdates`` batch in one go: one malformed update makes
    the whole batch fail, fetched again forever, and logged with its raw text. When a batch
    fails to parse, it is fetched once more with each update checked alone; one that cannot
    be read is replaced by an empty update with the same id, which no handler answers, so
    polling moves past it. Readable batches are parsed once, as usual.

    Polling ends (:attr:`stopping`, :attr:`stop_reason`) when Telegram refuses the token, or
    answers 409 Conflict: another process polls with the same token (Telegram ends the poll
    that was waiting when another came), or a webhook is set.
    """

    _check_each = False
    _stopping: asyncio.Event | None = None
    _stop_reason: Stop | None = None

    @property
    def stop_reason(self) -> Stop | None:
        """Why polling ended, once it has."""
        return self._stop_reason

    @property
    def stopping(self) -> asyncio.Event:
        """Set when polling has ended; ``serve`` then stops with :attr:`stop_reason`."""
        if self._stopping is None:
            self._stopping = asyncio.Event()
        return self._stopping

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Updates as usual; a batch that cannot be parsed is fetched again, update by update."""
        if self.stop_reason is not None:
            # python-telegram-bot polls once more on stopping: after a conflict that would
            # end the other process's poll, and it would stop too.
            return ()
        try:
            return await super().get_updates(*args, **kwargs)
        except InvalidToken:
            reason: Stop = _token_rejected()
        except Conflict:
            reason = _conflict()
        except TelegramError:
            raise
        except Exception:
            # Unconfirmed updates come back on the same offset, so nothing is lost.
            self._check_each = True
            try:
                return await super().get_updates(*args, **kwargs)
            finally:
                self._check_each = False
        # Not raised into python-telegram-bot's polling task, which would end without a word
        # (and leave its error unretrieved), or after a conflict poll again and take the
        # updates back from the other process: this poll waits while ``serve`` stops.
        self._stop_reason = reason
        self.stopping.set()
        await asyncio.Event().wait()
        return ()

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
    """The Application for the ``[telegram]`` section, with every handler registered."""
    config = core.config.platform(PLATFORM, TelegramConfig)
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
    webhook_check: float = WEBHOOK_CHECK,
) -> None:
    """Run the bot until cancelled: long polling, or a webhook when ``[telegram] webhook_url``
    is set (listening on ``listen``:``port`` behind a TLS-terminating reverse proxy; the
    webhook is looked at every ``webhook_check`` seconds and set again if it was removed).

    Polling never gives up: after a failed ``getUpdates`` python-telegram-bot waits 1 s (or
    1.5 x ``poll_interval`` when set), 1.5 times longer after each further failure (at most
    30 s), after a 429 what Telegram asks, and after a timeout not at all.
    """
    quiet_library_logs()
    app = application or build_application(core)
    config = core.config.platform(PLATFORM, TelegramConfig)
    await _initialize(app)
    async with app:
        await sync_commands(core, app.bot)
        await app.start()
        updater = app.updater
        assert updater is not None
        core.pins.attach(TelegramModeration(app.bot))
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
                    # The same in every process (see TelegramConfig.secret_token), so any
                    # of several behind one proxy may set the webhook, in any order.
                    secret_token=config.secret_token,
                    max_connections=WEBHOOK_CONNECTIONS,
                    bootstrap_retries=-1,
                )
                log.info("Telegram bot running (webhook)")
                await keep_webhook(app.bot, config, webhook_check)
            else:
                await updater.start_polling(
                    poll_interval=poll_interval,
                    timeout=poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                    # Removing an old webhook first is retried until Telegram answers.
                    bootstrap_retries=-1,
                )
                log.info("Telegram bot running (long polling)")
                await _stopping(app.bot)
        finally:
            core.metrics.unwatch(PLATFORM)
            await core.pins.stop()
            if updater.running:
                await updater.stop()
            if app.running:
                await app.stop()


async def keep_webhook(bot: Bot, config: TelegramConfig, every: float) -> None:
    """Until cancelled, every ``every`` seconds: set the webhook again when Telegram no longer
    has it (removed by a long-polling process with this token, or changed by hand), saying so
    in one line. A failed look is tried again at the next one."""
    while True:
        await asyncio.sleep(every)
        try:
            info = await bot.get_webhook_info()
            if info.url == config.webhook_url:
                continue
            log.warning(
                "the Telegram webhook was removed or changed (a long-polling process with this"
                " token?); setting it again, which stops such a poller with 409 Conflict"
            )
            await bot.set_webhook(
                url=config.webhook_url,
                allowed_updates=list(ALLOWED_UPDATES),
                secret_token=config.secret_token,
                max_connections=WEBHOOK_CONNECTIONS,
            )
        except TelegramError as error:
            log.warning("could not look at the Telegram webhook (%s)", describe(error))


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
    return TokenRejected("Telegram", TOKEN_VARIABLE)


def _conflict() -> ReceivedElsewhere:
    return ReceivedElsewhere(
        "another process is receiving this bot's Telegram updates (409 Conflict: a second"
        " poller with the same token, or a webhook set): run one poller, or run every process"
        " in webhook mode ([telegram] webhook_url)"
    )


async def _stopping(bot: Bot) -> None:
    """Wait until polling ends (the token refused, another process receiving the updates),
    then stop the run with why; or forever."""
    if isinstance(bot, SafeBot):
        await bot.stopping.wait()
        assert bot.stop_reason is not None
        raise bot.stop_reason
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
            core.pins.attach(TelegramModeration(app.bot))
            return await core.pins.refresh(PLATFORM)
    except InvalidToken as error:
        raise _token_rejected() from error
    except BadRequest:
        raise
    except NetworkError as error:
        raise Unreachable("Telegram", error) from error
