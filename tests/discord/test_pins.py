"""Pinned advice on Discord stays current: message edits through discord.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bots.discord import render
from bots.discord.app import DiscordBot
from shared.core import Core
from shared.models import Community
from shared.store import Settings
from tests.conftest import changed_content, restarted
from tests.discord import spec
from tests.discord.conftest import TOKEN, running
from tests.discord.fake import CHANNEL_ID, GUILD_ID, PIN_MESSAGES, VIEW_CHANNEL, FakeDiscord
from tests.discord.test_cli import launch

SERVER = Community("discord", str(GUILD_ID))
MODERATOR = VIEW_CHANNEL | PIN_MESSAGES


async def pin_topics(core: Core, fake: FakeDiscord, *topics: str) -> dict[str, int]:
    """A moderator pins ``topics``; returns each post's message id."""
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        for topic in topics:
            await fake.interact_deferred("pin-advice", {"topic": topic}, permissions=MODERATOR)
    return {topic: int(p.message_id) for p in await core.store.pins(SERVER) for topic in [p.topic]}  # type: ignore[union-attr]


def edits(fake: FakeDiscord) -> list[int]:
    return [int(r.path.rsplit("/", 1)[-1]) for r in fake.find("PATCH", contains="/messages/")]


async def run_until(
    core: Core, fake: FakeDiscord, check: Any, stop: asyncio.Event | None = None
) -> None:
    """Start the bot, wait until ``check()`` holds and its start-up refresh is over (or, given
    ``stop``, until that event), stop."""
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        await fake.wait_for(check)
        await asyncio.wait_for(core.pins.settle() if stop is None else stop.wait(), 5)


async def test_a_restart_edits_exactly_the_stale_posts_once(
    core: Core, fake: FakeDiscord, tmp_path: Path
) -> None:
    ids = await pin_topics(core, fake, "report", "about")
    later = restarted(core, changed_content(tmp_path, "report"))
    await run_until(later, fake, lambda: edits(fake))
    assert edits(fake) == [ids["report"]]
    post = later.community_post("report", Settings())
    [edit] = fake.find("PATCH", contains="/messages/")
    assert edit.body["embeds"] == [render.embed(post).to_dict()]
    assert edit.body["components"] == render.components(post)
    assert edit.body["allowed_mentions"] == {"parse": []}
    assert fake.find("DELETE", contains="/pins/") == [], "still pinned"
    again = restarted(core, later.content)
    async with running(DiscordBot(again, guild_ready_timeout=0.05)):
        await asyncio.wait_for(again.pins.settle(), 5)
    assert edits(fake) == [ids["report"]], "nothing is edited twice"
    spec.require_spec()
    spec.assert_message(edit.body)


async def test_an_interrupted_refresh_resumes_without_double_edits(
    core: Core, fake: FakeDiscord, tmp_path: Path, waiting_turn: asyncio.Event
) -> None:
    topics = ("report", "about", "resources")
    ids = await pin_topics(core, fake, *topics)
    content = changed_content(tmp_path, *topics)
    slow = restarted(core, content)
    slow.pins.pace(0, 60)  # one edit, then a long wait: the bot is stopped during it
    await run_until(slow, fake, lambda: edits(fake), stop=waiting_turn)
    assert len(edits(fake)) == 1
    await run_until(restarted(core, content), fake, lambda: len(edits(fake)) >= 3)
    assert sorted(edits(fake)) == sorted(ids.values()), "each post edited exactly once"


async def test_a_post_deleted_by_a_moderator_is_forgotten(
    core: Core, fake: FakeDiscord, tmp_path: Path
) -> None:
    ids = await pin_topics(core, fake, "report", "about")
    fake.delete_by_hand(ids["report"])
    later = restarted(core, changed_content(tmp_path, "report", "about"))
    await run_until(later, fake, lambda: len(fake.find("PATCH", contains="/messages/")) >= 2)
    assert [p.topic for p in await core.store.pins(SERVER)] == ["about"]  # type: ignore[union-attr]


