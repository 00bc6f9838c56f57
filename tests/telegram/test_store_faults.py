"""A locked database, through python-telegram-bot and the fake Bot API: a person still gets
advice, and a moderator's /setup, /pin_advice and /unpin_advice say they could not be saved,
leaving nothing half-done (no unrecorded pinned post, no pin forgotten but still pinned)."""

from __future__ import annotations

from bots.telegram.render import escape
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community
from tests.faults import SEEDED, SEEDED_SETTINGS, full_store, locked_store, write_lock
from tests.telegram.conftest import running
from tests.telegram.fake import ADMIN_ID, GROUP_ID, USER_ID, FakeTelegram, group_chat, user

GROUP = Community("telegram", str(GROUP_ID))
ADMIN = user(ADMIN_ID)


async def test_locked_database(content: Content, config: Config, fake: FakeTelegram) -> None:
    store = await locked_store(config.database)
    core = Core(content, store, config)
    failed = escape(core.text("en", "save_failed"))
    async with running(core, fake):
        await fake.command("/pin_advice about", chat=group_chat(), sender=ADMIN)
        await fake.wait_sent("pinChatMessage")
        await fake.wait_sent("sendMessage", chat_id=ADMIN_ID)
        [kept] = fake.pinned[GROUP_ID]
        with write_lock(config.database):
            await fake.command("/help_threatened")
            await fake.wait_sent("sendMessage", chat_id=USER_ID)
            for typed in ("/setup GB", "/pin_advice report", "/unpin_advice"):
                await fake.command(typed, chat=group_chat(), sender=ADMIN)
            await fake.wait_sent("sendMessage", 4, chat_id=ADMIN_ID)
            await fake.settle()
    advice = fake.sent("sendMessage", USER_ID)[0]["text"]
    assert core.advice("help-threatened", "en", "CA", None).title in advice
    admin = [body["text"] for body in fake.sent("sendMessage", ADMIN_ID)]
    assert admin[1:] == [failed, failed, failed]
    # The report post was taken down again, since the bot could not remember it...
    [_, report_post] = fake.message_ids(GROUP_ID)
    assert (GROUP_ID, report_post) in fake.deleted
    # ...and the about post stays pinned and remembered, since forgetting it failed.
    assert fake.pinned[GROUP_ID] == {kept}
    assert [pin.message_id for pin in await store.pins(GROUP)] == [str(kept)]
    assert await store.get_settings(GROUP) is None
    await store.close()


async def test_full_database_keeps_a_migrating_groups_settings(
    content: Content, config: Config, fake: FakeTelegram
) -> None:
    store = await full_store(config.database)
    core = Core(content, store, config)
    migrated = {"message_id": 1, "date": 0, "chat": group_chat(int(SEEDED.id))}
    async with running(core, fake):
        await fake.inject({"message": {**migrated, "migrate_to_chat_id": GROUP_ID}})
        # Not its start-up refresh, which works through every filler post, paced.
        await fake.settle(background=False)
    # The new id could not be saved on a full disk, so the old row is kept, not deleted.
    assert await store.get_settings(GROUP) is None
    assert await store.get_settings(SEEDED) == SEEDED_SETTINGS
    await store.close()
