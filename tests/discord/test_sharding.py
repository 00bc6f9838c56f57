"""Shard sets and 4011: a process connects only its ``shard_ids``, sees and forgets only its
shards' servers; Discord requiring more shards (4011) restarts the Discord side sharded as
Discord recommends, or stops it with one line when the operator fixed the count; the fake
itself refuses what Discord would (a server on two live sessions)."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from bots.app import ExitCode, Unreachable
from bots.discord import sharding
from bots.discord.app import DiscordBot
from bots.discord.sharding import ShardCountTooLow, Shards, serve
from shared.core import Core
from shared.models import Community, PinnedPost, Settings
from tests.discord.conftest import TOKEN, running
from tests.discord.fake import (
    CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    guild,
    guilds_on,
    text_channel,
)
from tests.discord.test_app import serving, with_discord

pytestmark = pytest.mark.usefixtures("quick_identify")


def test_the_start_line_names_this_process_s_shards() -> None:
    assert str(Shards(4, (0, 1))) == "Discord: shards 0, 1 of 4"
    assert str(Shards(2)) == "Discord: shards 0, 1 of 2"
    assert str(Shards(1, sharded=False)) == "Discord: one connection, no shards"


async def test_a_process_identifies_only_its_shards_and_sees_their_servers(
    fake: FakeDiscord, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    mine, theirs = guilds_on(1, 3), guilds_on(0, 3) + guilds_on(2, 3)
    fake.guilds = {gid: guild(gid) for gid in mine + theirs}
    caplog.set_level(logging.INFO, logger="bots.discord.sharding")
    async with serving(with_discord(core, shard_count=3, shard_ids=(1,))):
        await fake.wait_for(lambda: fake.sessions)
        assert [s.identify["shard"] for s in fake.sessions] == [[1, 3]]
        ready = fake.sessions[0].sent[0]
        assert ready["t"] == "READY"
        assert sorted(int(g["id"]) for g in ready["d"]["guilds"]) == sorted(mine)
        await fake.interact("about", guild_id=mine[0])
        assert fake.routed[max(fake.routed)] == (1, 3)
    assert "Discord: shards 1 of 3" in caplog.text
    assert not fake.find("GET", "/gateway/bot"), "the operator's count is used as is"


async def test_reconcile_forgets_only_servers_of_this_process_s_shards(
    fake: FakeDiscord, core: Core
) -> None:
    joined, gone = guilds_on(0, 2, 2)
    elsewhere = guilds_on(1, 2, 1)[0]  # the other process's: not ours to forget
    fake.guilds = {joined: guild(joined)}
    for guild_id in (joined, gone, elsewhere):
        await core.save_settings(Community("discord", str(guild_id)), Settings("GB"))
    bot = DiscordBot(core, sharded=True, shard_count=2, shard_ids=(0,), guild_ready_timeout=0.05)
    async with running(bot):
        await bot.wait_finished("ready", 1)
    assert core.store is not None
    assert sorted(await core.store.communities("discord")) == sorted([str(joined), str(elsewhere)])


async def test_pins_are_refreshed_only_in_servers_of_this_process_s_shards(
    fake: FakeDiscord, core: Core
) -> None:
    posts = {}
    for shard in range(2):
        [guild_id] = guilds_on(shard, 2)
        channel = CHANNEL_ID + shard
        fake.guilds[guild_id] = guild(guild_id, channels=[text_channel(channel, guild_id, "a")])
        posts[shard] = fake.existing_post(channel, "old advice")
        community = Community("discord", str(guild_id))
        assert core.store is not None
        await core.store.add_pin(
            PinnedPost(community, str(channel), str(posts[shard]), "report", "an old version")
        )
    bot = DiscordBot(core, sharded=True, shard_count=2, shard_ids=(1,), guild_ready_timeout=0.05)
    async with running(bot):
        await fake.wait_for(lambda: fake.find("PATCH", contains="/messages/"))
        await asyncio.wait_for(core.pins.settle(), 5)
    edited = [r.path for r in fake.find("PATCH", contains="/messages/")]
    assert edited == [f"/channels/{CHANNEL_ID + 1}/messages/{posts[1]}"], "shard 0's is not ours"


async def test_4011_restarts_the_discord_side_sharded_as_discord_recommends(
    fake: FakeDiscord, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    fake.guilds = {gid: guild(gid) for gid in guilds_on(0, 2, 1) + guilds_on(1, 2, 1)}
    caplog.set_level(logging.INFO, logger="bots.discord.sharding")
    async with serving(with_discord(core)) as task:
        await fake.wait_for(lambda: fake.sessions)
        assert fake.sessions[0].shard == (0, 1), "one connection while Discord allows it"
        await fake.interact("about", guild_id=guilds_on(1, 2, 1)[0])
        # The bot grows past what one shard may hold: Discord refuses the next IDENTIFY.
        fake.required_shards = fake.recommended_shards = 2
        await fake.invalidate()
        await fake.wait_for(lambda: len(fake.live()) == 2, within=10)
        assert fake.sharding_refused == 1
        assert sorted(s.shard for s in fake.live()) == [(0, 2), (1, 2)]
        for guild_id in fake.guilds:
            await fake.interact("about", guild_id=guild_id)
        assert not task.done()
    lines = [r.getMessage() for r in caplog.records]
    assert [line for line in lines if "4011" in line] == [
        "Discord closed the gateway with 4011 (sharding required): restarting the Discord side"
        " sharded as Discord recommends (at least 2 shards)"
    ]
    assert lines.count("Discord: one connection, no shards") == 1
    assert lines.count("Discord: shards 0, 1 of 2") == 1


async def test_4011_never_restarts_with_the_count_discord_just_refused(
    fake: FakeDiscord, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    fake.required_shards = 3  # Discord still recommends 1: the bot must not loop on it
    async with serving(with_discord(core)):
        await fake.wait_for(lambda: len(fake.live()) == 3, within=10)
    restarts = [r.getMessage() for r in caplog.records if "4011" in r.getMessage()]
    assert [line[-19:] for line in restarts] == ["(at least 2 shards)", "(at least 3 shards)"]


async def test_4011_with_the_operator_s_shard_count_stops_the_discord_side_in_one_line(
    fake: FakeDiscord, core: Core
) -> None:
    fake.required_shards = 4
    with pytest.raises(ShardCountTooLow) as stopped:
        await asyncio.wait_for(serve(with_discord(core, shard_count=2, shard_ids=(0, 1))), 10)
    message = str(stopped.value)
    assert message.startswith("Discord closed the gateway with 4011 (sharding required): 2 shards")
    assert "raise [discord] shard_count ((built-in defaults):1)" in message
    assert "\n" not in message
    assert stopped.value.exit_code == ExitCode.CANNOT_START
    assert fake.find("GET", "/gateway/bot") == [], "the operator's count is never replaced"


async def test_the_fake_refuses_one_server_on_two_live_sessions() -> None:
    fake = FakeDiscord([guild()])
    await fake.start()
    try:
        first, second = await _identify(fake, [0, 2]), await _identify(fake, [1, 2])
        assert fake.protocol_errors == [], "disjoint shards"
        shard = fake.shard_of(GUILD_ID, 2)
        third = await _identify(fake, [shard, 2])  # another process given the same shard
        assert fake.protocol_errors == [
            f"shard [{shard}, 2] connected while shard [{shard}, 2] is: 1 servers on both"
        ]
        await second.close()
        await first.close()
        await third.close()
        await fake.wait_for(lambda: not fake.live())
        fourth = await _identify(fake, [0, 1])  # once they are gone, one shard may take all
        assert len(fake.protocol_errors) == 1
        await fourth.close()
    finally:
        await fake.stop()


class _Connection:
    """A raw gateway connection, IDENTIFYed with a shard."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http, self.ws = http, ws

    async def close(self) -> None:
        await self.ws.close()
        await self.http.close()