async def test_a_channel_the_bot_can_no_longer_see_is_reported_nowhere_once(
    core: Core, fake: FakeDiscord, tmp_path: Path
) -> None:
    await pin_topics(core, fake, "report")
    fake.hidden.add(CHANNEL_ID)
    content = changed_content(tmp_path, "report")
    posts_before = len(fake.find("POST", f"/channels/{CHANNEL_ID}/messages"))
    for attempt in (1, 2):
        await run_until(
            restarted(core, content),
            fake,
            lambda attempt=attempt: len(fake.find("PATCH", contains="/messages/")) >= attempt,
        )
    # Reported in the pinned channel only if allowed: here it is not, so once and nowhere.
    tries = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")[posts_before:]
    assert len(tries) == 1
    [record] = await core.store.pins(SERVER)  # type: ignore[union-attr]
    assert record.reported


async def test_a_post_the_bot_may_not_edit_is_reported_in_its_channel_once(
    core: Core, fake: FakeDiscord, tmp_path: Path
) -> None:
    await pin_topics(core, fake, "report")
    fake.fail_next[("PATCH", "")] = 403
    content = changed_content(tmp_path, "report")
    posts_before = len(fake.find("POST", f"/channels/{CHANNEL_ID}/messages"))
    await run_until(restarted(core, content), fake, lambda: fake.find("PATCH"))
    [notice] = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")[posts_before:]
    assert notice.body["embeds"][0]["description"] == render.escape(
        core.text("en", "pin_cannot_edit")
    )
    assert notice.body["allowed_mentions"] == {"parse": []}


async def test_setup_rerenders_the_server_posts_at_once(core: Core, fake: FakeDiscord) -> None:
    ids = await pin_topics(core, fake, "report")
    core.pins.pace(0, 0)
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        await fake.interact("setup", {"region": "GB", "language": "fr"}, permissions=1 << 5)
        await fake.wait_for(lambda: edits(fake))
    post = core.community_post("report", Settings("GB", "fr"))
    [edit] = fake.find("PATCH", contains=f"/messages/{ids['report']}")
    assert edit.body["embeds"] == [render.embed(post).to_dict()]


async def test_pinned_lists_posts_privately_for_moderators(
    core: Core, fake: FakeDiscord, tmp_path: Path
) -> None:
    await pin_topics(core, fake, "report")
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        body = await fake.interact("pinned", permissions=MODERATOR)
        refused = await fake.interact("pinned", permissions=VIEW_CHANNEL)
    assert body["data"]["flags"] == 64
    [embed] = body["data"]["embeds"]
    assert embed["title"] == render.escape(core.text("en", "pinned_title"))
    assert f"<#{CHANNEL_ID}>" in embed["description"]
    assert render.escape(core.text("en", "pinned_current")) in embed["description"]
    assert refused["data"]["flags"] == 64
    assert refused["data"]["embeds"][0]["description"] == render.escape(
        core.text("en", "refused_moderator", command="pinned")
    )


async def test_refresh_pins_command(core: Core, fake: FakeDiscord, tmp_path: Path) -> None:
    ids = await pin_topics(core, fake, "report", "about")
    changed_content(tmp_path, "report")
    config = tmp_path / "operator.toml"
    config.write_text(
        f"[storage]\ndatabase = {json.dumps(str(core.config.database))}\n"
        f"[content]\npath = {json.dumps(str(tmp_path / 'messages'))}\n"
    )
    process = await launch(fake, tmp_path, "refresh-pins", config)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode() == "discord: 2 checked, 1 edited, 0 gone, 0 failed\n"
    assert edits(fake) == [ids["report"]]
    assert not fake.sessions[1:], "over HTTP only: no gateway connection"
    assert TOKEN not in err.decode()
