"""Wiring: configuration + content + store -> a Core, shared by every adapter."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import IntEnum

from shared.config import Config, check_config_against_content
from shared.content import Content, load_content
from shared.core import Core
from shared.problems import Problem, ProblemsError
from shared.store import SqliteStore, Store, UnavailableStore

log = logging.getLogger(__name__)


class ExitCode(IntEnum):
    """``safety-bot``'s exit codes, each with its meaning as ``--help`` and the README show it."""

    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        code = int.__new__(cls, value)
        code._value_ = value
        code.meaning = meaning
        return code

    OK = 0, "done"
    FAILED = (
        1,
        "the command found a problem: check found errors, refresh-pins could not edit a post",
    )
    CANNOT_START = (
        2,
        "cannot start: wrong usage, a config or content error, a token the command needs unset",
    )
    TOKEN_REFUSED = 3, "a platform refused its token (fix it: starting again cannot help)"
    UNREACHABLE = 4, "a platform could not be reached (try again later)"
    CONFLICT = (
        5,
        "another process receives this bot's updates (Telegram's 409 Conflict): run one poller,"
        " or every process in webhook mode",
    )
    UNEXPECTED = 70, "an unexpected error, a bug (run it again with --debug to see where)"
    INTERRUPTED = 130, "interrupted (Ctrl-C); run and console stop cleanly with 0"


class Stop(RuntimeError):
    """A command cannot go on, for a reason a person can act on; its text is the one line
    ``safety-bot`` prints (never a token), ``exit_code`` the documented exit code."""

    exit_code = ExitCode.FAILED


class UsageError(Stop):
    """The command line or a setting the command needs is wrong or missing."""

    exit_code = ExitCode.CANNOT_START


class TokenRejected(Stop):
    """A platform refused the bot's token: retrying cannot help, the operator must act."""

    exit_code = ExitCode.TOKEN_REFUSED

    def __init__(self, platform: str, variable: str) -> None:
        super().__init__(
            f"{platform} refused the bot token: check {variable} (it may have been revoked"
            " or mistyped)"
        )
        self.platform = platform


class Unreachable(Stop):
    """A platform could not be reached (network, DNS, its servers): trying later may help."""

    exit_code = ExitCode.UNREACHABLE

    def __init__(self, platform: str, cause: BaseException) -> None:
        self.reason = f"could not reach {platform} ({describe(cause)})"
        super().__init__(f"{self.reason}; try again later")
        self.platform = platform


class ReceivedElsewhere(Stop):
    """Another process receives the bot's updates, and only one may: starting again would take
    them back from it, so the operator must choose."""

    exit_code = ExitCode.CONFLICT


def describe(error: BaseException) -> str:
    """An exception in one line: its type and the first line of its message."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


class Backoff:
    """The waits between tries to reach a platform at start: 0.5 s, doubling, at most a
    minute, as the bot must come up by itself after an outage however long."""

    FIRST = 0.5
    LONGEST = 60.0

    def __init__(self, first: float = FIRST, longest: float = LONGEST) -> None:
        self.next = first
        self.longest = longest

    def delay(self) -> float:
        """The wait before the next try (each one twice the last, up to ``longest``)."""
        delay, self.next = self.next, min(self.next * 2, self.longest)
        return delay


def checked_content(config: Config) -> Content:
    """The configured content, validated, and the config checked against it (raises
    ProblemsError)."""
    content = load_content(config.content_path)
    mismatches = check_config_against_content(config, set(content.regions), set(content.locales))
    if mismatches:
        raise ProblemsError(
            [
                Problem(config.source, config.line_of(key), key, message)
                for key, message in mismatches
            ]
        )
    return content


def build_core(config: Config) -> Core:
    """A Core on validated content (raises ProblemsError), without a store."""
    return Core(checked_content(config), None, config)


async def open_store(config: Config) -> Store:
    """The store the configuration names: PostgreSQL when ``[storage] url`` is set, else the
    SQLite file ``[storage] database``.

    Neither stops the bot when it cannot be used: a PostgreSQL server that cannot be reached
    at start is tried again in the background with backoff until it answers; an SQLite file that
    cannot be opened (unwritable folder, not a database, full disk, locked too long) gives an
    :class:`UnavailableStore`. Meanwhile the bot answers with default settings and tells
    moderators that their changes could not be saved.
    """
    if config.database_url:
        from shared.store.postgres import PostgresStore  # asyncpg only where PostgreSQL is used

        return await PostgresStore.connecting(config.database_url)
    try:
        return await SqliteStore.open(config.database)
    except (sqlite3.Error, OSError) as error:
        log.error(
            "cannot open the database %s (%s: %s); running without it: advice uses the default"
            " region and language, and moderators' changes are not saved",
            config.database,
            type(error).__name__,
            error,
        )
        return UnavailableStore(f"the database {config.database} could not be opened")


@asynccontextmanager
async def running_core(config: Config, *, in_memory: bool = False) -> AsyncIterator[Core]:
    """A Core with its store open for the duration of the block (see :func:`open_store`),
    closed after; with ``in_memory``, no store: settings live in memory until the block ends.
    Other processes' changes to a community reach its settings cache through
    :meth:`Store.watch`."""
    content = checked_content(config)  # before the store is opened
    if in_memory:
        yield Core(content, None, config)
        return
    store = await open_store(config)
    core = Core(content, store, config)
    watching = asyncio.create_task(store.watch(core.settings_changed))
    try:
        yield core
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await store.close()
