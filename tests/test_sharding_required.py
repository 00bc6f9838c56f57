"""Discord requiring sharding (gateway close 4011) while ``safety-bot run`` serves Telegram
too, in one real process: the Discord side starts again sharded as Discord recommends, logging
one line, and Telegram never notices: its commands are answered before, during and after the
restart, and the process goes on until it is stopped. When the operator set
``[discord] shard_count``, the Discord side stops instead, in one line naming the key, with
exit code 2."""

from __future__ import annotations

from pathlib import Path

from bots.app import ExitCode
from tests.command import assert_stopped_cleanly, config_file, environment, start, stop_all
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.discord.fake import GUILD_ID, FakeDiscord, guild
from tests.telegram.fake import TOKEN as TELEGRAM_TOKEN
from tests.telegram.fake import FakeTelegram

RESTART = (
    "Discord closed the gateway with 4011 (sharding required): restarting the Discord side"
    " sharded as Discord recommends (at least 2 shards)"
)


async def test_4011_restarts_discord_sharded_while_telegram_keeps_answering(
    tmp_path: Path,
) -> None:
    other = GUILD_ID + (1 << 22)  # the next server id falls on the other shard of two
    assert {FakeDiscord.shard_of(g, 2) for g in (GUILD_ID, other)} == {0, 1}
    telegram, discord = FakeTelegram(), FakeDiscord([guild(GUILD_ID), guild(other)])
    await telegram.start()
    await discord.start()
    env = environment(telegram=TELEGRAM_TOKEN, discord=DISCORD_TOKEN, discord_port=discord.port)
    bot = await start(
        "run", "--config", str(config_file(tmp_path, telegram.base_url)), env=env, cwd=tmp_path
    )
    answered = 0

    async def telegram_answers() -> None:
        nonlocal answered
        await telegram.command("/about")
        answered += 1
        await telegram.wait_sent("sendMessage", answered)

    try:
        await bot.wait_for(lambda stderr: "Discord: one connection, no shards" in stderr)
        await discord.wait_for(lambda: discord.live(), within=30)
        await telegram_answers()  # before
        await discord.interact("about", guild_id=other)
        # The bot passes what one shard may hold: Discord refuses its next IDENTIFY (4011);
        # its recommendation is held back, so the Discord side stays down for a while.
        recommendation = discord.hold("GET", "/gateway/bot")
        discord.required_shards = discord.recommended_shards = 2
        await discord.invalidate()
        await bot.wait_for(lambda stderr: RESTART in stderr)
        await discord.wait_for(lambda: len(discord.find("GET", "/gateway/bot")) == 2)
        assert not discord.live()
        await telegram_answers()  # during
        recommendation.set()
        await discord.wait_for(lambda: len(discord.live()) == 2, within=30)
        await telegram_answers()  # after
        for guild_id in (GUILD_ID, other):
            body = await discord.interact("about", guild_id=guild_id)
            assert body["data"]["flags"] == 64
    finally:
        result = await stop_all(bot, discord, telegram)
    assert_stopped_cleanly(result, TELEGRAM_TOKEN, DISCORD_TOKEN)
    assert result.stderr.count("4011") == 1, result.stderr
    assert "Discord: shards 0, 1 of 2" in result.stderr
    assert discord.sharding_refused == 1
    assert discord.protocol_errors == []
    assert len(telegram.sent("sendMessage")) == 3


async def test_4011_with_the_operator_s_shard_count_ends_discord_with_exit_code_2(
    tmp_path: Path,
) -> None:
    discord = FakeDiscord([guild()])
    discord.required_shards = 2
    await discord.start()
    config = tmp_path / "config.toml"
    config.write_text('[storage]\ndatabase = "bot.sqlite3"\n[discord]\nshard_count = 1\n')
    env = environment(discord=DISCORD_TOKEN, discord_port=discord.port)
    try:
        result = await (
            await start("run", "--config", str(config), env=env, cwd=tmp_path)
        ).finished()
    finally:
        await discord.stop()
    assert result.code == ExitCode.CANNOT_START, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "4011" in line]
    assert "1 shards are too few for the servers the bot is in; raise [discord] shard_count" in line
    assert f"({config}:4)" in line
    assert line.endswith("nothing else is running, so safety-bot stops")
    assert "Traceback" not in result.output
    assert discord.sharding_refused == 1
    assert not discord.find("GET", "/gateway/bot"), "the operator's count is never replaced"
