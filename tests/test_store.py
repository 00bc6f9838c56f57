"""The store suite, run once per backend (SQLite, and a real PostgreSQL 16 from pgserver)."""

import asyncio
import sqlite3
from importlib import resources
from pathlib import Path

import pytest
from asyncpg import connect as asyncpg_connect

from shared.models import Community, PinnedPost, Settings
from shared.store import DIALECTS, SqliteStore, migrations
from shared.store.postgres import PostgresStore
from tests.conftest import StoreTarget

GROUP = Community("telegram", "-100123")
SERVER = Community("discord", "42")
AnyStore = SqliteStore | PostgresStore


@pytest.fixture
def store(any_store: AnyStore) -> AnyStore:
    """This module's tests run on both backends."""
    return any_store


def latest() -> int:
    return migrations()[-1][0]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_migrations_are_numbered_without_gaps(dialect: str) -> None:
    numbers = [number for number, _ in migrations(dialect)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_dialect_override_replaces_a_migration_of_the_same_version() -> None:
    names = [entry.name for entry in resources.files("shared.store.sql").iterdir()]
    overrides = [name for name in names if name.count(".") == 2 and name.endswith(".sql")]
    assert overrides, "PostgreSQL needs its own SQL for the first two migrations"
    for name in overrides:
        stem, dialect, _ = name.split(".")
        assert dialect in DIALECTS, name
        assert f"{stem}.sql" in names, f"{name} overrides no migration"
    assert migrations("postgres")[0][1] != migrations("sqlite")[0][1]


async def test_new_database_is_migrated_to_latest(store_target: StoreTarget) -> None:
    async with await store_target.open() as store:
        assert await store.schema_version() == latest()
    if store_target.backend == "sqlite":
        with sqlite3.connect(store_target.location) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_sqlite_creates_the_database_folder(tmp_path: Path) -> None:
    async with await SqliteStore.open(tmp_path / "new" / "bot.sqlite3") as store:
        assert await store.schema_version() == latest()


@pytest.mark.parametrize("start", range(1, len(migrations())))
async def test_migrates_from_each_older_version_keeping_data(
    store_target: StoreTarget, start: int
) -> None:
    async with await store_target.open(upto=start) as old:
        assert await old.schema_version() == start
        await old.save_settings(GROUP, Settings("GB", "fr"))
    async with await store_target.open() as store:
        assert await store.schema_version() == latest()
        assert await store.get_settings(GROUP) == Settings("GB", "fr")


async def test_reopening_runs_no_migration_twice(store_target: StoreTarget) -> None:
    for _ in range(2):
        async with await store_target.open() as store:
            assert await store.schema_version() == latest()


async def test_processes_starting_together_migrate_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(PostgresStore.open(postgres_url) for _ in range(4)))
    for store in stores:
        assert await store.schema_version() == latest()
        await store.close()


async def test_settings_round_trip_and_replace(store: AnyStore) -> None:
    assert await store.get_settings(GROUP) is None
    await store.save_settings(GROUP, Settings("US", None))
    await store.save_settings(GROUP, Settings("US", "fr"))
    assert await store.get_settings(GROUP) == Settings("US", "fr")
    assert await store.get_settings(SERVER) is None


async def test_concurrent_writes_from_many_communities(store: AnyStore) -> None:
    communities = [Community("discord", str(i)) for i in range(200)]
    await asyncio.gather(
        *(store.save_settings(c, Settings("AU", "en")) for c in communities),
        *(store.delete_community(c) for c in communities[:50]),
        *(
            store.add_pin(PinnedPost(c, "chan", str(i), "about", "v1"))
            for i, c in enumerate(communities[100:])
        ),
    )
    stored = set(await store.communities("discord"))
    assert {c.id for c in communities[50:]} <= stored
    for community in communities[100:]:
        assert await store.get_settings(community) == Settings("AU", "en")


