"""Pinned posts that keep themselves current: the core's side, with the in-memory platform.

The platforms' side (editMessageText, message edits) is tested through the fakes in
tests/telegram/test_pins.py and tests/discord/test_pins.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.config import Config, PinsConfig
from shared.content import Content
from shared.core import Core
from shared.models import Community, PinnedPost, Reply, ReplyKind, Request, Settings
from shared.pace import EDITS_IN_FLIGHT
from shared.platform import Outcome, Platform
from shared.store import SqliteStore
from tests.conftest import StoreTarget, changed_content
from tests.conftest import restarted as restarted_core
from tests.memory_platform import MemoryPlatform as MemoryEditor

GROUP = Community("memory", "g1")
OTHER = Community("memory", "g2")


async def pin(core: Core, community: Community, message_id: str, topic: str) -> None:
    post = core.community_post(topic, await core.settings(community))
    await core.moderation.record_pin(community, "c1", message_id, topic, core.content_version(post))


def restarted(core: Core, content: Content, editor: Platform) -> Core:
    """The same store and config with other content, as after an update and a restart."""
    fresh = restarted_core(core, content)
    fresh.pins.attach(editor)
    return fresh


@pytest.fixture
def editor() -> MemoryEditor:
    return MemoryEditor()


async def test_only_stale_posts_are_edited_once(
    core: Core, editor: MemoryEditor, store: SqliteStore, tmp_path: Path
) -> None:
    await pin(core, GROUP, "m1", "report")
    await pin(core, GROUP, "m2", "about")
    await pin(core, OTHER, "m3", "report")
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    counts = await later.pins.refresh("memory")
    assert (counts.checked, counts.edited, counts.gone, counts.failed) == (3, 2, 0, 0)
    assert sorted(editor.edits) == ["m1", "m3"]
    assert editor.shown["m1"].summary.startswith("Updated advice.")
    versions = {p.message_id: p.content_version for p in await store.pins()}
    assert versions["m1"] == later.content_version(later.community_post("report", Settings()))
    again = await restarted(core, later.content, editor).pins.refresh("memory")
    assert (again.checked, again.edited) == (3, 0)
    assert sorted(editor.edits) == ["m1", "m3"]


async def test_an_interrupted_refresh_resumes_without_editing_twice(
    core: Core, editor: MemoryEditor, tmp_path: Path
) -> None:
    for number in range(4):
        await pin(core, Community("memory", f"g{number}"), f"m{number}", "report")
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    later.pins.pace(60, 0)  # one edit, then a long wait for the next turn
    editor.gate = asyncio.Event()
    running = asyncio.create_task(later.pins.refresh("memory"))
    await asyncio.wait_for(editor.asked.wait(), 5)  # the first edit is in flight, waiting
    running.cancel()
    editor.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert editor.edits == ["m0"], "the edit in flight finished and was recorded"
    counts = await restarted(core, later.content, editor).pins.refresh("memory")
    assert (counts.checked, counts.edited) == (4, 3)
    assert sorted(editor.edits) == ["m0", "m1", "m2", "m3"]


async def test_edits_overlap_and_a_cancel_lets_those_under_way_finish(
    core: Core, editor: MemoryEditor, tmp_path: Path
) -> None:
    """A slow platform does not slow the pace (edits wait for their answers side by side, at
    most EDITS_IN_FLIGHT at once); cancelled, each edit under way lands and is recorded, and
    the next refresh edits exactly the others."""
    count = EDITS_IN_FLIGHT + 8
    for number in range(count):
        await pin(core, Community("memory", f"g{number}"), f"m{number}", "report")
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    gate = editor.gate = asyncio.Event()
    running = asyncio.create_task(later.pins.refresh("memory"))
    await until(lambda: editor.in_flight >= EDITS_IN_FLIGHT)
    running.cancel()
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert len(editor.edits) == EDITS_IN_FLIGHT, "no more than that many at once"
    first = set(editor.edits)
    counts = await restarted(core, later.content, editor).pins.refresh("memory")
    assert (counts.checked, counts.edited) == (count, count - EDITS_IN_FLIGHT)
    assert sorted(editor.edits) == sorted(f"m{number}" for number in range(count))
    assert first.isdisjoint(editor.edits[EDITS_IN_FLIGHT:]), "nothing edited twice"


async def test_refreshes_running_together_edit_each_post_once(
    core: Core, editor: MemoryEditor, tmp_path: Path
) -> None:
    """A ``/setup`` while the start-up refresh is editing the same post waits for that edit
    and then finds the post current, instead of editing it a second time."""
    await pin(core, GROUP, "m1", "report")
    await pin(core, OTHER, "m2", "report")
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    looked = 0
    current_version = later.pins.current_version

    async def counted(post: PinnedPost) -> tuple[Reply, str]:
        nonlocal looked
        looked += 1
        return await current_version(post)

    later.pins.current_version = counted  # type: ignore[method-assign]
    gate = editor.gate = asyncio.Event()
    everything = asyncio.create_task(later.pins.refresh("memory"))
    await until(lambda: editor.in_flight == 2)
    group = asyncio.create_task(later.pins.refresh("memory", community=GROUP))
    # Each refresh looks before the post's turn, and again in it: 2 x 2, then once for the
    # second refresh, whose edit then waits for the first one's.
    await until(lambda: looked >= 5)
    gate.set()
    done = await asyncio.gather(everything, group)
    assert sorted(editor.edits) == ["m1", "m2"]
    assert [(c.checked, c.edited) for c in done] == [(2, 2), (1, 0)]


async def test_edits_keep_the_configured_pace(
    content: Content, store: SqliteStore, tmp_path: Path
) -> None:
    rate = 50.0
    config = Config(database=tmp_path / "bot.sqlite3", pins=PinsConfig({"memory": rate}))
    core = Core(content, store, config)
    for number in range(11):
        await pin(core, Community("memory", f"g{number}"), f"m{number}", "report")
    later = Core(changed_content(tmp_path, "report"), store, config)
    editor = MemoryEditor()
    later.pins.attach(editor)
    started = asyncio.get_running_loop().time()
    assert (await later.pins.refresh("memory")).edited == 11
    # Turns are 1/rate apart: the eleventh comes 10 turns after the first, at the earliest.
    assert editor.started[-1] - started >= 10 / rate


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Return once ``condition()`` holds; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.001)


async def test_a_deleted_post_is_forgotten(
    core: Core, editor: MemoryEditor, store: SqliteStore, tmp_path: Path
) -> None:
    await pin(core, GROUP, "m1", "report")
    editor.answer["m1"] = Outcome.GONE
    counts = await restarted(core, changed_content(tmp_path, "report"), editor).pins.refresh(
        "memory"
    )
    assert counts.gone == 1
    assert await store.pins() == []


@pytest.mark.parametrize("may_report", [True, False])
async def test_a_post_the_bot_may_not_edit_is_reported_once(
    core: Core, editor: MemoryEditor, store: SqliteStore, tmp_path: Path, may_report: bool
) -> None:
    await pin(core, GROUP, "m1", "report")
    editor.answer["m1"] = Outcome.FORBIDDEN
    editor.may_report = may_report
    content = changed_content(tmp_path, "report")
    for _ in range(3):
        counts = await restarted(core, content, editor).pins.refresh("memory")
        assert counts.failed == 1
    expected = [("c1", "pin_cannot_edit")] if may_report else []
    notice = core.text("en", "pin_cannot_edit")
    assert [(channel, "pin_cannot_edit") for channel, r in editor.reports if r.title == notice] == (
        expected
    )
    [record] = await store.pins()
    assert record.reported
    editor.answer.clear()  # the right came back: the next refresh edits and clears the flag
    assert (await restarted(core, content, editor).pins.refresh("memory")).edited == 1
    [record] = await store.pins()
    assert not record.reported


async def test_a_failed_edit_is_tried_again_next_time(
    core: Core, editor: MemoryEditor, tmp_path: Path
) -> None:
    await pin(core, GROUP, "m1", "report")
    editor.answer["m1"] = Outcome.FAILED
    content = changed_content(tmp_path, "report")
    assert (await restarted(core, content, editor).pins.refresh("memory")).failed == 1
    editor.answer.clear()
    assert (await restarted(core, content, editor).pins.refresh("memory")).edited == 1
    assert editor.reports == []


async def test_setup_rerenders_the_community_posts_at_once(
    core: Core, editor: MemoryEditor
) -> None:
    core.pins.pace(0, 0)
    core.pins.attach(editor)
    await pin(core, GROUP, "m1", "report")
    await pin(core, OTHER, "m2", "report")
    request = Request("setup", {"region": "GB", "language": "fr"}, "en", GROUP, is_moderator=True)
    saved = await core.handle(request)
    assert saved.kind is ReplyKind.NOTICE
    await core.pins.settle()
    assert editor.edits == ["m1"]
    assert editor.shown["m1"] == core.community_post("report", Settings("GB", "fr"))


async def test_pinned_lists_topic_place_date_and_state(
    core: Core, editor: MemoryEditor, tmp_path: Path
) -> None:
    core.pins.attach(editor)
    await pin(core, GROUP, "m1", "report")
    listing = await core.handle(Request("pinned", {}, "en", GROUP, is_moderator=True))
    [section] = listing.sections
    [line] = section.lines
    assert line.name == "report"
    assert "#c1" in line.purpose
    assert core.text("en", "pinned_current") in line.purpose
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    later.pins.platforms.clear()
    listing = await later.handle(Request("pinned", {}, "fr", GROUP, is_moderator=True))
    [line] = listing.sections[0].lines
    assert later.text("fr", "pinned_stale") in line.purpose
    assert later.text("fr", "pinned_this_group") in line.purpose, "no platform: no channel name"


async def test_pinned_is_for_moderators_of_a_community(core: Core) -> None:
    refused = await core.handle(Request("pinned", {}, "en", GROUP))
    assert refused.kind is ReplyKind.REFUSAL
    private = await core.handle(Request("pinned", {}, "en", None, is_moderator=True))
    assert private.kind is ReplyKind.REFUSAL
    empty = await core.handle(Request("pinned", {}, "en", GROUP, is_moderator=True))
    assert empty.title == core.text("en", "pinned_none")


async def test_summary_counts_posts_and_stale_ones_without_naming_communities(
    core: Core, editor: MemoryEditor, tmp_path: Path
) -> None:
    await pin(core, GROUP, "m1", "report")
    await pin(core, Community("other", "x"), "m2", "about")
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    summary = await later.pins.summary()
    assert summary == {
        "memory": {"posts": 1, "stale": 1, "cannot_edit": 0},
        "other": {"posts": 1, "stale": 0, "cannot_edit": 0},
    }
    assert "g1" not in repr(summary)


async def test_edits_are_spaced_out_and_communities_take_turns(
    content: Content, store: SqliteStore, config: Config, tmp_path: Path
) -> None:
    core = Core(content, store, config)
    for community, message in ((GROUP, "a1"), (GROUP, "a2"), (OTHER, "b1")):
        await pin(core, community, message, "report" if message != "a2" else "about")
    later = Core(changed_content(tmp_path, "report", "about"), store, config)
    editor = MemoryEditor()
    later.pins.attach(editor)
    later.pins.pace(0.01, 0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await later.pins.refresh("memory")
    assert editor.edits[:2] == ["a1", "b1"], "the other community's post does not wait"
    assert loop.time() - started >= 0.2, "two edits in one community are spaced out"


async def test_a_broken_store_stops_the_refresh_and_is_logged_once(
    core: Core, editor: MemoryEditor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for number in range(3):
        await pin(core, GROUP, f"m{number}", "report")
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    store = later.store
    assert store is not None

    async def broken(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    store.pin_edited = broken  # type: ignore[method-assign]
    counts = await later.pins.refresh("memory")
    assert (counts.edited, counts.failed) == (0, 1)
    assert editor.edits == ["m0"], "no more edits it could not record"
    assert caplog.text.count("storage failed") == 1
    store.pins = broken  # type: ignore[assignment]
    listing = await later.handle(Request("pinned", {}, "en", GROUP, is_moderator=True))
    assert listing.kind is ReplyKind.ERROR


async def test_two_processes_refreshing_together_edit_each_post_once(
    content: Content, config: Config, store_target: StoreTarget, tmp_path: Path
) -> None:
    """Two cores on two connections to one database (as two processes), each refreshing every
    community's posts at the same moment (a community's refresh takes no lease, so they run
    together; a whole platform's takes turns: tests/test_pins_lease.py): every one of the
    200 stale posts is edited once in all, by one of them (the claims)."""
    first = await store_target.open()
    second = await store_target.open()
    try:
        core = Core(content, first, config)
        posts = [f"m{number}" for number in range(200)]
        communities = [Community("memory", f"g{number}") for number in range(150)]
        for number, message in enumerate(posts):
            await pin(core, communities[number % 150], message, "report")
        changed = changed_content(tmp_path, "report")
        editor = MemoryEditor()
        both = [
            restarted(Core(content, opened, config), changed, editor) for opened in (first, second)
        ]
        counts = await asyncio.gather(
            *(c.pins.refresh("memory", community=g) for c in both for g in communities)
        )
        assert sorted(editor.edits) == sorted(posts), "each post edited once"
        assert sum(c.checked for c in counts) == 400, "each process looked at every post"
        per_process = [sum(c.edited for c in counts[n * 150 : (n + 1) * 150]) for n in (0, 1)]
        assert sum(per_process) == 200
        assert all(per_process), f"both took part: {per_process}"
        assert sum(c.failed + c.gone for c in counts) == 0
        new = both[0].content_version(both[0].community_post("report", Settings()))
        assert {p.content_version for p in await second.pins()} == {new}
    finally:
        await first.close()
        await second.close()


async def test_a_post_claimed_by_a_killed_process_is_edited_once_its_claim_expires(
    core: Core, editor: MemoryEditor, store: SqliteStore, tmp_path: Path
) -> None:
    await pin(core, GROUP, "m1", "report")
    await pin(core, OTHER, "m2", "report")
    later = restarted(core, changed_content(tmp_path, "report"), editor)
    [post, _] = await store.pins()
    new = later.content_version(later.community_post("report", Settings()))
    assert await store.claim_pin(post, new, "killed mid-edit", 0.3)
    counts = await later.pins.refresh("memory")
    assert (counts.checked, counts.edited, counts.failed) == (2, 1, 0), "skipped, not failed"
    assert editor.edits == ["m2"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while not (await later.pins.refresh("memory")).edited:
        assert loop.time() < deadline, "the claim never expired"
        await asyncio.sleep(0.05)
    assert sorted(editor.edits) == ["m1", "m2"]