async def _identify(fake: FakeDiscord, shard: list[int]) -> _Connection:
    http = aiohttp.ClientSession()
    ws = await http.ws_connect(fake.gateway)
    await ws.receive_json()  # HELLO
    await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1, "shard": shard}})
    ready = await ws.receive_json()
    assert ready["t"] == "READY"
    return _Connection(http, ws)


async def test_the_shards_line_is_said_once_while_discord_cannot_be_reached(
    core: Core, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = 0

    class Away:
        """A Discord that cannot be reached at the first three logins, then can."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        async def run(self, token: str) -> None:
            nonlocal attempts
            attempts += 1
            if attempts <= 3:
                raise Unreachable("Discord", OSError("no route to host"))

    class NoWait:
        def delay(self) -> float:
            return 0.0

    monkeypatch.setattr(sharding, "DiscordBot", Away)
    monkeypatch.setattr(sharding, "Backoff", NoWait)
    caplog.set_level(logging.INFO, logger="bots.discord.sharding")
    await serve(with_discord(core, shard_count=2, shard_ids=(1,)))
    assert attempts == 4
    lines = [r.getMessage() for r in caplog.records]
    assert lines.count("Discord: shards 1 of 2") == 1
    assert sum("could not reach Discord" in line for line in lines) == 3
