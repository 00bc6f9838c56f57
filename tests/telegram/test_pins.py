"""Pinned advice on Telegram stays current: editMessageText through python-telegram-bot."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.telegram import render
from bots.telegram.limiter import RetryingRateLimiter
from bots.telegram.render import escape
from shared.core import Core
from shared.models import Community, Settings
from shared.store import SqliteStore
from tests.conftest import changed_content, restarted
from tests.telegram.conftest import launch, operator_config, running
from tests.telegram.fake import (
    ADMIN_ID,
    BOT_ID,
    GROUP_ID,
    GROUP_MESSAGES_PER_MINUTE,
    MESSAGES_PER_SECOND,
    TOKEN,
    USER_ID,
    FakeTelegram,
    group_chat,
    user,
)
from tests.telegram.fake import member as chat_member

GROUP = Community("telegram", str(GROUP_ID))
ADMIN = user(ADMIN_ID)


@pytest.fixture
def fake(fake: FakeTelegram) -> Iterator[FakeTelegram]:
    """The fake with Telegram's flood limits on: no test here may break one."""
    fake.limits = True
    yield fake
    assert [c.method for c in fake.limited] == [], "a flood limit was broken"


async def pin_topics(core: Core, fake: FakeTelegram, *topics: str) -> dict[str, int]:
    """Moderators pin ``topics`` in the group; returns each post's message id."""
    async with running(core, fake):
        for number, topic in enumerate(topics, 1):
            await fake.command(f"/pin_advice {topic}", chat=group_chat(), sender=ADMIN)
            await fake.wait_sent("pinChatMessage", number)
    pins = fake.sent("pinChatMessage")
    return {topic: pin["message_id"] for topic, pin in zip(topics, pins, strict=True)}


def edits(fake: FakeTelegram) -> list[int]:
    return [body["message_id"] for body in fake.sent("editMessageText")]


async def wait_attempts(fake: FakeTelegram, count: int) -> None:
    """Wait until ``count`` edits were asked for, answered or refused."""
    await fake.wait_for(
        lambda: sum(c.method == "editMessageText" for c in fake.calls) >= count,
        what=f"{count} edit attempts",
    )


async def refreshed(
    core: Core, fake: FakeTelegram, count: int, stop: asyncio.Event | None = None
) -> None:
    """Run the bot until ``count`` edits were answered and its start-up refresh is over (or,
    given ``stop``, until that event, then stop the bot during its refresh)."""
    async with running(core, fake):
        await fake.wait_sent("editMessageText", count)
        if stop is None:
            await fake.settle()
        else:
            await asyncio.wait_for(stop.wait(), 5)


async def test_a_restart_edits_exactly_the_stale_posts_once(
    core: Core, fake: FakeTelegram, store: SqliteStore, tmp_path: Path
) -> None:
    ids = await pin_topics(core, fake, "report", "about")
    later = restarted(core, changed_content(tmp_path, "report"))
    await refreshed(later, fake, 1)
    assert edits(fake) == [ids["report"]]
    post = later.community_post("report", Settings())
    text, markup = fake.shown[(GROUP_ID, ids["report"])]
    assert text == render.text(post)
    assert markup == render.reply_markup(render.keyboard(post))
    assert ids["report"] in fake.pinned[GROUP_ID], "still pinned"
    assert fake.sent("unpinChatMessage") == []
    again = restarted(core, later.content)
    async with running(again, fake):
        await fake.settle()
    assert edits(fake) == [ids["report"]], "nothing is edited twice"
    versions = {p.message_id: p.content_version for p in await store.pins(GROUP)}
    assert versions[str(ids["report"])] == later.content_version(post)


async def test_an_interrupted_refresh_resumes_without_double_edits(
    core: Core, fake: FakeTelegram, tmp_path: Path, waiting_turn: asyncio.Event
) -> None:
    topics = ("report", "about", "resources")
    ids = await pin_topics(core, fake, *topics)
    content = changed_content(tmp_path, *topics)
    slow = restarted(core, content)
    slow.pins.pace(0, 60)  # one edit, then a long wait: the bot is stopped during it
    await refreshed(slow, fake, 1, stop=waiting_turn)
    assert len(edits(fake)) == 1
    await refreshed(restarted(core, content), fake, 3)
    assert sorted(edits(fake)) == sorted(ids.values()), "each post edited exactly once"


