"""Metrics of the Telegram bot, through python-telegram-bot and the fake Bot API, read the way
Prometheus reads them (``GET /metrics``): answers by topic, region and locale, group pointers,
refusals, errors, the answer latency, readiness, and pinned posts counted at most once a
minute."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path

import pytest

from bots.telegram.app import build_application, serve
from bots.telegram.platform import TelegramConfig
from shared.core import Core
from shared.models import Community
from shared.store import SqliteStore
from tests.conftest import changed_content, restarted
from tests.scrape import get, serving, value
from tests.telegram.conftest import fast_limiter, running
from tests.telegram.fake import ADMIN_ID, GROUP_ID, TOKEN, FakeTelegram, group_chat, user
from tests.telegram.test_app import free_port

ANSWERS = "safety_bot_answers_total"
TELEGRAM = {"platform": "telegram"}


async def counted(core: Core, fake: FakeTelegram, name: str, labels: dict[str, str]) -> None:
    """Wait until the counter ``name`` with ``labels`` is 1 (the hook runs after Telegram
    answered the send)."""
    await fake.wait_for(
        lambda: core.metrics.registry.get_sample_value(name, labels) == 1, what=f"{name}{labels}"
    )


async def test_a_command_counts_its_answer_and_its_latency(core: Core, fake: FakeTelegram) -> None:
    advice = {"kind": "advice", "topic": "help-threatened", "region": "GB", "locale": "en"}
    async with running(core, fake), serving(core, ["telegram"]) as server:
        await fake.command("/help_threatened GB")
        await counted(core, fake, ANSWERS, {**TELEGRAM, **advice})
        status, text = await get(server, "/metrics")
    assert status == 200
    assert value(text, ANSWERS, **TELEGRAM, **advice) == 1
    assert value(text, "safety_bot_answer_seconds_count", **TELEGRAM) == 1
    assert 0 < value(text, "safety_bot_answer_seconds_sum", **TELEGRAM) < 5
    assert value(text, "safety_bot_platform_connected", **TELEGRAM) == 1
    assert value(text, "process_resident_memory_bytes") > 0


async def test_a_group_pointer_and_a_refusal_are_counted(core: Core, fake: FakeTelegram) -> None:
    pointer = {"kind": "pointer", "topic": "report", "region": "CA", "locale": "en"}
    async with running(core, fake):
        await fake.command("/report", chat=group_chat())
        await counted(core, fake, ANSWERS, {**TELEGRAM, **pointer})
        await fake.command("/setup GB", chat=group_chat())  # not an administrator
        await counted(core, fake, "safety_bot_refusals_total", {"reason": "not_moderator"})
        refusal = {"kind": "refusal", "topic": "none", "region": "none", "locale": "en"}
        await counted(core, fake, ANSWERS, {**TELEGRAM, **refusal})


async def test_a_broken_handler_counts_an_error_and_its_apology(
    core: Core, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("a handler broke")

    monkeypatch.setattr(core, "handle", broken)
    async with running(core, fake):
        await fake.command("/report")
        apology = {"kind": "error", "topic": "none", "region": "none", "locale": "en"}
        await counted(core, fake, ANSWERS, {**TELEGRAM, **apology})
    assert core.metrics.registry.get_sample_value("safety_bot_errors_total", TELEGRAM) == 1
    # The apology is the answer the person got: its latency is measured.
    seconds = core.metrics.registry.get_sample_value("safety_bot_answer_seconds_count", TELEGRAM)
    assert seconds == 1


async def test_ready_only_while_polling(core: Core, fake: FakeTelegram) -> None:
    async with serving(core, ["telegram"]) as server:
        assert await get(server, "/readyz") == (503, "not ready: telegram: not connected\n")
        async with running(core, fake):
            assert await get(server, "/readyz") == (200, "ready\n")
        assert await get(server, "/readyz") == (503, "not ready: telegram: not connected\n")
        assert await get(server, "/healthz") == (200, "ok\n")


async def test_pinned_posts_by_state_counted_at_most_once_a_minute(
    core: Core, fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(core, fake):
        await fake.command("/pin_advice report", chat=group_chat(), sender=user(ADMIN_ID))
        await fake.command("/pin_advice about", chat=group_chat(), sender=user(ADMIN_ID))
        await fake.wait_sent("pinChatMessage", 2)
    store = core.store
    assert isinstance(store, SqliteStore)
    reads = 0
    pins = store.pins

    async def counting(community: Community | None = None) -> list[object]:
        nonlocal reads
        reads += 1
        return list(await pins(community))

    monkeypatch.setattr(store, "pins", counting)
    states = ("current", "stale", "cannot_edit")
    async with serving(core, ["telegram"]) as server:
        for _ in range(3):
            _status, text = await get(server, "/metrics")
            figures = [value(text, "safety_bot_pinned_posts", **TELEGRAM, state=s) for s in states]
            assert figures == [2, 0, 0]
    assert reads == 1, "three scrapes within a minute read the pinned posts once"

    # The content changed and the bot restarted: both posts are stale until edited; one the
    # bot may no longer edit (its moderators were told).
    later = restarted(core, changed_content(tmp_path, "report", "about"))
    [first, _second] = await pins(Community("telegram", str(GROUP_ID)))
    await store.pin_reported(first)
    async with serving(later, ["telegram"]) as server:
        _status, text = await get(server, "/metrics")
    figures = [value(text, "safety_bot_pinned_posts", **TELEGRAM, state=s) for s in states]
    assert figures == [0, 1, 1]


async def test_ready_while_the_webhook_serves(core: Core, fake: FakeTelegram) -> None:
    telegram = TelegramConfig(
        token=TOKEN,
        base_url=fake.base_url,
        webhook_url="https://bot.example.org/tg/updates",
        listen="127.0.0.1",
        port=free_port(),
    )
    platforms = {**core.config.platforms, "telegram": telegram}
    hooked = Core(core.content, core.store, dataclasses.replace(core.config, platforms=platforms))
    application = build_application(hooked, rate_limiter=fast_limiter())
    async with serving(hooked, ["telegram"]) as server:
        task = asyncio.create_task(serve(hooked, application=application))
        try:
            await fake.wait_sent("setWebhook")
            await fake.wait_for(
                lambda: application.updater is not None and application.updater.running
            )
            assert await get(server, "/readyz") == (200, "ready\n")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert await get(server, "/readyz") == (503, "not ready: telegram: not connected\n")
