"""The Discord adapter: slash commands in, ephemeral embeds out, through discord.py.

It translates only: an interaction becomes a core :class:`Request`, the core's :class:`Reply`
becomes an embed with link buttons (:mod:`bots.discord.render`). Who may use a command is the
core's rule (``Core.refusal``) fed with Discord's permission check. Nothing about a person is
kept or logged: no user id, no message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bots.app import Backoff, TokenRejected, Unreachable, describe
from bots.discord.commands import (
    CHANNEL,
    ContentTranslator,
    build,
    definition,
    definition_hash,
    option_values,
)
from bots.discord.permissions import (
    MODERATOR_PERMISSION,
    WELCOME_PERMISSIONS,
    has,
    missing,
)
from bots.discord.pins import DiscordEditor
from bots.discord.send import NO_MENTIONS, PLATFORM, message_kwargs
from shared.commands import BY_NAME, TOPICS, Command
from shared.config import TOKEN_VARIABLES
from shared.core import Core
from shared.metrics import Refusal
from shared.models import Community, Reply, ReplyKind, Request
from shared.pins import Counts

log = logging.getLogger(__name__)

META_KEY = "discord.commands.{application_id}"
"""Store meta key of the hash of the last synced command list, per application."""
AUTHENTICATION_FAILED = 4004
"""Gateway close code for a token Discord refuses."""
DEFER_AFTER = 1.5
"""Seconds the core may take before the bot defers: Discord drops an interaction not
acknowledged within 3 s, and a callback that meets a 5xx is retried only after 1 s."""
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused connections and timeouts included
    aiohttp.ClientError,
    discord.GatewayNotFound,
    discord.DiscordServerError,
)
"""What Discord being unreachable looks like in discord.py: trying again later can help."""
LIBRARY_LOGGERS = ("discord.client", "discord.shard")
"""discord.py loggers that log a whole traceback each time the gateway cannot be reached."""


class _OneLineOutages(logging.Filter):
    """Without ``--debug``, a record about Discord being unreachable says why in one line
    instead of a traceback; a traceback of anything else is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, NETWORK_ERRORS) or logging.getLogger().level <= logging.DEBUG:
            return True
        record.msg = f"{record.getMessage()} (could not reach Discord: {describe(error)})"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_OUTAGES = _OneLineOutages()

Listener = Callable[..., Coroutine[Any, Any, None]]
"""A gateway event listener (``on_<event>``)."""


def quiet_library_logs() -> None:
    """discord.py logs whole gateway events and request bodies at DEBUG: user ids, option
    values and interaction tokens. Keep its loggers at INFO or above, even with ``--debug``;
    and its retries during an outage in one line each (see :class:`_OneLineOutages`)."""
    library = logging.getLogger("discord")
    library.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _OUTAGES not in logger.filters:
            logger.addFilter(_OUTAGES)
    # The bot never joins voice: no warnings about voice libraries it does not need.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


