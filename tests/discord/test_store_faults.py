"""A locked database, through discord.py and the fake Discord: a person still gets advice,
and /setup, /pin-advice and /unpin-advice say they could not be saved, leaving nothing
half-done (the unrecorded post is deleted, a pin that could not be forgotten stays)."""

from __future__ import annotations

from pathlib import Path

from bots.discord import render
from bots.discord.app import DiscordBot
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community
from tests.discord.conftest import running
from tests.discord.fake import CHANNEL_ID, GUILD_ID, MANAGE_GUILD, PIN_MESSAGES, FakeDiscord
from tests.discord.test_moderation import said
from tests.faults import locked_store, write_lock

SERVER = Community("discord", str(GUILD_ID))


async def test_locked_database(
    content: Content, config: Config, fake: FakeDiscord, tmp_path: Path
) -> None:
    path = tmp_path / "locked.sqlite3"
    store = await locked_store(path)
    core = Core(content, store, config)
    failed = render.escape(core.text("en", "save_failed"))
    moderator = MANAGE_GUILD | PIN_MESSAGES
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        await fake.interact_deferred("pin-advice", {"topic": "about"}, permissions=moderator)
        [kept] = await store.pins(SERVER)
        with write_lock(path):
            advice = await fake.interact("help-threatened")
            reply = core.advice("help-threatened", "en", "CA", None)
            assert advice == render.payload(reply)
            setup = await fake.interact("setup", {"region": "GB"}, permissions=moderator)
            _, pinned = await fake.interact_deferred(
                "pin-advice", {"topic": "report"}, permissions=moderator
            )
            _, unpinned = await fake.interact_deferred("unpin-advice", permissions=moderator)
    assert [said(setup), said(pinned), said(unpinned)] == [failed, failed, failed]
    # The report post was deleted, since the bot could not remember it...
    *_, report_post = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")
    message_id = fake.requests[fake.requests.index(report_post) + 1].path.rsplit("/", 1)[-1]
    assert fake.find("DELETE", f"/channels/{CHANNEL_ID}/messages/{message_id}")
    # ...and the about post stays pinned and remembered, since forgetting it failed.
    assert not fake.find("DELETE", contains="/pins/")
    assert await store.pins(SERVER) == [kept]
    assert await store.get_settings(SERVER) is None
    await store.close()
