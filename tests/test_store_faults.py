"""A database that is locked, read-only, full, moved away or cannot be opened at all: people
still get advice, moderators are told their change was not saved, nothing is half-done, and
the failure is logged at most once a minute (see tests/faults.py for how each is made)."""

from __future__ import annotations

import io
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from pathlib import Path

import pytest

from bots.app import running_core
from bots.console.session import run
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community, ReplyKind, Request
from shared.store import SqliteStore, UnavailableStore
from tests.faults import (
    SEEDED,
    SEEDED_SETTINGS,
    full_store,
    locked_store,
    moved_store,
    read_only_store,
    seeded,
    write_lock,
)

NEW = Community("telegram", "-1002")
"""A community that never saved anything."""
FAULTS: dict[str, Callable[[Path], Awaitable[SqliteStore]]] = {
    "locked": locked_store,
    "read-only": read_only_store,
    "full": full_store,
    "moved": moved_store,
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def store_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "shared.settings" and r.levelno >= logging.ERROR]


async def assert_advice_given_and_changes_refused(core: Core, seeded_region: str) -> None:
    """People get advice (the stored region where it can still be read, else the default);
    a moderator's /setup and a pin record are refused with the save-failed message."""
    seeded_advice = await core.handle(Request("/help-threatened", community=SEEDED))
    assert seeded_advice.kind is ReplyKind.ADVICE
    assert seeded_advice.region == seeded_region
    setup = Request("/setup", {"region": "US"}, community=NEW, is_moderator=True)
    assert await core.handle(setup) == core.save_failed_reply("en")
    advice = await core.handle(Request("/report", community=NEW))
    assert advice.kind is ReplyKind.ADVICE
    assert advice.region == core.config.default_region
    assert not await core.moderation.record_pin(NEW, "1", "2", "report", "v1")


@pytest.mark.parametrize("fault", FAULTS)
async def test_broken_database_gives_advice_and_refuses_changes(
    content: Content, config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    store = await FAULTS[fault](path)
    core = Core(content, store, config, clock=Clock())
    with write_lock(path) if fault == "locked" else nullcontext():
        await assert_advice_given_and_changes_refused(core, seeded_region="GB")
        removed = await core.moderation.forget_pins(SEEDED, "report")
        await core.forget_community(SEEDED)
        meta_saved = await core.set_meta("telegram.commands", "1:abc")
    remaining = await store.get_settings(SEEDED)
    await store.close()
    if fault == "full":
        # Deleting needs no new page: a full disk still lets the bot forget a community.
        assert (removed, remaining) == ([], None)
    else:
        assert removed is None
        assert remaining == SEEDED_SETTINGS, "a failed delete leaves the data whole"
        assert not meta_saved
    assert len(store_errors(caplog)) == 1, "one failure logged per minute, however many"


async def test_full_database_recovers_once_space_is_freed(
    content: Content, config: Config, tmp_path: Path
) -> None:
    store = await full_store(tmp_path / "bot.sqlite3")
    core = Core(content, store, config, clock=Clock())
    setup = Request("/setup", {"region": "US"}, community=NEW, is_moderator=True)
    assert (await core.handle(setup)).kind is ReplyKind.ERROR
    # Deleting frees room: the same connection saves again, without a restart.
    for number in range(50):
        await core.forget_community(Community("telegram", f"filler-{number}"))
    assert (await core.handle(setup)).kind is ReplyKind.NOTICE
    assert await store.get_settings(NEW) is not None
    await store.close()


async def test_failed_commit_leaves_no_transaction_open(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await seeded(path)
    # A deferred foreign key makes COMMIT itself fail, as a disk filling up at that moment
    # would; SQLite then keeps the transaction open unless it is rolled back.
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE guard (platform TEXT, community_id TEXT, FOREIGN KEY"
            " (platform, community_id) REFERENCES community_settings (platform, community_id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )
        db.execute("INSERT INTO guard VALUES (?, ?)", (SEEDED.platform, SEEDED.id))
    async with await SqliteStore.open(path) as store:
        with pytest.raises(sqlite3.IntegrityError):
            await store.delete_community(SEEDED)
        await store.save_settings(NEW, SEEDED_SETTINGS)
        with sqlite3.connect(path) as other:
            rows = other.execute("SELECT community_id FROM community_settings").fetchall()
    assert sorted(rows) == sorted([(SEEDED.id,), (NEW.id,)]), "rolled back, then committed"


async def test_failures_are_logged_at_most_once_a_minute(
    content: Content, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    core = Core(content, UnavailableStore("the database is gone"), config, clock=clock)

    async def fail(times: int) -> None:
        for number in range(times):
            assert not await core.save_settings(Community("telegram", str(number)), SEEDED_SETTINGS)

    await fail(5)
    assert len(store_errors(caplog)) == 1
    clock.now = 59.9
    await fail(3)
    assert len(store_errors(caplog)) == 1
    clock.now = 60.0
    await fail(1)
    first, second = store_errors(caplog)
    assert "(0 more failures" in first.getMessage()
    assert "(7 more failures since the last report)" in second.getMessage()
    assert "the database is gone" in (second.exc_text or "")


def unopenable(tmp_path: Path, how: str) -> Path:
    """A database path SQLite cannot open."""
    if how == "folder is a file":
        (tmp_path / "data").write_text("not a folder")
        return tmp_path / "data" / "bot.sqlite3"
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"an operator's file, not a database\n" * 200)
    return path


@pytest.mark.parametrize("how", ["folder is a file", "not a database"])
async def test_bot_starts_when_the_database_cannot_be_opened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    path = unopenable(tmp_path, how)
    before = path.read_bytes() if path.exists() else None
    config = Config(database=path, cooldown_commands=1000, cooldown_seconds=1)
    async with running_core(config) as core:
        await assert_advice_given_and_changes_refused(core, seeded_region="CA")
        assert await core.moderation.forget_pins(SEEDED, "report") is None
    [opening] = [r for r in caplog.records if r.name == "bots.app"]
    assert opening.levelno == logging.ERROR
    assert str(path) in opening.getMessage()
    assert len(store_errors(caplog)) == 1
    if before is not None:
        assert path.read_bytes() == before, "a file that is not ours is left untouched"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only files and folders")
async def test_bot_starts_on_a_read_only_database_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    await seeded(path)
    path.chmod(0o444)
    path.parent.chmod(0o555)
    try:
        config = Config(database=path, cooldown_commands=1000, cooldown_seconds=1)
        async with running_core(config) as core:
            advice = await core.handle(Request("/help-threatened", community=SEEDED))
            assert advice.kind is ReplyKind.ADVICE
            setup = Request("/setup", {"region": "US"}, community=NEW, is_moderator=True)
            assert await core.handle(setup) == core.save_failed_reply("en")
    finally:
        path.parent.chmod(0o755)
        path.chmod(0o644)


async def test_console_answers_and_says_it_could_not_save(content: Content, tmp_path: Path) -> None:
    config = Config(database=unopenable(tmp_path, "folder is a file"))
    typed = io.StringIO("/help-threatened\n/setup region:GB\n/report\n")
    shown = io.StringIO()
    async with running_core(config) as core:
        await run(core, typed, shown)
    output = shown.getvalue()
    assert "911" in output  # Canada's emergency number: the default region
    assert content.ui("en", "save_failed") in output
    assert "999" not in output  # the UK's: /setup region:GB was not applied