def intents() -> discord.Intents:
    """Guild events only: joins, removals, channels and roles (for permission checks).

    No privileged intent, no message content, no members, no presences.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class DiscordBot:
    """One Discord client wired to the core; :meth:`run` connects until cancelled."""

    def __init__(
        self,
        core: Core,
        *,
        sharded: bool = False,
        shard_count: int | None = None,
        guild_ready_timeout: float = 2.0,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self.core = core
        self.defer_after = defer_after
        quiet_library_logs()
        options: dict[str, Any] = {
            "intents": intents(),
            "member_cache_flags": discord.MemberCacheFlags.none(),
            "chunk_guilds_at_startup": False,
            "max_messages": None,
            "allowed_mentions": NO_MENTIONS,
            "guild_ready_timeout": guild_ready_timeout,
        }
        self.client: discord.Client
        if sharded:
            self.client = discord.AutoShardedClient(shard_count=shard_count, **options)
        else:
            self.client = discord.Client(**options)
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
        core.pins.attach(DiscordEditor(self.client))
        self._refreshed = False
        self._in_flight: set[asyncio.Task[Any]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    async def run(self, token: str) -> None:
        """Log in, sync commands if they changed, and stay connected until cancelled; then
        let the commands being answered finish before the client closes.

        Raises TokenRejected when Discord refuses the token, Unreachable when it cannot be
        reached to log in (:func:`serve` tries again with a new client).
        """
        self.core.metrics.watch(PLATFORM, self.connected)
        try:
            async with self.client:
                try:
                    await _login(self.client, token)
                    await self.prepare()
                    await self.connect()
                except discord.ConnectionClosed as error:
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
        try:
            await self.reconcile()
        except Exception:
            # Answering people matters more; the next start reconciles again. Logged like any
            # store failure, at most once a minute, however often the gateway reconnects.
            self.core.store_failed("reconcile stored servers with joined ones")
        log.info("ready in %d servers", len(self.client.guilds))
        if not self._refreshed:
            # Once per process: bring the pinned posts of this process's servers up to date.
            self._refreshed = True
            self.core.pins.start(PLATFORM, include=lambda c: self._handles(int(c.id)))
        self.ready.set()

    async def reconcile(self) -> int:
        """Delete the stored rows of every server this client should see but is not in.

        Servers that are only unavailable (an outage) stay in the client's list and are kept;
        with shards split over processes, only this process's shards are considered.
        """
        store = self.core.store
        if store is None:
            return 0
        joined = {guild.id for guild in self.client.guilds}
        forgotten = 0
        for stored in await store.communities(PLATFORM):
            if not stored.isdigit() or int(stored) in joined or not self._handles(int(stored)):
                continue
            await self.core.forget_community(Community(PLATFORM, stored))
            forgotten += 1
        if forgotten:
            log.info("forgot %d servers the bot was removed from while offline", forgotten)
        return forgotten

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
        settings = await self.core.settings(Community(PLATFORM, str(guild.id)))
        locale = self.core.locale_for(None, settings)
        try:
            await channel.send(self.core.text(locale, "welcome"), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:
            log.warning("could not post the welcome (HTTP %s)", error.status)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: delete everything stored about it."""
        await self.core.forget_community(Community(PLATFORM, str(guild.id)))
        log.info("removed from a server; its settings and pins are deleted")

    # -- commands -----------------------------------------------------------------------

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
            if command.name == "pin-advice":
                await self._pin(interaction, command, options)
            elif command.name == "unpin-advice":
                await self._unpin(interaction, command, options)
            else:
                request = self._request(interaction, command, options)
                reply = await self._in_time(interaction, self.core.handle(request))
                await self._answer(interaction, reply)
        finally:
            self._in_flight.discard(task)
        self._finished("command")  # a command that failed is finished by on_command_error

    async def _in_time(
        self, interaction: discord.Interaction[Any], work: Awaitable[Reply]
    ) -> Reply:
        """The reply ``work`` gives; when it takes longer than ``defer_after`` (a busy or
        locked store), defer first so Discord keeps the interaction, and it becomes a follow-up."""
        deferring: list[asyncio.Task[Any]] = []

        def defer() -> None:
            deferring.append(
                asyncio.ensure_future(interaction.response.defer(ephemeral=True, thinking=True))
            )

        # A timer rather than a task per command: the core almost always answers at once, and
        # this costs next to nothing when it does.
        timer = asyncio.get_running_loop().call_later(self.defer_after, defer)
        try:
            return await work
        finally:
            timer.cancel()
            for task in deferring:
                await task  # the answer goes out only once Discord has the deferral

    def _request(
        self,
        interaction: discord.Interaction[Any],
        command: Command,
        options: dict[str, Any],
        granted: discord.Permissions | None = None,
    ) -> Request:
        community = _community(interaction)
        permission = MODERATOR_PERMISSION.get(command.name)
        granted = interaction.permissions if granted is None else granted
        return Request(
            command=command.name,
            options=option_values(options),
            user_locale=interaction.locale.value,
            community=community,
            is_moderator=bool(community and permission and has(granted, permission)),
            is_private_chat=interaction.guild_id is None,
            user_key=str(interaction.user.id),
        )

    async def _locale(self, interaction: discord.Interaction[Any]) -> str:
        settings = await self.core.settings(_community(interaction))
        return self.core.locale_for(interaction.locale.value, settings)

    async def _pin(
        self, interaction: discord.Interaction[Any], command: Command, options: dict[str, Any]
    ) -> None:
        target = options.get(CHANNEL)
        # The person's permission where the advice goes: Discord resolves it for a chosen
        # channel, and gives it for the channel they typed in.
        granted = target.permissions if target is not None else interaction.permissions
        request = self._request(interaction, command, options, granted)
        post = await self._in_time(interaction, self.core.handle(request))
        if post.kind is not ReplyKind.ADVICE or post.topic is None or request.community is None:
            await self._answer(interaction, post)  # a refusal, a cooldown, a bad option
            return
        locale = await self._locale(interaction)
        channel_id = target.id if target is not None else interaction.channel_id
        assert channel_id is not None
        assert interaction.guild_id is not None
        if channel_id == interaction.channel_id:
            bot_granted = interaction.app_permissions
        else:
            bot_granted = self._bot_permissions(interaction.guild_id, channel_id)
        lacking = missing(bot_granted)
        if lacking:
            self.core.metrics.refused(Refusal.BOT_MISSING_RIGHT)
            rights = ", ".join(self.core.text(locale, f"permission_{name}") for name in lacking)
            notice = self.core.text(locale, "pin_missing_right", right=rights)
            await self._answer(interaction, _notice(notice, locale, ReplyKind.REFUSAL))
            return
        # Posting and pinning are two requests that rate limits may slow: answer Discord now.
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        channel = self.client.get_partial_messageable(channel_id, guild_id=interaction.guild_id)
        message = await channel.send(**message_kwargs(post))
        await message.pin()
        recorded = await self.core.record_pin(
            request.community,
            str(channel_id),
            str(message.id),
            post.topic,
            self.core.content_version(post),
        )
        if not recorded:
            # A pin the bot cannot find again could never be unpinned or updated by it.
            try:
                await message.delete()
            except discord.HTTPException as error:
                log.warning("could not remove a post it failed to record (HTTP %s)", error.status)
            await self._answer(interaction, self.core.save_failed_reply(locale))
            return
        await self._answer(interaction, _notice(self.core.text(locale, "pin_done"), locale))

    def _bot_permissions(self, guild_id: int, channel_id: int) -> discord.Permissions:
        """The bot's permissions in a channel, from the guild cache (none if unknown)."""
        guild = self.client.get_guild(guild_id)
        channel = guild.get_channel(channel_id) if guild is not None else None
        if guild is None or channel is None or guild.me is None:
            return discord.Permissions.none()
        return channel.permissions_for(guild.me)

    async def _unpin(
        self, interaction: discord.Interaction[Any], command: Command, options: dict[str, Any]
    ) -> None:
        request = self._request(interaction, command, options)
        locale = await self._locale(interaction)
        # Not through Core.handle (a topic is optional here), so count and check the same way.
        refusal = self.core.cooldown_reply(request.user_key, locale) or self.core.refusal(
            BY_NAME[command.name], request, locale
        )
        if refusal is not None or request.community is None:
            await self._answer(interaction, refusal or self.core.error_reply(locale))
            return
        chosen = self.core.topic_option(request.options.get("topic"))
        await interaction.response.defer(ephemeral=True, thinking=True)
        unpinned = 0
        for topic in [chosen] if chosen else TOPICS:
            removed = await self.core.forget_pins(request.community, topic)
            if removed is None:
                await self._answer(interaction, self.core.save_failed_reply(locale))
                return
            for post in removed:
                channel = self.client.get_partial_messageable(int(post.channel_id))
                try:
                    await channel.get_partial_message(int(post.message_id)).unpin()
                except (discord.NotFound, discord.Forbidden) as error:
                    # Deleted by hand, or the right was taken away: nothing left to undo here.
                    log.info("could not unpin a post (HTTP %s)", error.status)
                unpinned += 1
        key = "unpin_done" if unpinned else "unpin_none"
        await self._answer(interaction, _notice(self.core.text(locale, key), locale))

    async def _answer(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        """Send a reply to the person only (ephemeral), as the first response or a follow-up."""
        kwargs = message_kwargs(reply)
        if interaction.response.is_done():
            await interaction.followup.send(ephemeral=True, **kwargs)
        else:
            await interaction.response.send_message(ephemeral=True, **kwargs)
        self.core.metrics.replied(PLATFORM, reply)

    async def on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A command broke: log what broke (never who or what they typed), apologise."""
        self.core.metrics.failed(PLATFORM)
        name = interaction.command.name if interaction.command else "?"
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error("/%s failed: %s", name, type(cause).__name__, exc_info=cause)
        try:
            await self._answer(interaction, self.core.error_reply(interaction.locale.value))
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
    return TokenRejected("Discord", TOKEN_VARIABLES["discord"])


@contextlib.contextmanager
def _platform_errors() -> Iterator[None]:
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
    with _platform_errors():
        await client.login(token)


def _community(interaction: discord.Interaction[Any]) -> Community | None:
    """The server, when the bot was added to it; None in DMs and where only a user installed it."""
    if interaction.guild_id is None or not interaction.is_guild_integration():
        return None
    return Community(PLATFORM, str(interaction.guild_id))


def _notice(text: str, locale: str, kind: ReplyKind = ReplyKind.NOTICE) -> Reply:
    return Reply(title=text, kind=kind, locale=locale)


async def recommended_shards(token: str) -> int:
    """How many shards Discord recommends for this bot (``GET /gateway/bot``).

    Raises TokenRejected or Unreachable when Discord refuses the token or cannot be reached.
    """
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        with _platform_errors():
            await http.static_login(token)
            shards, _url, _limit = await http.get_bot_gateway()
    finally:
        await http.close()
    return int(shards)


async def serve(core: Core) -> None:
    """Run the Discord bot until cancelled, sharded when configured or when Discord says so.

    While Discord cannot be reached (login, ``GET /gateway/bot``), it is tried again with
    backoff, the cause logged in one line each time; the gateway is then discord.py's to
    reconnect. A refused token raises TokenRejected.
    """
    quiet_library_logs()  # before the first request, not only once the client is built
    config = core.config.discord
    backoff = Backoff()
    while True:
        try:
            shards = config.shards or await recommended_shards(config.token)
            sharded = config.shards > 0 or shards > 1
            bot = DiscordBot(core, sharded=sharded, shard_count=config.shards or None)
            await bot.run(config.token)
            return
        except Unreachable as error:
            delay = backoff.delay()
            log.warning("%s; trying again in %.1f s", error.reason, delay)
            await asyncio.sleep(delay)


async def sync_commands(core: Core) -> int:
    """Sync the commands now, whatever the stored hash says; returns how many were sent.

    Raises TokenRejected or Unreachable when Discord refuses the token or cannot be reached.
    """
    bot = DiscordBot(core)
    async with bot.client:
        await _login(bot.client, core.config.discord.token)
        await bot.tree.set_translator(ContentTranslator(core))
        with _platform_errors():
            await bot.sync(force=True)
    return len(bot.tree.get_commands())


async def refresh_pins(core: Core) -> Counts:
    """``safety-bot refresh-pins``: edit every stale pinned post now, over HTTP only.

    Raises TokenRejected or Unreachable when Discord refuses the token or cannot be reached.
    """
    quiet_library_logs()
    client = discord.Client(intents=intents(), allowed_mentions=NO_MENTIONS)
    async with client:
        await _login(client, core.config.discord.token)
        core.pins.attach(DiscordEditor(client))
        return await core.pins.refresh(PLATFORM)
