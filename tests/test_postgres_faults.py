"""PostgreSQL locked, read-only, unreachable at start, or stopped and restarted mid-run, on a
real server: people still get advice, moderators are told their change was not saved, the
failure is logged at most once a minute, nothing is half-written, and the store reconnects
by itself once the server is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from bots.app import running_core
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community, PinnedPost, ReplyKind, Request, Settings
from shared.store import StoreUnavailable
from shared.store.postgres import PostgresStore
from tests.faults import SEEDED, SEEDED_SETTINGS
from tests.postgres import Server
from tests.test_store_faults import (
    NEW,
    Clock,
    assert_advice_given_and_changes_refused,
    store_errors,
)

TIMEOUT = 0.2
"""Seconds a statement waits for a lock in these tests (the product waits 5 s)."""
PASSWORD = "sentinel-password-7f3a"


async def seeded(url: str, **options: float) -> PostgresStore:
    store = await PostgresStore.open(url, **options)
    await store.save_settings(SEEDED, SEEDED_SETTINGS)
    return store


@pytest.fixture
async def admin(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """Another client of the test's database, as an operator or another process would be."""
    connection = await asyncpg.connect(postgres_url)
    yield connection
    await connection.close()


@pytest.mark.parametrize("fault", ["locked", "read-only"])
async def test_broken_postgres_gives_advice_and_refuses_changes(
    content: Content,
    config: Config,
    postgres_url: str,
    admin: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    store = await seeded(postgres_url, timeout=TIMEOUT)
    if fault == "read-only":
        await admin.execute(
            f"ALTER DATABASE {urlsplit(postgres_url).path.lstrip('/')}"
            " SET default_transaction_read_only = on"
        )
        await store.close()  # the setting applies to new sessions
        store = await PostgresStore.open(postgres_url, timeout=TIMEOUT)
    core = Core(content, store, config, clock=Clock())
    lock = admin.transaction()
    if fault == "locked":
        # Another process holds every table: reads go on, writes wait for the lock.
        await lock.start()
        await admin.execute("LOCK community_settings, pinned_posts, meta IN EXCLUSIVE MODE")
    try:
        await assert_advice_given_and_changes_refused(core, seeded_region="GB")
        assert await core.moderation.forget_pins(SEEDED, "report") is None
        await core.forget_community(SEEDED)
        assert not await core.set_meta("telegram.commands", "1:abc")
    finally:
        if fault == "locked":
            await lock.rollback()
    await store.close()
    async with await PostgresStore.open(postgres_url) as reopened:
        assert await reopened.get_settings(SEEDED) == SEEDED_SETTINGS, "a failed delete: whole"
    assert len(store_errors(caplog)) == 1, "one failure logged per minute, however many"


async def test_bot_starts_while_postgres_is_down_and_connects_when_it_is_back(
    own_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_server.url.replace("postgres:@", f"postgres:{PASSWORD}@")
    await (await seeded(url)).close()
    own_server.stop()
    config = Config(database_url=url, cooldown_commands=1000, cooldown_seconds=1)
    async with running_core(config) as core:
        assert isinstance(core.store, PostgresStore)
        await assert_advice_given_and_changes_refused(core, seeded_region="CA")
        own_server.start()
        await asyncio.wait_for(core.store.wait_connected(), 30)
        setup = Request("/setup", {"region": "US"}, community=NEW, is_moderator=True)
        assert (await core.handle(setup)).kind is ReplyKind.NOTICE
        assert await core.store.get_settings(NEW) == Settings("US", None)
    [unreachable] = [
        r for r in caplog.records if r.name == "shared.store.postgres_pool" and r.levelno >= 40
    ]
    assert "cannot reach the database postgresql://local socket/postgres" in unreachable.message
    assert PASSWORD not in caplog.text


async def test_postgres_restarted_mid_run(
    content: Content, config: Config, own_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    store = await seeded(own_server.url)
    core = Core(content, store, config)
    assert (await core.handle(Request("/report", community=SEEDED))).region == "GB"  # cached
    own_server.stop()
    # Advice keeps flowing: the cached community keeps its region, a new one gets defaults.
    for _ in range(20):
        assert (await core.handle(Request("/report", community=SEEDED))).region == "GB"
        uncached = Request("/report", community=Community("telegram", "-1009"))
        assert (await core.handle(uncached)).region == config.default_region
    setup = Request("/setup", {"region": "US"}, community=NEW, is_moderator=True)
    assert await core.handle(setup) == core.save_failed_reply("en")
    # While it is away, calls fail at once instead of each waiting to connect.
    with pytest.raises(StoreUnavailable, match="trying again in"):
        await store.get_settings(NEW)
    own_server.start()
    saved = None
    for _ in range(200):  # backoff of at most a few seconds after this short outage
        saved = await core.handle(setup)
        if saved.kind is ReplyKind.NOTICE:
            break
        await asyncio.sleep(0.05)
    assert saved is not None
    assert saved.kind is ReplyKind.NOTICE
    assert await store.get_settings(NEW) == Settings("US", None)
    await store.close()
    assert len(store_errors(caplog)) == 1, "one failure logged per minute, however many"


async def test_a_restart_during_deletes_leaves_no_community_half_deleted(
    own_server: Server,
) -> None:
    communities = [Community("discord", str(n)) for n in range(3000)]
    store = await PostgresStore.open(own_server.url)
    await store.import_rows(
        {
            "community_settings": [(c.platform, c.id, "GB", "fr", 1) for c in communities],
            "pinned_posts": [
                (c.platform, c.id, "1", "2", "report", "v1", 1, 0) for c in communities
            ],
        }
    )
    deleted = 0
    under_way = asyncio.Event()

    async def delete(batch: list[Community]) -> None:
        nonlocal deleted
        for community in batch:
            try:
                await store.delete_community(community)
            except Exception:
                return  # the server went away: the rest stays
            deleted += 1
            if deleted == 100:
                under_way.set()

    deleting = asyncio.gather(*(delete(communities[n::4]) for n in range(4)))
    await asyncio.wait_for(under_way.wait(), 30)
    own_server.stop()
    await deleting
    own_server.start()
    await store.close()
    async with await PostgresStore.open(own_server.url) as reopened:
        with_settings = set(await reopened.communities("discord"))
        rows = await reopened.export()
    with_pins = {row[1] for row in rows["pinned_posts"]}
    settings = {row[1] for row in rows["community_settings"]}
    assert settings == with_pins, "a community lost its settings but kept its pins, or back"
    assert 0 < len(with_settings) < len(communities), "the restart came mid-way"


async def test_a_pin_survives_a_restart_between_two_calls(own_server: Server) -> None:
    store = await PostgresStore.open(own_server.url)
    post = PinnedPost(SEEDED, "c", "m", "report", "v1")
    await store.add_pin(post)
    own_server.stop()
    own_server.start()
    for _ in range(200):
        try:
            await store.pin_edited(post, "v2")
            break
        except (StoreUnavailable, *_connection_errors()):
            await asyncio.sleep(0.05)
    assert [p.content_version for p in await store.pins(SEEDED)] == ["v2"]
    await store.close()


def _connection_errors() -> tuple[type[BaseException], ...]:
    return (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)
