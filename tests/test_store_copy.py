"""``safety-bot store copy SRC DST``: SQLite to PostgreSQL and back, every row kept, a second
run changes nothing, and it prints counts per table, never an id or a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots import cli
from shared.models import Community, PinnedPost, Settings
from shared.store import SqliteStore
from shared.store.copy import CopyError, TableCopy, copy_store
from shared.store.postgres import PostgresStore
from tests.test_cli import run

SENTINEL = "-100987654321"
"""A community id that must never be printed."""
COMMUNITIES = [Community("telegram", SENTINEL), Community("discord", "4242"), Community("x", "y")]
CLAIMED = PinnedPost(COMMUNITIES[2], "chan", "m2", "report", "v1")


async def seed(store: SqliteStore | PostgresStore) -> None:
    for number, community in enumerate(COMMUNITIES):
        await store.save_settings(community, Settings("GB" if number else None, "fr"))
        post = PinnedPost(community, "chan", f"m{number}", "report", "v1", updated_at=1_700_000_000)
        await store.add_pin(post)
    await store.pin_reported(PinnedPost(COMMUNITIES[1], "chan", "m1", "report", "v1"))
    await store.set_meta("telegram.commands", "1:abc")
    # A running process's claim belongs to the source: it is not copied.
    assert await store.claim_pin(CLAIMED, "v2", "a process of the source", 3600)
    # So is a running process's lease.
    assert await store.take_lease("pins:telegram", "a process of the source", 3600)


async def export(target: str) -> dict[str, list[tuple[object, ...]]]:
    store: SqliteStore | PostgresStore
    if target.startswith("postgresql://"):
        store = await PostgresStore.open(target)
    else:
        store = await SqliteStore.open(target)
    async with store:
        return await store.export()


async def test_sqlite_to_postgres_and_back_keeps_every_row_and_repeats_as_a_no_op(
    tmp_path: Path, postgres_url: str
) -> None:
    source = str(tmp_path / "old.sqlite3")
    async with await SqliteStore.open(source) as store:
        await seed(store)
    first = await copy_store(source, postgres_url)
    assert first == [
        TableCopy("community_settings", 3, 0, 0),
        TableCopy("pinned_posts", 3, 0, 0),
        TableCopy("meta", 1, 0, 0),
    ]
    assert await export(postgres_url) == await export(source)
    async with await PostgresStore.open(postgres_url) as copied:
        assert await copied.claim_pin(CLAIMED, "v2", "a process of the destination", 30)
        assert await copied.take_lease("pins:telegram", "a process of the destination", 30)
    again = await copy_store(source, postgres_url)
    assert [(t.new, t.changed, t.unchanged) for t in again] == [(0, 0, 3), (0, 0, 3), (0, 0, 1)]
    back = str(tmp_path / "back.sqlite3")
    await copy_store(postgres_url, back)
    assert await export(back) == await export(source)


async def test_a_changed_row_is_replaced_and_rows_only_in_the_destination_are_kept(
    tmp_path: Path, postgres_url: str
) -> None:
    source = str(tmp_path / "old.sqlite3")
    async with await SqliteStore.open(source) as store:
        await seed(store)
    async with await PostgresStore.open(postgres_url) as target:
        await target.save_settings(COMMUNITIES[0], Settings("US", "en"))
        await target.save_settings(Community("telegram", "only-there"), Settings("AU"))
    counts = await copy_store(source, postgres_url)
    assert counts[0] == TableCopy("community_settings", 2, 1, 0)
    async with await PostgresStore.open(postgres_url) as target:
        assert await target.get_settings(COMMUNITIES[0]) == Settings(None, "fr")
        assert await target.get_settings(Community("telegram", "only-there")) == Settings("AU")


async def test_a_missing_or_identical_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CopyError, match="no such SQLite database"):
        await copy_store(str(tmp_path / "typo.sqlite3"), str(tmp_path / "new.sqlite3"))
    assert not (tmp_path / "new.sqlite3").exists()
    async with await SqliteStore.open(tmp_path / "a.sqlite3"):
        pass
    with pytest.raises(CopyError, match="the same store"):
        await copy_store(str(tmp_path / "a.sqlite3"), str(tmp_path / "." / "a.sqlite3"))


async def test_the_command_prints_counts_and_no_id_and_a_second_run_changes_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    async with await SqliteStore.open(tmp_path / "bot.sqlite3") as store:
        await seed(store)
    first = run("store", "copy", "bot.sqlite3", postgres_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "community_settings: 3 rows: 3 new, 0 changed, 0 already there" in first.stdout
    assert "meta: 1 rows: 1 new" in first.stdout
    second = run("store", "copy", "bot.sqlite3", postgres_url, cwd=tmp_path)
    assert "pinned_posts: 3 rows: 0 new, 0 changed, 3 already there" in second.stdout
    for result in (first, second):
        assert SENTINEL not in result.stdout + result.stderr
        assert "?host=" not in result.stdout, "the URL is shown without its query"


def test_copy_failures_are_one_line_without_the_password(tmp_path: Path) -> None:
    missing = run("store", "copy", "typo.sqlite3", "new.sqlite3", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "safety-bot store: cannot copy: typo.sqlite3: no such SQLite database (give its path,"
        " or a postgresql:// URL)"
    ]
    (tmp_path / "bot.sqlite3").write_bytes(b"")
    url = f"postgresql://bot:sentinel-pw@/db?host={tmp_path / 'no-server'}"
    down = run("store", "copy", "bot.sqlite3", url, cwd=tmp_path)
    assert down.returncode == 1
    assert len(down.stderr.strip().splitlines()) == 1, down.stderr
    assert down.stderr.startswith("safety-bot store: cannot copy bot.sqlite3 to postgresql://")
    assert "sentinel-pw" not in down.stdout + down.stderr
    helped = run("store", "copy", "--help", cwd=tmp_path)
    assert helped.returncode == 0
    assert "running it again changes nothing" in " ".join(helped.stdout.split())


async def test_without_dst_the_command_copies_into_the_configured_store(
    tmp_path: Path, postgres_url: str
) -> None:
    async with await SqliteStore.open(tmp_path / "bot.sqlite3") as store:
        await seed(store)
    (tmp_path / "config.toml").write_text(f'[storage]\nurl = "{postgres_url}"\n')
    result = run("store", "copy", "bot.sqlite3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert await export(postgres_url) == await export(str(tmp_path / "bot.sqlite3"))


def test_the_database_password_reaches_no_output_even_with_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password in ``[storage] url`` is kept out of output like a token: the commands print
    the URL without it, and it is among the secrets every log line and output is cleaned of."""
    password = "sentinel-db-password-4711"
    url = f"postgresql://bot:{password}@/db?host={tmp_path / 'no-server'}"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "{url}"\n')
    for command in (("--debug", "pins"), ("--debug", "refresh-pins"), ("check", "--debug")):
        result = run(*command, cwd=tmp_path)
        assert password not in result.stdout + result.stderr, command
    logged: list[str] = []
    printed: list[str] = []
    monkeypatch.setattr(cli, "setup_logging", lambda _level, secrets, debug: logged.extend(secrets))
    monkeypatch.setattr(cli, "redact_output", printed.extend)
    assert cli.main(["--config", str(config), "check"]) == 0
    assert password in logged
    assert password in printed
