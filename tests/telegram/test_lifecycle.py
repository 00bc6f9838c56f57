"""``safety-bot run`` with ``TELEGRAM_TOKEN`` stopped by SIGTERM or SIGINT while a command is
in flight: the command finishes (posted, pinned, recorded, confirmed), then the database
closes and the process exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import pytest

from bots.telegram.render import escape
from shared.content import load_content
from shared.models import Community
from shared.store import SqliteStore
from tests.faults import integrity, leftovers
from tests.telegram.conftest import launch, operator_config
from tests.telegram.fake import ADMIN_ID, GROUP_ID, FakeTelegram, group_chat, user

STOPPING = "Application is stopping"
"""python-telegram-bot's own line when ``Application.stop`` begins, which waits for the
updates being handled."""


class Lines:
    """A process's stderr, read line by line as it comes."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.text = ""
        self._more = asyncio.Event()
        self._task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            self.text += line.decode()
            self._more.set()

    async def wait_for(self, wanted: str, within: float = 30) -> None:
        """Wait until ``wanted`` was written."""
        async with asyncio.timeout(within):
            while wanted not in self.text:
                self._more.clear()
                await self._more.wait()

    async def close(self) -> str:
        """Everything written, once the stream has ended."""
        await self._task
        return self.text


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_command_in_flight_finishes_before_the_bot_stops(
    fake: FakeTelegram, tmp_path: Path, signum: signal.Signals
) -> None:
    database = tmp_path / "bot.sqlite3"
    process = await launch("run", config=operator_config(fake, tmp_path, database=database))
    assert process.stderr is not None
    log = Lines(process.stderr)
    try:
        await fake.wait_for(lambda: bool(fake.sent("getUpdates")), within=30, what="polling")
        slow_pin = fake.hold("pinChatMessage")
        await fake.command("/pin_advice report", chat=group_chat(), sender=user(ADMIN_ID))
        await fake.wait_for(
            lambda: any(c.method == "pinChatMessage" for c in fake.calls), what="the pin call"
        )
        process.send_signal(signum)
        await log.wait_for(STOPPING)
        slow_pin.set()  # Telegram answers only now, while the bot is stopping
        returncode = await asyncio.wait_for(process.wait(), 30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        stderr = await log.close()
    assert returncode == 0, stderr
    assert f"stopping on signal {signum.name}" in stderr
    # The command went to its end: pinned, recorded, and the moderator told.
    [pinned] = fake.pinned[GROUP_ID]
    done = load_content().ui("en", "pin_done")
    assert fake.sent("sendMessage", ADMIN_ID)[-1]["text"] == escape(done)
    assert leftovers(tmp_path) == []
    assert integrity(database) == "ok"
    async with await SqliteStore.open(database) as store:
        [record] = await store.pins(Community("telegram", str(GROUP_ID)))
    assert record.message_id == str(pinned)