async def test_a_post_deleted_by_a_moderator_is_forgotten(
    core: Core, fake: FakeTelegram, store: SqliteStore, tmp_path: Path
) -> None:
    ids = await pin_topics(core, fake, "report", "about")
    fake.delete_by_hand(GROUP_ID, ids["report"])
    later = restarted(core, changed_content(tmp_path, "report", "about"))
    await refreshed(later, fake, 1)
    assert edits(fake) == [ids["about"]]
    assert [p.topic for p in await store.pins(GROUP)] == ["about"]


async def test_a_post_the_bot_may_not_edit_is_reported_once(
    core: Core, fake: FakeTelegram, store: SqliteStore, tmp_path: Path
) -> None:
    ids = await pin_topics(core, fake, "report")
    fake.uneditable.add((GROUP_ID, ids["report"]))
    content = changed_content(tmp_path, "report")
    before = len(fake.sent("sendMessage", GROUP_ID))
    for attempt in (1, 2):
        async with running(restarted(core, content), fake):
            await wait_attempts(fake, attempt)
            await fake.settle()
    notices = [b["text"] for b in fake.sent("sendMessage", GROUP_ID)[before:]]
    assert notices == [escape(core.text("en", "pin_cannot_edit"))]
    [record] = await store.pins(GROUP)
    assert record.reported
    assert edits(fake) == []


async def test_setup_rerenders_the_group_posts_at_once(
    core: Core, fake: FakeTelegram, store: SqliteStore
) -> None:
    ids = await pin_topics(core, fake, "report")
    core.pins.pace(0, 0)
    async with running(core, fake):
        await fake.command("/setup GB fr", chat=group_chat(), sender=ADMIN)
        await fake.wait_sent("editMessageText")
    post = core.community_post("report", Settings("GB", "fr"))
    assert fake.shown[(GROUP_ID, ids["report"])][0] == render.text(post)
    [record] = await store.pins(GROUP)
    assert record.content_version == core.content_version(post)


async def test_pinned_lists_posts_for_moderators_privately(
    core: Core, fake: FakeTelegram, tmp_path: Path
) -> None:
    await pin_topics(core, fake, "report")
    later = restarted(core, changed_content(tmp_path, "report"))
    later.pins.pace(0, 60)
    fake.uneditable.add((GROUP_ID, fake.sent("pinChatMessage")[0]["message_id"]))
    async with running(later, fake):
        await wait_attempts(fake, 1)
        await fake.wait_sent("sendMessage", 1, chat_id=GROUP_ID)  # the report to moderators
        before = len(fake.sent("sendMessage", ADMIN_ID))
        await fake.command("/pinned", chat=group_chat(), sender=ADMIN)
        await fake.wait_sent("sendMessage", before + 1, chat_id=ADMIN_ID)
    listing = fake.sent("sendMessage", ADMIN_ID)[-1]["text"]
    assert escape(later.text("en", "pinned_title")) in listing
    assert "/report" in listing
    assert escape(later.text("en", "pinned_cannot_edit")) in listing


async def test_pinned_is_refused_to_members(core: Core, fake: FakeTelegram) -> None:
    fake.members[(GROUP_ID, USER_ID)] = chat_member(USER_ID)
    assert fake.members[(GROUP_ID, BOT_ID)]["status"] == "administrator"
    async with running(core, fake):
        await fake.command("/pinned", chat=group_chat(), sender=user(USER_ID))
        await fake.wait_sent("sendMessage", chat_id=USER_ID)
    [refusal] = fake.sent("sendMessage", USER_ID)
    assert refusal["text"] == escape(core.text("en", "refused_moderator", command="pinned"))
    assert fake.sent("sendMessage", GROUP_ID) == []


async def safety_bot(*args: str, config: Path) -> tuple[int, str, str]:
    """Run the ``safety-bot`` command as an operator would; (exit code, stdout, stderr)."""
    process = await launch(*args, config=config)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_refresh_pins_and_pins_json_for_operators(
    core: Core, fake: FakeTelegram, tmp_path: Path
) -> None:
    ids = await pin_topics(core, fake, "report", "about")
    changed_content(tmp_path, "report")
    config = operator_config(
        fake, tmp_path, database=core.config.database, content=tmp_path / "messages"
    )
    code, out, _ = await safety_bot("pins", "--json", config=config)
    assert code == 0
    stale = {"posts": 2, "stale": 1, "cannot_edit": 0}
    assert json.loads(out) == {
        "telegram": stale,
        "discord": {"posts": 0, "stale": 0, "cannot_edit": 0},
    }
    assert str(GROUP_ID) not in out
    code, out, err = await safety_bot("refresh-pins", config=config)
    assert (code, out) == (0, "telegram: 2 checked, 1 edited, 0 gone, 0 failed\n"), err
    assert edits(fake) == [ids["report"]]
    assert TOKEN not in err
    code, out, _ = await safety_bot("pins", "--json", config=config)
    assert json.loads(out)["telegram"] == {"posts": 2, "stale": 0, "cannot_edit": 0}


