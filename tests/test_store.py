import asyncio
import sqlite3
from pathlib import Path

import pytest

from shared.models import Community
from shared.store import PinnedPost, Settings, SqliteStore, migrations

GROUP = Community("telegram", "-100123")
SERVER = Community("discord", "42")


def latest() -> int:
    return migrations()[-1][0]


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [number for number, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1))


async def test_new_database_is_migrated_to_latest_in_wal_mode(tmp_path: Path) -> None:
    async with await SqliteStore.open(tmp_path / "new" / "bot.sqlite3") as store:
        assert await store.schema_version() == latest()
    with sqlite3.connect(tmp_path / "new" / "bot.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("start", range(1, len(migrations())))
async def test_migrates_from_each_older_version_keeping_data(tmp_path: Path, start: int) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await SqliteStore.open(path, upto=start) as old:
        assert await old.schema_version() == start
        await old.save_settings(GROUP, Settings("GB", "fr"))
    async with await SqliteStore.open(path) as store:
        assert await store.schema_version() == latest()
        assert await store.get_settings(GROUP) == Settings("GB", "fr")


async def test_reopening_runs_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    for _ in range(2):
        async with await SqliteStore.open(path) as store:
            assert await store.schema_version() == latest()


async def test_settings_round_trip_and_replace(store: SqliteStore) -> None:
    assert await store.get_settings(GROUP) is None
    await store.save_settings(GROUP, Settings("US", None))
    await store.save_settings(GROUP, Settings("US", "fr"))
    assert await store.get_settings(GROUP) == Settings("US", "fr")
    assert await store.get_settings(SERVER) is None


async def test_concurrent_writes_from_many_communities(store: SqliteStore) -> None:
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


async def test_delete_community_removes_every_row_and_only_its_rows(store: SqliteStore) -> None:
    for community in (GROUP, SERVER):
        await store.save_settings(community, Settings("CA", "en"))
        await store.add_pin(PinnedPost(community, "c1", "m1", "help-threatened", "v1"))
    await store.delete_community(GROUP)
    assert await store.get_settings(GROUP) is None
    assert await store.pins(GROUP) == []
    assert await store.communities("telegram") == []
    assert await store.get_settings(SERVER) == Settings("CA", "en")
    assert len(await store.pins(SERVER)) == 1


async def test_pins_are_listed_and_removed_by_topic(store: SqliteStore) -> None:
    await store.add_pin(PinnedPost(SERVER, "c1", "m1", "help-threatened", "v1"))
    await store.add_pin(PinnedPost(SERVER, "c2", "m2", "help-threatened", "v1"))
    await store.add_pin(PinnedPost(SERVER, "c1", "m3", "report", "v1"))
    removed = await store.remove_pins(SERVER, "help-threatened")
    assert sorted(p.message_id for p in removed) == ["m1", "m2"]
    assert [p.topic for p in await store.pins(SERVER)] == ["report"]
    assert [p.message_id for p in await store.pins()] == ["m3"]


async def test_meta_values(store: SqliteStore) -> None:
    assert await store.get_meta("commands") is None
    await store.set_meta("commands", "abc")
    await store.set_meta("commands", "def")
    assert await store.get_meta("commands") == "def"


async def test_schema_has_no_column_for_people_or_messages(store: SqliteStore) -> None:
    async with store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
        tables = [row[0] for row in await cursor.fetchall()]
    columns = []
    for table in tables:
        async with store._db.execute(f"PRAGMA table_info({table})") as cursor:
            columns += [row[1] for row in await cursor.fetchall()]
    forbidden = ("user", "author", "member", "text", "content", "name")
    assert not [
        c for c in columns if any(word in c for word in forbidden) and c != "content_version"
    ]


async def test_a_pin_is_edited_reported_and_forgotten_by_its_key(store: SqliteStore) -> None:
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
