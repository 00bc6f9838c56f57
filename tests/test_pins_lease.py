"""One whole-platform refresh of pinned posts at a time across processes (the lease of
:mod:`shared.lease`): the pace is the platform's for the whole bot, so two processes refreshing
at once take turns instead of editing at twice the pace. With the in-memory platform, on both
backends; two real ``safety-bot refresh-pins`` processes against the fake Telegram are in
tests/telegram/test_pins_processes.py."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from shared.config import Config, PinsConfig
from shared.content import Content
from shared.core import Core
from shared.models import Community
from shared.store import SqliteStore
from shared.store.postgres import PostgresStore
from tests.conftest import StoreTarget, changed_content
from tests.memory_platform import MemoryPlatform
from tests.test_pins import GROUP, OTHER, pin, until

RATE = 100.0
"""Edits a second in these tests: fast, and still a pace to measure."""
POLL = 0.01
"""Seconds between two looks at a lease another process holds, in these tests."""
TOLERANCE = 0.002
"""Seconds a wake-up may come early by (the event loop's clock resolution), or the clocks of
the store and of the event loop differ by over a short wait."""

AnyStore = SqliteStore | PostgresStore


def process(content: Content, store: AnyStore, config: Config) -> tuple[Core, MemoryPlatform]:
    """A bot process on ``store`` (its own connection), with a platform of its own."""
    core = Core(content, store, config)
    core.pins.lease_poll = POLL
    editor = MemoryPlatform()
    core.pins.attach(editor)
    return core, editor


async def test_two_processes_refreshing_a_platform_take_turns_at_the_configured_pace(
    content: Content, store_target: StoreTarget, tmp_path: Path
) -> None:
    """Two processes (two shard sets: each refreshes its own communities, 40 posts in all)
    start a whole-platform refresh at the same moment: all of one's edits come before the
    other's first, each post is edited once, and the edits of both, together, are never closer
    than the configured pace allows."""
    config = Config(database=tmp_path / "bot.sqlite3", pins=PinsConfig({"memory": RATE}))
    stores = [await store_target.open(), await store_target.open()]
    try:
        seeding = Core(content, stores[0], config)
        posts = [f"m{number}" for number in range(40)]
        for number, message in enumerate(posts):
            await pin(seeding, Community("memory", f"g{number}"), message, "report")
        changed = changed_content(tmp_path, "report")
        (first, first_editor), (second, second_editor) = (
            process(changed, opened, config) for opened in stores
        )
        even = first.pins.refresh("memory", include=lambda c: int(c.id[1:]) % 2 == 0)
        odd = second.pins.refresh("memory", include=lambda c: int(c.id[1:]) % 2 == 1)
        counts = await asyncio.gather(even, odd)
        assert [c.edited for c in counts] == [20, 20]
        assert sorted(first_editor.edits + second_editor.edits) == sorted(posts), "each once"
        earlier, later = sorted((first_editor, second_editor), key=lambda e: e.started[0])
        assert max(earlier.started) < min(later.started), "one after the other, never together"
        # Turns are booked 1/RATE apart (a late wake-up does not delay the turns after it),
        # and the lease is handed over at the holder's next turn: the 40th edit's turn comes 39
        # turns after the first's, as if one process had made them all. An edit reaches the
        # platform after its claim's trip to the store, so the first may be late by that trip:
        # two turns of slack (without the lease, the processes would take about 19 turns).
        times = sorted(earlier.started + later.started)
        assert times[-1] - times[0] >= 37 / RATE, "the pace of one process"
    finally:
        for opened in stores:
            await opened.close()


async def test_a_process_that_finds_the_lease_taken_finds_the_posts_current(
    content: Content, store_target: StoreTarget, tmp_path: Path
) -> None:
    """The same posts (Telegram webhook workers, or ``refresh-pins`` beside ``run``): the
    process that waited reads the posts once its turn comes, and has nothing left to edit."""
    config = Config(database=tmp_path / "bot.sqlite3", pins=PinsConfig({"memory": RATE}))
    stores = [await store_target.open(), await store_target.open()]
    try:
        seeding = Core(content, stores[0], config)
        for number in range(10):
            await pin(seeding, Community("memory", f"g{number}"), f"m{number}", "report")
        changed = changed_content(tmp_path, "report")
        both = [process(changed, opened, config) for opened in stores]
        counts = await asyncio.gather(*(core.pins.refresh("memory") for core, _ in both))
        assert sorted(c.edited for c in counts) == [0, 10]
        assert sorted(c.checked for c in counts) == [10, 10]
        assert sum(len(editor.started) for _, editor in both) == 10, "no edit even attempted"
    finally:
        for opened in stores:
            await opened.close()


async def test_a_killed_holders_lease_expires_and_the_refresh_proceeds(
    content: Content, any_store: AnyStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = Config(database=tmp_path / "bot.sqlite3")
    await pin(Core(content, any_store, config), GROUP, "m1", "report")
    core, editor = process(changed_content(tmp_path, "report"), any_store, config)
    core.pins.pace(0, 0)
    loop = asyncio.get_running_loop()
    taken = loop.time()
    assert await any_store.take_lease("pins:memory", "a process killed mid-refresh", 0.3)
    caplog.set_level(logging.INFO, logger="shared.lease")
    counts = await asyncio.wait_for(core.pins.refresh("memory"), 10)
    assert counts.edited == 1
    assert editor.started[0] - taken >= 0.3 - TOLERANCE, "not before the lease expired"
    assert "another process holds the lease pins:memory" in caplog.text


async def test_the_lease_is_renewed_while_the_refresh_runs_and_dropped_after(
    content: Content, any_store: AnyStore, tmp_path: Path
) -> None:
    """A refresh longer than its lease keeps it (renewed every third of it), so no other
    process starts meanwhile; once it ends, another process may take the lease at once."""
    config = Config(database=tmp_path / "bot.sqlite3")
    await pin(Core(content, any_store, config), GROUP, "m1", "report")
    core, editor = process(changed_content(tmp_path, "report"), any_store, config)
    core.pins.pace(0, 0)
    core.pins.lease_seconds = 0.3
    gate = editor.gate = asyncio.Event()
    running = asyncio.create_task(core.pins.refresh("memory"))
    await until(lambda: editor.in_flight == 1)
    loop = asyncio.get_running_loop()
    past = loop.time() + 1.0  # over three lease lengths, looked at every 50 ms
    while loop.time() < past:
        assert not await any_store.take_lease("pins:memory", "another process", 30), "renewed"
        await asyncio.sleep(0.05)
    gate.set()
    assert (await running).edited == 1
    assert await any_store.take_lease("pins:memory", "another process", 30), "dropped"


async def test_a_cancelled_refresh_drops_its_lease(
    content: Content, any_store: AnyStore, tmp_path: Path
) -> None:
    config = Config(database=tmp_path / "bot.sqlite3")
    await pin(Core(content, any_store, config), GROUP, "m1", "report")
    core, editor = process(changed_content(tmp_path, "report"), any_store, config)
    core.pins.pace(0, 0)
    editor.gate = asyncio.Event()
    running = asyncio.create_task(core.pins.refresh("memory"))
    await until(lambda: editor.in_flight == 1)
    running.cancel()
    editor.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await any_store.take_lease("pins:memory", "another process", 30)


async def test_a_communitys_refresh_takes_no_lease(
    content: Content, any_store: AnyStore, tmp_path: Path
) -> None:
    """After ``/setup``, a community's posts are refreshed at once, even while another process
    refreshes the whole platform."""
    config = Config(database=tmp_path / "bot.sqlite3")
    await pin(Core(content, any_store, config), GROUP, "m1", "report")
    await pin(Core(content, any_store, config), OTHER, "m2", "report")
    assert await any_store.take_lease("pins:memory", "another process", 3600)
    core, editor = process(changed_content(tmp_path, "report"), any_store, config)
    core.pins.pace(0, 0)
    counts = await asyncio.wait_for(core.pins.refresh("memory", community=GROUP), 5)
    assert (counts.checked, counts.edited) == (1, 1)
    assert editor.edits == ["m1"]


async def test_a_store_that_cannot_take_the_lease_does_not_stop_the_refresh(
    content: Content, store: SqliteStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Advice never depends on the store: the refresh goes on without the lease, and the
    failure is logged (once a minute)."""
    config = Config(database=tmp_path / "bot.sqlite3")
    for number in range(3):
        await pin(
            Core(content, store, config), Community("memory", f"g{number}"), f"m{number}", "report"
        )

    async def broken(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    store.take_lease = broken  # type: ignore[assignment,method-assign]
    store.drop_lease = broken  # type: ignore[assignment,method-assign]
    core, editor = process(changed_content(tmp_path, "report"), store, config)
    core.pins.pace(0, 0)
    counts = await asyncio.wait_for(core.pins.refresh("memory"), 5)
    assert counts.edited == 3
    assert sorted(editor.edits) == ["m0", "m1", "m2"]
    assert caplog.text.count("storage failed to take the refresh lease") == 1
    assert "drop the refresh lease" not in caplog.text, "logged once a minute"
