"""Pinned advice on Discord stays current: message edits through discord.py."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.discord import render
from bots.discord.app import DiscordBot
from shared.core import Core
from shared.models import Community, Settings
from tests.conftest import changed_content, restarted
from tests.discord import spec
from tests.discord.conftest import TOKEN, point_discord_py_at, running
from tests.discord.fake import (
    CHANNEL_BUCKET,
    CHANNEL_ID,
    GLOBAL_PER_SECOND,
    GUILD_ID,
    PIN_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
    guild,
    text_channel,
)
from tests.discord.test_cli import launch

SERVER = Community("discord", str(GUILD_ID))
MODERATOR = VIEW_CHANNEL | PIN_MESSAGES


@pytest.fixture
def fake(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """The fake with Discord's rate limits on: no test here may break one."""
    fake.limits = True
    yield fake
    assert fake.limited == [], "a rate limit was broken"


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


async def test_the_fake_refuses_what_discord_would() -> None:
    """What the tests above rely on: a route's bucket (5 messages every 5 s in a channel) and
    the global limit (50 requests a second) answered 429 as Discord does, its headers on
    success; interaction callbacks are outside the global limit."""
    strict = FakeDiscord([guild()], limits=True)
    await strict.start()
    headers = {"Authorization": f"Bot {TOKEN}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as session:

            async def call(method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
                async with session.request(method, strict.api + path, json=body) as answer:
                    return answer.status, answer.headers, await answer.json()

            messages = f"/channels/{CHANNEL_ID}/messages"
            posted = [await call("POST", messages, {"content": "x"}) for _ in range(6)]
            edit = await call("PATCH", f"{messages}/{posted[0][2]['id']}", {"content": "y"})
            # All at once, so that a slow machine still sends them within the second.
            gets = await asyncio.gather(
                *(call("GET", "/users/@me") for _ in range(GLOBAL_PER_SECOND - 6 + 1))
            )
            others = [answer for answer in gets if answer[0] == 200]
            [over] = [answer for answer in gets if answer[0] != 200]
            callback = await call("POST", "/interactions/1/token/callback", {"type": 4})
    finally:
        await strict.stop()
    limit, per = CHANNEL_BUCKET
    assert [status for status, _, _ in posted] == [200] * limit + [429]
    assert [h["X-RateLimit-Remaining"] for _, h, _ in posted[:limit]] == ["4", "3", "2", "1", "0"]
    assert {h["X-RateLimit-Bucket"] for _, h, _ in posted} == {"messages.create"}
    assert 0 < float(posted[0][1]["X-RateLimit-Reset-After"]) <= per
    status, refused_headers, body = posted[-1]
    assert body["global"] is False
    assert 0 < body["retry_after"] <= per
    assert refused_headers["X-RateLimit-Scope"] == "user"
    assert refused_headers["Via"], "Discord's 429, not Cloudflare's"
    assert edit[0] == 200, "editing is a route of its own"
    assert edit[1]["X-RateLimit-Bucket"] == "messages.edit"
    assert [status for status, _, _ in others] == [200] * (GLOBAL_PER_SECOND - 6)
    status, over_headers, body = over
    assert (status, body["global"]) == (429, True)
    assert over_headers["X-RateLimit-Global"] == "true"
    assert int(over_headers["Retry-After"]) >= 1
    assert callback[0] == 200
    assert len(strict.limited) == 2


LOTS = 200
"""Posts in the refresh below: 190 servers with one each and 5 servers with two."""


async def test_hundreds_of_posts_are_edited_once_within_the_limits_while_people_are_answered(
    core: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configured pace (40 edits a second) against Discord's global limit and per-route
    buckets in the fake: no 429, each stale post edited exactly once and recorded, servers
    taking turns, and people answered meanwhile."""
    servers = [GUILD_ID + (number << 22) for number in range(LOTS - 5)]
    channels = {server: CHANNEL_ID + number for number, server in enumerate(servers)}
    many = FakeDiscord(
        [guild(s, channels=[text_channel(channels[s], s, "rules")]) for s in servers], limits=True
    )
    await many.start()
    point_discord_py_at(many, monkeypatch)
    old = core.content_version(core.community_post("report", Settings()))
    posts = [(server, 1) for server in servers] + [(server, 2) for server in servers[:5]]
    ids: dict[tuple[int, int], int] = {}
    for server, copy in posts:
        message_id = ids[(server, copy)] = many.existing_post(channels[server], "old advice")
        community = Community("discord", str(server))
        channel_id = str(channels[server])
        assert await core.moderation.record_pin(
            community, channel_id, str(message_id), "report", old
        )
    later = Core(changed_content(tmp_path, "report"), core.store, core.config)
    try:
        async with running(DiscordBot(later, guild_ready_timeout=0.05)):
            for server in servers[:10]:  # five people a second ask for help meanwhile
                body = await many.interact(
                    "help-threatened", guild_id=server, channel_id=channels[server]
                )
                assert body["data"]["flags"] == 64
                await asyncio.sleep(0.2)
            await many.wait_for(lambda: len(edits(many)) >= LOTS, within=60)
            await later.pins.settle()
    finally:
        await many.stop()
    assert many.limited == [], "a rate limit was broken"
    assert Counter(edits(many)) == dict.fromkeys(ids.values(), 1), "each post edited once"
    new = later.content_version(later.community_post("report", Settings()))
    assert {p.content_version for p in await core.store.pins()} == {new}  # type: ignore[union-attr]
    # Servers take turns: a second post only once every server had its first.
    order = edits(many)
    seconds = [order.index(ids[(server, 2)]) for server in servers[:5]]
    assert min(seconds) >= len(servers) - 2, "(two edits may swap places on their way)"
