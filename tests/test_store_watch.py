"""Two processes on one database: a ``/setup`` or a removal answered by one is used by the
other's next command within a second (PostgreSQL: ``LISTEN/NOTIFY``, naming the community;
SQLite: ``PRAGMA data_version``, dropping the whole cache), also after PostgreSQL restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community, Reply, Request, Settings
from shared.store import SqliteStore
from shared.store.postgres import PostgresStore
from tests.conftest import StoreTarget
from tests.postgres import Server

GROUP = Community("telegram", "-1005")
OTHER = Community("telegram", "-1006")
AnyStore = SqliteStore | PostgresStore


class Process:
    """A core on its own store, following the other processes' changes, as ``running_core``
    wires it."""

    def __init__(self, core: Core, store: AnyStore) -> None:
        self.core = core
        self.store = store
        self.seen: list[Community | None] = []
        self.changed = asyncio.Event()

        def changed(community: Community | None) -> None:
            self.seen.append(community)
            self.changed.set()
            core.settings_changed(community)

        self._watching = asyncio.create_task(store.watch(changed))

    async def ask(self, community: Community) -> Reply:
        return await self.core.handle(Request("/report", community=community))

    async def setup(self, community: Community, region: str) -> Reply:
        request = Request("/setup", {"region": region}, community=community, is_moderator=True)
        return await self.core.handle(request)

    async def close(self) -> None:
        self._watching.cancel()
        await asyncio.gather(self._watching, return_exceptions=True)
        await self.store.close()


@pytest.fixture
async def two(
    store_target: StoreTarget, content: Content, config: Config
) -> AsyncIterator[tuple[Process, Process]]:
    first = Process(Core(content, None, config), await store_target.open())
    second = Process(Core(content, None, config), await store_target.open())
    for process in (first, second):
        process.core.store = process.store
    yield first, second
    for process in (first, second):
        await process.close()


async def within(seconds: float, check: Callable[[], Awaitable[bool] | bool]) -> float:
    """Seconds until ``check`` holds; fails after ``seconds``."""
    start = time.monotonic()
    while True:
        holds = check()
        if holds if isinstance(holds, bool) else await holds:
            break
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_a_setup_in_one_process_is_used_by_the_other_within_a_second(
    two: tuple[Process, Process],
) -> None:
    first, second = two
    assert (await first.ask(GROUP)).region == "CA"  # cached in the first process
    assert (await second.setup(GROUP, "GB")).kind == "notice"

    async def first_sees_it() -> bool:
        return (await first.ask(GROUP)).region == "GB"

    await within(1.0, first_sees_it)


async def test_a_community_removed_in_one_process_is_forgotten_by_the_other(
    two: tuple[Process, Process],
) -> None:
    first, second = two
    await first.setup(GROUP, "AU")
    assert (await second.ask(GROUP)).region == "AU"  # cached in the second process
    await first.core.forget_community(GROUP)

    async def second_forgot() -> bool:
        return (await second.ask(GROUP)).region == "CA"

    await within(1.0, second_forgot)


async def test_postgres_names_only_other_processes_changes(
    content: Content, config: Config, postgres_url: str
) -> None:
    first = Process(Core(content, None, config), await PostgresStore.open(postgres_url))
    second = await PostgresStore.open(postgres_url)
    await asyncio.wait_for(first.changed.wait(), 10)  # listening: None, for what was missed
    assert first.seen == [None]
    first.changed.clear()
    await first.store.save_settings(OTHER, Settings("US"))  # its own: not reported back
    await second.save_settings(GROUP, Settings("GB"))
    await asyncio.wait_for(first.changed.wait(), 1)
    # Notifications arrive in commit order: the first process's own would have come first.
    assert first.seen == [None, GROUP]
    await second.close()
    await first.close()


async def test_postgres_listener_reconnects_after_a_restart(
    content: Content, config: Config, own_server: Server
) -> None:
    first = Process(Core(content, None, config), await PostgresStore.open(own_server.url))
    first.core.store = first.store
    await asyncio.wait_for(first.changed.wait(), 10)
    assert (await first.ask(GROUP)).region == "CA"
    own_server.stop()
    own_server.start()
    second = await PostgresStore.open(own_server.url)
    # Listening again drops the whole cache (what was sent meanwhile is lost), and a change
    # made after that arrives as before.
    await within(30, lambda: first.seen.count(None) >= 2)
    await second.save_settings(GROUP, Settings("NZ"))
    await within(5, lambda: GROUP in first.seen)

    async def first_sees_it() -> bool:
        return (await first.ask(GROUP)).region == "NZ"

    await within(5, first_sees_it)
    await second.close()
    await first.close()


async def test_a_read_under_way_when_a_change_arrives_is_not_cached(
    content: Content, config: Config
) -> None:
    release = asyncio.Event()

    class SlowStore:
        """Answers a read only once released: the change arrives in between."""

        calls = 0

        async def get_settings(self, community: Community) -> Settings | None:
            SlowStore.calls += 1
            if SlowStore.calls == 1:
                await release.wait()
                return Settings("GB")  # read before the change
            return Settings("US")

    core = Core(content, SlowStore(), config)  # type: ignore[arg-type]
    reading = asyncio.create_task(core.settings(GROUP))
    await asyncio.sleep(0)
    core.settings_changed(GROUP)
    release.set()
    assert (await reading).region == "GB"
    assert (await core.settings(GROUP)).region == "US", "the older read was not kept"


async def test_running_cores_follow_each_other_through_the_configured_store(
    store_target: StoreTarget,
) -> None:
    from bots.app import running_core

    if store_target.backend == "postgres":
        config = Config(database_url=store_target.location, cooldown_commands=1000)
    else:
        config = Config(database=Path(store_target.location), cooldown_commands=1000)
    async with running_core(config) as first, running_core(config) as second:
        ask = Request("/report", community=GROUP)
        assert (await first.handle(ask)).region == "CA"
        setup = Request("/setup", {"region": "IE"}, community=GROUP, is_moderator=True)
        assert (await second.handle(setup)).kind == "notice"

        async def first_sees_it() -> bool:
            return (await first.handle(ask)).region == "IE"

        await within(1.0, first_sees_it)
