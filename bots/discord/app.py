"""The Discord adapter's lifecycle: the client (sharded or not), the gateway, command sync,
joining and leaving servers, and the operator's one-shot tasks over HTTP.

Slash commands are answered in :mod:`bots.discord.interactions`; moderation steps are
:mod:`bots.discord.moderation`'s. Nothing about a person is kept or logged: no user id, no
message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bots.app import TokenRejected, Unreachable, describe
from bots.discord.commands import ContentTranslator, build, definition, definition_hash
from bots.discord.interactions import DEFER_AFTER, Interactions
from bots.discord.logs import NETWORK_ERRORS, quiet_library_logs
from bots.discord.moderation import DiscordModeration
from bots.discord.permissions import WELCOME_PERMISSIONS, missing
from bots.discord.platform import PLATFORM, TOKEN_VARIABLE, DiscordConfig
from bots.discord.send import NO_MENTIONS
from shared.commands import Command
from shared.core import Core
from shared.models import Community
from shared.pins import Counts

log = logging.getLogger(__name__)

META_KEY = "discord.commands.{application_id}"
"""Store meta key of the hash of the last synced command list, per application."""
AUTHENTICATION_FAILED = 4004
"""Gateway close code for a token Discord refuses."""
SHARDING_REQUIRED = 4011
"""Gateway close code when the bot is in too many servers for its shards (2,500 a shard)."""
Listener = Callable[..., Coroutine[Any, Any, None]]
"""A gateway event listener (``on_<event>``)."""


class ShardingRequired(Exception):
    """Discord closed the gateway with 4011: the bot needs more shards than it connected."""


def intents() -> discord.Intents:
    """Guild events only: joins, removals, channels and roles (for permission checks).

    No privileged intent, no message content, no members, no presences.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


def _client(
    sharded: bool,
    shard_count: int | None,
    shard_ids: tuple[int, ...] | None,
    guild_ready_timeout: float,
) -> discord.Client:
    """The smallest client the bot works with: one connection, or ``shard_ids`` (all when
    None) of ``shard_count`` shards (Discord's recommendation when None)."""
    options: dict[str, Any] = {
        "intents": intents(),
        "member_cache_flags": discord.MemberCacheFlags.none(),
        "chunk_guilds_at_startup": False,
        "max_messages": None,
        "allowed_mentions": NO_MENTIONS,
        "guild_ready_timeout": guild_ready_timeout,
    }
    if not sharded:
        return discord.Client(**options)
    if shard_ids is not None:
        options["shard_ids"] = list(shard_ids)
    return discord.AutoShardedClient(shard_count=shard_count, **options)


