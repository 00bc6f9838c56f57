"""Metrics of the Discord bot, through discord.py's gateway and HTTP code against the fake,
read the way Prometheus reads them: answers by topic, region and locale, refusals, errors,
the answer latency, and readiness that follows the gateway connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bots.discord.app import DiscordBot
from shared.core import Core
from shared.models import Request
from tests.discord.conftest import running
from tests.discord.fake import PIN_MESSAGES, FakeDiscord
from tests.scrape import get, serving, value

ANSWERS = "safety_bot_answers_total"
DISCORD = {"platform": "discord"}
NOTHING = {"topic": "none", "region": "none"}


async def counted(core: Core, fake: FakeDiscord, name: str, labels: dict[str, str]) -> None:
    """Wait until the counter ``name`` with ``labels`` is 1 (the hook runs once Discord
    accepted the answer)."""
    await fake.wait_for(lambda: core.metrics.registry.get_sample_value(name, labels) == 1)


async def until(condition: Callable[[], bool], within: float = 30) -> None:
    """Wait until ``condition()`` holds (for what the fake does not announce)."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_an_interaction_counts_its_answer_and_its_latency(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    advice = {"kind": "advice", "topic": "report", "region": "GB", "locale": "fr"}
    async with serving(core, ["discord"]) as server:
        await fake.interact("report", {"region": "GB"}, locale="fr")
        await counted(core, fake, ANSWERS, {**DISCORD, **advice})
        status, text = await get(server, "/metrics")
    assert status == 200
    assert value(text, ANSWERS, **DISCORD, **advice) == 1
    assert value(text, "safety_bot_answer_seconds_count", **DISCORD) == 1
    assert 0 < value(text, "safety_bot_answer_seconds_sum", **DISCORD) < 5
    assert value(text, "safety_bot_platform_connected", **DISCORD) == 1


async def test_refusals_are_counted_by_reason(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    await fake.interact("setup", {"region": "GB"})  # not a moderator
    await counted(core, fake, "safety_bot_refusals_total", {"reason": "not_moderator"})
    refusal = {"kind": "refusal", **NOTHING, "locale": "en"}
    await counted(core, fake, ANSWERS, {**DISCORD, **refusal})
    # The bot may not post in the channel: refused for want of its own right.
    await fake.interact(
        "pin-advice", {"topic": "report"}, permissions=PIN_MESSAGES, app_permissions=0
    )
    await counted(core, fake, "safety_bot_refusals_total", {"reason": "bot_missing_right"})


async def test_a_broken_command_counts_an_error_and_its_apology(
    bot: DiscordBot, fake: FakeDiscord, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: Request, platform: object = None) -> None:
        raise RuntimeError("a command broke")

    monkeypatch.setattr(core, "handle", broken)
    await fake.interact("report")
    await counted(core, fake, ANSWERS, {**DISCORD, "kind": "error", **NOTHING, "locale": "en"})
    assert core.metrics.registry.get_sample_value("safety_bot_errors_total", DISCORD) == 1


async def test_not_ready_while_the_gateway_is_away(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    async with serving(core, ["discord"]) as server:
        assert await get(server, "/readyz") == (200, "ready\n")
        fake.refuse_connections = 1_000
        await fake.drop(4000)
        await until(lambda: fake.refused >= 1)
        assert await get(server, "/readyz") == (503, "not ready: discord: not connected\n")
        _status, text = await get(server, "/metrics")
        assert value(text, "safety_bot_platform_connected", **DISCORD) == 0
        fake.refuse_connections = 0
        await until(bot.connected)
        assert await get(server, "/readyz") == (200, "ready\n")


@pytest.mark.usefixtures("quick_identify")
async def test_sharded_ready_only_while_every_shard_is_connected(
    fake: FakeDiscord, core: Core
) -> None:
    bot = DiscordBot(core, sharded=True, shard_count=2, guild_ready_timeout=0.05)
    async with running(bot), serving(core, ["discord"]) as server:
        await until(lambda: len(fake.sessions) == 2)
        await until(bot.connected)
        assert await get(server, "/readyz") == (200, "ready\n")
        fake.refuse_connections = 1_000
        await fake.drop(4000, fake.sessions[1])
        await until(lambda: fake.refused >= 1)
        assert await get(server, "/readyz") == (503, "not ready: discord: not connected\n")
        fake.refuse_connections = 0
        await until(bot.connected)
    assert not bot.connected()
