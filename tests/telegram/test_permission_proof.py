"""Every moderator command (read from the command table, so later ones are covered too) is
refused on Telegram to everyone who is not a moderator, every time, and changes nothing: no
post, no pin or unpin, no saved setting.

Refused: a member, a restricted member (even one allowed to pin), someone who left or was
banned, an administrator without the right the command needs, and a channel or another group
posting in the group, whatever Telegram says of the placeholder account such messages come
from. A moderator with the right gets a real answer, so the refusals are not an accident of
the test's options.
"""

from __future__ import annotations

from typing import Any

import pytest

from bots.telegram.permissions import MODERATOR_RIGHTS
from bots.telegram.render import escape, telegram_name
from shared.commands import Command
from shared.core import Core
from shared.models import Community, Settings
from shared.store import SqliteStore
from tests.moderation import MODERATOR_COMMANDS, example_options
from tests.telegram.fake import ADMIN_ID, GROUP_ID, USER_ID, FakeTelegram, group_chat, member, user

pytestmark = pytest.mark.usefixtures("bot")

GROUP = Community("telegram", str(GROUP_ID))
SEEDED = Settings("CA", "en")
PINNED_MESSAGE = 4242
TIMES = 3
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
"""The account Telegram puts in ``from`` of messages sent on behalf of a chat."""
OTHER_CHATS = {
    "a channel": {"id": -1001999999999, "type": "channel", "title": "A channel"},
    "another group": {"id": -1001888888888, "type": "supergroup", "title": "Another group"},
}


def refused_members(command: Command) -> dict[str, dict[str, Any]]:
    """Chat members who may not use ``command``, by description."""
    cases = {
        "a member": member(USER_ID),
        "a restricted member allowed to pin": member(
            USER_ID, "restricted", can_send_messages=True, can_pin_messages=True
        ),
        "someone who left": member(USER_ID, "left"),
        "someone banned": member(USER_ID, "kicked"),
    }
    right = MODERATOR_RIGHTS.get(command.name)
    if right is not None:
        cases[f"an administrator without {right}"] = member(
            USER_ID, "administrator", **{right: False}
        )
    return cases


def typed(command: Command) -> str:
    """The command with a valid value for each of its options."""
    return " ".join([f"/{telegram_name(command.name)}", *example_options(command).values()])


async def seed(core: Core, fake: FakeTelegram) -> None:
    """Settings and a pinned post that a refused command must leave as they are."""
    await core.save_settings(GROUP, SEEDED)
    await core.moderation.record_pin(GROUP, str(GROUP_ID), str(PINNED_MESSAGE), "report", "v1")
    fake.pinned[GROUP_ID] = {PINNED_MESSAGE}


async def assert_unchanged(core: Core, fake: FakeTelegram, store: SqliteStore) -> None:
    assert await store.get_settings(GROUP) == SEEDED
    assert [p.message_id for p in await store.pins(GROUP)] == [str(PINNED_MESSAGE)]
    assert fake.pinned[GROUP_ID] == {PINNED_MESSAGE}
    assert {c.method for c in fake.answered()} <= {"sendMessage", "getChatMember"}


def refusal(core: Core, command: Command) -> str:
    return escape(core.text("en", "refused_moderator", command=command.name))


@pytest.mark.parametrize(
    ("command", "who"),
    [(c, who) for c in MODERATOR_COMMANDS for who in refused_members(c)],
    ids=lambda value: getattr(value, "name", value),
)
async def test_refused_to_members_who_are_not_moderators(
    core: Core, fake: FakeTelegram, store: SqliteStore, command: Command, who: str
) -> None:
    await seed(core, fake)
    fake.members[(GROUP_ID, USER_ID)] = refused_members(command)[who]
    for _ in range(TIMES):
        await fake.command(typed(command), chat=group_chat(), sender=user(USER_ID))
    await fake.wait_sent("sendMessage", TIMES)
    await fake.settle()
    assert [body["text"] for body in fake.sent("sendMessage", USER_ID)] == [
        refusal(core, command)
    ] * TIMES, who
    assert len(fake.sent("getChatMember")) == TIMES, "asked of Telegram every time"
    assert fake.sent("sendMessage", GROUP_ID) == []
    await assert_unchanged(core, fake, store)


@pytest.mark.parametrize("command", MODERATOR_COMMANDS, ids=lambda c: c.name)
@pytest.mark.parametrize("chat", list(OTHER_CHATS))
async def test_refused_to_another_chat_posting_in_the_group(
    core: Core, fake: FakeTelegram, store: SqliteStore, command: Command, chat: str
) -> None:
    await seed(core, fake)
    # Whatever Telegram answers about the placeholder account, it is not a moderator.
    fake.members[(GROUP_ID, CHANNEL_BOT["id"])] = member(CHANNEL_BOT["id"], "administrator")
    for _ in range(TIMES):
        await fake.command(
            typed(command), chat=group_chat(), sender=CHANNEL_BOT, sender_chat=OTHER_CHATS[chat]
        )
    await fake.wait_sent("sendMessage", TIMES)
    await fake.settle()
    # Nobody to answer privately: the refusal goes to the group, silently.
    sent = fake.sent("sendMessage")
    assert [body["text"] for body in sent] == [refusal(core, command)] * TIMES
    assert all(body["chat_id"] == GROUP_ID and body["disable_notification"] for body in sent)
    await assert_unchanged(core, fake, store)


@pytest.mark.parametrize("command", MODERATOR_COMMANDS, ids=lambda c: c.name)
async def test_a_moderator_with_the_right_is_answered(
    core: Core, fake: FakeTelegram, command: Command
) -> None:
    """The control: the same command, from an administrator with every right."""
    await fake.command(typed(command), chat=group_chat(), sender=user(ADMIN_ID))
    await fake.wait_sent("sendMessage")
    await fake.settle()
    texts = [body["text"] for body in fake.sent("sendMessage", ADMIN_ID)]
    assert texts
    assert refusal(core, command) not in texts
