"""Pinned posts refreshed per second within the platforms' limits.

``posts`` stale pinned posts, one in each of as many communities, brought up to date by the
bot's start-up refresh through the real libraries, against the fakes of ``tests/`` with their
rate limits on (Telegram: 30 messages a second, 20 a minute per group; Discord: 50 requests a
second, per-route buckets), at the configured pace (``[pins] edits_per_second``, default), with
Telegram's production rate limiter, while people ask for help at :data:`ASKS_PER_SECOND`.
The figure is the steady rate from the first edit to the last; the goal is 10,000 posts in 10
minutes with no 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord

from benchmarks.e2e import (
    FIRST_USER,
    TimedDiscord,
    TimedTelegram,
    bench_config,
    discord_safety,
    point_discord_at,
)
from benchmarks.stats import summary
from bots.telegram.app import build_application, refresh_pins, serve
from shared.content import Content
from shared.core import Core
from shared.models import Community
from shared.store import SqliteStore
from tests.discord.fake import CHANNEL_ID, GUILD_ID, guild, text_channel

GOAL_POSTS = 10_000
GOAL_SECONDS = 600.0
ASKS_PER_SECOND = 5.0
"""People asking for help during the refresh (each a new person, so no cooldown refuses)."""
STALE = "stale"
"""The content version recorded for every post: never the current one."""
FIRST_GROUP = -1_005_000_000_000


class EditTimes:
    """When each edit landed, and an event once ``expected`` did."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.configured = 0.0
        """The pace the bot was set to (edits a second)."""
        self.times: list[float] = []
        self.done = asyncio.Event()

    def landed(self) -> None:
        self.times.append(time.perf_counter())
        if len(self.times) >= self.expected:
            self.done.set()


class PinnedTelegram(TimedTelegram):
    """The timed Telegram fake with its flood limits on, timing each successful edit."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.limits = True
        self.edit_times = EditTimes(expected)

    async def _editMessageText(self, body: dict[str, Any]) -> Any:
        result = await super()._editMessageText(body)
        self.edit_times.landed()
        return result


class PinnedDiscord(TimedDiscord):
    """The timed Discord fake with its rate limits on, timing each successful edit."""

    def __init__(self, expected: int, guilds: list[dict[str, Any]]) -> None:
        super().__init__(guilds, limits=True)
        self.edit_times = EditTimes(expected)

    def _answer(self, method: str, path: str, body: Any) -> Any:
        response = super()._answer(method, path, body)
        if method == "PATCH" and "/messages/" in path and response.status == 200:
            self.edit_times.landed()
        return response


async def _refresh_while_people_ask(
    edit_times: EditTimes, ask: Callable[[int], Awaitable[float]]
) -> list[float]:
    """Ask for help at :data:`ASKS_PER_SECOND` until every edit landed; the answers' latency
    in milliseconds. Gives up when the edits come slower than one a second."""
    users = itertools.count(FIRST_USER)
    asked: list[asyncio.Task[float]] = []
    deadline = time.perf_counter() + max(60.0, edit_times.expected)
    while not edit_times.done.is_set():
        if time.perf_counter() > deadline:
            landed = len(edit_times.times)
            raise RuntimeError(f"only {landed} of {edit_times.expected} edits landed in time")
        asked.append(asyncio.create_task(ask(next(users))))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(edit_times.done.wait(), 1 / ASKS_PER_SECOND)
    return [seconds * 1000 for seconds in await asyncio.gather(*asked)]


def _figures(
    edit_times: EditTimes, edited: Counter[Any], posts: int, limited: int, answers: list[float]
) -> dict[str, Any]:
    times = edit_times.times
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    return {
        "posts": posts,
        "configured": edit_times.configured,
        "seconds": times[-1] - times[0] if times else float("nan"),
        "posts_per_second": rate,
        "projected_seconds": GOAL_POSTS / rate,
        "rate_limited": limited,
        "edited_once": sum(1 for count in edited.values() if count == 1),
        "edited_twice_or_more": sum(1 for count in edited.values() if count > 1),
        "answers": len(answers),
        "answer_ms": summary(answers),
    }


async def _stale_telegram_posts(core: Core, fake: PinnedTelegram, posts: int) -> None:
    """Record ``posts`` stale pinned posts, one in each of as many groups the fake knows."""
    fake.edit_times.configured = core.config.pins.rate("telegram")
    for number in range(posts):
        chat_id, message_id = FIRST_GROUP - number, 10_000 + number
        fake.shown[(chat_id, message_id)] = ("old advice", None)
        community = Community("telegram", str(chat_id))
        await core.moderation.record_pin(community, str(chat_id), str(message_id), "report", STALE)


async def telegram_run(content: Content, folder: Path, posts: int) -> dict[str, Any]:
    """``posts`` stale posts in as many groups, refreshed by ``safety-bot run``'s start-up."""
    fake = PinnedTelegram(posts)
    await fake.start()
    try:
        async with await SqliteStore.open(folder / "pins-telegram.sqlite3") as store:
            core = Core(content, store, bench_config(folder, fake.base_url))
            await _stale_telegram_posts(core, fake, posts)
            # The production rate limiter (30 messages a second, 20 a minute per group).
            application = build_application(core)
            bot = asyncio.create_task(serve(core, application=application))
            try:
                answers = await _refresh_while_people_ask(
                    fake.edit_times, lambda user: fake.ask(user, "/help_threatened")
                )
                await core.pins.settle()
            finally:
                bot.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await bot
            current = sum(p.content_version != STALE for p in await store.pins())
    finally:
        await fake.stop()
    return {
        **_figures(fake.edit_times, _edited(fake), posts, len(fake.limited), answers),
        "recorded": current,
    }


