"""People's commands, through python-telegram-bot against the fake Bot API: in full in the
private chat, as a neutral pointer in a group, hyphenated or not, and through deep links."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from bots.telegram import render
from bots.telegram.render import escape, telegram_name
from shared.commands import COMMANDS, Audience
from shared.core import Core
from shared.models import Age, Community, Settings
from tests.telegram.fake import (
    BASIC_GROUP_ID,
    BOT_ID,
    BOT_USERNAME,
    GROUP_ID,
    USER_ID,
    FakeTelegram,
    group_chat,
    member,
    user,
)

pytestmark = pytest.mark.usefixtures("bot")

PEOPLES = [c for c in COMMANDS if c.audience is Audience.EVERYONE]
GROUP = Community("telegram", str(GROUP_ID))


def expected(core: Core, name: str, locale: str = "en", region: str = "CA") -> dict[str, Any]:
    """The sendMessage body of a command's full answer in the private chat."""
    command = next(c for c in COMMANDS if c.name == name)
    if command.topic is None:
        reply = core.help(locale)
    else:
        reply = core.advice(command.topic, locale, region, None)
    return render.payload(reply, USER_ID)


def pointer(core: Core, name: str, payload: str, locale: str = "en") -> dict[str, Any]:
    """The sendMessage body of the neutral line a group sees."""
    link = render.deep_link(BOT_USERNAME, payload)
    rows = [[{"text": core.text(locale, "private_button"), "url": link}]]
    body = render.message_payload(GROUP_ID, escape(core.text(locale, "private_pointer")), rows)
    return {**body, "disable_notification": True}


@pytest.mark.parametrize("command", PEOPLES, ids=lambda c: c.name)
async def test_each_command_in_private_answers_in_full(
    core: Core, fake: FakeTelegram, command: Any
) -> None:
    await fake.command(f"/{telegram_name(command.name)}")
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [expected(core, command.name)]
    assert fake.deleted == []


@pytest.mark.parametrize("command", PEOPLES, ids=lambda c: c.name)
async def test_each_command_in_a_group_points_to_the_private_chat(
    core: Core, fake: FakeTelegram, command: Any
) -> None:
    message_id = await fake.command(f"/{telegram_name(command.name)}", chat=group_chat())
    await fake.wait_sent("sendMessage")
    payload = render.start_payload(command.name, "CA")
    assert fake.sent("sendMessage") == [pointer(core, command.name, payload)]
    # The person's command is deleted, so the group does not see who asked.
    assert fake.deleted == [(GROUP_ID, message_id)]
    assert fake.sent("sendMessage", USER_ID) == []


@pytest.mark.parametrize(
    "typed", ["/help-threatened", "/Help_Threatened", f"/help-threatened@{BOT_USERNAME}"]
)
async def test_hyphenated_and_addressed_forms_are_the_real_command(
    core: Core, fake: FakeTelegram, typed: str
) -> None:
    await fake.command(typed)
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [expected(core, "help-threatened")]


@pytest.mark.parametrize("name", [c.name for c in PEOPLES if "-" in c.name])
async def test_hyphenated_commands_in_a_group(core: Core, fake: FakeTelegram, name: str) -> None:
    await fake.command(f"/{name} ", chat=group_chat())
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [pointer(core, name, render.start_payload(name, "CA"))]


