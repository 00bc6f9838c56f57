"""Starting and running: the command menu sent only when it changed, webhook mode,
``safety-bot run`` with ``TELEGRAM_TOKEN``, and the per-person cooldown in groups."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import socket
from pathlib import Path

import aiohttp
import pytest

from bots.telegram.app import build_application, file_base_url, webhook_path
from bots.telegram.menu import COMMANDS_META_KEY, command_lists
from bots.telegram.platform import TelegramConfig
from bots.telegram.render import telegram_name
from shared.commands import COMMANDS, Audience
from shared.config import Config
from shared.core import Core
from shared.store import SqliteStore
from tests.telegram.conftest import launch, operator_config, running
from tests.telegram.fake import TOKEN, USER_ID, FakeTelegram, group_chat, user

PEOPLE = {telegram_name(c.name) for c in COMMANDS if c.audience is Audience.EVERYONE}
MODERATORS = {telegram_name(c.name) for c in COMMANDS if c.audience is Audience.MODERATORS}


def menus(fake: FakeTelegram) -> dict[tuple[str, str | None], dict[str, str]]:
    """(scope type, language_code) -> {command: description}, as sent."""
    return {
        (body.get("scope", {"type": "default"})["type"], body.get("language_code")): {
            c["command"]: c["description"] for c in body["commands"]
        }
        for body in fake.sent("setMyCommands")
    }


async def test_command_menu_for_people_and_administrators(core: Core, fake: FakeTelegram) -> None:
    async with running(core, fake):
        pass
    sent = menus(fake)
    assert set(sent) == {
        (scope, language)
        for scope in ("default", "all_chat_administrators")
        for language in (None, "en", "fr")
    }
    for (scope, language), commands in sent.items():
        wanted = PEOPLE | (MODERATORS if scope == "all_chat_administrators" else set())
        assert set(commands) == wanted
        locale = language or "en"
        for command in COMMANDS:
            name = telegram_name(command.name)
            if name in commands:
                assert commands[name] == core.command_description(locale, command.name)


async def test_only_the_rights_the_bot_uses_are_suggested(fake: FakeTelegram, core: Core) -> None:
    async with running(core, fake):
        pass
    [body] = fake.sent("setMyDefaultAdministratorRights")
    granted = {name for name, value in body["rights"].items() if value is True}
    assert granted == {"can_delete_messages", "can_pin_messages"}
    assert body.get("for_channels") in (None, False)


async def test_command_menu_sent_only_when_it_changed(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    async with running(core, fake):
        pass
    first = len(fake.sent("setMyCommands"))
    assert first == len(command_lists(core))
    async with running(core, fake):
        pass
    assert len(fake.sent("setMyCommands")) == first
    await store.set_meta(COMMANDS_META_KEY, "stale")
    async with running(core, fake):
        pass
    assert len(fake.sent("setMyCommands")) == 2 * first


async def test_command_menu_failure_does_not_stop_the_bot(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    fake.fail("setMyCommands", 500, "Internal Server Error", times=4)
    async with running(core, fake):
        await fake.command("/report")
        await fake.wait_sent("sendMessage")
    assert await store.get_meta(COMMANDS_META_KEY) is None


async def test_asking_too_often_in_a_group_posts_nothing_more(
    core: Core, fake: FakeTelegram
) -> None:
    limited = dataclasses.replace(core.config, cooldown_commands=1, cooldown_seconds=3600)
    slow = Core(core.content, core.store, limited)
    async with running(slow, fake):
        first = await fake.command("/report", chat=group_chat())
        second = await fake.command("/report", chat=group_chat())
        await fake.settle()
    assert len(fake.sent("sendMessage")) == 1
    assert {m for _, m in fake.deleted} == {first, second}


async def test_no_token_no_bot(core: Core) -> None:
    bare = Core(core.content, core.store, Config())
    with pytest.raises(ValueError, match="TELEGRAM_TOKEN"):
        build_application(bare)


def test_self_hosted_server_urls() -> None:
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://botapi.lan:81/bot") == "http://botapi.lan:81/file/bot"
    assert webhook_path("https://bot.example.org/telegram/updates") == "telegram/updates"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_webhook_mode(core: Core, fake: FakeTelegram) -> None:
    port = free_port()
    telegram = TelegramConfig(
        token=TOKEN,
        base_url=fake.base_url,
        webhook_url="https://bot.example.org/tg/updates",
        listen="127.0.0.1",
        port=port,
    )
    platforms = {**core.config.platforms, "telegram": telegram}
    hooked = Core(core.content, core.store, dataclasses.replace(core.config, platforms=platforms))
    from bots.telegram.app import serve
    from tests.telegram.conftest import fast_limiter

    application = build_application(hooked, rate_limiter=fast_limiter())
    task = asyncio.create_task(serve(hooked, application=application))
    try:
        await fake.wait_sent("setWebhook")
        [hook] = fake.sent("setWebhook")
        assert hook["url"] == "https://bot.example.org/tg/updates"
        secret = hook["secret_token"]
        assert len(secret) >= 32
        assert set(hook["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": USER_ID, "type": "private"},
                "from": user(),
                "text": "/about",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        url = f"http://127.0.0.1:{port}/tg/updates"
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with session.post(url, json=update) as refused:
                        assert refused.status == 403  # no secret: not from Telegram
                        break
                await asyncio.sleep(0.02)
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with session.post(url, json=update, headers=headers) as accepted:
                assert accepted.status == 200
        await asyncio.wait_for(application.update_processor.wait_finished(1), 5)
        assert len(fake.sent("sendMessage")) == 1
        assert fake.sent("getUpdates") == []
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_safety_bot_run_starts_the_bot(fake: FakeTelegram, tmp_path: Path) -> None:
    process = await launch("run", config=operator_config(fake, tmp_path))
    try:
        await fake.wait_for(
            lambda: bool(fake.sent("getUpdates")), within=30, what="safety-bot run to poll"
        )
        await fake.command("/help_threatened")
        await fake.wait_sent("sendMessage")
        assert fake.sent("setMyCommands")
        allowed = fake.sent("getUpdates")[0]["allowed_updates"]
        assert set(allowed) == {"message", "callback_query", "my_chat_member"}
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert "Telegram bot running" in log
    assert TOKEN not in log
    assert str(USER_ID) not in log