class DiscordBot:
    """One Discord client wired to the core; :meth:`run` connects until cancelled."""

    def __init__(
        self,
        core: Core,
        *,
        sharded: bool = False,
        shard_count: int | None = None,
        shard_ids: tuple[int, ...] | None = None,
        guild_ready_timeout: float = 2.0,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self.core = core
        quiet_library_logs()
        self.client = _client(sharded, shard_count, shard_ids, guild_ready_timeout)
        self.interactions = Interactions(core, self.client, defer_after=defer_after)
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(self.client)
        for command in build(core, self.handle):
            self.tree.add_command(command)
        self.tree.error(self.on_command_error)
        for listener in (self.on_ready, self.on_guild_join, self.on_guild_remove):
            self.client.event(self._counted(listener))
        self.ready = asyncio.Event()
        self.finished: Counter[str] = Counter()
        """What the bot has finished handling since it was built, by kind: ``"command"``
        (its answer or apology sent) and each gateway event it listens to (``"ready"``,
        ``"guild_join"``, ``"guild_remove"``). :meth:`wait_finished` waits on it."""
        self._progress = asyncio.Event()
        core.pins.attach(DiscordModeration(self.client))
        self._refreshed = False
        self._in_flight: set[asyncio.Task[Any]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    async def run(self, token: str) -> None:
        """Log in, sync commands if they changed, and stay connected until cancelled; then
        let the commands being answered finish before the client closes.

        Raises TokenRejected when Discord refuses the token, Unreachable when it cannot be
        reached to log in (:func:`~bots.discord.sharding.serve` tries again with a new client),
        ShardingRequired when Discord closes the gateway with 4011.
        """
        self.core.metrics.watch(PLATFORM, self.connected)
        try:
            async with self.client:
                try:
                    await _login(self.client, token)
                    await self.prepare()
                    await self.connect()
                except discord.ConnectionClosed as error:
                    if error.code == SHARDING_REQUIRED:
                        raise ShardingRequired from error
                    if error.code != AUTHENTICATION_FAILED:
                        raise
                    raise _token_rejected() from error
                finally:
                    if self._in_flight:
                        log.info("finishing %d commands in flight", len(self._in_flight))
                        await asyncio.gather(*self._in_flight, return_exceptions=True)
        finally:
            self.core.metrics.unwatch(PLATFORM)
            await self.core.pins.stop()

    def connected(self) -> bool:
        """Whether the gateway is ready and its connection (each shard's) open, for /readyz."""
        client = self.client
        if not client.is_ready() or client.is_closed():
            return False
        if isinstance(client, discord.AutoShardedClient):
            shards = client.shards.values()
            return bool(shards) and all(not shard.is_closed() for shard in shards)
        return client.ws is not None and client.ws.open

    async def connect(self) -> None:
        """Stay connected to the gateway (discord.py reconnects and resumes) until closed.

        discord.py 2.7's reconnect loop dies with an AttributeError when the very first
        connection fails, as in a gateway outage (Rapptz/discord.py#10520); that case is
        retried here, with backoff, instead of ending the run.
        """
        backoff = discord.backoff.ExponentialBackoff()
        while True:
            try:
                await self.client.connect(reconnect=True)
                return
            except AttributeError:
                if self.client.ws is not None or self.client.is_closed():
                    raise  # not that bug
            delay = backoff.delay()
            log.warning("could not reach the Discord gateway; trying again in %.1f s", delay)
            await asyncio.sleep(delay)

    async def prepare(self) -> None:
        """After login: install the translator and sync the commands if their definition changed."""
        await self.tree.set_translator(ContentTranslator(self.core))
        try:
            await self.sync()
        except (discord.HTTPException, OSError, aiohttp.ClientError) as error:
            # Commands keep their last definition; the next start tries again.
            log.error("could not sync commands (%s); will retry on the next start", describe(error))

    async def sync(self, *, force: bool = False) -> bool:
        """Bulk-overwrite the global commands when their definition changed (or ``force``).

        Returns whether it synced. Discord limits command creation, so an unchanged
        definition is never sent again; the hash is kept in the store.
        """
        key = META_KEY.format(application_id=self.client.application_id)
        digest = definition_hash(await definition(self.tree))
        if not force and await self.core.meta(key) == digest:
            log.info("commands unchanged; not syncing")
            return False
        synced = await self.tree.sync()
        await self.core.set_meta(key, digest)
        log.info("synced %d commands", len(synced))
        return True

    async def on_ready(self) -> None:
        """Connected: forget servers the bot was removed from while it was offline."""
        forgotten = await self.reconcile()
        if forgotten:
            log.info("forgot %d servers the bot was removed from while offline", forgotten)
        log.info("ready in %d servers", len(self.client.guilds))
        if not self._refreshed:
            # Once per process: bring the pinned posts of this process's servers up to date.
            self._refreshed = True
            self.core.pins.start(PLATFORM, include=lambda c: self._handles(int(c.id)))
        self.ready.set()

    async def reconcile(self) -> int:
        """Delete the stored rows of every server this client should see but is not in.

        Servers that are only unavailable (an outage) stay in the client's list and are kept;
        with shards split over processes, only this process's shards are considered. A
        failing store is logged (at most once a minute, however often the gateway
        reconnects), and the next start reconciles again.
        """
        joined = {guild.id for guild in self.client.guilds}

        def keep(stored: str) -> bool:
            return not stored.isdigit() or int(stored) in joined or not self._handles(int(stored))

        return await self.core.reconcile(PLATFORM, keep)

    def _handles(self, guild_id: int) -> bool:
        client = self.client
        count = client.shard_count or 1
        if isinstance(client, discord.AutoShardedClient):
            mine = set(client.shard_ids or range(count))
        else:
            mine = {client.shard_id or 0}
        return (guild_id >> 22) % count in mine

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added to a server: a short welcome in its system channel, where the bot may post."""
        channel = guild.system_channel
        if channel is None or guild.me is None:
            return
        if missing(channel.permissions_for(guild.me), WELCOME_PERMISSIONS):
            return
        welcome = await self.core.welcome(Community(PLATFORM, str(guild.id)))
        try:
            await channel.send(welcome, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:
            log.warning("could not post the welcome (HTTP %s)", error.status)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: delete everything stored about it."""
        await self.core.forget_community(Community(PLATFORM, str(guild.id)))
        log.info("removed from a server; its settings and pins are deleted")

    # -- commands -----------------------------------------------------------------------

    @property
    def defer_after(self) -> float:
        """Seconds the core may take before the bot defers an interaction (see
        :data:`bots.discord.interactions.DEFER_AFTER`)."""
        return self.interactions.defer_after

    @defer_after.setter
    def defer_after(self, seconds: float) -> None:
        self.interactions.defer_after = seconds

    async def handle(
        self, interaction: discord.Interaction[Any], command: Command, options: dict[str, Any]
    ) -> None:
        """Every slash command lands here (see :func:`bots.discord.commands.build`)."""
        self.core.metrics.received()
        # discord.py runs each command in a task of its own and does not wait for them when
        # it closes: they are tracked so that stopping waits for them (see run).
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self.interactions.answer(interaction, command, options)
        finally:
            self._in_flight.discard(task)
        self._finished("command")  # a command that failed is finished by on_command_error

    async def on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A command broke: log what broke (never who or what they typed), apologise."""
        self.core.metrics.failed(PLATFORM)
        name = interaction.command.name if interaction.command else "?"
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error("/%s failed: %s", name, type(cause).__name__, exc_info=cause)
        try:
            await self.interactions.apologise(interaction)
        except discord.HTTPException as failed:
            log.warning("could not send the apology (HTTP %s)", failed.status)
        finally:
            self._finished("command")

    async def wait_finished(self, kind: str, count: int) -> None:
        """Wait until the bot has finished ``count`` of ``kind`` (see :attr:`finished`)."""
        while self.finished[kind] < count:
            await self._progress.wait()

    def _finished(self, kind: str) -> None:
        self.finished[kind] += 1
        # Wake every waiter, then give later ones a fresh event to wait on.
        self._progress.set()
        self._progress = asyncio.Event()

    def _counted(self, listener: Listener) -> Listener:
        """``listener`` (``on_<event>``), counted in :attr:`finished` once it returns or fails."""
        kind = listener.__name__.removeprefix("on_")

        async def counted(*args: Any) -> None:
            try:
                await listener(*args)
            finally:
                self._finished(kind)

        counted.__name__ = listener.__name__  # discord.py routes events by it
        return counted


def _token_rejected() -> TokenRejected:
    return TokenRejected("Discord", TOKEN_VARIABLE)


@contextlib.contextmanager
def platform_errors() -> Iterator[None]:
    """discord.py's errors for a refused token or an unreachable Discord, as the CLI's."""
    try:
        yield
    except discord.LoginFailure as error:
        raise _token_rejected() from error
    except discord.HTTPException as error:
        if error.status == 401:  # the token was revoked after login
            raise _token_rejected() from error
        if isinstance(error, discord.DiscordServerError):
            raise Unreachable("Discord", error) from error
        raise
    except NETWORK_ERRORS as error:
        raise Unreachable("Discord", error) from error


async def _login(client: discord.Client, token: str) -> None:
    """``client.login``, raising TokenRejected or Unreachable when it cannot."""
    with platform_errors():
        await client.login(token)


async def sync_commands(core: Core) -> int:
    """Sync the commands now, whatever the stored hash says; returns how many were sent.

    Raises TokenRejected or Unreachable when Discord refuses the token or cannot be reached.
    """
    bot = DiscordBot(core)
    async with bot.client:
        await _login(bot.client, core.config.platform(PLATFORM, DiscordConfig).token)
        await bot.tree.set_translator(ContentTranslator(core))
        with platform_errors():
            await bot.sync(force=True)
    return len(bot.tree.get_commands())


async def refresh_pins(core: Core) -> Counts:
    """``safety-bot refresh-pins``: edit every stale pinned post now, over HTTP only.

    Raises TokenRejected or Unreachable when Discord refuses the token or cannot be reached.
    """
    quiet_library_logs()
    client = discord.Client(intents=intents(), allowed_mentions=NO_MENTIONS)
    async with client:
        await _login(client, core.config.platform(PLATFORM, DiscordConfig).token)
        core.pins.attach(DiscordModeration(client))
        return await core.pins.refresh(PLATFORM)