async def test_delete_community_removes_every_row_and_only_its_rows(store: AnyStore) -> None:
    for community in (GROUP, SERVER):
        await store.save_settings(community, Settings("CA", "en"))
        await store.add_pin(PinnedPost(community, "c1", "m1", "help-threatened", "v1"))
    await store.delete_community(GROUP)
    assert await store.get_settings(GROUP) is None
    assert await store.pins(GROUP) == []
    assert await store.communities("telegram") == []
    assert await store.get_settings(SERVER) == Settings("CA", "en")
    assert len(await store.pins(SERVER)) == 1


async def test_pins_are_listed_and_removed_by_topic(store: AnyStore) -> None:
    await store.add_pin(PinnedPost(SERVER, "c1", "m1", "help-threatened", "v1"))
    await store.add_pin(PinnedPost(SERVER, "c2", "m2", "help-threatened", "v1"))
    await store.add_pin(PinnedPost(SERVER, "c1", "m3", "report", "v1"))
    removed = await store.remove_pins(SERVER, "help-threatened")
    assert sorted(p.message_id for p in removed) == ["m1", "m2"]
    assert [p.topic for p in await store.pins(SERVER)] == ["report"]
    assert [p.message_id for p in await store.pins()] == ["m3"]


async def test_meta_values(store: AnyStore) -> None:
    assert await store.get_meta("commands") is None
    await store.set_meta("commands", "abc")
    await store.set_meta("commands", "def")
    assert await store.get_meta("commands") == "def"


async def columns(store: AnyStore) -> list[str]:
    """Every column of every table, on either backend."""
    if isinstance(store, PostgresStore):
        connection = await asyncpg_connect(store.url)
        try:
            rows = await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
            )
        finally:
            await connection.close()
        return [row[0] for row in rows]
    async with store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
        tables = [row[0] for row in await cursor.fetchall()]
    found = []
    for table in tables:
        async with store._db.execute(f"PRAGMA table_info({table})") as cursor:
            found += [row[1] for row in await cursor.fetchall()]
    return found


async def test_schema_has_no_column_for_people_or_messages(store: AnyStore) -> None:
    columns_found = await columns(store)
    assert "content_version" in columns_found
    forbidden = ("user", "author", "member", "text", "content", "name")
    assert not [
        c for c in columns_found if any(word in c for word in forbidden) and c != "content_version"
    ]


async def test_a_pin_is_edited_reported_and_forgotten_by_its_key(store: AnyStore) -> None:
    first = PinnedPost(GROUP, "c", "1", "report", "v1")
    second = PinnedPost(GROUP, "c", "2", "report", "v1")
    for post in (first, second):
        await store.add_pin(post)
    await store.pin_reported(first)
    [reported, _] = await store.pins(GROUP)
    assert reported.reported
    await store.pin_edited(first, "v2")
    versions = {(p.message_id, p.content_version, p.reported) for p in await store.pins(GROUP)}
    assert versions == {("1", "v2", False), ("2", "v1", False)}
    await store.forget_pin(second)
    assert [p.message_id for p in await store.pins(GROUP)] == ["1"]


async def test_of_concurrent_claims_on_a_stale_post_exactly_one_wins(
    store_target: StoreTarget,
) -> None:
    """Eight claimants on four connections (two processes' worth each) at once: one wins."""
    post = PinnedPost(GROUP, "c", "1", "report", "v1")
    stores = [await store_target.open() for _ in range(4)]
    try:
        await stores[0].add_pin(post)
        won = await asyncio.gather(
            *(stores[n % 4].claim_pin(post, "v2", f"process-{n}", 30) for n in range(8))
        )
        assert sorted(won) == [False] * 7 + [True]
    finally:
        for opened in stores:
            await opened.close()


async def test_a_claim_needs_a_stale_post_and_no_running_claim(store: AnyStore) -> None:
    post = PinnedPost(GROUP, "c", "1", "report", "v1")
    await store.add_pin(post)
    assert not await store.claim_pin(post, "v1", "a", 30), "current already"
    assert not await store.claim_pin(PinnedPost(GROUP, "c", "2", "report", "v1"), "v2", "a", 30)
    assert await store.claim_pin(post, "v2", "a", 30)
    assert not await store.claim_pin(post, "v2", "b", 30), "a's claim runs"
    assert not await store.claim_pin(post, "v3", "b", 30), "whatever b would show"
    await store.release_pin(post, "b")
    assert not await store.claim_pin(post, "v2", "b", 30), "only a may release a's claim"
    await store.release_pin(post, "a")
    assert await store.claim_pin(post, "v2", "b", 30), "released: b may edit it"


