"""``python -m benchmarks.child [--telegram] [--discord]``: the bot's adapters in a process of
their own, pointed at the parent's fakes (``BENCH_*`` variables), for RSS and start-up.

Prints ``READY`` once every adapter is ready, then runs until killed. The wiring is the one
``safety-bot run`` uses (``running_core`` + each adapter); Telegram's 30 messages/s quota
is off (see :func:`benchmarks.e2e.no_flood_limit`) and Discord's ``guild_ready_timeout`` is
0.05 s instead of 2 s.
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from collections.abc import Awaitable
from pathlib import Path

import yarl

from bots.app import running_core
from bots.discord.platform import DiscordConfig
from bots.registry import default_config
from bots.telegram.platform import TelegramConfig

GUILD_READY_TIMEOUT = 0.05


async def main(argv: list[str]) -> None:
    env = os.environ
    config = default_config(
        database=Path(env["BENCH_DATABASE"]),
        telegram=TelegramConfig(
            token=env.get("BENCH_TELEGRAM_TOKEN", ""), base_url=env.get("BENCH_TELEGRAM_URL", "")
        ),
        discord=DiscordConfig(token=env.get("BENCH_DISCORD_TOKEN", "")),
    )
    async with running_core(config) as core:
        work: list[Awaitable[None]] = []
        ready: list[asyncio.Event] = []
        if "--telegram" in argv:
            from benchmarks.e2e import no_flood_limit
            from bots.telegram.app import build_application, serve

            application = build_application(core, rate_limiter=no_flood_limit())
            polling = asyncio.Event()
            ready.append(polling)
            work.append(serve(core, application=application))

            async def watch() -> None:
                for _ in range(100_000):
                    if application.updater is not None and application.updater.running:
                        polling.set()
                        return
                    await asyncio.sleep(0.001)

            work.append(watch())
        if "--discord" in argv:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import discord

            discord.http.Route.BASE = env["BENCH_DISCORD_API"]
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
                env["BENCH_DISCORD_GATEWAY"]
            )
            from bots.discord.app import DiscordBot

            bot = DiscordBot(core, guild_ready_timeout=GUILD_READY_TIMEOUT)
            ready.append(bot.ready)
            work.append(bot.run(config.tokens["discord"]))

        async def announce() -> None:
            for event in ready:
                await event.wait()
            print("READY", flush=True)

        await asyncio.gather(announce(), *work)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
