"""Stopping the Discord bot as ``safety-bot run`` does on SIGTERM or SIGINT (cancelling it)
while a command is in flight: the command finishes before the client closes."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from bots.discord import render
from bots.discord.app import DiscordBot
from shared.core import Core
from shared.models import Community
from tests.discord.conftest import TOKEN
from tests.discord.fake import (
    APP_ID,
    GUILD_ID,
    PIN_MESSAGES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
)


class Logged(logging.Handler):
    """Sets ``seen`` once a record containing ``text`` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


async def test_command_in_flight_finishes_when_the_bot_stops(
    fake: FakeDiscord, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "bots.discord.app")
    bot = DiscordBot(core, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.run(TOKEN))
    await asyncio.wait_for(bot.ready.wait(), 10)
    slow_pin = fake.hold("PUT", "/pins/")
    finishing = Logged("finishing 1 commands in flight")
    logging.getLogger("bots.discord.app").addHandler(finishing)
    try:
        payload = fake.interaction(
            "pin-advice",
            {"topic": "report"},
            permissions=VIEW_CHANNEL | SEND_MESSAGES | PIN_MESSAGES,
        )
        await fake.dispatch("INTERACTION_CREATE", payload, GUILD_ID)
        await fake.wait_for(lambda: fake.find("PUT", contains="/pins/"))
        task.cancel()  # what safety-bot run does on a signal
        await asyncio.wait_for(finishing.seen.wait(), 10)
        assert not task.done(), "the client waits for the command"
        slow_pin.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    finally:
        logging.getLogger("bots.discord.app").removeHandler(finishing)
        task.cancel()
    [followup] = fake.find("POST", contains=f"/webhooks/{APP_ID}/{payload['token']}")
    assert followup.body["embeds"][0]["description"] == render.escape(core.text("en", "pin_done"))
    pins = await core.store.pins(Community("discord", str(GUILD_ID)))  # type: ignore[union-attr]
    assert [p.topic for p in pins] == ["report"]