async def test_the_fake_refuses_what_telegram_would() -> None:
    """What the tests above rely on: a 21st message to one group in a minute, or a 31st in a
    second, is answered 429 with ``retry_after`` (whole seconds), as Telegram does."""
    strict = FakeTelegram(limits=True)
    await strict.start()
    try:
        async with aiohttp.ClientSession() as session:

            async def send(chat_id: int) -> tuple[int, Any]:
                url = f"{strict.base_url}{TOKEN}/sendMessage"
                async with session.post(url, json={"chat_id": chat_id, "text": "x"}) as answer:
                    return answer.status, await answer.json()

            # All at once, so that a slow machine still sends them within the second.
            in_group = await asyncio.gather(
                *(send(GROUP_ID) for _ in range(GROUP_MESSAGES_PER_MINUTE + 1))
            )
            overall = await asyncio.gather(
                *(send(USER_ID) for _ in range(MESSAGES_PER_SECOND - GROUP_MESSAGES_PER_MINUTE + 1))
            )
    finally:
        await strict.stop()
    for results in (in_group, overall):
        assert sorted(status for status, _ in results) == [200] * (len(results) - 1) + [429]
        [body] = [body for status, body in results if status == 429]
        assert body["error_code"] == 429
        assert isinstance(body["parameters"]["retry_after"], int)
        assert body["parameters"]["retry_after"] >= 1
    assert len(strict.limited) == 2
    assert len(strict.sent("sendMessage", GROUP_ID)) == GROUP_MESSAGES_PER_MINUTE


LOTS = 200
"""Posts in the refresh below: 180 groups with one each and 10 groups with two."""


async def test_hundreds_of_posts_are_edited_once_within_the_limits_while_people_are_answered(
    core: Core, fake: FakeTelegram, store: SqliteStore, tmp_path: Path
) -> None:
    """The configured pace (20 edits a second), Telegram's own limits in the fake and the
    production rate limiter: no 429, each stale post edited exactly once and recorded, groups
    taking turns, and people answered meanwhile, even 15 a second (more than the room edits
    leave them: the edits give way)."""
    old = core.content_version(core.community_post("report", Settings()))
    groups = [-1_004_000_000_000 - number for number in range(190)]
    posts = [(chat_id, 9000 + number) for number, chat_id in enumerate(groups)]
    posts += [(chat_id, 8000 + number) for number, chat_id in enumerate(groups[:10])]
    for chat_id, message_id in posts:
        fake.shown[(chat_id, message_id)] = ("old advice", None)
        community = Community("telegram", str(chat_id))
        assert await core.moderation.record_pin(
            community, str(chat_id), str(message_id), "report", old
        )
    later = Core(changed_content(tmp_path, "report"), store, core.config)
    people = range(USER_ID + 10, USER_ID + 55)
    fake.opened_private_chat.update(people)
    async with running(later, fake, rate_limiter=RetryingRateLimiter(retry_delay=0.01)):
        for person in people:  # 15 people a second ask for help during the refresh
            await fake.command("/help_threatened", sender=user(person))
            await asyncio.sleep(1 / 15)
        await fake.wait_for(
            lambda: len(fake.sent("editMessageText")) >= LOTS, within=60, what="every edit"
        )
        await later.pins.settle()
        assert [len(fake.sent("sendMessage", person)) for person in people] == [1] * len(people)
    edited = Counter(
        (body["chat_id"], body["message_id"])
        for call in fake.calls
        if call.method == "editMessageText"
        for body in [call.body]
    )
    assert edited == dict.fromkeys(posts, 1), "each post edited once, none refused"
    new = later.content_version(later.community_post("report", Settings()))
    assert {p.content_version for p in await store.pins()} == {new}
    # Groups take turns: a second post only once every group had its first.
    order = [chat_id for chat_id, _message_id in edited]
    seconds = [len(order) - 1 - order[::-1].index(chat_id) for chat_id in groups[:10]]
    assert min(seconds) >= len(groups) - 2, "(two edits may swap places on their way)"
