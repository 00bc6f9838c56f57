"""The moderation flow, written once in the core, through every branch, with the in-memory
platform standing in for each real one: the checks and their order, the steps asked of the
platform, what is recorded when, and what a failed step leaves behind (nothing).

The adapters' tests (tests/telegram/test_moderation.py, tests/discord/test_moderation.py)
prove that each platform carries out these steps for real."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community, Reply, ReplyKind, Request, Settings
from shared.store import SqliteStore
from tests.memory_platform import MemoryPlatform

# Each platform's shape: Telegram posts in the group itself (no channel); Discord in the
# channel the moderator typed in or chose.
SHAPES = {"telegram": None, "discord": "c1"}


@pytest.fixture(params=list(SHAPES))
def platform(request: pytest.FixtureRequest) -> MemoryPlatform:
    memory = MemoryPlatform()
    memory.platform = request.param
    return memory


def community(platform: MemoryPlatform) -> Community:
    return Community(platform.platform, "g1")


def moderator(
    platform: MemoryPlatform, command: str, options: dict[str, str] | None = None, **kw: Any
) -> Request:
    kw.setdefault("is_moderator", True)
    kw.setdefault("community", community(platform))
    kw.setdefault("channel", SHAPES[platform.platform])
    return Request(command, options or {}, "en", user_key="m1", **kw)


async def locked(*args: object) -> None:
    """A store call that fails as a locked database does."""
    raise sqlite3.OperationalError("database is locked")


def refused_rights(core: Core, *rights: str) -> str:
    names = ", ".join(core.text("en", f"permission_{right}") for right in rights)
    return core.text("en", "pin_missing_right", right=names)


def where(platform: MemoryPlatform) -> str:
    """The channel a post goes to: the one named, else the community itself."""
    return SHAPES[platform.platform] or "g1"


# -- /pin-advice ----------------------------------------------------------------------------


async def test_pin_posts_pins_and_records(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    await core.save_settings(community(platform), Settings("GB", "fr"))
    reply = await core.handle(moderator(platform, "pin-advice", {"topic": "report"}), platform)
    assert reply == core.replies.notice("en", "pin_done")
    assert platform.steps == ["missing_rights", "working", "post", "pin"]
    post = core.community_post("report", Settings("GB", "fr"))
    [(message, (channel, shown))] = platform.posts.items()
    assert (channel, shown) == (where(platform), post)
    assert platform.pinned == [message]
    [record] = await store.pins()
    assert (record.channel_id, record.message_id, record.topic) == (channel, message, "report")
    assert record.content_version == core.content_version(post)


async def test_a_long_post_is_pinned_by_its_first_message(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    platform.pieces = 2
    await core.handle(moderator(platform, "pin-advice", {"topic": "resources"}), platform)
    first, _second = platform.posts
    assert platform.pinned == [first]
    assert [p.message_id for p in await store.pins()] == [first]


async def test_the_bots_missing_rights_are_named_and_nothing_is_posted(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    platform.lacking = ["send_messages", "pin_messages"]
    reply = await core.handle(moderator(platform, "pin-advice", {"topic": "report"}), platform)
    assert reply.kind is ReplyKind.REFUSAL
    assert reply.title == refused_rights(core, "send_messages", "pin_messages")
    assert platform.steps == ["missing_rights"]
    assert await store.pins() == []


async def test_a_refused_post_names_the_right(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    platform.refused["post"] = ("send_messages",)
    reply = await core.handle(moderator(platform, "pin-advice", {"topic": "report"}), platform)
    assert reply.title == refused_rights(core, "send_messages")
    assert platform.steps == ["missing_rights", "working", "post"]
    assert await store.pins() == []


@pytest.mark.parametrize("pieces", [1, 2])
async def test_a_refused_pin_removes_the_post_and_names_the_right(
    core: Core, store: SqliteStore, platform: MemoryPlatform, pieces: int
) -> None:
    platform.pieces = pieces
    platform.refused["pin"] = ("pin_messages",)
    reply = await core.handle(moderator(platform, "pin-advice", {"topic": "report"}), platform)
    assert reply.kind is ReplyKind.REFUSAL
    assert reply.title == refused_rights(core, "pin_messages")
    assert platform.steps == ["missing_rights", "working", "post", "pin", "delete"]
    assert platform.posts == {}, "no orphan post: every message of it is deleted"
    assert len(platform.deleted) == pieces
    assert await store.pins() == []


async def test_a_pin_that_breaks_removes_the_post_and_raises(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    platform.broken["pin"] = TimeoutError("the platform did not answer")
    with pytest.raises(TimeoutError):
        await core.handle(moderator(platform, "pin-advice", {"topic": "report"}), platform)
    assert platform.steps[-1] == "delete"
    assert platform.posts == {}
    assert await store.pins() == []


async def test_a_post_the_store_cannot_record_is_removed(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    store.add_pin = locked  # type: ignore[method-assign]
    reply = await core.handle(moderator(platform, "pin-advice", {"topic": "report"}), platform)
    assert reply == core.save_failed_reply("en")
    assert platform.steps == ["missing_rights", "working", "post", "pin", "delete"]
    assert platform.posts == {}


@pytest.mark.parametrize("typed", ["<nonsense>", ""])
async def test_the_topic_is_checked_before_any_step(
    core: Core, platform: MemoryPlatform, typed: str
) -> None:
    platform.lacking = ["pin_messages"]  # the topic comes first
    options = {"topic": typed} if typed else {}
    reply = await core.handle(moderator(platform, "pin-advice", options), platform)
    assert reply.kind is ReplyKind.REFUSAL
    choices = core.replies.topic_choices()
    if typed:
        assert reply.title == core.text("en", "invalid_topic", value=typed, choices=choices)
    else:
        assert reply.title == core.text("en", "topic_missing", choices=choices)
    assert platform.steps == []


@pytest.mark.parametrize("command", ["pin-advice", "unpin-advice", "pinned", "setup"])
async def test_moderator_commands_are_refused_before_any_step(
    core: Core, platform: MemoryPlatform, command: str
) -> None:
    member = moderator(platform, command, {"topic": "report"}, is_moderator=False)
    reply = await core.handle(member, platform)
    assert reply.title == core.text("en", "refused_moderator", command=command)
    outside = moderator(platform, command, {"topic": "report"}, community=None)
    reply = await core.handle(outside, platform)
    assert reply.title == core.text("en", "refused_private", command=command)
    assert platform.steps == []


async def test_the_cooldown_comes_before_the_refusal(
    content: Content, tmp_path: Path, platform: MemoryPlatform
) -> None:
    """One order on every platform: a flood is told to wait, whoever sends it; a refused
    command still takes from the allowance."""
    config = Config(database=tmp_path / "x", cooldown_commands=1, cooldown_seconds=3600)
    core = Core(content, None, config)
    member = moderator(platform, "unpin-advice", is_moderator=False)
    first = await core.handle(member, platform)
    assert first.title == core.text("en", "refused_moderator", command="unpin-advice")
    second = await core.handle(member, platform)
    assert second.title == core.text("en", "cooldown", seconds="3600")
    again = await core.handle(moderator(platform, "pin-advice", {"topic": "report"}), platform)
    assert again.title == second.title, "the moderator is the same person"
    assert platform.steps == []


async def test_without_a_platform_pinning_shows_the_post(core: Core, store: SqliteStore) -> None:
    console = Request("pin-advice", {"topic": "about"}, "en", Community("console", "local"))
    reply = await core.handle(Request(**{**_fields(console), "is_moderator": True}))
    assert reply == core.community_post("about", Settings())
    assert await store.pins() == []


# -- /unpin-advice --------------------------------------------------------------------------


async def pinned(core: Core, platform: MemoryPlatform, *topics: str) -> None:
    for topic in topics:
        await core.handle(moderator(platform, "pin-advice", {"topic": topic}), platform)
    platform.steps.clear()


async def test_unpin_one_topic(core: Core, store: SqliteStore, platform: MemoryPlatform) -> None:
    await pinned(core, platform, "report", "about", "report")
    reply = await core.handle(moderator(platform, "unpin-advice", {"topic": "report"}), platform)
    assert reply == core.replies.notice("en", "unpin_done")
    assert platform.steps == ["working", "unpin"]
    assert len(platform.unpinned) == 2
    assert [p.topic for p in await store.pins()] == ["about"]


async def test_unpin_every_topic_unpins_each_topics_posts(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    await pinned(core, platform, "report", "about")
    reply = await core.handle(moderator(platform, "unpin-advice"), platform)
    assert reply == core.replies.notice("en", "unpin_done")
    assert platform.steps == ["working", "unpin", "unpin"]
    assert sorted(platform.unpinned) == sorted(platform.pinned)
    assert await store.pins() == []
    nothing = await core.handle(moderator(platform, "unpin-advice"), platform)
    assert nothing == core.replies.notice("en", "unpin_none")
    assert platform.steps[3:] == ["working"], "nothing to unpin: the platform is only told"


async def test_unpin_an_unknown_topic_is_refused(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    await pinned(core, platform, "report")
    reply = await core.handle(moderator(platform, "unpin-advice", {"topic": "Narnia"}), platform)
    assert reply.kind is ReplyKind.REFUSAL
    assert '"Narnia"' in reply.title
    assert platform.steps == []
    assert len(await store.pins()) == 1, "an unknown topic never unpins everything"


async def test_unpin_when_the_store_fails_unpins_nothing_it_cannot_forget(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    await pinned(core, platform, "report")

    store.remove_pins = locked  # type: ignore[method-assign]
    reply = await core.handle(moderator(platform, "unpin-advice", {"topic": "report"}), platform)
    assert reply == core.save_failed_reply("en")
    assert platform.steps == ["working"], "nothing unpinned that is still recorded"


async def test_without_a_platform_unpinning_forgets(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    await pinned(core, platform, "report")
    reply = await core.handle(moderator(platform, "unpin-advice", {"topic": "report"}))
    assert reply == core.replies.notice("en", "unpin_done")
    assert await store.pins() == []
    assert platform.steps == [], "nothing asked of a platform it was not given"


# -- /pinned --------------------------------------------------------------------------------


async def test_pinned_lists_where_each_post_is(core: Core, platform: MemoryPlatform) -> None:
    await pinned(core, platform, "report")
    listing = await core.handle(moderator(platform, "pinned"), platform)
    [line] = listing.sections[0].lines
    assert line.name == "report"
    assert f"#{where(platform)}" in line.purpose
    assert core.text("en", "pinned_current") in line.purpose


async def test_pinned_when_the_store_fails(
    core: Core, store: SqliteStore, platform: MemoryPlatform
) -> None:
    store.pins = locked  # type: ignore[method-assign]
    listing = await core.handle(moderator(platform, "pinned"), platform)
    assert listing == core.error_reply("en")


# -- the table ------------------------------------------------------------------------------


def test_every_command_has_exactly_one_handler(core: Core) -> None:
    from shared.commands import BY_NAME

    assert set(core.dispatch.handlers) == set(BY_NAME)


@pytest.mark.parametrize(
    ("typed", "check"),
    [
        ("/unpin-advice topic:report", lambda r, c: r == c.replies.notice("en", "unpin_none")),
        ("/pinned", lambda r, c: r.title == c.text("en", "pinned_none")),
        ("/setup", lambda r, c: r.kind is ReplyKind.NOTICE and not r.steps),
    ],
)
async def test_no_command_falls_through_to_another(
    core: Core, typed: str, check: Callable[[Reply, Core], bool]
) -> None:
    read = core.read(typed)
    assert read is not None
    request = Request(
        read.name or "", read.options, "en", Community("console", "local"), is_moderator=True
    )
    reply = await core.handle(request)
    assert reply.kind is not ReplyKind.ADVICE
    assert check(reply, core)


def _fields(request: Request) -> dict[str, Any]:
    return {name: getattr(request, name) for name in request.__dataclass_fields__}
