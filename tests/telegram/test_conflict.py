"""A second poller is refused clearly. Telegram answers 409 Conflict to a ``getUpdates`` that
another one with the same token ended, or while a webhook is set: the bot that got it stops
polling (polling again would take the updates back, and the other would stop in turn) with one
line saying what to do, and ``safety-bot run`` exits 5 once nothing else runs; its other
platforms keep answering until then."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bots.app import ExitCode, ReceivedElsewhere
from bots.discord import render
from bots.telegram.app import build_application, serve
from bots.telegram.platform import TelegramConfig
from shared.core import Core
from tests.command import closed_port, config_file, environment, leaks, start
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.discord.fake import FakeDiscord, guild
from tests.telegram.conftest import fast_limiter, running
from tests.telegram.fake import TERMINATED, TOKEN, WEBHOOK_ACTIVE, Call, FakeTelegram
from tests.telegram.processes import HOOK

LINE = "another process is receiving this bot's Telegram updates (409 Conflict"


def conflicts(fake: FakeTelegram) -> list[Call]:
    """The ``getUpdates`` calls answered 409 Conflict."""
    return [c for c in fake.calls if c.method == "getUpdates" and c.status == 409]


async def stopped(bot: asyncio.Task[None]) -> BaseException | None:
    """What ended ``bot`` (waiting at most 10 s for it to end)."""
    await asyncio.wait({bot}, timeout=10)
    assert bot.done(), "still polling"
    return bot.exception()


async def test_a_second_poller_ends_the_first_which_stops_and_polls_no_more(
    core: Core, fake: FakeTelegram
) -> None:
    second = Core(core.content, core.store, core.config)
    application = build_application(second, rate_limiter=fast_limiter())
    stack = contextlib.AsyncExitStack()
    first = await stack.enter_async_context(running(core, fake))
    task = asyncio.create_task(serve(second, application=application))
    try:
        why = await stopped(first)
        assert isinstance(why, ReceivedElsewhere)
        assert LINE in str(why)
        assert "run one poller, or run every process in webhook mode" in str(why)
        assert why.exit_code == ExitCode.CONFLICT == 5
        # The one left polling answers; it was never ended by the first polling again
        # (python-telegram-bot's last poll on stopping included).
        await fake.command("/about")
        await fake.wait_sent("sendMessage")
        assert len(conflicts(fake)) == 1
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # ``running`` ends by awaiting the first bot, which raises why it stopped.
        with pytest.raises(ReceivedElsewhere):
            await stack.aclose()


async def test_a_webhook_set_by_another_process_stops_polling(
    core: Core, fake: FakeTelegram
) -> None:
    stack = contextlib.AsyncExitStack()
    bot = await stack.enter_async_context(running(core, fake))
    try:
        url = f"{fake.base_url}{TOKEN}/setWebhook"
        async with aiohttp.ClientSession() as session:
            hook = {"url": "https://bot.example/tg/updates", "secret_token": "another"}
            async with session.post(url, json=hook) as answer:
                assert answer.status == 200
        why = await stopped(bot)
        assert isinstance(why, ReceivedElsewhere)
        assert LINE in str(why)
    finally:
        with pytest.raises(ReceivedElsewhere):
            await stack.aclose()
    [conflict] = conflicts(fake)
    assert conflict is [c for c in fake.calls if c.method == "getUpdates"][-1]


def test_the_fake_says_what_telegram_says() -> None:
    assert "terminated by other getUpdates request" in TERMINATED
    assert "can't use getUpdates method while webhook is active" in WEBHOOK_ACTIVE


async def test_safety_bot_run_stops_telegram_alone_and_exits_5(tmp_path: Path, core: Core) -> None:
    telegram = FakeTelegram()
    discord = FakeDiscord([guild()])
    await telegram.start()
    await discord.start()
    first_folder, second_folder = tmp_path / "first", tmp_path / "second"
    first_folder.mkdir()
    second_folder.mkdir()
    both = environment(telegram=TOKEN, discord=DISCORD_TOKEN, discord_port=discord.port)
    first = await start(
        "run",
        "--config",
        str(config_file(first_folder, telegram.base_url)),
        env=both,
        cwd=first_folder,
    )
    second = None
    try:
        await first.wait_for(lambda s: "Telegram bot running (long polling)" in s)
        await first.wait_for(lambda s: "ready in 1 servers" in s, within=60)
        await telegram.wait_for(lambda: bool(telegram.sent("getUpdates")), within=30)
        second = await start(
            "run",
            "--config",
            str(config_file(second_folder, telegram.base_url)),
            env=environment(telegram=TOKEN),
            cwd=second_folder,
        )
        await first.wait_for(lambda s: LINE in s)
        # The first keeps running for Discord; the second answers on Telegram.
        await telegram.command("/help_threatened")
        await telegram.wait_for(lambda: bool(telegram.sent("sendMessage")), within=30)
        body = await discord.interact("help-threatened")
        assert body == render.payload(
            core.advice("help-threatened", "en", core.config.default_region, None)
        )
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()
        stopped = await first.finished()
        other = await second.finished() if second is not None else None
        await discord.stop()
        await telegram.stop()
    assert stopped.code == ExitCode.CONFLICT, stopped.stderr
    [line] = [line for line in stopped.stderr.splitlines() if LINE in line]
    assert line.endswith("; Discord keeps running"), line
    assert "Traceback" not in stopped.output
    assert not leaks(stopped.output, TOKEN, DISCORD_TOKEN)
    assert other is not None
    assert other.code == 0, other.stderr
    assert LINE not in other.stderr


async def test_a_webhook_removed_by_a_poller_is_set_again_and_the_poller_stops(
    core: Core, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port()
    hooked = TelegramConfig(token=TOKEN, base_url=fake.base_url, webhook_url=HOOK, port=port)
    worker = Core(core.content, core.store, replace(core.config, platforms={"telegram": hooked}))
    webhook = asyncio.create_task(
        serve(
            worker,
            application=build_application(worker, rate_limiter=fast_limiter()),
            webhook_check=0.05,
        )
    )
    poller = Core(core.content, core.store, core.config)
    polling: asyncio.Task[None] | None = None
    try:
        await fake.wait_sent("setWebhook")
        # Started by mistake with the same token: python-telegram-bot removes the webhook.
        polling = asyncio.create_task(
            serve(poller, application=build_application(poller, rate_limiter=fast_limiter()))
        )
        await fake.wait_sent("deleteWebhook")
        why = await stopped(polling)
        assert isinstance(why, ReceivedElsewhere), why
        assert fake.webhook == {"url": HOOK, "secret_token": hooked.secret_token}
        # The webhook worker takes the updates again.
        fake.deliver_to([port], senders=1)
        await fake.command("/about")
        await fake.wait_sent("sendMessage")
        assert fake.delivered_to(port)
        assert not webhook.done()
    finally:
        for task in (webhook, polling):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ReceivedElsewhere):
                    await task
    said = [r.getMessage() for r in caplog.records if "webhook was removed" in r.getMessage()]
    assert said, "the worker said why it set the webhook again"
