"""Which shards this process connects (``[discord] shard_count`` and ``shard_ids``), and the
Discord side's run: started again with more shards when Discord closes the gateway with 4011
(sharding required) while it chooses the count, stopped with one line when the operator does.

Processes with disjoint ``shard_ids`` run one bot together: each IDENTIFYs only its shards,
and Discord sends each server's events to the shard ``(server id >> 22) % shard_count``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import discord

from bots.app import Backoff, Unreachable, UsageError
from bots.discord.app import DiscordBot, ShardingRequired, platform_errors
from bots.discord.logs import quiet_library_logs
from bots.discord.platform import PLATFORM, DiscordConfig
from shared.config import Config
from shared.core import Core

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Shards:
    """The shards one process connects: ``ids`` of ``count`` (None: all of them)."""

    count: int
    ids: tuple[int, ...] | None = None
    sharded: bool = True
    """False: one plain connection (no shard in IDENTIFY), as a small bot needs."""

    def __str__(self) -> str:
        if not self.sharded:
            return "Discord: one connection, no shards"
        ids = self.ids if self.ids is not None else range(self.count)
        return f"Discord: shards {', '.join(map(str, ids))} of {self.count}"


class ShardCountTooLow(UsageError):
    """Discord requires more shards than the operator's ``[discord] shard_count``: only the
    operator can fix it (every process's ``shard_ids`` must change with it), so the Discord
    side stops (exit code 2, as for any wrong setting) instead of choosing a count itself."""

    def __init__(self, config: Config, count: int) -> None:
        where = f"{config.source}:{config.line_of(f'{PLATFORM}.shard_count')}"
        super().__init__(
            f"Discord closed the gateway with 4011 (sharding required): {count} shards are too"
            f" few for the servers the bot is in; raise [discord] shard_count ({where}) and"
            " split shard_ids over the processes again (or remove both to let Discord choose)"
        )


async def recommended_shards(token: str) -> int:
    """How many shards Discord recommends for this bot (``GET /gateway/bot``).

    Raises TokenRejected or Unreachable when Discord refuses the token or cannot be reached.
    """
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        with platform_errors():
            await http.static_login(token)
            shards, _url, _limit = await http.get_bot_gateway()
    finally:
        await http.close()
    return int(shards)


async def choose(config: DiscordConfig, at_least: int = 1) -> Shards:
    """The operator's shards when set; else Discord's recommended count (at least
    ``at_least``), sharded when more than one."""
    if config.shard_count is not None:
        return Shards(config.shard_count, config.shard_ids)
    count = max(await recommended_shards(config.token), at_least)
    return Shards(count, sharded=count > 1)


async def serve(core: Core) -> None:
    """Run the Discord bot until cancelled, on the shards :func:`choose` gives.

    While Discord cannot be reached (login, ``GET /gateway/bot``), it is tried again with
    backoff, the cause logged in one line each time; the gateway is then discord.py's to
    reconnect. A refused token raises TokenRejected; a 4011 raises ShardCountTooLow when the
    operator set the count, else starts again with more shards (the other platforms in the
    process go on undisturbed).
    """
    quiet_library_logs()  # before the first request, not only once the client is built
    config = core.config.platform(PLATFORM, DiscordConfig)
    backoff = Backoff()
    at_least = 1
    said: Shards | None = None
    while True:
        try:
            shards = await choose(config, at_least)
            if shards != said:  # once, not at every attempt while Discord is away
                log.info("%s", shards)
                said = shards
            bot = DiscordBot(
                core, sharded=shards.sharded, shard_count=shards.count, shard_ids=shards.ids
            )
            await bot.run(config.token)
            return
        except Unreachable as error:
            delay = backoff.delay()
            log.warning("%s; trying again in %.1f s", error.reason, delay)
            await asyncio.sleep(delay)
        except ShardingRequired:
            if config.explicit:
                raise ShardCountTooLow(core.config, shards.count) from None
            # Discord's recommendation, and never the count it has just refused.
            at_least = shards.count + 1
            log.warning(
                "Discord closed the gateway with 4011 (sharding required): restarting the"
                " Discord side sharded as Discord recommends (at least %d shards)",
                at_least,
            )
