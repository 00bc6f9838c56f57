"""Reaching Telegram at start, and a token Telegram refuses: the bot comes up by itself after
an outage, and stops with an error naming the variable when retrying cannot help."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bots.app import ExitCode, TokenRejected
from bots.telegram.app import build_application, serve
from shared.core import Core
from tests.telegram.conftest import fast_limiter, launch, operator_config, running
from tests.telegram.fake import TOKEN, Failure, FakeTelegram


async def test_telegram_unreachable_at_start_is_tried_again(core: Core, fake: FakeTelegram) -> None:
    fake.fail("getMe", 502, "Bad Gateway", times=5)  # more than one start's own retries
    async with running(core, fake):
        await fake.command("/help_threatened")
        await fake.wait_sent("sendMessage")
    assert sum(c.method == "getMe" for c in fake.calls) == 6


async def test_a_token_refused_at_start_ends_the_run(core: Core, fake: FakeTelegram) -> None:
    fake.fail("getMe", 401, "Unauthorized")
    application = build_application(core, rate_limiter=fast_limiter())
    with pytest.raises(TokenRejected, match="TELEGRAM_TOKEN"):
        await asyncio.wait_for(serve(core, application=application), 10)
    assert sum(c.method == "getMe" for c in fake.calls) == 1, "not tried again"


async def test_a_token_revoked_while_running_ends_the_run(core: Core, fake: FakeTelegram) -> None:
    application = build_application(core, rate_limiter=fast_limiter())
    # The poll after the first one is refused (the first is already waiting when a test
    # could add a failure).
    fake.plan = lambda call: (
        Failure("getUpdates", 401, "Unauthorized", {})
        if call.method == "getUpdates" and len(fake.sent("getUpdates")) >= 1
        else None
    )
    task = asyncio.create_task(serve(core, application=application, poll_timeout=0))
    with pytest.raises(TokenRejected, match="TELEGRAM_TOKEN"):
        await asyncio.wait_for(task, 20)


async def test_safety_bot_run_says_which_token_was_refused(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.fail("getMe", 401, "Unauthorized")
    process = await launch("run", config=operator_config(fake, tmp_path))
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    log = stderr.decode()
    assert process.returncode == ExitCode.TOKEN_REFUSED, log
    assert "Telegram refused the bot token: check TELEGRAM_TOKEN" in log
    assert "nothing else is running, so safety-bot stops" in log, "no other platform to keep"
    assert "keep running" not in log
    assert "Traceback" not in log
    assert TOKEN not in log
