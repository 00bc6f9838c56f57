"""The cooldown on Telegram, with the shipped allowance (5 commands per 30 s): a person in a
panic, repeating advice commands and tapping every button, is never asked to wait; a group
still cannot be flooded with pointers."""

from __future__ import annotations

import dataclasses

from bots.telegram import render
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.store import SqliteStore
from tests.telegram.conftest import running
from tests.telegram.fake import GROUP_ID, USER_ID, FakeTelegram, group_chat, user


def shipped_cooldown(content: Content, store: SqliteStore, config: Config) -> Core:
    """The core with the cooldown every deployment starts with."""
    defaults = Config()
    limited = dataclasses.replace(
        config,
        cooldown_commands=defaults.cooldown_commands,
        cooldown_seconds=defaults.cooldown_seconds,
    )
    return Core(content, store, limited)


async def test_a_person_in_a_panic_is_never_asked_to_wait(
    content: Content, store: SqliteStore, config: Config, fake: FakeTelegram
) -> None:
    core = shipped_cooldown(content, store, config)
    waiting = core.text("en", "cooldown", seconds="0").split("0")[0]
    async with running(core, fake):
        for typed in ["/help_threatened"] * 8 + ["/report", "/help", "I am scared"]:
            await fake.command(typed)
        await fake.wait_sent("sendMessage", 11)
        advice = next(c for c in fake.calls if c.method == "sendMessage" and c.status == 200)
        message = {**advice.result, "reply_markup": advice.body["reply_markup"]}
        regions = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        taps = [b["callback_data"] for b in regions if b.get("callback_data")]
        for data in (taps * 2)[:12]:
            await fake.press(data, message, user())
        await fake.wait_sent("answerCallbackQuery", 12)
        await fake.settle()
    texts = [body["text"] for body in fake.sent("sendMessage", USER_ID)]
    assert len(texts) == 11
    assert not [text for text in texts if text.startswith(render.escape(waiting))]
    answers = fake.sent("answerCallbackQuery")
    assert all("text" not in body for body in answers), "no tap was refused"
    assert len(fake.sent("editMessageText")) >= 6


async def test_a_group_is_not_flooded_with_pointers(
    content: Content, store: SqliteStore, config: Config, fake: FakeTelegram
) -> None:
    core = shipped_cooldown(content, store, config)
    async with running(core, fake):
        for _ in range(8):
            await fake.command("/report", chat=group_chat())
        await fake.settle()
    assert len(fake.sent("sendMessage", GROUP_ID)) == Config().cooldown_commands
    assert len(fake.deleted) == 8, "every command is still removed from the group"
