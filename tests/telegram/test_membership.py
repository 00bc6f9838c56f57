"""The bot's own membership (``my_chat_member``): a welcome when added, where it may post;
every stored row of the group deleted when removed; settings kept when a group migrates."""

from __future__ import annotations

import pytest

from bots.telegram.render import escape
from shared.core import Core
from shared.models import Community, PinnedPost, Settings
from shared.store import SqliteStore
from tests.telegram.fake import (
    BOT_ID,
    GROUP_ID,
    USER_ID,
    FakeTelegram,
    group_chat,
    member,
    private_chat,
)

pytestmark = pytest.mark.usefixtures("bot")

GROUP = Community("telegram", str(GROUP_ID))
OTHER = Community("telegram", "-1009999")


@pytest.mark.parametrize("status", ["member", "administrator"])
async def test_added_to_a_group_welcomes_once(core: Core, fake: FakeTelegram, status: str) -> None:
    await fake.membership(member(BOT_ID, "left"), member(BOT_ID, status))
    await fake.wait_sent("sendMessage")
    await fake.settle()
    [body] = fake.sent("sendMessage")
    assert body["chat_id"] == GROUP_ID
    assert body["text"] == escape(core.text("en", "welcome"))
    assert body["disable_notification"] is True


async def test_welcome_in_the_group_language(core: Core, fake: FakeTelegram) -> None:
    await core.save_settings(GROUP, Settings(language="fr"))
    await fake.membership(member(BOT_ID, "kicked"), member(BOT_ID, "member"))
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage")[0]["text"] == escape(core.text("fr", "welcome"))


async def test_no_welcome_where_the_bot_may_not_post(fake: FakeTelegram) -> None:
    await fake.membership(member(BOT_ID, "left"), member(BOT_ID, "restricted"))
    await fake.settle()
    assert fake.answered() == []


async def test_welcome_refused_by_telegram_is_not_an_error(fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 400, "Bad Request: not enough rights to send text messages")
    await fake.membership(member(BOT_ID, "left"), member(BOT_ID, "member"))
    await fake.command("/report")  # the bot still answers afterwards
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage")[0]["chat_id"] == USER_ID


async def test_promotion_is_not_a_new_arrival(fake: FakeTelegram) -> None:
    await fake.membership(member(BOT_ID, "member"), member(BOT_ID, "administrator"))
    await fake.settle()
    assert fake.answered() == []


@pytest.mark.parametrize("status", ["left", "kicked"])
async def test_removed_from_a_group_deletes_its_data(
    core: Core, fake: FakeTelegram, store: SqliteStore, status: str
) -> None:
    await core.save_settings(GROUP, Settings("GB", "fr"))
    await core.save_settings(OTHER, Settings("US", "en"))
    await store.add_pin(PinnedPost(GROUP, str(GROUP_ID), "7", "report", "v1"))
    await fake.membership(member(BOT_ID, "administrator"), member(BOT_ID, status))
    await fake.settle()
    assert await store.get_settings(GROUP) is None
    assert await store.pins(GROUP) == []
    assert await store.communities("telegram") == [OTHER.id]
    assert await core.settings(GROUP) == Settings()
    assert fake.answered() == []


async def test_private_chat_blocked_is_ignored(fake: FakeTelegram, store: SqliteStore) -> None:
    await fake.membership(
        member(BOT_ID, "member"), member(BOT_ID, "kicked"), chat=private_chat(USER_ID)
    )
    await fake.settle()
    assert fake.answered() == []


async def test_group_upgraded_to_supergroup_keeps_its_settings(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    old = Community("telegram", "-4000001")
    await core.save_settings(old, Settings("NZ", "fr"))
    await fake.inject(
        {
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": group_chat(-4000001),
                "migrate_to_chat_id": GROUP_ID,
            }
        }
    )
    await fake.settle()
    assert await store.get_settings(GROUP) == Settings("NZ", "fr")
    assert await store.get_settings(old) is None