async def telegram_two_processes_run(content: Content, folder: Path, posts: int) -> dict[str, Any]:
    """``posts`` stale posts in as many groups, and two ``safety-bot refresh-pins`` at once:
    two cores, each with its own connection to one SQLite file and its own Telegram client
    and pace, as two processes. The lease has them take turns, so together they edit at one
    process's pace (the same posts/s as :func:`telegram_run`) and Telegram sees no 429."""
    fake = PinnedTelegram(posts)
    await fake.start()
    path = folder / "pins-two.sqlite3"
    try:
        async with await SqliteStore.open(path) as first, await SqliteStore.open(path) as second:
            config = bench_config(folder, fake.base_url)
            seeding = Core(content, first, config)
            await _stale_telegram_posts(seeding, fake, posts)
            cores = [Core(content, store, config) for store in (first, second)]
            counts = await asyncio.gather(*(refresh_pins(core) for core in cores))
            current = sum(p.content_version != STALE for p in await first.pins())
    finally:
        await fake.stop()
    return {
        **_figures(fake.edit_times, _edited(fake), posts, len(fake.limited), []),
        "recorded": current,
        "edited_by_each": sorted(c.edited for c in counts),
    }


def _edited(fake: PinnedTelegram) -> Counter[Any]:
    """How many times each post was edited."""
    return Counter(
        (c.body["chat_id"], c.body["message_id"])
        for c in fake.calls
        if c.method == "editMessageText"
    )


async def discord_run(content: Content, folder: Path, posts: int) -> dict[str, Any]:
    """``posts`` stale posts in as many servers (a channel each), refreshed at ``on_ready``."""
    servers = [GUILD_ID + (number << 22) for number in range(posts)]
    channels = {server: CHANNEL_ID + number for number, server in enumerate(servers)}
    fake = PinnedDiscord(
        posts, [guild(s, channels=[text_channel(channels[s], s, "rules")]) for s in servers]
    )
    await fake.start()
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(fake)
    try:
        async with await SqliteStore.open(folder / "pins-discord.sqlite3") as store:
            core = Core(content, store, bench_config(folder))
            fake.edit_times.configured = core.config.pins.rate("discord")
            for server in servers:
                message_id = fake.existing_post(channels[server], "old advice")
                community = Community("discord", str(server))
                channel = str(channels[server])
                await core.moderation.record_pin(
                    community, channel, str(message_id), "report", STALE
                )
            async with discord_safety(core, fake):
                answers = await _refresh_while_people_ask(
                    fake.edit_times,
                    lambda user: fake.ask(user, "help-threatened", servers[user % posts]),
                )
                await core.pins.settle()
            current = sum(p.content_version != STALE for p in await store.pins())
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        await fake.stop()
    edited = Counter(r.path for r in fake.find("PATCH", contains="/messages/"))
    return {
        **_figures(fake.edit_times, edited, posts, len(fake.limited), answers),
        "recorded": current,
    }
