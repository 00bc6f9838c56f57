"""Fixtures: a fake Telegram Bot API on 127.0.0.1 and the bot running against it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bots.registry import default_config
from bots.telegram.app import READ_TIMEOUT, CountingUpdateProcessor, build_application, serve
from bots.telegram.limiter import RetryingRateLimiter
from bots.telegram.platform import TelegramConfig
from shared.config import Config
from shared.content import default_content_path
from shared.core import Core
from tests.telegram.fake import TOKEN, FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, listening on a free port of 127.0.0.1."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def config(tmp_path: Path, fake: FakeTelegram) -> Config:
    """Defaults with the fake as Bot API server, a fresh database and no cooldown."""
    return default_config(
        database=tmp_path / "bot.sqlite3",
        cooldown_commands=1000,
        cooldown_seconds=1,
        telegram=TelegramConfig(token=TOKEN, base_url=fake.base_url),
    )


def fast_limiter() -> RetryingRateLimiter:
    """Telegram's limits and retries, with short waits so the suite stays fast."""
    return RetryingRateLimiter(retry_delay=0.01, group_max_rate=1000)


@contextlib.asynccontextmanager
async def running(
    core: Core,
    fake: FakeTelegram,
    *,
    rate_limiter: RetryingRateLimiter | None = None,
    read_timeout: float = READ_TIMEOUT,
    **polling: Any,
) -> AsyncIterator[asyncio.Task[None]]:
    """``serve(core)`` running until the block ends, then cancelled as ``safety-bot run``
    does on a signal; ``polling`` goes to :func:`serve` (``poll_timeout``, ``poll_interval``)."""
    application = build_application(
        core, rate_limiter=rate_limiter or fast_limiter(), read_timeout=read_timeout
    )
    updates = application.update_processor
    assert isinstance(updates, CountingUpdateProcessor)
    fake.watch(updates, core.pins.settle)
    task = asyncio.create_task(serve(core, application=application, **polling))
    before = len(fake.calls)

    def started() -> bool:
        if task.done():
            task.result()  # raises what stopped the bot
        return any(c.method == "getUpdates" for c in fake.calls[before:])

    await fake.wait_for(started, what="the bot to poll")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def bot(core: Core, fake: FakeTelegram) -> AsyncIterator[asyncio.Task[None]]:
    """The bot, polling the fake."""
    async with running(core, fake) as task:
        yield task


BIN = Path(sys.executable).parent / "safety-bot"


def operator_config(
    fake: FakeTelegram, folder: Path, *, database: Path | None = None, content: Path | None = None
) -> Path:
    """A ``config.toml`` as an operator would write it, with the fake as Bot API server."""
    path = folder / "config.toml"
    path.write_text(
        f"[telegram]\nbase_url = {json.dumps(fake.base_url)}\n"
        f"[storage]\ndatabase = {json.dumps(str(database or folder / 'bot.sqlite3'))}\n"
        f"[content]\npath = {json.dumps(str(content or default_content_path()))}\n"
    )
    return path


async def launch(*args: str, config: Path) -> asyncio.subprocess.Process:
    """``safety-bot ARGS --config CONFIG`` with only ``TELEGRAM_TOKEN`` set, output piped."""
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["TELEGRAM_TOKEN"] = TOKEN
    return await asyncio.create_subprocess_exec(
        str(BIN),
        *args,
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
