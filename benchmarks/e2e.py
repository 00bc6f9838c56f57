"""End to end, through the real libraries against the fakes of ``tests/`` on 127.0.0.1:
safety-bot and a constant-answer baseline bot of the same library, same fake, same run.

Commands go one at a time (a closed loop, one in flight): latency is the time from the fake
sending the update or interaction to the fake receiving the answer, and throughput is
commands answered per second of that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import yarl
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bots.registry import default_config
from bots.telegram.app import build_application, serve
from bots.telegram.limiter import RetryingRateLimiter
from bots.telegram.platform import TelegramConfig
from bots.telegram.render import messages
from bots.telegram.send import NO_PREVIEW, reply_keyboard
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community, Reply, Request
from shared.store import SqliteStore
from tests.telegram import fake as telegram_fake
from tests.telegram.fake import TOKEN as TELEGRAM_TOKEN
from tests.telegram.fake import FakeTelegram, private_chat, user

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord
    from discord import app_commands

from bots.discord.app import DiscordBot
from bots.discord.send import message_kwargs
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.discord.conftest import running as discord_running
from tests.discord.fake import GUILD_ID, PERSON, FakeDiscord, guild

BASELINE_TEXT = "ok"
BASELINE = "baseline"
SAME_PAYLOAD = "same payload"
"""The second baseline: the library sending safety-bot's exact answer, built once. What
safety-bot adds beyond it is its own work; the rest is the library's cost of a bigger answer."""
WARMUP = 50
FIRST_USER = 300_000_001
Driver = Callable[[int], Awaitable[float]]


def no_flood_limit() -> RetryingRateLimiter:
    """safety-bot's limiter with Telegram's 30 messages/s quota off: the figure is the bot's
    own cost, not Telegram's quota (which would cap every run at 30 commands/s)."""
    return RetryingRateLimiter(overall_max_rate=0, group_max_rate=0)


# -- fakes that time each answer ---------------------------------------------------------


class TimedTelegram(FakeTelegram):
    """The Telegram fake, resolving a future when a chat gets a message.

    The fake parses every HTML text the way Telegram would (the baseline sends plain text);
    that is the fake's work, not the bot's, so its time is measured (``html_check_seconds``)
    and reported next to the latency it is part of.
    """

    html_check_seconds = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, asyncio.Future[float]] = {}

    async def _sendMessage(self, body: dict[str, Any]) -> Any:
        result = await super()._sendMessage(body)
        future = self.waiting.pop(int(body["chat_id"]), None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())
        return result

    async def ask(self, user_id: int, text: str) -> float:
        """Send ``text`` from a new person; seconds until the bot answered."""
        self.opened_private_chat.add(user_id)
        future = asyncio.get_running_loop().create_future()
        self.waiting[user_id] = future
        start = time.perf_counter()
        await self.command(text, chat=private_chat(user_id), sender=user(user_id))
        return await asyncio.wait_for(future, 10) - start


