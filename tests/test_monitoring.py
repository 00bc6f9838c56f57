"""The operator's endpoints: ``/healthz`` while alive; ``/readyz`` only once both platforms are
connected (through the fakes) and while the store answers; ``/metrics`` in the format asked
for, never waiting long for the pinned-post count; an address already taken leaves the bot
running; and ``safety-bot run`` serves them and closes them cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bots import monitoring
from bots.discord.app import DiscordBot
from bots.discord.platform import DiscordConfig
from bots.registry import default_config
from bots.telegram.platform import TelegramConfig
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.store import UnavailableStore
from shared.store.postgres import PostgresStore
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.discord.conftest import fake_discord
from tests.discord.conftest import running as discord_running
from tests.postgres import Server
from tests.scrape import get, serving, value
from tests.telegram.conftest import launch, operator_config
from tests.telegram.conftest import running as telegram_running
from tests.telegram.fake import TOKEN as TELEGRAM_TOKEN
from tests.telegram.fake import FakeTelegram
from tests.telegram.test_lifecycle import Lines

NOT_CONNECTED = "not ready: telegram: not connected; discord: not connected\n"


@contextlib.asynccontextmanager
async def both_connected(core: Core, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The Telegram and Discord bots of ``core``, connected to their fakes, for the block."""
    telegram = FakeTelegram()
    await telegram.start()
    config = default_config(
        database=core.config.database,
        telegram=TelegramConfig(token=TELEGRAM_TOKEN, base_url=telegram.base_url),
        discord=DiscordConfig(token=DISCORD_TOKEN),
    )
    monkeypatch.setattr(core, "config", config)
    try:
        async with (
            fake_discord(monkeypatch),
            telegram_running(core, telegram),
            discord_running(DiscordBot(core, guild_ready_timeout=0.05)),
        ):
            yield
    finally:
        await telegram.stop()


async def test_alive_but_not_ready_before_the_platforms_connect(core: Core) -> None:
    async with serving(core) as server:
        assert await get(server, "/healthz") == (200, "ok\n")
        assert await get(server, "/readyz") == (503, NOT_CONNECTED)
        status, text = await get(server, "/metrics")
    assert status == 200
    for platform in ("telegram", "discord"):
        assert value(text, "safety_bot_platform_connected", platform=platform) == 0
        # Every platform's latency and errors are there from the start, at 0.
        assert "safety_bot_answer_seconds_count" in text
        assert value(text, "safety_bot_errors_total", platform=platform) == 0


async def test_ready_with_both_platforms_and_the_store_then_not_without_the_store(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(core) as server, both_connected(core, monkeypatch):
        assert await get(server, "/readyz") == (200, "ready\n")
        store = core.store
        core.store = UnavailableStore("the database could not be opened")
        assert await get(server, "/readyz") == (503, "not ready: store: not answering\n")
        core.store = store
        assert await get(server, "/readyz") == (200, "ready\n")


async def test_a_store_that_hangs_is_not_ready_after_a_short_wait(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hanging(key: str) -> str | None:
        await asyncio.Event().wait()
        return None

    monkeypatch.setattr(monitoring, "STORE_TIMEOUT", 0.05)
    monkeypatch.setattr(core.store, "get_meta", hanging)
    async with serving(core, []) as server:
        assert await get(server, "/readyz") == (503, "not ready: store: not answering\n")


async def test_openmetrics_when_the_scraper_asks_for_it(core: Core) -> None:
    async with serving(core, []) as server:
        host, port = server.addresses[0]
        headers = {"Accept": "application/openmetrics-text; version=1.0.0"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{host}:{port}/metrics", headers=headers) as response,
        ):
            body = await response.text()
    assert response.content_type == "application/openmetrics-text"
    assert body.endswith("# EOF\n")


async def test_a_scrape_does_not_wait_long_for_a_slow_count(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()

    async def slow(platforms: object = ()) -> dict[str, dict[str, int]]:
        await release.wait()
        return {"telegram": {"posts": 1, "stale": 0, "cannot_edit": 0}}

    monkeypatch.setattr(monitoring, "PIN_FIGURES_WAIT", 0.05)
    monkeypatch.setattr(core.pins, "summary", slow)
    async with serving(core, ["telegram"]) as server:
        status, text = await get(server, "/metrics")
        assert status == 200
        assert "safety_bot_pinned_posts{" not in text  # no figures yet, and no long wait
        release.set()
        _status, text = await get(server, "/metrics")
    assert value(text, "safety_bot_pinned_posts", platform="telegram", state="current") == 1


async def test_a_failed_count_keeps_the_last_figures_and_counts_a_store_failure(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(core, ["telegram"]) as server:
        _status, text = await get(server, "/metrics")
        assert value(text, "safety_bot_pinned_posts", platform="telegram", state="current") == 0
        core.metrics.pinned({"telegram": {"posts": 3, "stale": 0, "cannot_edit": 0}})
        server.pin_figures_every = 0
        core.store = UnavailableStore("gone")
        _status, text = await get(server, "/metrics")
    assert value(text, "safety_bot_pinned_posts", platform="telegram", state="current") == 3
    failures = value(text, "safety_bot_store_failures_total", action="count_pinned_posts")
    assert failures == 1


async def test_an_address_in_use_is_logged_and_the_bot_runs_without_it(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with monitoring.monitoring(core, f"127.0.0.1:{port}", ["telegram"]) as server:
            assert server is None
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage().startswith(f"cannot serve metrics on 127.0.0.1:{port} (")
    assert "running without /metrics, /healthz and /readyz" in record.getMessage()


async def test_no_server_when_listen_is_empty(core: Core) -> None:
    async with monitoring.monitoring(core, "", ["telegram"]) as server:
        assert server is None


async def test_safety_bot_run_serves_them_and_closes_them_on_sigterm(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    config = operator_config(fake, tmp_path)
    with config.open("a", encoding="utf-8") as file:
        file.write('[metrics]\nlisten = "127.0.0.1:0"\n')
    process = await launch("run", config=config)
    assert process.stderr is not None
    log = Lines(process.stderr)
    try:
        await log.wait_for("serving /metrics")
        found = re.search(r"serving /metrics, /healthz and /readyz on (http://\S+)", log.text)
        assert found is not None
        url = found.group(1)
        async with aiohttp.ClientSession() as session, asyncio.timeout(30):
            ready = 0
            while ready != 200:
                async with session.get(f"{url}/readyz") as response:
                    ready = response.status
                await asyncio.sleep(0.02)  # polling: the bot starts on its own time
            async with session.get(f"{url}/metrics") as response:
                assert response.status == 200
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), 30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        stderr = await log.close()
        await fake.stop()
    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz"):
            pass


async def test_not_ready_while_postgresql_is_down(
    content: Content, config: Config, own_server: Server
) -> None:
    store = await PostgresStore.open(own_server.url)
    core = Core(content, store, config)
    try:
        async with serving(core, []) as server:
            assert await get(server, "/readyz") == (200, "ready\n")
            own_server.stop()
            assert await get(server, "/readyz") == (503, "not ready: store: not answering\n")
            own_server.start()
            # Ready again once the store's backoff (0.5 s, doubling) lets a call through.
            for _ in range(300):
                answer = await get(server, "/readyz")
                if answer[0] == 200:
                    break
                await asyncio.sleep(0.1)
            assert answer == (200, "ready\n")
    finally:
        await store.close()