async def test_basic_group_where_the_bot_is_a_member(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/image_shared", chat=group_chat(BASIC_GROUP_ID))
    await fake.wait_sent("sendMessage")
    [body] = fake.sent("sendMessage")
    assert body == {
        **pointer(core, "image-shared", "image_shared-CA"),
        "chat_id": BASIC_GROUP_ID,
    }
    assert fake.deleted == []  # a plain member may not delete others' messages


async def test_another_bots_command_is_ignored(fake: FakeTelegram) -> None:
    await fake.command("/help@some_other_bot", chat=group_chat())
    await fake.command("/ban someone", chat=group_chat())
    await fake.settle()
    assert fake.answered() == []


async def test_unknown_command_in_private_says_so(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/nonsense <b>")
    await fake.wait_sent("sendMessage")
    text = fake.sent("sendMessage")[0]["text"]
    assert text == escape(core.text("en", "unknown_command", command="/nonsense"))


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_plain_words_in_private_get_a_warm_pointer(
    core: Core, fake: FakeTelegram, language: str
) -> None:
    await fake.command("I am scared he will send it to my friends", sender=user(language=language))
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [render.payload(core.free_text_reply(language), USER_ID)]
    assert "/help_threatened" in fake.sent("sendMessage")[0]["text"]


async def test_a_command_typed_without_its_slash_is_that_command(
    core: Core, fake: FakeTelegram
) -> None:
    await fake.command("report UK 15")
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [
        render.payload(core.advice("report", "en", "GB", Age.UNDER18), USER_ID)
    ]


@pytest.mark.parametrize(
    ("typed", "region", "age"),
    [
        ("/report US adult", "US", Age.ADULT),
        ("/report region:GB age:under18", "GB", Age.UNDER18),
        ("/report UK 15", "GB", Age.UNDER18),
        ("/report 15 New Zealand", "NZ", Age.UNDER18),
        ("/report region:new zealand age:18", "NZ", Age.ADULT),
        ("/resources Éire", "IE", None),
        ("/help_threatened@safety_test_bot Aotearoa", "NZ", None),
    ],
)
async def test_options_typed_after_a_command(
    core: Core, fake: FakeTelegram, typed: str, region: str, age: Age | None
) -> None:
    await fake.command(typed)
    await fake.wait_sent("sendMessage")
    topic = "resources" if "resources" in typed else typed.split()[0].split("@")[0][1:]
    advice = core.advice(topic.replace("_", "-"), "en", region, age)
    assert fake.sent("sendMessage") == [render.payload(advice, USER_ID)]


async def test_an_unknown_region_is_corrected_then_answered_for_international(
    core: Core, fake: FakeTelegram
) -> None:
    await fake.command("/report Narnia 15")
    await fake.wait_sent("sendMessage")
    correction = core.text(
        "en", "unknown_region", value="Narnia", choices=core.replies.region_choices("en")
    )
    advice = replace(core.advice("report", "en", "INTL", Age.UNDER18), notice=correction)
    assert fake.sent("sendMessage") == [render.payload(advice, USER_ID)]


async def test_a_region_typed_in_a_group_travels_in_the_deep_link(
    core: Core, fake: FakeTelegram
) -> None:
    await fake.command("/report UK", chat=group_chat())
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [pointer(core, "report", "report-GB")]


async def test_language_comes_from_the_person(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/help_threatened", sender=user(language="fr"))
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [expected(core, "help-threatened", "fr")]


async def test_group_settings_travel_in_the_deep_link(core: Core, fake: FakeTelegram) -> None:
    await core.save_settings(GROUP, Settings(region="GB", language="fr"))
    await fake.command("/report", chat=group_chat(), sender=user(language=None))
    await fake.command("/report", chat=group_chat(), sender=user(language="en"))
    await fake.wait_sent("sendMessage", 2)
    french, english = fake.sent("sendMessage")
    assert french == pointer(core, "report", "report-GB-fr", "fr")
    assert english == pointer(core, "report", "report-GB-fr", "en")


@pytest.mark.parametrize(
    ("payload", "language", "name", "locale", "region"),
    [
        ("help_threatened", "en", "help-threatened", "en", "CA"),
        ("report-GB", "en", "report", "en", "GB"),
        ("image_shared-AU-fr", None, "image-shared", "fr", "AU"),
        ("image_shared-AU-fr", "en", "image-shared", "en", "AU"),
        ("help-threatened-NZ", "en", "help-threatened", "en", "NZ"),
        ("setup", "en", "help", "en", "CA"),
        ("nonsense", "en", "help", "en", "CA"),
        ("report UK", "en", "report", "en", "GB"),
        ("help-threatened Aotearoa", "fr", "help-threatened", "fr", "NZ"),
        ("setup GB fr", "en", "help", "en", "CA"),
    ],
)
async def test_start_with_a_deep_link_opens_the_topic(
    core: Core,
    fake: FakeTelegram,
    payload: str,
    language: str | None,
    name: str,
    locale: str,
    region: str,
) -> None:
    await fake.command(f"/start {payload}", sender=user(language=language))
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [expected(core, name, locale, region)]


async def test_start_alone_lists_the_commands(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/start")
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [expected(core, "help")]


async def test_group_without_the_delete_right_still_gets_the_pointer(
    core: Core, fake: FakeTelegram
) -> None:
    fake.members[(GROUP_ID, BOT_ID)] = member(BOT_ID, "member")
    await fake.command("/report", chat=group_chat())
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage") == [pointer(core, "report", "report-CA")]
    assert fake.deleted == []


async def test_many_people_at_once(core: Core, fake: FakeTelegram) -> None:
    people = [user(300000000 + i) for i in range(30)]
    fake.opened_private_chat.update(p["id"] for p in people)
    await asyncio.gather(*(fake.command("/report", sender=p) for p in people))
    await fake.wait_sent("sendMessage", len(people))
    assert {body["chat_id"] for body in fake.sent("sendMessage")} == {p["id"] for p in people}
