"""Moderator commands: the caller's status asked of Telegram every time, private answers,
/setup in both syntaxes, and /pin_advice with and without the bot's rights."""

from __future__ import annotations

import pytest

from bots.telegram import render
from bots.telegram.render import escape
from shared.core import Core
from shared.models import Community, Settings
from shared.store import SqliteStore
from tests.telegram.fake import (
    ADMIN_ID,
    BOT_ID,
    GROUP_ID,
    STRANGER_ID,
    USER_ID,
    FakeTelegram,
    group_chat,
    member,
    user,
)

pytestmark = pytest.mark.usefixtures("bot")

GROUP = Community("telegram", str(GROUP_ID))
ADMIN = user(ADMIN_ID)


def asked_status_of(fake: FakeTelegram, user_id: int) -> bool:
    return any(
        body["chat_id"] == GROUP_ID and body["user_id"] == user_id
        for body in fake.sent("getChatMember")
    )


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [body["text"] for body in fake.sent("sendMessage", chat_id)]


@pytest.mark.parametrize(
    "typed", ["/setup GB fr", "/setup region:GB language:fr", "/setup fr GB", "/setup gb FR"]
)
async def test_setup_by_an_administrator(
    core: Core, fake: FakeTelegram, store: SqliteStore, typed: str
) -> None:
    await fake.command(typed, chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    assert asked_status_of(fake, ADMIN_ID)
    assert await store.get_settings(GROUP) == Settings("GB", "fr")
    # Confirmed privately, in the administrator's own language.
    saved = escape(core.text("en", "setup_saved", region="GB", language="fr"))
    assert texts(fake, ADMIN_ID) == [saved]
    assert texts(fake, GROUP_ID) == []


async def test_setup_confirmed_in_the_new_language_when_the_person_has_none(
    core: Core, fake: FakeTelegram
) -> None:
    await fake.command("/setup GB fr", chat=group_chat(), sender=user(ADMIN_ID, language=None))
    await fake.wait_sent("sendMessage")
    saved = escape(core.text("fr", "setup_saved", region="GB", language="fr"))
    assert texts(fake, ADMIN_ID) == [saved]


async def test_setup_without_options_shows_the_settings(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/setup", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    current = escape(core.text("en", "setup_current", region="CA", language="en"))
    assert texts(fake, ADMIN_ID) == [current]


async def test_setup_with_a_bad_value_says_what_is_wrong(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/setup region:<b>Narnia</b>", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    [text] = texts(fake, ADMIN_ID)
    assert "&lt;b&gt;Narnia&lt;/b&gt;" in text
    assert "<b>" not in text


async def test_setup_by_someone_else_is_refused_privately(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    await fake.command("/setup GB", chat=group_chat(), sender=user(USER_ID))
    await fake.wait_sent("sendMessage")
    assert asked_status_of(fake, USER_ID)
    assert await store.get_settings(GROUP) is None
    refusal = escape(core.text("en", "refused_moderator", command="setup"))
    assert texts(fake, USER_ID) == [refusal]
    assert texts(fake, GROUP_ID) == []


async def test_refusal_goes_to_the_group_when_the_person_never_opened_the_bot(
    core: Core, fake: FakeTelegram
) -> None:
    await fake.command("/setup GB", chat=group_chat(), sender=user(STRANGER_ID))
    await fake.wait_sent("sendMessage")
    refusal = escape(core.text("en", "refused_moderator", command="setup"))
    [body] = fake.sent("sendMessage")
    assert body["chat_id"] == GROUP_ID
    assert body["text"] == refusal
    assert body["disable_notification"] is True
    # The private attempt was refused by Telegram first.
    assert [c.status for c in fake.calls if c.method == "sendMessage"] == [403, 200]


async def test_status_is_asked_every_time(fake: FakeTelegram) -> None:
    await fake.command("/setup GB", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    fake.members[(GROUP_ID, ADMIN_ID)] = member(ADMIN_ID, "member")
    await fake.command("/setup US", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage", 2)
    assert len([b for b in fake.sent("getChatMember") if b["user_id"] == ADMIN_ID]) == 2


async def test_group_creator_is_a_moderator(core: Core, fake: FakeTelegram) -> None:
    fake.members[(GROUP_ID, USER_ID)] = member(USER_ID, "creator")
    await fake.command("/setup US", chat=group_chat())
    await fake.wait_sent("sendMessage")
    assert texts(fake, USER_ID) == [
        escape(core.text("en", "setup_saved", region="US", language="en"))
    ]


async def test_anonymous_administrator_is_answered_in_the_group(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    anonymous = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    await fake.command("/setup AU", chat=group_chat(), sender=anonymous, sender_chat=group_chat())
    await fake.wait_sent("sendMessage")
    assert await store.get_settings(GROUP) == Settings("AU", None)
    assert fake.sent("getChatMember") == []
    assert texts(fake, GROUP_ID) == [
        escape(core.text("en", "setup_saved", region="AU", language="en"))
    ]


@pytest.mark.parametrize("name", ["setup", "pin-advice", "unpin-advice"])
async def test_moderator_commands_in_private_are_refused(
    core: Core, fake: FakeTelegram, name: str
) -> None:
    await fake.command(f"/{name.replace('-', '_')} report")
    await fake.wait_sent("sendMessage")
    assert texts(fake, USER_ID) == [escape(core.text("en", "refused_private", command=name))]
    assert fake.sent("getChatMember") == []


@pytest.mark.parametrize("typed", ["/pin_advice help_threatened", "/pin-advice help-threatened"])
async def test_pin_advice_posts_and_pins_silently(
    core: Core, fake: FakeTelegram, store: SqliteStore, typed: str
) -> None:
    await fake.command(typed, chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage", 2)
    post = core.community_post("help-threatened", Settings())
    [posted] = fake.sent("sendMessage", GROUP_ID)
    assert posted == {**render.payload(post, GROUP_ID), "disable_notification": True}
    [pin] = fake.sent("pinChatMessage")
    assert pin["disable_notification"] is True
    [record] = await store.pins(GROUP)
    assert (record.channel_id, record.topic) == (str(GROUP_ID), "help-threatened")
    assert record.message_id == str(pin["message_id"])
    assert record.content_version == core.content_version(post)
    done = core.text("en", "pin_done")
    assert texts(fake, ADMIN_ID) == [escape(done)]


async def test_pinned_advice_uses_the_group_settings(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    await core.save_settings(GROUP, Settings("GB", "fr"))
    await fake.command("/pin_advice report", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("pinChatMessage")
    [posted] = fake.sent("sendMessage", GROUP_ID)
    assert posted["text"] == render.text(core.advice("report", "fr", "GB", None))


@pytest.mark.parametrize(
    ("bot_member", "rights"),
    [
        (member(BOT_ID, "administrator", can_pin_messages=False), ["pin_messages"]),
        (member(BOT_ID, "member"), ["pin_messages"]),
        (member(BOT_ID, "restricted"), ["send_messages", "pin_messages"]),
    ],
)
async def test_pin_without_the_rights_names_them(
    core: Core,
    fake: FakeTelegram,
    store: SqliteStore,
    bot_member: dict[str, object],
    rights: list[str],
) -> None:
    fake.members[(GROUP_ID, BOT_ID)] = bot_member
    await fake.command("/pin_advice report", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    names = ", ".join(core.text("en", f"permission_{right}") for right in rights)
    assert texts(fake, ADMIN_ID) == [escape(core.text("en", "pin_missing_right", right=names))]
    assert texts(fake, GROUP_ID) == []
    assert await store.pins(GROUP) == []


async def test_pin_refused_by_telegram_removes_the_post(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    fake.fail("pinChatMessage", 400, "Bad Request: not enough rights to manage pinned messages")
    await fake.command("/pin_advice report", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage", 2)
    [posted] = fake.message_ids(GROUP_ID)
    assert fake.deleted == [(GROUP_ID, posted)]
    names = core.text("en", "permission_pin_messages")
    assert texts(fake, ADMIN_ID) == [escape(core.text("en", "pin_missing_right", right=names))]
    assert await store.pins(GROUP) == []


async def test_post_refused_by_telegram_names_the_right(core: Core, fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 400, "Bad Request: not enough rights to send text messages")
    await fake.command("/pin_advice report", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    names = core.text("en", "permission_send_messages")
    assert texts(fake, ADMIN_ID) == [escape(core.text("en", "pin_missing_right", right=names))]
    assert fake.sent("pinChatMessage") == []


async def test_pin_by_someone_else_is_refused(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    await fake.command("/pin_advice report", chat=group_chat())
    await fake.wait_sent("sendMessage")
    assert texts(fake, USER_ID) == [
        escape(core.text("en", "refused_moderator", command="pin-advice"))
    ]
    assert fake.sent("pinChatMessage") == []
    assert await store.pins(GROUP) == []


async def test_pin_an_unknown_topic(fake: FakeTelegram) -> None:
    await fake.command("/pin_advice <nonsense>", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    [text] = texts(fake, ADMIN_ID)
    assert "&lt;nonsense&gt;" in text
    assert fake.sent("pinChatMessage") == []


async def test_unpin_advice(core: Core, fake: FakeTelegram, store: SqliteStore) -> None:
    await fake.command("/pin_advice report", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("pinChatMessage")
    await fake.wait_sent("sendMessage", 2)
    [pin] = fake.sent("pinChatMessage")
    await fake.command("/unpin_advice report", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("unpinChatMessage")
    [unpin] = fake.sent("unpinChatMessage")
    assert unpin["message_id"] == pin["message_id"]
    assert await store.pins(GROUP) == []
    await fake.wait_sent("sendMessage", 3)
    assert texts(fake, ADMIN_ID)[-1] == escape(core.text("en", "unpin_done"))


async def test_unpin_without_topic_unpins_every_topic(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    for topic in ("report", "about"):
        await fake.command(f"/pin_advice {topic}", chat=group_chat(), sender=ADMIN)
        await fake.wait_sent("pinChatMessage", 1 if topic == "report" else 2)
    await fake.command("/unpin-advice", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("unpinChatMessage", 2)
    assert await store.pins(GROUP) == []
    await fake.wait_sent("sendMessage", 5)
    done = core.text("en", "unpin_done")
    assert texts(fake, ADMIN_ID)[-1] == escape(done)


async def test_unpin_with_nothing_pinned(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/unpin_advice report", chat=group_chat(), sender=ADMIN)
    await fake.wait_sent("sendMessage")
    assert texts(fake, ADMIN_ID) == [escape(core.text("en", "unpin_none"))]


async def test_unpin_by_someone_else_is_refused(core: Core, fake: FakeTelegram) -> None:
    await fake.command("/unpin_advice", chat=group_chat())
    await fake.wait_sent("sendMessage")
    assert texts(fake, USER_ID) == [
        escape(core.text("en", "refused_moderator", command="unpin-advice"))
    ]
    assert fake.sent("unpinChatMessage") == []
