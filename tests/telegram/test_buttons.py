"""Narrowing buttons: region and age chosen with callback data only, the advice edited in
place, nothing stored per person."""

from __future__ import annotations

from typing import Any

import pytest

from bots.telegram import render
from shared.core import Core
from shared.models import Age
from tests.telegram.fake import GROUP_ID, USER_ID, FakeTelegram, group_chat, user

pytestmark = pytest.mark.usefixtures("bot")


async def advice_message(fake: FakeTelegram, typed: str = "/report") -> dict[str, Any]:
    """Send ``typed`` privately; the message the bot answered with, as Telegram has it."""
    await fake.command(typed)
    await fake.wait_sent("sendMessage")
    [call] = [c for c in fake.calls if c.method == "sendMessage" and c.status == 200]
    message: dict[str, Any] = call.result
    message["reply_markup"] = call.body["reply_markup"]
    return message


def button(message: dict[str, Any], label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["text"] in (label, render.SELECTED + label):
                data: str = b["callback_data"]
                return data
    raise AssertionError(f"no button {label!r}")


@pytest.mark.parametrize(
    ("label", "region", "age"),
    [("GB", "GB", None), ("US", "US", None), ("adult", "CA", Age.ADULT)],
)
async def test_a_choice_edits_the_advice(
    core: Core, fake: FakeTelegram, label: str, region: str, age: Age | None
) -> None:
    message = await advice_message(fake)
    if label == "adult":
        label = core.text("en", "age_adult")
    await fake.press(button(message, label), message, user())
    await fake.wait_sent("answerCallbackQuery")
    [edit] = fake.sent("editMessageText")
    narrowed = core.advice("report", "en", region, age)
    expected = render.payload(narrowed, USER_ID)
    assert edit == {**expected, "message_id": message["message_id"]}


async def test_choices_combine(core: Core, fake: FakeTelegram) -> None:
    message = await advice_message(fake)
    await fake.press(button(message, "GB"), message, user())
    await fake.wait_sent("editMessageText")
    message["reply_markup"] = fake.sent("editMessageText")[0]["reply_markup"]
    await fake.press(button(message, core.text("en", "age_under18")), message, user())
    await fake.wait_sent("editMessageText", 2)
    last = fake.sent("editMessageText")[1]
    assert last["text"] == render.text(core.advice("report", "en", "GB", Age.UNDER18))
    # Pressing the chosen age again shows both age groups again.
    message["reply_markup"] = last["reply_markup"]
    await fake.press(button(message, core.text("en", "age_under18")), message, user())
    await fake.wait_sent("editMessageText", 3)
    again = fake.sent("editMessageText")[2]
    assert again["text"] == render.text(core.advice("report", "en", "GB", None))


async def test_language_of_the_person_pressing(core: Core, fake: FakeTelegram) -> None:
    message = await advice_message(fake)
    await fake.press(button(message, "IE"), message, user(language="fr"))
    await fake.wait_sent("editMessageText")
    assert fake.sent("editMessageText")[0]["text"] == render.text(
        core.advice("report", "fr", "IE", None)
    )


async def test_language_of_the_advice_when_the_person_has_none(
    core: Core, fake: FakeTelegram
) -> None:
    message = await advice_message(fake, "/report")
    data = render.narrow_data("report", "AU", None, "fr")
    await fake.press(data, message, user(language=None))
    await fake.wait_sent("editMessageText")
    assert fake.sent("editMessageText")[0]["text"] == render.text(
        core.advice("report", "fr", "AU", None)
    )


@pytest.mark.parametrize("data", ["x", "junk", "n:nonsense:CA:-:en", "n:report:XX:-:en"])
async def test_bad_data_is_answered_and_ignored(fake: FakeTelegram, data: str) -> None:
    message = await advice_message(fake)
    await fake.press(data, message, user())
    await fake.wait_sent("answerCallbackQuery")
    await fake.settle()
    assert fake.sent("editMessageText") == []


async def test_unknown_age_shows_both_age_groups(core: Core, fake: FakeTelegram) -> None:
    message = await advice_message(fake)
    await fake.press("n:report:CA:old:en", message, user())
    await fake.wait_for(lambda: any(c.method == "editMessageText" for c in fake.calls))
    [edit] = [c for c in fake.calls if c.method == "editMessageText"]
    # The advice already showed both age groups, so Telegram answers "not modified".
    assert edit.body["text"] == render.text(core.advice("report", "en", "CA", None))
    assert edit.status == 400


async def test_buttons_on_a_group_message_change_nothing(fake: FakeTelegram) -> None:
    message = {"message_id": 9, "date": 0, "chat": group_chat(), "text": "x"}
    await fake.press(render.narrow_data("report", "GB", None, "en"), message, user())
    await fake.wait_sent("answerCallbackQuery")
    await fake.settle()
    assert fake.sent("editMessageText") == []
    assert fake.sent("sendMessage", GROUP_ID) == []


async def test_pressing_the_current_choice_again(fake: FakeTelegram) -> None:
    message = await advice_message(fake)
    fake.fail("editMessageText", 400, "Bad Request: message is not modified")
    await fake.press(button(message, "CA"), message, user())
    await fake.wait_sent("answerCallbackQuery")
    await fake.settle()
    # No apology: nothing went wrong.
    assert len(fake.sent("sendMessage")) == 1