async def test_recording_an_edit_ends_the_claim(store: AnyStore) -> None:
    post = PinnedPost(GROUP, "c", "1", "report", "v1")
    await store.add_pin(post)
    assert await store.claim_pin(post, "v2", "a", 30)
    await store.pin_edited(post, "v2")
    assert not await store.claim_pin(post, "v2", "b", 30), "current now"
    assert await store.claim_pin(post, "v3", "b", 30), "stale again, and unclaimed"


async def test_an_expired_claim_can_be_taken_again(store: AnyStore) -> None:
    """A process killed mid-edit never releases its claim: it expires."""
    post = PinnedPost(GROUP, "c", "1", "report", "v1")
    await store.add_pin(post)
    assert await store.claim_pin(post, "v2", "killed", 0.2)
    assert not await store.claim_pin(post, "v2", "other", 30)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while not await store.claim_pin(post, "v2", "other", 30):
        assert loop.time() < deadline, "the claim never expired"
        await asyncio.sleep(0.05)
    assert not await store.claim_pin(post, "v2", "killed", 30), "other's claim runs now"


async def test_a_lease_is_taken_renewed_by_its_holder_and_dropped(store: AnyStore) -> None:
    assert await store.take_lease("pins:telegram", "a", 30), "free"
    assert not await store.take_lease("pins:telegram", "b", 30), "a's lease runs"
    assert await store.take_lease("pins:discord", "b", 30), "another name is another lease"
    assert await store.take_lease("pins:telegram", "a", 30), "its holder renews it"
    await store.drop_lease("pins:telegram", "b")
    assert not await store.take_lease("pins:telegram", "b", 30), "only a may drop a's lease"
    await store.drop_lease("pins:telegram", "a")
    assert await store.take_lease("pins:telegram", "b", 30), "dropped: b may take it"


async def test_an_expired_lease_can_be_taken_and_its_old_holder_loses_it(
    store: AnyStore,
) -> None:
    """A process killed while it holds a lease never drops it: it expires."""
    assert await store.take_lease("pins:telegram", "killed", 0.2)
    assert not await store.take_lease("pins:telegram", "other", 30)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while not await store.take_lease("pins:telegram", "other", 30):
        assert loop.time() < deadline, "the lease never expired"
        await asyncio.sleep(0.05)
    assert not await store.take_lease("pins:telegram", "killed", 30), "other's lease runs now"


async def test_a_renewal_extends_the_lease(store: AnyStore) -> None:
    assert await store.take_lease("pins:telegram", "a", 0.3)
    assert await store.take_lease("pins:telegram", "a", 30), "renewed for longer"
    loop = asyncio.get_running_loop()
    expired_at = loop.time() + 0.5
    while loop.time() < expired_at:  # past the first lease's end, polling (no fixed sleep)
        assert not await store.take_lease("pins:telegram", "b", 30), "the renewal still runs"
        await asyncio.sleep(0.05)


async def test_of_concurrent_takers_of_a_lease_exactly_one_wins(
    store_target: StoreTarget,
) -> None:
    """Eight takers on four connections (two processes' worth each) at once: one wins, on a
    free lease and on an expired one."""
    stores = [await store_target.open() for _ in range(4)]
    try:
        won = await asyncio.gather(
            *(stores[n % 4].take_lease("pins:telegram", f"process-{n}", 30) for n in range(8))
        )
        assert sorted(won) == [False] * 7 + [True], "a free lease"
        assert await stores[0].take_lease("pins:discord", "killed", 0.05)
        await asyncio.sleep(0.1)  # past its end: what follows must see it expired
        won = await asyncio.gather(
            *(stores[n % 4].take_lease("pins:discord", f"late-{n}", 30) for n in range(8))
        )
        assert sorted(won) == [False] * 7 + [True], "an expired lease"
    finally:
        for opened in stores:
            await opened.close()