class TimedDiscord(FakeDiscord):
    """The Discord fake, resolving a future when an interaction gets its callback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def _answer(self, method: str, path: str, body: Any) -> Any:
        if method == "POST" and path.startswith("/interactions/"):
            future = self.waiting.pop(path.split("/")[2], None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
        return super()._answer(method, path, body)

    async def ask(self, user_id: int, name: str, guild_id: int = GUILD_ID) -> float:
        """Run ``/name`` as a new person in ``guild_id``; seconds until the callback."""
        payload = self.interaction(name, guild_id=guild_id)
        payload["member"]["user"] = {**PERSON, "id": str(user_id)}
        future = asyncio.get_running_loop().create_future()
        self.waiting[payload["id"]] = future
        start = time.perf_counter()
        # The newest connection: the bot that ran before this one has disconnected.
        await self._send(self.sessions[-1], "INTERACTION_CREATE", payload)
        return await asyncio.wait_for(future, 10) - start


def point_discord_at(fake: FakeDiscord) -> None:
    """discord.py's REST base and gateway, pointed at the fake (as the tests' fixture does)."""
    discord.http.Route.BASE = fake.api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway)


_check_html = telegram_fake.check_html


def _timed_check_html(text: str) -> str | None:
    start = time.perf_counter()
    try:
        return _check_html(text)
    finally:
        TimedTelegram.html_check_seconds += time.perf_counter() - start


telegram_fake.check_html = _timed_check_html  # the fake looks it up at each call


# -- bots ------------------------------------------------------------------------------


def bench_config(folder: Path, base_url: str = "") -> Config:
    """Production defaults (cooldown included); every command comes from a new person."""
    return default_config(
        database=folder / "bench.sqlite3",
        telegram=TelegramConfig(token=TELEGRAM_TOKEN, base_url=base_url),
    )


@contextlib.asynccontextmanager
async def telegram_safety(core: Core, fake: TimedTelegram) -> AsyncIterator[None]:
    application = build_application(core, rate_limiter=no_flood_limit())
    task = asyncio.create_task(serve(core, application=application))
    await fake.wait_for(
        lambda: application.updater is not None and application.updater.running, within=10
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def telegram_baseline(fake: TimedTelegram, reply: Reply | None = None) -> AsyncIterator[None]:
    """python-telegram-bot answering every command with a constant: the string "ok", or
    ``reply`` exactly as safety-bot sends it (HTML, no preview, its keyboard), built once."""
    if reply is None:
        constant: dict[str, Any] = {"text": BASELINE_TEXT}
    else:
        [text] = messages(reply)
        constant = {
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": NO_PREVIEW,
            "reply_markup": reply_keyboard(reply),
        }

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, **constant)

    application = (
        Application.builder()
        .token(TELEGRAM_TOKEN)
        .base_url(fake.base_url)
        .concurrent_updates(32)
        .build()
    )
    application.add_handler(MessageHandler(filters.COMMAND, answer))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()


@contextlib.asynccontextmanager
async def discord_safety(core: Core, fake: TimedDiscord) -> AsyncIterator[None]:
    async with discord_running(DiscordBot(core, guild_ready_timeout=0.05)):
        yield


@contextlib.asynccontextmanager
async def discord_baseline(fake: TimedDiscord, reply: Reply | None = None) -> AsyncIterator[None]:
    """discord.py answering the slash command with a constant ephemeral message: the string
    "ok", or ``reply`` exactly as safety-bot sends it (embed, buttons, no mentions), built once."""
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    @tree.command(name="help-threatened", description="constant answer")
    async def constant(interaction: discord.Interaction[Any]) -> None:
        if reply is None:
            await interaction.response.send_message(BASELINE_TEXT, ephemeral=True)
        else:
            await interaction.response.send_message(ephemeral=True, **message_kwargs(reply))

    task = asyncio.create_task(client.start(DISCORD_TOKEN))
    await asyncio.wait_for(client.wait_until_ready(), 10)
    try:
        yield
    finally:
        await client.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- the loop ----------------------------------------------------------------------------


async def closed_loop(drive: Driver, users: itertools.count[int], count: int) -> dict[str, Any]:
    """``count`` commands one at a time, each from a new person, after a short warm-up."""
    for _ in range(WARMUP):
        await drive(next(users))
    latencies = []
    checked = TimedTelegram.html_check_seconds
    start = time.perf_counter()
    for _ in range(count):
        latencies.append((await drive(next(users))) * 1e6)
    elapsed = time.perf_counter() - start
    fake_us = (TimedTelegram.html_check_seconds - checked) / count * 1e6
    return {
        "commands_per_second": count / elapsed,
        "latency_us": latencies,
        "fake_html_check_us": fake_us,
    }


async def telegram_runs(
    content: Content, folder: Path, runs: int, count: int
) -> dict[str, list[dict[str, Any]]]:
    """``runs`` rounds of (baseline, same-payload baseline, safety-bot) against one fake."""
    fake = TimedTelegram()
    await fake.start()
    users = itertools.count(FIRST_USER)
    found: dict[str, list[dict[str, Any]]] = {BASELINE: [], SAME_PAYLOAD: [], "safety-bot": []}
    try:
        async with await SqliteStore.open(folder / "telegram.sqlite3") as store:
            core = Core(content, store, bench_config(folder, fake.base_url))
            answer = await core.handle(Request("help-threatened", user_locale="en"))
            for _ in range(runs):
                for name, reply in ((BASELINE, None), (SAME_PAYLOAD, answer)):
                    async with telegram_baseline(fake, reply):
                        found[name].append(
                            await closed_loop(
                                lambda u: fake.ask(u, "/help_threatened"), users, count
                            )
                        )
                async with telegram_safety(core, fake):
                    found["safety-bot"].append(
                        await closed_loop(lambda u: fake.ask(u, "/help_threatened"), users, count)
                    )
    finally:
        await fake.stop()
    return found


async def discord_runs(
    content: Content, folder: Path, runs: int, count: int
) -> dict[str, list[dict[str, Any]]]:
    """``runs`` rounds of (baseline, same-payload baseline, safety-bot) against one fake."""
    fake = TimedDiscord([guild()])
    await fake.start()
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(fake)
    users = itertools.count(FIRST_USER)
    found: dict[str, list[dict[str, Any]]] = {BASELINE: [], SAME_PAYLOAD: [], "safety-bot": []}
    try:
        async with await SqliteStore.open(folder / "discord.sqlite3") as store:
            core = Core(content, store, bench_config(folder))
            # What a person in the server gets: its region, the person's language.
            community_request = Request(
                "help-threatened",
                user_locale="en-US",
                community=Community("discord", str(GUILD_ID)),
            )
            answer = await core.handle(community_request)
            for _ in range(runs):
                for name, reply in ((BASELINE, None), (SAME_PAYLOAD, answer)):
                    async with discord_baseline(fake, reply):
                        found[name].append(
                            await closed_loop(
                                lambda u: fake.ask(u, "help-threatened"), users, count
                            )
                        )
                async with discord_safety(core, fake):
                    found["safety-bot"].append(
                        await closed_loop(lambda u: fake.ask(u, "help-threatened"), users, count)
                    )
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        await fake.stop()
    return found
