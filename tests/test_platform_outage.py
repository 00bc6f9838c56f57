"""One platform down at start does not take the other with it: ``safety-bot run`` with both
tokens, Discord unreachable (nobody listening on its port of 127.0.0.1), answers on Telegram
at once, says in one line per try why Discord is not connected, and connects to Discord by
itself once it is up."""

from __future__ import annotations

from pathlib import Path

from bots.discord import render
from shared.core import Core
from tests.command import (
    assert_stopped_cleanly,
    closed_port,
    config_file,
    environment,
    start,
    stop_all,
)
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.discord.fake import FakeDiscord, guild
from tests.telegram.fake import TOKEN as TELEGRAM_TOKEN
from tests.telegram.fake import FakeTelegram

UNREACHABLE = "could not reach Discord (ClientConnectorError: Cannot connect to host 127.0.0.1"


async def test_discord_down_at_start_leaves_telegram_answering_until_it_comes_up(
    tmp_path: Path, core: Core
) -> None:
    port = closed_port()
    telegram = FakeTelegram()
    await telegram.start()
    discord = FakeDiscord([guild()])
    env = environment(telegram=TELEGRAM_TOKEN, discord=DISCORD_TOKEN, discord_port=port)
    bot = await start(
        "run", "--config", str(config_file(tmp_path, telegram.base_url)), env=env, cwd=tmp_path
    )
    try:
        # Telegram answers while Discord cannot be reached, and keeps being tried.
        await telegram.wait_for(lambda: bool(telegram.sent("getUpdates")), within=30)
        await telegram.command("/help_threatened")
        await telegram.wait_sent("sendMessage")
        await bot.wait_for(lambda stderr: stderr.count(UNREACHABLE) >= 2)
        # Discord comes up: the bot logs in, syncs its commands, connects and answers.
        await discord.start(port)
        await discord.wait_for(lambda: discord.sessions, within=60)
        body = await discord.interact("help-threatened")
        assert body == render.payload(
            core.advice("help-threatened", "en", core.config.default_region, None)
        )
        await telegram.command("/about")
        await telegram.wait_sent("sendMessage", 2)
        await bot.wait_for(lambda stderr: "ready in 1 servers" in stderr)
    finally:
        result = await stop_all(bot, discord, telegram)
    assert_stopped_cleanly(result, TELEGRAM_TOKEN, DISCORD_TOKEN)
    tries = [line for line in result.stderr.splitlines() if "could not reach Discord" in line]
    assert len(tries) >= 2
    for line in tries:
        assert UNREACHABLE in line, "the cause, in the same line"
        assert "WARNING" in line
        assert "trying again in" in line
