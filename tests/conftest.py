"""Fixtures shared by every test: the shipped content, a config, a store and a core."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# discord.py warns on import (audioop) and the suite turns warnings into errors: the package
# imports it quietly, before any test module outside it imports discord.py.
import tests.discord  # noqa: F401
from bots.registry import default_config
from shared import pace
from shared.config import Config
from shared.content import UI_TEXTS, Content, default_content_path, load_content
from shared.core import Core
from shared.store import SqliteStore
from shared.store.postgres import PostgresStore
from tests.postgres import Server, start_server

PROJECT = Path(__file__).resolve().parent.parent
SPECS = PROJECT.parent / "shared" / "specs"


@pytest.fixture(scope="session", autouse=True)
def ui_values_as_declared() -> Iterator[None]:
    """Every UI text asked for with values in any test gets exactly the values declared for
    it (shared/content/ui.py): a value its text has no placeholder for would be a fact the
    reader never sees, and a placeholder left without a value would show as ``{name}``. Asked
    for without values, a text is its template (the preview site shows them)."""
    ui = Content.ui

    def checked(self: Content, locale: str, key: str, **values: str) -> str:
        declared = UI_TEXTS.get(key)
        assert not values or declared is None or values.keys() == declared, (
            f"{key} given {sorted(values)}; it shows {sorted(declared or ())}"
        )
        return ui(self, locale, key, **values)

    Content.ui = checked  # type: ignore[method-assign]
    yield
    Content.ui = ui  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def content() -> Content:
    """The shipped content, loaded once."""
    return load_content()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Defaults, with the database in the test's own folder and no cooldown."""
    return default_config(
        database=tmp_path / "bot.sqlite3", cooldown_commands=1000, cooldown_seconds=1
    )


@pytest.fixture
async def store(config: Config) -> AsyncIterator[SqliteStore]:
    """A fresh migrated database."""
    async with await SqliteStore.open(config.database) as opened:
        yield opened


@pytest.fixture
async def core(content: Content, store: SqliteStore, config: Config) -> Core:
    """A core on the shipped content and a fresh database."""
    return Core(content, store, config)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """One real PostgreSQL 16 for the session (skips, or fails in CI, where it cannot start)."""
    server = start_server()
    yield server
    server.close()


@pytest.fixture
def own_server() -> Iterator[Server]:
    """A PostgreSQL server of the test's own, which it may stop and start again."""
    server = start_server()
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server: Server) -> str:
    """A new empty database of its own for the test."""
    return postgres_server.create_database()


@dataclass(frozen=True)
class StoreTarget:
    """Where a test's store lives, on either backend: an SQLite path or a PostgreSQL URL."""

    backend: str
    location: str

    async def open(self, **options: Any) -> SqliteStore | PostgresStore:
        """Open (creating and migrating) the store; ``options`` as the backend's ``open``."""
        if self.backend == "postgres":
            return await PostgresStore.open(self.location, **options)
        return await SqliteStore.open(self.location, **options)


@pytest.fixture(params=["sqlite", "postgres"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    """A place for a store, once per backend."""
    if request.param == "postgres":
        return StoreTarget("postgres", request.getfixturevalue("postgres_url"))
    return StoreTarget("sqlite", str(tmp_path / "bot.sqlite3"))


@pytest.fixture
async def any_store(store_target: StoreTarget) -> AsyncIterator[SqliteStore | PostgresStore]:
    """A fresh migrated store, once per backend."""
    async with await store_target.open() as opened:
        yield opened


@pytest.fixture(scope="module")
def hostile_core(content: Content, tmp_path_factory: pytest.TempPathFactory) -> Core:
    """A core without a store, for property tests (one per module, shared by examples)."""
    database = tmp_path_factory.mktemp("db") / "x.sqlite3"
    config = default_config(database=database, cooldown_commands=3)
    return Core(content, None, config)


@pytest.fixture
def waiting_turn(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set when a refresh of pinned posts starts waiting for its turn to edit (the pace between
    edits, the only sleep in shared.pace): a bot stopped after that is stopped during the wait."""
    waiting = asyncio.Event()

    class Watched:
        """shared.pace's view of asyncio, with a sleep that sets ``waiting`` first."""

        def __getattr__(self, name: str) -> Any:
            return getattr(asyncio, name)

        @staticmethod
        async def sleep(delay: float) -> None:
            waiting.set()
            await asyncio.sleep(delay)

    monkeypatch.setattr(pace, "asyncio", Watched())
    return waiting


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis profiles: fast in `make test`, long (10,000 examples) in `make fuzz`."""
    settings.register_profile("fast", max_examples=60, deadline=None, derandomize=True)
    settings.register_profile(
        "long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say why the spec-conformance tests skipped, even without ``-rs``: the specs are
    optional, beside the repository (``../shared/specs``), not in it."""
    if SPECS.is_dir():
        return
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "spec not found" in str(getattr(report, "longrepr", ""))
    ]
    terminalreporter.write_line(
        f"{len(skipped)} spec-conformance tests skipped: {SPECS} is absent (optional; the"
        " Discord OpenAPI and Telegram Bot API descriptions, which CI has beside the clone)"
    )


def changed_content(folder: Path, *topics: str, locale: str = "en") -> Content:
    """The shipped content with the summaries of ``topics`` reworded (in ``locale``), copied
    into ``folder``: what the bot shows after an editor's change."""
    copy = folder / "messages"
    shutil.copytree(default_content_path(), copy)
    toml = copy / "locales" / f"{locale}.toml"
    text = toml.read_text(encoding="utf-8")
    for topic in topics:
        start = text.index(f"[topics.{topic}]")
        at = text.index('summary = "', start) + len('summary = "')
        text = text[:at] + "Updated advice. " + text[at:]
    toml.write_text(text, encoding="utf-8")
    return load_content(copy)


def restarted(core: Core, content: Content) -> Core:
    """The bot after an update of its content and a restart: same store and config, and no
    pause between edits of pinned posts."""
    fresh = Core(content, core.store, core.config)
    fresh.pins.pace(0, 0)
    return fresh
