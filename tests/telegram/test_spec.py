"""Every call the bot makes in a busy session, checked against the Bot API description in
``../shared/specs/telegram-bot-api.json`` (skipped when that folder is absent)."""

from __future__ import annotations

import pytest

from bots.telegram import render
from bots.telegram.render import telegram_name
from shared.commands import COMMANDS, Audience
from shared.core import Core
from tests.telegram.fake import ADMIN_ID, BOT_ID, FakeTelegram, group_chat, member, user
from tests.telegram.spec import assert_conforms, method_problems, require_spec


@pytest.fixture(autouse=True)
def spec() -> None:
    require_spec()


@pytest.mark.usefixtures("bot")
async def test_every_call_of_a_busy_session_conforms(core: Core, fake: FakeTelegram) -> None:
    admin = user(ADMIN_ID)
    for command in COMMANDS:
        if command.audience is Audience.EVERYONE:
            await fake.command(f"/{telegram_name(command.name)}")
            await fake.command(f"/{command.name}", chat=group_chat())
    await fake.command("/start report-GB-fr", sender=user(language=None))
    await fake.command("/setup GB fr", chat=group_chat(), sender=admin)
    await fake.command("/setup GB", chat=group_chat())
    await fake.command("/pin_advice report", chat=group_chat(), sender=admin)
    await fake.wait_sent("pinChatMessage")
    await fake.command("/unpin_advice report", chat=group_chat(), sender=admin)
    await fake.wait_sent("unpinChatMessage")
    await fake.membership(member(BOT_ID, "left"), member(BOT_ID, "member"))
    await fake.settle()
    [call] = [c for c in fake.calls if c.method == "sendMessage" and c.status == 200][:1]
    message = {**call.result}
    await fake.press(render.narrow_data("report", "US", "adult", "en"), message, user())
    await fake.wait_sent("answerCallbackQuery")
    await fake.settle()
    methods = {c.method for c in fake.calls}
    assert methods >= {
        "getMe",
        "setMyCommands",
        "setMyDefaultAdministratorRights",
        "getUpdates",
        "sendMessage",
        "deleteMessage",
        "getChatMember",
        "pinChatMessage",
        "unpinChatMessage",
        "editMessageText",
        "answerCallbackQuery",
    }
    assert_conforms([(c.method, c.body) for c in fake.calls])


def test_the_checker_catches_mistakes() -> None:
    assert method_problems("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"})
    assert method_problems("sendMessage", {"text": "x"})
    assert method_problems("sendMessage", {"chat_id": 1, "text": "x" * 4097})
    assert method_problems("sendMessage", {"chat_id": 1, "text": "<br>", "parse_mode": "HTML"})
    bad_button = {"inline_keyboard": [[{"text": "call", "url": "tel:911"}]]}
    assert method_problems("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": bad_button})
    long_data = {"inline_keyboard": [[{"text": "x", "callback_data": "x" * 65}]]}
    assert method_problems("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": long_data})
    bad_name = [{"command": "help-threatened", "description": "d"}]
    assert method_problems("setMyCommands", {"commands": bad_name})
    bad_scope = {"type": "all_group_admins"}
    good = [{"command": "help", "description": "d"}]
    assert method_problems("setMyCommands", {"commands": good, "scope": bad_scope})
    assert method_problems("setMyCommands", {"commands": good, "language_code": "fra"})
    assert not method_problems(
        "setMyCommands",
        {"commands": good, "scope": {"type": "all_chat_administrators"}, "language_code": "fr"},
    )
